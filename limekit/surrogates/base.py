"""The surrogate protocol: what the core needs from an interpretable model.

A surrogate is fitted on the interpretable representation ``Z`` (one row per
perturbation), the black box's output ``y`` for one label, and the kernel
weights.  Adding a surrogate means writing one class in one file of this
package and registering its name in :mod:`limekit.surrogates`.
"""
from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

__all__ = ["BaseSurrogate", "weighted_r2"]


def weighted_r2(y, prediction, sample_weight):
    """Weighted coefficient of determination (scikit-learn's ``r2_score``)."""
    y = np.asarray(y, dtype=float)
    weights = np.asarray(sample_weight, dtype=float)
    y_mean = weights @ y / weights.sum()
    residual_ss = float(weights @ (y - prediction) ** 2)
    total_ss = float(weights @ (y - y_mean) ** 2)
    if total_ss <= 0:
        return 1.0 if residual_ss == 0 else 0.0
    return 1.0 - residual_ss / total_ss


class BaseSurrogate(ABC):
    """Interpretable model fitted to the black box around one instance.

    Subclasses implement :meth:`fit`, :meth:`predict` and :meth:`local_weights`.

    Attributes
    ----------
    additive : bool
        False for linear surrogates, whose explanation weights multiply the
        interpretable row (``intercept + weights @ z = prediction``); True for
        additive models, whose weights are the per-feature contributions at the
        instance (``intercept + sum(weights) = prediction``).
    """

    additive = False

    @abstractmethod
    def fit(self, Z, y, sample_weight):
        """Fit on interpretable data ``Z``, targets ``y`` and kernel weights; return self."""

    @abstractmethod
    def predict(self, Z):
        """Surrogate prediction for each row of ``Z``."""

    @abstractmethod
    def local_weights(self, z):
        """Return ``(intercept, weights)``: the explanation terms at the row ``z``."""

    def score(self, Z, y, sample_weight):
        """Weighted R^2 of the surrogate on ``(Z, y)``."""
        return weighted_r2(y, self.predict(Z), sample_weight)

    def fit_design(self, design, y, features):
        """Fit on ``design.Z[:, features]`` (a :class:`~limekit.core.design.WeightedDesign`).

        The default slices the data and calls :meth:`fit`; linear surrogates
        override it to reuse the design's Gram matrix.

        Returns
        -------
        score : float
            Weighted R^2 on the fitting data.
        """
        Z = design.Z[:, features]
        self.fit(Z, y, design.weights)
        return self.score(Z, y, design.weights)
