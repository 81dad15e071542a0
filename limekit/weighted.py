"""The weighted least-squares design shared by feature selection and linear fits.

Every linear step of LIME (forward selection, 'highest_weights', the lasso
path, the final ridge fit) is a weighted least-squares problem on the same
perturbations and the same kernel weights.  :class:`WeightedDesign` centres the
interpretable data once and forms its weighted Gram matrix once, so each label
and each selection step costs a small ``k x k`` solve instead of a fresh pass
over the ``n x d`` data.  scikit-learn's ``Ridge`` recomputes that Gram matrix
on every fit, which is why limekit solves the normal equations itself; the
results equal ``Ridge(alpha, fit_intercept=True).fit(X, y, sample_weight=w)``.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["WeightedDesign"]


class WeightedDesign:
    """Weighted, centred view of the interpretable data ``Z`` with weights ``w``.

    Parameters
    ----------
    Z : ndarray or sparse matrix of shape (n_samples, n_features)
    weights : ndarray of shape (n_samples,)
    """

    def __init__(self, Z, weights):
        self.Z = Z
        self.weights = np.asarray(weights, dtype=float)
        self.total_weight = self.weights.sum()
        self.n_samples, self.n_features = Z.shape
        if sp.issparse(Z):
            weighted_mean = np.asarray(Z.T @ self.weights).ravel() / self.total_weight
            ZtWZ = np.asarray((Z.T @ Z.multiply(self.weights[:, None])).todense())
            self.gram = ZtWZ - self.total_weight * np.outer(weighted_mean, weighted_mean)
        else:
            weighted_mean = self.weights @ Z / self.total_weight
            centred = (Z - weighted_mean) * np.sqrt(self.weights)[:, None]
            self.gram = centred.T @ centred
        self.mean = weighted_mean

    def label_stats(self, y):
        """Weighted mean of ``y``, ``Z_c^T W y_c`` and the weighted total sum of squares."""
        y = np.asarray(y, dtype=float)
        y_mean = self.weights @ y / self.total_weight
        y_centred = y - y_mean
        cross = np.asarray(self.Z.T @ (self.weights * y_centred)).ravel()
        total_ss = float(self.weights @ (y_centred * y_centred))
        return y_mean, cross, total_ss

    def solve(self, features, cross, alpha):
        """Ridge coefficients on the columns ``features`` (``alpha`` = L2 penalty)."""
        features = np.asarray(features, dtype=int)
        if features.size == 0:
            return np.zeros(0)
        gram = self.gram[np.ix_(features, features)]
        if alpha:
            gram = gram + alpha * np.eye(features.size)
        try:
            return np.linalg.solve(gram, cross[features])
        except np.linalg.LinAlgError:
            return np.linalg.lstsq(gram, cross[features], rcond=None)[0]

    def fit(self, y, features, alpha=1.0):
        """Weighted ridge on ``Z[:, features]``: returns ``(intercept, coef, r2)``.

        ``r2`` is the weighted coefficient of determination on the same data,
        what ``Ridge.score(X, y, sample_weight=w)`` returns.
        """
        features = np.asarray(features, dtype=int)
        y = np.asarray(y, dtype=float)
        y_mean, cross, total_ss = self.label_stats(y)
        coef = self.solve(features, cross, alpha)
        intercept = y_mean - self.mean[features] @ coef
        prediction = self.predict(features, coef, intercept)
        residual = y - prediction
        residual_ss = float(self.weights @ (residual * residual))
        r2 = 1.0 - residual_ss / total_ss if total_ss > 0 else (1.0 if residual_ss == 0 else 0.0)
        return float(intercept), coef, float(r2)

    def predict(self, features, coef, intercept, rows=slice(None)):
        """Linear prediction on ``Z[rows, features]``."""
        Z = self.Z[rows]
        if sp.issparse(Z):
            Z = Z[:, features]
            return np.asarray(Z @ coef).ravel() + intercept
        return Z[..., features] @ coef + intercept
