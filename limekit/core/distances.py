"""Distances of every perturbation to the explained instance (row 0)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.metrics import pairwise_distances

from .._validation import bad_type, bad_value

__all__ = ["check_distance_metric", "distances_to_first"]


def check_distance_metric(metric: object, argument: str = "distance_metric") -> str | Callable[..., Any]:
    """Validate a metric name or callable cheaply, before any model call.

    Any metric accepted by :func:`sklearn.metrics.pairwise_distances` works.
    """
    if callable(metric):
        return metric
    if not isinstance(metric, str):
        raise bad_type(argument, "a metric name such as 'euclidean' or 'cosine', or a callable", metric)
    if metric in ("euclidean", "cosine", "l2"):
        return metric
    probe = np.array([[0.0, 1.0], [1.0, 1.0]])
    try:
        pairwise_distances(probe, probe[:1], metric=metric)
    except (ValueError, TypeError) as exc:
        raise bad_value(argument, "a metric known to sklearn.metrics.pairwise_distances", repr(metric)) from exc
    return metric


def distances_to_first(Z: np.ndarray | sp.spmatrix, metric: str | Callable[..., Any] = "euclidean") -> np.ndarray:
    """Distance of each row of ``Z`` to ``Z[0]``.

    Euclidean and cosine distances of dense data are computed directly (one
    pass over the matrix); everything else goes to scikit-learn.

    Parameters
    ----------
    Z : ndarray or sparse matrix of shape (n_samples, n_features)
    metric : str or callable

    Returns
    -------
    distances : ndarray of shape (n_samples,)
    """
    if not sp.issparse(Z):
        Z = np.asarray(Z, dtype=float)
        if metric in ("euclidean", "l2"):
            squares = Z - Z[0]
            squares *= squares
            return np.sqrt(squares @ np.ones(Z.shape[1]))  # row sums as a matrix-vector product: one pass
        if metric == "cosine":
            norms = np.sqrt(np.einsum("ij,ij->i", Z, Z))
            dots = Z @ Z[0]
            denom = norms * norms[0]
            with np.errstate(invalid="ignore", divide="ignore"):
                similarity = np.where(denom > 0, dots / np.where(denom > 0, denom, 1.0), 0.0)
            # sklearn's convention: a zero vector has similarity 0 to everything
            return np.clip(1.0 - similarity, 0.0, 2.0)
    return pairwise_distances(Z, Z[0:1], metric=metric).ravel()
