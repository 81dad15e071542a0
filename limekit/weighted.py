"""Weighted statistics: the one leaf module that the core and the surrogates share.

The weighted least-squares design of feature selection and linear fits, the
weighted R^2, the weighted AUC and Kish's effective sample size.  It imports
nothing from limekit, so every layer may use it.


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

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

__all__ = [
    "WeightedDesign",
    "weighted_r2",
    "weighted_auc",
    "sorted_auc",
    "sorted_groups_auc",
    "effective_sample_size",
    "weighted_mean_abs_deviation",
]


class WeightedDesign:
    """Weighted, centred view of the interpretable data ``Z`` with weights ``w``.

    Narrow designs (no more columns than rows: tabular data, short texts, images)
    form the ``d x d`` weighted Gram matrix once.  Wide designs (a long
    document: more distinct words than samples) never form it: their solves
    go through the ``n x n`` dual (Woodbury's identity) and selection reads
    only the Gram columns it needs, so time and memory stay linear in ``d``.

    Parameters
    ----------
    Z : ndarray or sparse matrix of shape (n_samples, n_features)
    weights : ndarray of shape (n_samples,)
    """

    def __init__(self, Z: Any, weights: ArrayLike) -> None:  # Z: ndarray or sparse matrix
        self.Z = Z
        self.weights = np.asarray(weights, dtype=float)
        self.total_weight = self.weights.sum()
        self.n_samples, self.n_features = Z.shape
        self._gram = self._centred = None
        if sp.issparse(Z):
            weighted_mean = np.asarray(Z.T @ self.weights).ravel() / self.total_weight
            if not self.wide:
                ZtWZ = np.asarray((Z.T @ Z.multiply(self.weights[:, None])).todense())
                self._gram = ZtWZ - self.total_weight * np.outer(weighted_mean, weighted_mean)
        else:
            weighted_mean = self.weights @ Z / self.total_weight
            if not self.wide:
                self._centred = _centred_rows(Z, weighted_mean, self.weights)
                self._gram = self._centred.T @ self._centred
        self.mean = weighted_mean

    @property
    def wide(self) -> bool:
        """More columns than rows: solved in the dual, the Gram matrix never formed."""
        return self.n_features > self.n_samples

    @property
    def gram(self) -> np.ndarray:
        """The ``d x d`` weighted, centred Gram matrix (formed on first use for a wide design)."""
        if self._gram is None:
            centred = self.centred
            self._gram = centred.T @ centred
        return self._gram

    @property
    def centred(self) -> np.ndarray:
        """``W^(1/2) (Z - mean)``, dense, shape ``(n_samples, n_features)``."""
        if self._centred is None:
            Z = self.Z.toarray() if sp.issparse(self.Z) else np.asarray(self.Z, dtype=float)
            self._centred = _centred_rows(Z, self.mean, self.weights)
        return self._centred

    def gram_block(self, rows: Sequence[int] | np.ndarray | None, columns: Sequence[int] | np.ndarray) -> np.ndarray:
        """``gram[rows][:, columns]`` (every row when ``rows`` is None) without forming a wide design's matrix."""
        if self._gram is not None:
            if rows is None:
                return self._gram[:, columns]
            return self._gram[np.ix_(np.asarray(rows, dtype=np.intp), np.asarray(columns, dtype=np.intp))]
        centred = self.centred
        return (centred if rows is None else centred[:, rows]).T @ centred[:, columns]

    def gram_diagonal(self) -> np.ndarray:
        """The Gram matrix's diagonal: each column's weighted sum of squares about its mean."""
        if self._gram is not None:
            return np.diag(self._gram).copy()
        return np.einsum("ij,ij->j", self.centred, self.centred)

    def extend(self, Z_new: Any, weights_new: ArrayLike) -> WeightedDesign:
        """The design of these rows followed by ``Z_new`` (weights ``weights_new``)."""
        stacked = sp.vstack([self.Z, Z_new], format="csr") if sp.issparse(self.Z) else np.vstack([self.Z, Z_new])
        return WeightedDesign(stacked, np.concatenate([self.weights, np.asarray(weights_new, dtype=float)]))

    def label_stats(self, y: np.ndarray) -> tuple[float, np.ndarray]:
        """Weighted mean of ``y`` and ``Z_c^T W y_c``."""
        y = np.asarray(y, dtype=float)
        y_mean = self.weights @ y / self.total_weight
        if self._centred is not None:
            return y_mean, self._centred.T @ (np.sqrt(self.weights) * (y - y_mean))
        return y_mean, np.asarray(self.Z.T @ (self.weights * (y - y_mean))).ravel()

    def solve(self, features: Sequence[int] | np.ndarray, cross: np.ndarray, alpha: float) -> np.ndarray:
        """Ridge coefficients on the columns ``features`` (``alpha`` = L2 penalty)."""
        features = np.asarray(features, dtype=int)
        if features.size == 0:
            return np.zeros(0)
        if self.wide and features.size > self.n_samples:
            return self._solve_dual(features, cross[features], alpha)
        gram = self.gram_block(features, features)
        if alpha:
            gram = gram + alpha * np.eye(features.size)
        try:
            return np.linalg.solve(gram, cross[features])
        except np.linalg.LinAlgError:
            return np.linalg.lstsq(gram, cross[features], rcond=None)[0]

    def _solve_dual(self, features: np.ndarray, cross: np.ndarray, alpha: float) -> np.ndarray:
        """``(X'X + a I)^-1 b = (b - X' (X X' + a I)^-1 X b) / a`` with ``X`` the n x k weighted centred rows."""
        X = self.centred[:, features]
        alpha = alpha if alpha > 0 else 1e-10 * max(float(np.einsum("ij,ij->", X, X)) / X.shape[1], 1e-300)
        kernel = X @ X.T
        kernel[np.diag_indices_from(kernel)] += alpha
        try:
            inner = np.linalg.solve(kernel, X @ cross)
        except np.linalg.LinAlgError:
            inner = np.linalg.lstsq(kernel, X @ cross, rcond=None)[0]
        return (cross - X.T @ inner) / alpha

    def fit(
        self, y: np.ndarray, features: Sequence[int] | np.ndarray, alpha: float = 1.0, return_prediction: bool = False
    ) -> tuple[Any, ...]:
        """Weighted ridge on ``Z[:, features]``: returns ``(intercept, coef, r2)``.

        ``r2`` is the weighted coefficient of determination on the same data,
        what ``Ridge.score(X, y, sample_weight=w)`` returns.  With
        ``return_prediction`` the prediction on every row comes fourth.
        """
        features = np.asarray(features, dtype=int)
        y = np.asarray(y, dtype=float)
        y_mean, cross = self.label_stats(y)
        coef = self.solve(features, cross, alpha)
        intercept = y_mean - self.mean[features] @ coef
        prediction = self.predict(features, coef, intercept)
        r2 = weighted_r2(y, prediction, self.weights)
        return (float(intercept), coef, r2, prediction) if return_prediction else (float(intercept), coef, r2)

    def sandwich_meat(self, centred_target: np.ndarray, coef: np.ndarray) -> np.ndarray:
        """``B = sum_i (w_i r_i)^2 c_i c_i'``, the middle of the sandwich ``A^-1 B A^-1``.

        ``c_i`` are the centred rows ``z_i - mean`` and ``r_i = centred_target_i
        - c_i coef`` the residuals.  Computed block by block from the weighted
        centred rows, so that they are read once from memory and the scaled
        rows are never formed whole.
        """
        weighted = self.centred
        weighted_target = centred_target * np.sqrt(self.weights)
        meat = np.zeros((self.n_features, self.n_features))
        for start in range(0, self.n_samples, SANDWICH_BLOCK):
            rows = weighted[start : start + SANDWICH_BLOCK]
            residual = weighted_target[start : start + SANDWICH_BLOCK] - rows @ coef
            scores = rows * residual[:, None]
            meat += scores.T @ scores
        return meat

    def predict(
        self, features: Sequence[int] | np.ndarray, coef: np.ndarray, intercept: float, rows: slice = slice(None)
    ) -> np.ndarray:
        """Linear prediction on ``Z[rows, features]``."""
        Z = self.Z[rows]
        if sp.issparse(Z):
            Z = Z[:, features]
            return np.asarray(Z @ coef).ravel() + intercept
        return Z[..., features] @ coef + intercept


SANDWICH_BLOCK = 1024  # rows per block of the sandwich's middle term: a block stays in the core's cache


def _centred_rows(Z: np.ndarray, mean: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``W^(1/2) (Z - mean)`` in one new array (one n x d allocation, not two)."""
    centred = np.subtract(Z, mean, dtype=float)
    centred *= np.sqrt(weights)[:, None]
    return centred


HUGE_OUTPUT = 1e150  # outputs beyond this are scaled by a power of two before they are squared


def scale_huge(*arrays: Any) -> tuple[Any, ...]:
    """``(scale, *arrays)``: the arrays (as floats) times one power of two when they hold values beyond ``HUGE_OUTPUT``.

    The power of two brings the largest finite magnitude among the arrays into
    [0.5, 1); when that magnitude is at most ``HUGE_OUTPUT`` the scale is 1.0
    and the arrays come back unscaled.  Multiplying by a power of two is
    exact, so scale-free figures (R^2, a ranking, the sampling verdict) do
    not change, and squares of the scaled values stay finite.

    Parameters
    ----------
    *arrays : array_like

    Returns
    -------
    tuple
        ``(scale, scaled_0, scaled_1, ...)``.
    """
    floats = [np.asarray(a, dtype=float) for a in arrays]
    if max((np.abs(a).max(initial=0.0) for a in floats), default=0.0) <= HUGE_OUTPUT:  # NaN: not here
        return (1.0, *floats)
    largest = max(float(np.abs(a[np.isfinite(a)]).max(initial=0.0)) for a in floats)
    if not largest > HUGE_OUTPUT:
        return (1.0, *floats)
    scale = float(np.ldexp(1.0, -np.frexp(largest)[1]))
    return (scale, *(a * scale for a in floats))


def weighted_r2(y: ArrayLike, prediction: ArrayLike, sample_weight: ArrayLike) -> float:
    """Weighted coefficient of determination (scikit-learn's ``r2_score``).

    Outputs near the float maximum are scaled by a power of two first
    (:func:`scale_huge`: exact, so smaller outputs give the same figures), so
    that the sums of squares stay finite.
    """
    _, target, predicted = scale_huge(y, prediction)
    weights = np.asarray(sample_weight, dtype=float)
    y_mean = weights @ target / weights.sum()
    residual, centred = target - predicted, target - y_mean
    residual_ss = float(weights @ residual**2)
    total_ss = float(weights @ centred**2)
    if total_ss <= 0:
        return 1.0 if residual_ss == 0 else 0.0
    return 1.0 - residual_ss / total_ss


def weighted_auc(positive: np.ndarray, score: np.ndarray, weights: np.ndarray | None = None) -> float | None:
    """Area under the ROC curve with sample weights (ties count one half).

    Equal to ``sklearn.metrics.roc_auc_score(positive, score,
    sample_weight=weights)``, from one sort.

    Returns
    -------
    float or None
        None when one class has no weight.
    """
    positive = np.asarray(positive, dtype=bool)
    score = np.asarray(score, dtype=float)
    order = np.argsort(score)
    return sorted_auc(positive[order], score[order], None if weights is None else np.asarray(weights)[order])


def sorted_auc(positive: np.ndarray, score: np.ndarray, weights: np.ndarray | None) -> float | None:
    """AUC of rows already sorted by ``score``; ``weights`` None counts every row once."""
    w = np.ones(score.shape[0]) if weights is None else np.asarray(weights, dtype=float)
    w_pos = np.where(positive, w, 0.0)
    return sorted_groups_auc(w_pos, w - w_pos, score)


def sorted_groups_auc(positive_weight: np.ndarray, negative_weight: np.ndarray, score: np.ndarray) -> float | None:
    """AUC from the positive and negative weight of rows sorted by ``score``.

    Rows of equal score are ties (they count one half).  None when one class
    has no weight.
    """
    changes = np.flatnonzero(score[1:] != score[:-1])
    if changes.size + 1 == score.shape[0]:  # no ties: every row is its own group
        group_pos, group_neg = positive_weight, negative_weight
    else:
        starts = np.concatenate([[0], changes + 1])
        group_pos = np.add.reduceat(positive_weight, starts)
        group_neg = np.add.reduceat(negative_weight, starts)
    total_pos, total_neg = group_pos.sum(), group_neg.sum()
    if total_pos <= 0 or total_neg <= 0:
        return None
    below = group_pos @ (np.cumsum(group_neg) - 0.5 * group_neg)
    return min(max(float(below / (total_pos * total_neg)), 0.0), 1.0)  # rounding can step past the bounds


def effective_sample_size(weights: ArrayLike) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2`` of the kernel weights.

    It says how many equally weighted samples the weighted fit is worth: a
    kernel so narrow that only a handful of perturbations count gives an
    explanation that cannot be trusted, whatever its in-sample score.
    """
    weights = np.asarray(weights, dtype=float)
    total = weights.sum()
    squares = np.dot(weights, weights)
    return float(total * total / squares) if squares > 0 else 0.0


def weighted_mean_abs_deviation(values: Any, weights: ArrayLike, binary: bool = False) -> np.ndarray:
    """Per column of ``values``: the weighted mean of ``|value - its weighted mean|``.

    With ``binary`` (every value 0 or 1) that is ``2 p (1 - p)`` of the
    column's weighted mean ``p``: one pass over the values instead of two.
    """
    if sp.issparse(values):
        values = values.toarray()
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    total = weights.sum()
    mean = (weights @ values) / total
    if binary:
        return np.maximum(2.0 * mean * (1.0 - mean), 0.0)  # a mean rounded just past 1 is a spread of 0
    centred = values - mean
    return (weights @ np.abs(centred)) / total
