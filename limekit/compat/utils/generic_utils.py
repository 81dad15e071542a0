"""``lime.utils.generic_utils``: :func:`has_arg`."""

import inspect

__all__ = ["has_arg"]


def has_arg(fn, arg_name):
    """Whether the callable ``fn`` accepts ``arg_name`` as a named argument.

    Same answers as lime's ``has_arg``: true when ``fn``'s signature has a
    parameter called ``arg_name`` that can be passed by keyword (positional-or-
    keyword or keyword-only); ``*args``, ``**kwargs`` and positional-only
    parameters do not count.  Callables whose signature cannot be read
    (some builtins, Cython functions) are inspected through ``__call__``.

    Parameters
    ----------
    fn : callable
    arg_name : str

    Returns
    -------
    bool
    """
    try:
        signature = inspect.signature(fn)
    except ValueError:
        signature = inspect.signature(fn.__call__)
    parameter = signature.parameters.get(arg_name)
    if parameter is None:
        return False
    return parameter.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
