"""The surrogate protocol: what the core needs from an interpretable model.

A surrogate is fitted on one row per perturbation, the black box's output
``y`` for one label, and the kernel weights.  Adding a surrogate means writing
one class in one module of this package and registering its name in
:data:`limekit.surrogates.SURROGATES`.

Two attributes tell the core how to use a surrogate:

``additive``
    False for linear models, whose explanation weights multiply the row
    (``intercept + weights @ z = decision``); True for additive models
    (GAMs), whose explanation weights are the per-feature contributions
    ``f_j(z_j)`` at the row (``intercept + sum(weights) = decision``).
``feature_space``
    ``'interpretable'``: fitted on the frontend's interpretable
    representation ``Z`` (lime's binary "in the instance's bin" rows for
    discretised tabular data, word masks for text, superpixel masks for
    images).  ``'original'``: fitted on the frontend's *original-space* rows
    when it has them (tabular: continuous features standardised, categorical
    features as integer codes declared through ``categorical_features``); a
    frontend without such a space (text, images) uses ``Z``.

``task`` is ``'regression'`` (fit the black box's output, lime's way) or
``'classification'`` (fit a 0/1 target, the black box's label): classifiers
return the positive class's probability from :meth:`BaseSurrogate.predict`
and the logit from :meth:`BaseSurrogate.decision_function`, the scale on which
their explanation terms add up.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod

import numpy as np
import scipy.sparse as sp

from ..weighted import weighted_r2

__all__ = ["BaseSurrogate", "ConstantSurrogate", "weighted_r2", "SURROGATE_TASKS", "FEATURE_SPACES"]

SURROGATE_TASKS = ("regression", "classification")
FEATURE_SPACES = ("interpretable", "original")


class BaseSurrogate(ABC):
    """Interpretable model fitted to the black box around one instance.

    Subclasses implement :meth:`fit`, :meth:`predict` and :meth:`local_weights`;
    additive models should also override :meth:`contributions` (vectorised).

    Attributes
    ----------
    additive : bool, default=False
        See the module docstring.
    feature_space : {'interpretable', 'original'}, default='interpretable'
        See the module docstring.
    task : {'regression', 'classification'}, default='regression'
        Classifiers are fitted on 0/1 targets.
    categorical_features : list of int or None
        Columns of the fitting data holding category codes; set by the core
        (:meth:`set_categorical_features`) before :meth:`fit` for
        original-space surrogates.
    """

    additive = False
    feature_space = "interpretable"
    task = "regression"

    @abstractmethod
    def fit(self, Z, y, sample_weight):
        """Fit on rows ``Z``, targets ``y`` and kernel weights; return self."""

    @abstractmethod
    def predict(self, Z):
        """Surrogate prediction for each row of ``Z`` (positive-class probability for classifiers)."""

    @abstractmethod
    def local_weights(self, z):
        """Return ``(intercept, weights)``: the explanation terms at the row ``z`` (shape (1, d))."""

    def decision_function(self, Z):
        """The scale on which ``intercept`` and the explanation terms add up.

        The prediction for regressors, the logit of the positive class for
        classifiers (the default takes the logit of :meth:`predict`; override
        it where the model has its own).
        """
        prediction = np.asarray(self.predict(Z), dtype=float).ravel()
        if self.task == "classification":
            p = np.clip(prediction, 1e-15, 1 - 1e-15)
            return np.log(p) - np.log1p(-p)
        return prediction

    def contributions(self, Z):
        """Per-row, per-feature terms: ``intercept + contributions(Z).sum(1) = decision_function(Z)``.

        Linear surrogates: ``z_j * w_j``; additive ones: ``f_j(z_j)``.  The
        default loops over rows for additive models (override it).

        Returns
        -------
        ndarray of shape (n_samples, n_features)
        """
        Z = Z.toarray() if sp.issparse(Z) else np.asarray(Z, dtype=float)
        if not self.additive:
            return Z * self.local_weights(Z[:1])[1]
        return np.vstack([self.local_weights(Z[i : i + 1])[1] for i in range(Z.shape[0])])

    def fresh_copy(self):
        """An unfitted copy to fit on one label (the default: a deep copy of this template)."""
        return copy.deepcopy(self)

    def set_categorical_features(self, categorical_features):
        """Declare the category-code columns of the data :meth:`fit` will get.

        The default sets ``self.categorical_features`` when the surrogate has
        that attribute (as :class:`~limekit.surrogates.ebm.EBMSurrogate` and
        GAMI-Net do); surrogates that ignore categories need nothing.
        """
        if hasattr(self, "categorical_features"):
            self.categorical_features = list(categorical_features)
        return self

    def score(self, Z, y, sample_weight):
        """Weighted R^2 of :meth:`predict` against ``y`` (for classifiers: the probability against 0/1)."""
        return weighted_r2(y, self.predict(Z), sample_weight)

    def fit_design(self, design, y, features):
        """Fit on ``design.Z[:, features]`` (a :class:`~limekit.weighted.WeightedDesign`).

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

    def fit_design_decision(self, design, y, features):
        """:meth:`fit_design`, and the decision on every fitting row when the fit has it for free (else None).

        Returns
        -------
        (score, decision)
        """
        return self.fit_design(design, y, features), None


class ConstantSurrogate(BaseSurrogate):
    """What a classifier surrogate becomes when every weighted perturbation has the same label.

    ``intercept`` is the logit of the (clipped) constant, every weight is zero.

    Parameters
    ----------
    value : float
        The constant target (0 or 1).
    template : BaseSurrogate
        The surrogate that could not be fitted; its ``additive``,
        ``feature_space`` and ``task`` are kept.
    """

    def __init__(self, value, template):
        self.value = float(value)
        self.additive = template.additive
        self.feature_space = template.feature_space
        self.task = template.task
        p = min(max(self.value, 1e-3), 1 - 1e-3)
        self.intercept_ = float(np.log(p / (1 - p))) if self.task == "classification" else self.value

    def fit(self, Z, y, sample_weight):
        self.n_features_ = Z.shape[1]
        return self

    def decision_function(self, Z):
        return np.full(Z.shape[0], self.intercept_)

    def predict(self, Z):
        if self.task == "classification":
            return np.full(Z.shape[0], 1.0 / (1.0 + np.exp(-self.intercept_)))
        return self.decision_function(Z)

    def local_weights(self, z):
        return self.intercept_, np.zeros(z.shape[1])

    def contributions(self, Z):
        return np.zeros(Z.shape)
