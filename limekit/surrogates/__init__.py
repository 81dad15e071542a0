"""Surrogate models fitted around the explained instance.

``make_surrogate`` turns the ``surrogate=`` / ``model_regressor=`` /
``surrogate_task=`` arguments of the explainers into a :class:`BaseSurrogate`.
Register a new one by name in :data:`SURROGATES`: the value is the class, or
``"module:Class"`` (relative to this package) for surrogates with optional
dependencies, imported on first use.  The class is called as
``cls(task=surrogate_task)``; a class whose task is fixed (lime's ridge)
needs a small factory, as ``'ridge'`` and ``'lasso'`` have here.

==========  ===============================================  ==========================
name        regression                                       classification
==========  ===============================================  ==========================
'ridge'     :class:`RidgeSurrogate` (lime's)                 :class:`LogisticSurrogate` (L2)
'lasso'     :class:`LassoSurrogate`                          :class:`LogisticSurrogate` (L1)
'ebm'       :class:`~limekit.surrogates.ebm.EBMSurrogate`    the same, ``task='classification'``
'gaminet'   ``limekit.surrogates.gaminet.GAMINetSurrogate``  the same (needs torch)
==========  ===============================================  ==========================
"""

from __future__ import annotations

import importlib

from .._validation import LimekitValueError, bad_type, bad_value, check_choice, describe
from .base import FEATURE_SPACES, SURROGATE_TASKS, BaseSurrogate, ConstantSurrogate, weighted_r2
from .linear import LassoSurrogate, LogisticSurrogate, RidgeSurrogate, SklearnSurrogate

__all__ = [
    "BaseSurrogate",
    "RidgeSurrogate",
    "LassoSurrogate",
    "SklearnSurrogate",
    "LogisticSurrogate",
    "ConstantSurrogate",
    "SURROGATES",
    "SURROGATE_TASKS",
    "FEATURE_SPACES",
    "make_surrogate",
    "check_surrogate_task",
    "weighted_r2",
]


def _ridge(task="regression", **params):
    return RidgeSurrogate(**params) if task == "regression" else LogisticSurrogate(**params)


def _lasso(task="regression", **params):
    if task == "regression":
        return LassoSurrogate(**params)
    return LogisticSurrogate(l1=True, **params)


def _gaminet(task="regression", **params):
    """GAMI-Net (torch) in the original feature space, seeded for reproducible explanations."""
    from .gaminet import GAMINetSurrogate

    params.setdefault("random_state", 0)
    return GAMINetSurrogate(task=task, **params)


SURROGATES = {
    "ridge": _ridge,
    "lasso": _lasso,
    "ebm": ".ebm:EBMSurrogate",
    "gaminet": _gaminet,
    "gaminet_pypi": ".gaminet_pypi:PyPIGAMINetSurrogate",  # the GPL TensorFlow package, when installed
}


def _resolve(name):
    """The factory registered under ``name`` (importing lazily registered modules)."""
    factory = SURROGATES[name]
    if isinstance(factory, str):
        module, _, attribute = factory.partition(":")
        try:
            factory = getattr(importlib.import_module(module, __name__), attribute)
        except ImportError as exc:
            raise ImportError(f"surrogate={name!r} needs an optional dependency that is missing: {exc}") from exc
    return factory


def check_surrogate_task(surrogate_task):
    """Validate ``surrogate_task`` ('regression' or 'classification')."""
    return check_choice(surrogate_task, "surrogate_task", SURROGATE_TASKS)


def make_surrogate(surrogate="ridge", model_regressor=None, surrogate_task="regression", **params):
    """Resolve the surrogate arguments into an unfitted :class:`BaseSurrogate`.

    Parameters
    ----------
    surrogate : str or BaseSurrogate, default='ridge'
        A name from :data:`SURROGATES` or a surrogate object (whose ``task``
        must be ``surrogate_task``).
    model_regressor : scikit-learn regressor or None
        lime's argument; when given it wins over ``surrogate`` (regression only).
    surrogate_task : {'regression', 'classification'}, default='regression'
        Fit the black box's output for the label (lime's way) or classify its
        label (``argmax == label``).
    **params
        Parameters of a named surrogate, e.g.
        ``make_surrogate('ebm', surrogate_task='classification', random_state=3)``.

    Returns
    -------
    BaseSurrogate
    """
    check_surrogate_task(surrogate_task)
    if model_regressor is not None:
        if surrogate_task != "regression":
            raise bad_value(
                "model_regressor",
                "None with surrogate_task='classification'",
                "a regressor",
                "Pass a classifier surrogate as surrogate=... instead.",
            )
        return SklearnSurrogate(model_regressor)
    if surrogate is None:
        surrogate = "ridge"
    if params and not isinstance(surrogate, str):
        raise bad_value("surrogate", "a surrogate name when surrogate parameters are given", describe(surrogate))
    if isinstance(surrogate, BaseSurrogate):
        task = getattr(surrogate, "task", "regression")
        if task != surrogate_task:
            raise bad_value(
                "surrogate",
                f"a surrogate with task={surrogate_task!r} (surrogate_task)",
                f"{type(surrogate).__name__} with task={task!r}",
            )
        return surrogate
    if isinstance(surrogate, str):
        if surrogate not in SURROGATES:
            raise bad_value(
                "surrogate", "one of " + ", ".join(map(repr, SURROGATES)) + " or a BaseSurrogate", repr(surrogate)
            )
        model = _resolve(surrogate)(task=surrogate_task, **params)
        if not isinstance(model, BaseSurrogate):  # pragma: no cover - a misregistered factory
            raise LimekitValueError(f"surrogate: SURROGATES[{surrogate!r}] did not build a BaseSurrogate", "surrogate")
        return model
    raise bad_type("surrogate", "a surrogate name such as 'ridge' or a BaseSurrogate instance", surrogate)
