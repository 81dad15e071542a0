"""FAST interaction screening (Lou, Caruana, Gehrke and Hooker, KDD 2013), in numpy.

Contract: :func:`fast_interaction_scores` scores candidate feature pairs by the
reduction of the weighted residual sum of squares that a piecewise constant model
with one cut per axis of the pair achieves (larger = stronger interaction).  It
works on numpy arrays of the training rows and needs no torch.
"""

from __future__ import annotations

import numpy as np


def _quantile_codes(X, n_bins):
    """Quantile-bin each column of ``X``: integer codes in ``[0, n_bins)``."""
    inner = np.linspace(0.0, 1.0, n_bins + 1)[1:-1]
    edges = np.quantile(X, inner, axis=0)  # (n_bins - 1, n_columns)
    codes = np.empty(X.shape, dtype=np.int64)
    for column in range(X.shape[1]):  # preprocessing only, once per fit
        codes[:, column] = np.searchsorted(np.unique(edges[:, column]), X[:, column], side="right")
    return codes


def fast_interaction_scores(X, residual, sample_weight, pairs, n_bins=16, max_cells=1 << 22):
    """FAST scores: weighted RSS reduction of a one-cut-per-axis model of each pair.

    For each candidate pair ``(i, j)`` the residual is fitted by a piecewise
    constant function on the four quadrants defined by one cut on ``x_i`` and
    one on ``x_j`` (cuts at quantile-bin edges, chosen to minimise the
    weighted RSS), as in Lou et al. (2013).  Cell sums come from one
    ``np.bincount`` over bin-pair codes per chunk of pairs; 2-D prefix sums give
    every cut's quadrant sums at once.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_columns)
    residual : ndarray of shape (n_samples,)
    sample_weight : ndarray of shape (n_samples,)
    pairs : ndarray of shape (n_pairs, 2)
        Column indices of the candidate pairs.
    n_bins : int, default=16
        Quantile bins per feature.
    max_cells : int, default=2**22
        Bound on ``n_samples * pairs_per_chunk`` (memory of the code array).

    Returns
    -------
    scores : ndarray of shape (n_pairs,)
        Reduction of the weighted residual sum of squares (larger = stronger).
    """
    X = np.asarray(X, dtype=float)
    r = np.asarray(residual, dtype=float)
    w = np.asarray(sample_weight, dtype=float)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    n = X.shape[0]
    codes = _quantile_codes(X, n_bins)
    cells = n_bins * n_bins
    wr = w * r
    base = wr.sum() ** 2 / w.sum()
    scores = np.empty(len(pairs))
    chunk = max(1, max_cells // max(n, 1))
    for start in range(0, len(pairs), chunk):
        block = pairs[start : start + chunk]
        m = len(block)
        # (n, m) codes of every row in every pair's grid, offset per pair
        cell = codes[:, block[:, 0]] * n_bins + codes[:, block[:, 1]] + np.arange(m) * cells
        S = np.bincount(cell.ravel(), weights=np.repeat(wr, m), minlength=m * cells).reshape(m, n_bins, n_bins)
        W = np.bincount(cell.ravel(), weights=np.repeat(w, m), minlength=m * cells).reshape(m, n_bins, n_bins)
        scores[start : start + m] = _best_quadrant_gain(S, W) - base
    return np.maximum(scores, 0.0)


def _best_quadrant_gain(S, W):
    """``max over cuts of sum_quadrants S_q^2 / W_q`` for cell sums ``S``, weights ``W`` (m, B, B)."""
    PS = S.cumsum(1).cumsum(2)
    PW = W.cumsum(1).cumsum(2)

    def quadrants(P):
        low_low = P[:, :-1, :-1]  # rows <= a, columns <= b
        low_all = P[:, :-1, -1:]  # rows <= a
        all_low = P[:, -1:, :-1]  # columns <= b
        total = P[:, -1:, -1:]
        return low_low, low_all - low_low, all_low - low_low, total - low_all - all_low + low_low

    gain = 0.0
    for s, w in zip(quadrants(PS), quadrants(PW)):
        with np.errstate(divide="ignore", invalid="ignore"):
            gain = gain + np.where(w > 1e-12, s * s / np.where(w > 1e-12, w, 1.0), 0.0)
    return gain.reshape(len(S), -1).max(1)
