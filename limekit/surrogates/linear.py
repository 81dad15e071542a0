"""Linear surrogates: ridge (lime's default), lasso, and any scikit-learn regressor."""

from __future__ import annotations

import copy

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from .._validation import bad_type, check_positive_float
from ..weighted import WeightedDesign
from .base import BaseSurrogate

__all__ = ["RidgeSurrogate", "LassoSurrogate", "SklearnSurrogate", "LogisticSurrogate"]


class _LinearSurrogate(BaseSurrogate):
    """Shared ``predict`` / ``local_weights`` for models with ``coef_`` and ``intercept_``."""

    def predict(self, Z):
        return np.asarray(Z @ self.coef_).ravel() + self.intercept_

    def local_weights(self, z):
        return float(self.intercept_), np.asarray(self.coef_, dtype=float).ravel()


class RidgeSurrogate(_LinearSurrogate):
    """Weighted ridge regression with intercept, LIME's default surrogate.

    Equal to ``sklearn.linear_model.Ridge(alpha).fit(Z, y, sample_weight=w)``;
    solved from the weighted Gram matrix, which is shared across labels.

    Parameters
    ----------
    alpha : float, default=1.0
        L2 penalty (lime uses 1).
    """

    def __init__(self, alpha=1.0):
        self.alpha = check_positive_float(alpha, "alpha") if alpha else 0.0

    def fit(self, Z, y, sample_weight):
        design = WeightedDesign(Z, sample_weight)
        self.fit_design(design, y, np.arange(design.n_features))
        return self

    def fresh_copy(self):
        """An unfitted copy: the penalty is the only state, and a fit sets new attributes."""
        return copy.copy(self)

    def fit_design(self, design, y, features):
        return self.fit_design_decision(design, y, features)[0]

    def fit_design_decision(self, design, y, features):
        """Fit on ``design.Z[:, features]``; return ``(weighted R^2, the decision on every fitting row)``."""
        self.intercept_, self.coef_, score, decision = design.fit(y, features, alpha=self.alpha, return_prediction=True)
        return score, decision


class SklearnSurrogate(_LinearSurrogate):
    """Any scikit-learn regressor whose ``fit`` takes ``sample_weight`` and that exposes ``coef_``.

    This is lime's ``model_regressor``.  The estimator is cloned for each fit,
    so explaining several labels leaves one fitted model per label.

    Parameters
    ----------
    estimator : scikit-learn regressor
    """

    def __init__(self, estimator):
        if not (hasattr(estimator, "fit") and hasattr(estimator, "predict")):
            raise bad_type(
                "model_regressor", "a scikit-learn regressor with fit(X, y, sample_weight) and coef_", estimator
            )
        self.estimator = estimator

    def fit(self, Z, y, sample_weight):
        try:
            model = clone(self.estimator)
        except TypeError:  # not a scikit-learn estimator: use it in place, as lime does
            model = self.estimator
        model.fit(Z, y, sample_weight=sample_weight)
        if not hasattr(model, "coef_"):
            raise bad_type("model_regressor", "a regressor exposing coef_ after fit", self.estimator)
        self.model_ = model
        self.coef_ = np.asarray(model.coef_, dtype=float).ravel()
        self.intercept_ = float(np.ravel(getattr(model, "intercept_", 0.0))[0])
        return self

    def predict(self, Z):
        return np.asarray(self.model_.predict(Z), dtype=float).ravel()

    def score(self, Z, y, sample_weight):
        return float(self.model_.score(Z, y, sample_weight=sample_weight))


class LassoSurrogate(SklearnSurrogate):
    """Weighted lasso (``sklearn.linear_model.Lasso``): sparse weights without a separate selection step.

    Parameters
    ----------
    alpha : float, default=0.001
        L1 penalty on the weighted mean squared error.  Black-box outputs are
        probabilities, so penalties much above 0.01 zero every weight.
    random_state : int or None
        Passed to the coordinate-descent solver.
    """

    def __init__(self, alpha=0.001, random_state=None):
        from sklearn.linear_model import Lasso

        self.alpha = check_positive_float(alpha, "alpha")
        super().__init__(Lasso(alpha=self.alpha, random_state=random_state))

    def fit(self, Z, y, sample_weight):
        if sp.issparse(Z):
            Z = Z.toarray()
        return super().fit(Z, y, sample_weight)


class LogisticSurrogate(BaseSurrogate):
    """Weighted L2 (or L1) logistic regression: the linear surrogate for ``surrogate_task='classification'``.

    ``sklearn.linear_model.LogisticRegression`` with ``sample_weight`` set to
    the kernel weights.  The weights are on the logit scale:
    ``intercept + weights @ z = logit P(black-box label)``.

    Parameters
    ----------
    alpha : float, default=1.0
        Penalty on the kernel-weighted log-loss sum, ``alpha * ||w||^2`` as in
        lime's ridge (``C = 1 / (2 * alpha)``).
    l1 : bool, default=False
        L1 penalty (the 'lasso' surrogate's classifier) instead of L2.
    """

    task = "classification"

    def __init__(self, alpha=1.0, l1=False):
        self.alpha = check_positive_float(alpha, "alpha")
        self.l1 = bool(l1)

    def fit(self, Z, y, sample_weight):
        solver = "liblinear" if self.l1 else "lbfgs"
        self.model_ = LogisticRegression(
            C=0.5 / self.alpha,
            l1_ratio=1.0 if self.l1 else 0.0,
            solver=solver,
            random_state=0,  # liblinear shuffles: fixed, so a seed gives one result
            max_iter=1000,
        )
        self.model_.fit(Z, np.asarray(y, dtype=int), sample_weight=sample_weight)
        self.coef_ = self.model_.coef_.ravel().astype(float)
        self.intercept_ = float(self.model_.intercept_[0])
        return self

    def decision_function(self, Z):
        return np.asarray(Z @ self.coef_).ravel() + self.intercept_

    def predict(self, Z):
        return 1.0 / (1.0 + np.exp(-self.decision_function(Z)))

    def local_weights(self, z):
        return self.intercept_, self.coef_.copy()
