"""Feature selection for the local surrogate (LIME's options, same meaning).

``'forward_selection'``
    Greedily add the feature that raises the weighted R^2 of an unpenalised
    linear fit most.  Scored for all candidates at once from the Gram matrix
    (the partial-correlation update), not by refitting per candidate.
``'highest_weights'``
    Fit a ridge (alpha=0.01) on all features, keep those with the largest
    ``|coef * z_0|``.
``'lasso_path'``
    K-Lasso, LIME's Algorithm 1: walk the weighted lasso path (LARS) and keep
    the largest set of at most ``num_features`` non-zero coefficients.
``'none'``
    All features.
``'auto'``
    lime's rule: forward selection when ``num_features <= 6``, else highest weights.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import lars_path, lars_path_gram

from .._validation import check_choice

if TYPE_CHECKING:
    from ..weighted import WeightedDesign

__all__ = ["FEATURE_SELECTION_METHODS", "select_features", "resolve_method"]

FEATURE_SELECTION_METHODS = ("auto", "none", "forward_selection", "highest_weights", "lasso_path")


def resolve_method(method: str, num_features: int) -> str:
    """Validate ``method`` and resolve ``'auto'`` with lime's rule."""
    check_choice(method, "feature_selection", FEATURE_SELECTION_METHODS)
    if method == "auto":
        return "forward_selection" if num_features <= 6 else "highest_weights"
    return method


HIGHEST_WEIGHTS_ALPHA = 0.01  # lime's Ridge(alpha=0.01) on every feature, for 'highest_weights'


def highest_weights(coef: np.ndarray, first_row: np.ndarray, num_features: int) -> np.ndarray:
    """The ``num_features`` columns of largest ``|coef * first_row|`` (ties: the lower index first)."""
    return np.argsort(-np.abs(coef * first_row), kind="stable")[:num_features]


def select_features(
    design: WeightedDesign, y: np.ndarray, num_features: int, method: str, cross: np.ndarray | None = None
) -> np.ndarray:
    """Pick the interpretable features the surrogate will use.

    Parameters
    ----------
    design : WeightedDesign
        Weighted interpretable data (shared across labels).
    y : ndarray of shape (n_samples,)
        The model's output for the label being explained.
    num_features : int
    method : str
        One of :data:`FEATURE_SELECTION_METHODS`.
    cross : ndarray of shape (n_features,) or None
        ``design.label_stats(y)[1]`` when the caller has it already.

    Returns
    -------
    features : ndarray of int
        Column indices into ``design.Z``, in selection order.
    """
    method = resolve_method(method, num_features)
    n_features = design.n_features
    if method == "none":
        return np.arange(n_features)
    if cross is None:
        _, cross = design.label_stats(y)
    if method == "forward_selection":
        return _forward_selection(design, cross, min(num_features, n_features))
    if method == "highest_weights":
        coef = design.solve(np.arange(n_features), cross, alpha=HIGHEST_WEIGHTS_ALPHA)
        first_row = design.Z[0]
        first_row = np.asarray(first_row.todense()).ravel() if sp.issparse(first_row) else np.asarray(first_row)
        return highest_weights(coef, first_row, num_features)
    # lasso_path
    if design.wide:  # on the weighted rows: the d x d Gram matrix of a long document is never formed
        y = np.asarray(y, dtype=float)
        y_weighted = (y - design.weights @ y / design.total_weight) * np.sqrt(design.weights)
        _, _, coefs = lars_path(design.centred, y_weighted, method="lasso")
    else:
        _, _, coefs = lars_path_gram(cross, design.gram, n_samples=design.n_samples, method="lasso")
    nonzero = np.arange(n_features)
    for step in range(coefs.shape[1] - 1, 0, -1):
        nonzero = np.flatnonzero(coefs[:, step])
        if nonzero.size <= num_features:
            break
    return nonzero


def _forward_selection(design: WeightedDesign, cross: np.ndarray, n_select: int) -> np.ndarray:
    """Greedy forward selection scored from the Gram matrix.

    Adding feature j to the set S raises the explained sum of squares by
    ``r_j^2 / d_j`` with ``r = b - G[:, S] beta_S`` (the residual correlation)
    and ``d_j = G_jj - G_jS G_SS^-1 G_Sj`` (the residual variance of j), so every
    candidate is scored in one vectorised step.  Ties go to the lower index, as
    in lime's loop.
    """
    selected: list[int] = []
    diag = design.gram_diagonal()
    scale = max(float(diag.max()), 1e-300)
    for _ in range(n_select):
        if selected:
            G_ss = design.gram_block(selected, selected)
            G_js = design.gram_block(None, selected)
            try:
                solved = np.linalg.solve(G_ss, np.column_stack([cross[selected], G_js.T]))
            except np.linalg.LinAlgError:
                solved = np.linalg.lstsq(G_ss, np.column_stack([cross[selected], G_js.T]), rcond=None)[0]
            beta, projection = solved[:, 0], solved[:, 1:]
            residual = cross - G_js @ beta
            residual_var = diag - np.einsum("js,sj->j", G_js, projection)
        else:
            residual, residual_var = cross, diag
        usable = residual_var > 1e-10 * scale
        gain = np.where(usable, residual**2 / np.where(usable, residual_var, 1.0), 0.0)
        gain[selected] = -np.inf
        selected.append(int(np.argmax(gain)))
    return np.array(selected, dtype=int)
