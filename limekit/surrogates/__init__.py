"""Surrogate models fitted around the explained instance.

``make_surrogate`` turns the ``surrogate=`` / ``model_regressor=`` arguments of
the explainers into a :class:`BaseSurrogate`.  Register a new one by name in
:data:`SURROGATES`.
"""
from __future__ import annotations

from .._validation import bad_type, bad_value
from .base import BaseSurrogate, weighted_r2
from .linear import LassoSurrogate, RidgeSurrogate, SklearnSurrogate

__all__ = ["BaseSurrogate", "RidgeSurrogate", "LassoSurrogate", "SklearnSurrogate", "SURROGATES",
           "make_surrogate", "weighted_r2"]

SURROGATES = {
    "ridge": RidgeSurrogate,
    "lasso": LassoSurrogate,
}


def make_surrogate(surrogate="ridge", model_regressor=None):
    """Resolve the surrogate arguments into an unfitted :class:`BaseSurrogate`.

    Parameters
    ----------
    surrogate : str or BaseSurrogate, default='ridge'
        A name from :data:`SURROGATES` or a surrogate object.
    model_regressor : scikit-learn regressor or None
        lime's argument; when given it wins over ``surrogate``.

    Returns
    -------
    BaseSurrogate
    """
    if model_regressor is not None:
        return SklearnSurrogate(model_regressor)
    if surrogate is None:
        surrogate = "ridge"
    if isinstance(surrogate, BaseSurrogate):
        return surrogate
    if isinstance(surrogate, str):
        if surrogate not in SURROGATES:
            raise bad_value("surrogate", "one of " + ", ".join(map(repr, SURROGATES)) + " or a BaseSurrogate",
                            repr(surrogate))
        return SURROGATES[surrogate]()
    raise bad_type("surrogate", "a surrogate name such as 'ridge' or a BaseSurrogate instance", surrogate)
