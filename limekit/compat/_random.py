"""lime's meaning of ``random_state=None``, and its ``labels=(1,)``, for the drop-in explainers."""

import inspect

import numpy as np


def lime_random_state(random_state):
    """``random_state``, or numpy's global ``RandomState`` when it is None.

    lime (through scikit-learn's ``check_random_state``) draws from numpy's
    global generator when no ``random_state`` is given, so code written for
    lime makes its explanations reproducible with ``np.random.seed(...)``.
    limekit's own explainers take fresh entropy instead; the compat
    explainers keep lime's behaviour: one draw from the global generator,
    at construction, seeds the explainer.
    """
    # scikit-learn's check_random_state(None) returns this same singleton
    return np.random.mtrand._rand if random_state is None else random_state


def with_lime_random_state(init, args, kwargs):
    """``(args, kwargs)`` for ``init`` (an ``__init__`` taking ``random_state``) with lime's None."""
    bound = inspect.signature(init).bind_partial(*args, **kwargs)
    bound.arguments["random_state"] = lime_random_state(bound.arguments.get("random_state"))
    return bound.args, bound.kwargs


def with_lime_labels(function):
    """``function``'s signature with lime's default ``labels=(1,)`` (the native explainers' is None).

    The compat explainers' ``explain_instance`` passes its arguments on
    unchanged (their ``lime_defaults`` turn a missing ``labels`` into
    ``(1,)``); this signature says so to ``inspect`` and to ``explain_many``,
    which binds its keywords to it.
    """
    signature = inspect.signature(function)
    return signature.replace(
        parameters=[p.replace(default=(1,)) if p.name == "labels" else p for p in signature.parameters.values()]
    )
