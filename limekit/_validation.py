"""Input validation shared by every explainer.

Every check raises an exception that names the argument, what was expected and
what came, before any expensive work starts (scikit-learn's ``check_array``
style).  The exceptions subclass ``ValueError`` / ``TypeError`` so callers that
catch those keep working.
"""

from __future__ import annotations

import difflib
import functools
import inspect
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
    "unexpected_keywords",
    "check_keywords",
    "did_you_mean",
    "strict_keywords",
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


def check_finite(array, argument, allow_nan=False):
    """Raise if a numeric array holds NaN or infinity; return the array.

    Parameters
    ----------
    array : array_like
    argument : str
        The user's name for ``array``, for the message.
    allow_nan : bool, default=False
        NaN (a missing value) passes; only infinity raises.
    """
    array = np.asarray(array)
    if allow_nan and array.dtype.kind in "fc" and np.isinf(array).any():
        bad = np.isinf(array)
        where = np.argwhere(bad)[0].tolist()
        raise bad_value(
            argument,
            "finite values or NaN (missing)",
            f"{int(bad.sum())} infinite value(s), the first at index {tuple(where)}",
            "Replace them by a number or by NaN.",
        )
    if not allow_nan and array.dtype.kind in "fc" and not np.isfinite(array).all():
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


def check_labels(labels, class_names=None):
    """Class indices to explain: a class index or name, or a non-empty iterable of them, as a list of ints.

    A name (str) is looked up in ``class_names`` (the explainer's, or the
    model's own); without them, or when it is not one of them, the error
    names ``labels`` and lists the class names.
    """
    if isinstance(labels, str) or (isinstance(labels, numbers.Integral) and not isinstance(labels, (bool, np.bool_))):
        labels = [labels]
    try:
        labels = list(labels)
    except TypeError as exc:
        raise bad_type("labels", "an iterable of class indices or class names", labels) from exc
    if not labels or not all(
        isinstance(x, str) or (isinstance(x, numbers.Integral) and not isinstance(x, (bool, np.bool_))) for x in labels
    ):
        raise bad_value("labels", "a non-empty iterable of integer class indices or class names", repr(labels))
    out = []
    for label in labels:
        if not isinstance(label, str):
            out.append(int(label))
            continue
        names = None if class_names is None else [str(name) for name in class_names]
        if names is None:
            raise bad_value(
                "labels",
                "class indices (names need the explainer's class_names=...)",
                repr(label),
            )
        if label not in names:
            raise bad_value(
                "labels", f"class indices or class names among {names}", repr(label), did_you_mean(label, names)
            )
        out.append(names.index(label))
    return out


def unexpected_keywords(method, unknown, accepted, hints=None, values=None):
    """A :class:`LimekitTypeError` for keyword arguments ``method`` does not take.

    The message names the public method, each unknown keyword (with a "did you
    mean" when one of ``accepted`` is close), and the keywords it accepts, e.g.
    ``Explanation.as_list: unexpected keyword argument 'lable' (did you mean
    'label'?); it accepts label, positions``.

    Parameters
    ----------
    method : str
        The public name, e.g. ``'Explanation.as_list'``.
    unknown : sequence of str
        The keywords it does not take, in the order given.
    accepted : sequence of str
        The keywords it takes.
    hints : dict of str -> str or callable, optional
        For a keyword that is a known mistake (``labels`` where one ``label``
        is taken), what to do instead; a callable gets the value given.
    values : dict or None
        The keywords' values, for the callable hints.
    """
    hints = hints or {}
    values = values or {}
    unknown = list(unknown)
    accepted = list(accepted)
    pieces = []
    for name in unknown:
        if name in hints:
            hint = hints[name]
            pieces.append(f"{name!r} ({hint(values.get(name)) if callable(hint) else hint})")
            continue
        close = difflib.get_close_matches(name, accepted, n=1, cutoff=0.7)
        pieces.append(f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name))
    plural = "s" if len(unknown) > 1 else ""
    takes = ", ".join(accepted) if accepted else "no keyword arguments"
    message = f"{method}: unexpected keyword argument{plural} {', '.join(pieces)}; it accepts {takes}"
    return LimekitTypeError(message, unknown[0] if unknown else None)


def did_you_mean(name, choices):
    """``"Did you mean 'x'?"`` for the closest of ``choices`` to ``name`` (difflib), or None."""
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=0.7)
    return f"Did you mean {close[0]!r}?" if close else None


def check_keywords(method, kwargs, accepted, hints=None):
    """Raise :func:`unexpected_keywords` when ``kwargs`` holds a keyword not in ``accepted``."""
    unknown = [name for name in kwargs if name not in accepted]
    if unknown:
        raise unexpected_keywords(method, unknown, accepted, hints, kwargs)


def _keyword_names(function):
    """The names ``function`` takes by keyword (``self`` and ``*args``/``**kwargs`` excluded)."""
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    names = [p.name for p in inspect.signature(function).parameters.values() if p.kind in kinds]
    return tuple(name for name in names if name not in ("self", "cls"))


def strict_keywords(function=None, *, hints=None):
    """Decorator: an unknown keyword raises :class:`LimekitTypeError` naming the method (:func:`unexpected_keywords`).

    Python's own ``TypeError`` says only ``got an unexpected keyword
    argument``; this one adds what the method accepts and a "did you mean".
    The wrapped function keeps its signature (``inspect.signature`` follows
    ``__wrapped__``), so what it accepts stays introspectable.  ``hints`` as
    in :func:`unexpected_keywords`.
    """

    def decorate(function):
        accepted = _keyword_names(function)
        allowed = frozenset(accepted)
        name = function.__qualname__

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            if kwargs and not allowed.issuperset(kwargs):
                raise unexpected_keywords(name, [k for k in kwargs if k not in allowed], accepted, hints, kwargs)
            return function(*args, **kwargs)

        return wrapper

    return decorate if function is None else decorate(function)
