"""Input validation shared by every explainer.

Every check raises an exception that names the argument, what was expected and
what came, before any expensive work starts (scikit-learn's ``check_array``
style).  The exceptions subclass ``ValueError`` / ``TypeError`` so callers that
catch those keep working.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "LimekitError",
    "LimekitValueError",
    "LimekitTypeError",
    "bad_value",
    "bad_type",
    "check_choice",
    "check_labels",
    "check_int",
    "check_positive_float",
    "check_finite",
    "check_random_state",
    "check_in_interval",
    "describe",
]


class LimekitError(Exception):
    """Base of limekit's errors (``limekit.compat.exceptions.LimeError`` is this class)."""


class LimekitValueError(LimekitError, ValueError):
    """A bad value for an argument; ``argument`` names it."""

    def __init__(self, message, argument=None):
        super().__init__(message)
        self.argument = argument


class LimekitTypeError(LimekitError, TypeError):
    """An argument of the wrong type; ``argument`` names it."""

    def __init__(self, message, argument=None):
        super().__init__(message)
        self.argument = argument


def describe(value, limit=60):
    """Short, safe description of ``value`` for an error message."""
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"{type(value).__name__} of shape {tuple(value.shape)}"
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"{text} ({type(value).__name__})"


def bad_value(argument, expected, got, detail=None):
    """Build a :class:`LimekitValueError` in the standard form."""
    message = f"{argument}: expected {expected}; got {got}"
    if detail:
        message += f". {detail}"
    return LimekitValueError(message, argument)


def bad_type(argument, expected, value):
    """Build a :class:`LimekitTypeError` in the standard form."""
    return LimekitTypeError(f"{argument}: expected {expected}; got {describe(value)}", argument)


def check_choice(value, argument, choices):
    """Return ``value`` if it is one of ``choices`` (strings), else raise."""
    if not isinstance(value, str):
        raise bad_type(argument, "one of " + ", ".join(repr(c) for c in choices), value)
    if value not in choices:
        raise bad_value(argument, "one of " + ", ".join(repr(c) for c in choices), repr(value))
    return value


def check_int(value, argument, minimum=None, maximum=None):
    """Return ``value`` as ``int`` if it is an integer within the bounds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise bad_type(argument, "an integer", value)
    value = int(value)
    if minimum is not None and value < minimum:
        raise bad_value(argument, f"an integer >= {minimum}", value)
    if maximum is not None and value > maximum:
        raise bad_value(argument, f"an integer <= {maximum}", value)
    return value


def check_positive_float(value, argument):
    """Return ``value`` as a finite float > 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise bad_type(argument, "a positive number", value)
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise bad_value(argument, "a finite number > 0", value)
    return value


def check_in_interval(value, argument, low, high, *, closed=(True, True), hint=""):
    """Return ``value`` as a float between ``low`` and ``high`` (each end included when ``closed`` says so).

    The message names the interval, e.g. ``a number in (0.5, 1)``, followed by ``hint``.
    """
    expected = f"a number in {'[' if closed[0] else '('}{low:g}, {high:g}{']' if closed[1] else ')'}{hint}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise bad_type(argument, expected, value)
    above = value >= low if closed[0] else value > low
    below = value <= high if closed[1] else value < high
    if not (above and below):  # NaN fails both
        raise bad_value(argument, expected, value)
    return float(value)


def check_finite(array, argument):
    """Raise if a numeric array holds NaN or infinity; return the array."""
    array = np.asarray(array)
    if array.dtype.kind in "fc" and not np.isfinite(array).all():
        bad = ~np.isfinite(array)
        where = np.argwhere(bad)[0].tolist()
        raise bad_value(
            argument,
            "finite values",
            f"{int(bad.sum())} NaN or infinite value(s), the first at index {tuple(where)}",
        )
    return array


def check_random_state(random_state):
    """Turn ``random_state`` into a :class:`numpy.random.Generator`.

    ``None`` gives fresh entropy, an int seeds a new generator, a Generator is
    used as it is and a legacy ``RandomState`` seeds a new generator from its
    stream, so that one ``random_state`` drives every random choice.
    """
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise bad_value("random_state", "None, a non-negative int, a RandomState or a Generator", random_state)
        return np.random.default_rng(int(random_state))
    raise bad_type("random_state", "None, an int, a numpy RandomState or a numpy Generator", random_state)


def seed_from(rng):
    """Draw an int seed from ``rng`` for libraries that want one (scikit-learn)."""
    return int(rng.integers(0, 2**31 - 1))


def check_labels(labels):
    """Class indices to explain: an int or a non-empty iterable of ints, as a list."""
    if isinstance(labels, numbers.Integral) and not isinstance(labels, bool):
        labels = [labels]
    try:
        labels = list(labels)
    except TypeError as exc:
        raise bad_type("labels", "an iterable of class indices", labels) from exc
    if not labels or not all(isinstance(x, numbers.Integral) and not isinstance(x, bool) for x in labels):
        raise bad_value("labels", "a non-empty iterable of integer class indices", repr(labels))
    return [int(x) for x in labels]
