"""The modality-free core: weights -> feature selection -> surrogate fit.

:func:`fit_local_models` is what every frontend calls once it has the
interpretable data ``Z``, the model outputs and the distances.
:class:`LimeBase` keeps lime's class of the same name (and captum's split of
similarity, representation and interpretable model) for code written against it.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from threadpoolctl import ThreadpoolController

from .._validation import bad_value, check_int
from ..surrogates import BaseSurrogate, make_surrogate
from .design import WeightedDesign
from .kernels import check_weights
from .selection import resolve_method, select_features

__all__ = ["LocalFit", "fit_local_models", "LimeBase", "limited_blas_threads"]

_THREADPOOLS = None


def limited_blas_threads():
    """Context manager that runs BLAS on one thread.

    The surrogate fits are small (thousands of rows, tens of columns): there,
    BLAS threads cost more in synchronisation than they save (24 ms with the
    default OpenBLAS threads against 1.4 ms with one for a 5000 x 20 fit).
    """
    global _THREADPOOLS
    if _THREADPOOLS is None:
        _THREADPOOLS = ThreadpoolController()
    return _THREADPOOLS.limit(limits=1, user_api="blas")


@dataclass
class LocalFit:
    """One label's local surrogate and its explanation terms.

    Attributes
    ----------
    label : int
    intercept : float
    local_exp : list of (int, float)
        ``(feature id, weight)`` sorted by decreasing ``|weight|``.
    score : float
        Weighted R^2 of the surrogate on the perturbations (lime's ``score``).
    local_pred : ndarray of shape (1,)
        The surrogate's prediction at the instance (row 0).
    used_features : ndarray of int
        Selected columns of ``Z``.
    surrogate : BaseSurrogate
        The fitted surrogate (on ``Z[:, used_features]``).
    """

    label: int
    intercept: float
    local_exp: list
    score: float
    local_pred: np.ndarray
    used_features: np.ndarray
    surrogate: BaseSurrogate = field(repr=False)


def fit_local_models(Z, outputs, weights, labels, num_features, feature_selection="auto", surrogate="ridge",
                     model_regressor=None, feature_ids=None, verbose=False):
    """Fit one surrogate per label on shared perturbations and weights.

    Parameters
    ----------
    Z : ndarray or sparse matrix of shape (n_samples, n_features)
        Interpretable representation; row 0 is the explained instance.
    outputs : ndarray of shape (n_samples, n_outputs)
        The black box's output for every perturbation.
    weights : ndarray of shape (n_samples,)
        Kernel weights.
    labels : iterable of int
        Output columns to explain.
    num_features : int
        Maximum number of features in each explanation.
    feature_selection : str
        See :mod:`limekit.core.selection`.
    surrogate : str or BaseSurrogate
        See :func:`limekit.surrogates.make_surrogate`.
    model_regressor : scikit-learn regressor or None
        lime's argument; wins over ``surrogate``.
    feature_ids : ndarray of int or None
        Feature id reported for each column of ``Z`` (identity when None).
    verbose : bool
        Print the intercept, the surrogate's and the model's prediction (as lime).

    Returns
    -------
    dict of int -> LocalFit
    """
    num_features = check_int(num_features, "num_features", minimum=1)
    resolve_method(feature_selection, num_features)
    template = make_surrogate(surrogate, model_regressor)
    weights = check_weights(weights, Z.shape[0])
    fits = {}
    with limited_blas_threads():
        design = WeightedDesign(Z, weights)
        first_row = Z[0:1]
        for label in labels:
            y = outputs[:, label]
            used = select_features(design, y, num_features, feature_selection)
            model = copy.deepcopy(template)
            score = model.fit_design(design, y, used)
            first = first_row[:, used]
            local_pred = np.atleast_1d(model.predict(first)).astype(float)
            intercept, terms = model.local_weights(first)
            ids = used if feature_ids is None else np.asarray(feature_ids)[used]
            order = np.argsort(-np.abs(terms), kind="stable")
            local_exp = [(int(ids[i]), float(terms[i])) for i in order]
            if verbose:
                print("Intercept", intercept)
                print("Prediction_local", local_pred)
                print("Right:", outputs[0, label])
            fits[label] = LocalFit(int(label), float(intercept), local_exp, float(score), local_pred,
                                   np.asarray(used), model)
    return fits


class LimeBase:
    """lime's ``LimeBase``: learns a locally weighted sparse linear model from perturbed data.

    Parameters
    ----------
    kernel_fn : callable
        ``kernel_fn(distances) -> weights``.
    verbose : bool, default=False
    random_state : int, RandomState, Generator or None
        Kept for lime compatibility (the linear fits are deterministic).
    """

    def __init__(self, kernel_fn, verbose=False, random_state=None):
        self.kernel_fn = kernel_fn
        self.verbose = verbose
        self.random_state = random_state

    @staticmethod
    def generate_lars_path(weighted_data, weighted_labels):
        """Lasso path of already weighted data: ``(alphas, coefs)`` as lime."""
        from sklearn.linear_model import lars_path

        alphas, _, coefs = lars_path(weighted_data, weighted_labels, method="lasso", verbose=False)
        return alphas, coefs

    def forward_selection(self, data, labels, weights, num_features):
        """Greedy forward selection (see :mod:`limekit.core.selection`)."""
        return self.feature_selection(data, labels, weights, num_features, "forward_selection")

    def feature_selection(self, data, labels, weights, num_features, method):
        """Select features; ``method`` as in :mod:`limekit.core.selection`."""
        with limited_blas_threads():
            design = WeightedDesign(data, check_weights(weights, data.shape[0], "weights"))
            return select_features(design, np.asarray(labels, dtype=float), num_features, method)

    def explain_instance_with_data(self, neighborhood_data, neighborhood_labels, distances, label, num_features,
                                   feature_selection="auto", model_regressor=None):
        """lime's entry point: returns ``(intercept, local_exp, score, local_pred)``.

        Parameters
        ----------
        neighborhood_data : ndarray of shape (n_samples, n_features)
            Interpretable perturbations; row 0 is the instance.
        neighborhood_labels : ndarray of shape (n_samples, n_outputs)
        distances : ndarray of shape (n_samples,)
        label : int
        num_features : int
        feature_selection : str
        model_regressor : scikit-learn regressor or None

        Returns
        -------
        tuple
            ``(intercept, [(feature, weight), ...], score, local_pred)``.
        """
        labels_array = np.asarray(neighborhood_labels, dtype=float)
        if labels_array.ndim == 1:
            labels_array = labels_array[:, None]
        if not sp.issparse(neighborhood_data):
            neighborhood_data = np.asarray(neighborhood_data, dtype=float)
        if labels_array.shape[0] != neighborhood_data.shape[0]:
            raise bad_value("neighborhood_labels", f"{neighborhood_data.shape[0]} rows", labels_array.shape[0])
        weights = self.kernel_fn(np.asarray(distances, dtype=float))
        fit = fit_local_models(neighborhood_data, labels_array, weights, [label], num_features,
                               feature_selection, model_regressor=model_regressor, verbose=self.verbose)[label]
        return fit.intercept, fit.local_exp, fit.score, fit.local_pred
