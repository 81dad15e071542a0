"""``lime.lime_base`` backed by limekit: :class:`LimeBase`.

lime's class of the same name (and captum's split of similarity,
representation and interpretable model): the caller brings the perturbed data,
the model's outputs and the distances; the fit is limekit's
:func:`~limekit.core.fit.fit_local_models`.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._threads import limited_blas_threads
from .._validation import bad_value, check_finite, check_int
from ..core.fit import fit_local_models, fit_spec
from ..core.kernels import check_weights
from ..core.neighbourhood import Neighbourhood
from ..core.selection import select_features
from ..weighted import WeightedDesign

__all__ = ["LimeBase"]


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
        with limited_blas_threads(data.shape[1]):
            design = WeightedDesign(data, check_weights(weights, data.shape[0], "weights"))
            return select_features(design, np.asarray(labels, dtype=float), num_features, method)

    def explain_instance_with_data(
        self,
        neighborhood_data,
        neighborhood_labels,
        distances,
        label,
        num_features,
        feature_selection="auto",
        model_regressor=None,
    ):
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
        try:
            labels_array = np.asarray(neighborhood_labels, dtype=float)
        except (TypeError, ValueError) as exc:
            raise bad_value("neighborhood_labels", "a numeric array", type(neighborhood_labels).__name__) from exc
        if labels_array.ndim == 1:
            labels_array = labels_array[:, None]
        if labels_array.ndim != 2:
            raise bad_value("neighborhood_labels", "a 1-D or 2-D array", f"shape {labels_array.shape}")
        check_finite(labels_array, "neighborhood_labels")
        if sp.issparse(neighborhood_data):
            check_finite(neighborhood_data.data, "neighborhood_data")
        else:
            neighborhood_data = check_finite(np.asarray(neighborhood_data, dtype=float), "neighborhood_data")
            if neighborhood_data.ndim != 2:
                raise bad_value("neighborhood_data", "a 2-D array", f"shape {neighborhood_data.shape}")
        if labels_array.shape[0] != neighborhood_data.shape[0]:
            raise bad_value("neighborhood_labels", f"{neighborhood_data.shape[0]} rows", labels_array.shape[0])
        label = check_int(label, "label", minimum=0)
        if label >= labels_array.shape[1]:
            raise bad_value(
                "label", f"a column index in [0, {labels_array.shape[1] - 1}] of neighborhood_labels", label
            )
        distances = check_finite(np.asarray(distances, dtype=float), "distances")
        weights = check_weights(self.kernel_fn(distances), neighborhood_data.shape[0])
        neighbourhood = Neighbourhood(
            neighborhood_data, inputs=None, distances=distances, weights=weights, outputs=labels_array
        )
        spec = fit_spec(num_features, feature_selection, model_regressor=model_regressor, verbose=self.verbose)
        fit = fit_local_models(neighbourhood, [label], spec)[label]
        return fit.intercept, fit.local_exp, fit.score, fit.local_pred
