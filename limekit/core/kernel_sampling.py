"""Perturbations drawn from the kernel itself (GLIME-Binomial, Tan, Tian and Li, NeurIPS 2023).

LIME draws binary perturbations from a fixed sampler and weights them by the
kernel; most of them then carry tiny weights, and the weighted fit converges
slowly.  For a binary representation whose distance to the instance depends
only on how many features are kept (cosine and Euclidean distances to the
all-ones row), the kernel can be folded into the sampling instead: draw the
number of kept features ``i`` with probability ``C(d, i) * kernel(distance(i))``,
keep ``i`` features chosen uniformly, and fit without weights.  The fitted
objective is the same in expectation; the variance is smaller.  Written from
the paper's description.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.special import gammaln

from .._validation import bad_value

__all__ = ["masks_removing", "count_distribution", "kernel_masks", "distance_of_kept_count"]

SAMPLING_CHUNK = 1024  # rows of masks drawn at a time (bounds memory)


def masks_removing(rng: np.random.Generator, removed_counts: np.ndarray, n_columns: int) -> np.ndarray:
    """Boolean rows keeping all but ``removed_counts[r]`` columns, the removed ones uniform without replacement.

    The removed columns are the ``k`` smallest of ``n_columns`` uniform
    float32 keys (ties at the threshold ranked exactly).

    Returns
    -------
    keep : ndarray of bool of shape (len(removed_counts), n_columns)
    """
    removed_counts = np.asarray(removed_counts, dtype=np.int64)
    n_rows = removed_counts.shape[0]
    keep = np.ones((n_rows, n_columns), dtype=bool)
    for start in range(0, n_rows, SAMPLING_CHUNK):
        stop = min(start + SAMPLING_CHUNK, n_rows)
        k = removed_counts[start:stop]
        keys = rng.random((stop - start, n_columns), dtype=np.float32)
        threshold = np.sort(keys, axis=1)[np.arange(stop - start), np.maximum(k, 1) - 1]
        removed = (keys <= threshold[:, None]) & (k[:, None] > 0)
        tied = np.flatnonzero(removed.sum(axis=1) != k)
        if tied.size:  # equal float32 keys at the threshold: rank them exactly
            ranks = np.argsort(np.argsort(keys[tied], axis=1, kind="stable"), axis=1, kind="stable")
            removed[tied] = ranks < k[tied, None]
        keep[start:stop] = ~removed
    return keep


def distance_of_kept_count(kept: np.ndarray, n_columns: int, metric: str | Callable[..., Any]) -> np.ndarray:
    """Distance of a binary row keeping ``kept`` of ``n_columns`` features to the all-ones row.

    Parameters
    ----------
    kept : ndarray of int
    n_columns : int
    metric : {'cosine', 'euclidean', 'l2'}

    Returns
    -------
    ndarray of float
    """
    kept = np.asarray(kept, dtype=float)
    if metric == "cosine":  # 1 - i / (sqrt(i) sqrt(d)); a zero row has similarity 0 (scikit-learn)
        return 1.0 - np.sqrt(kept / n_columns)
    if metric in ("euclidean", "l2"):
        return np.sqrt(n_columns - kept)
    raise bad_value(
        "sampling", "'lime' with this distance_metric ('kernel' needs 'cosine', 'euclidean' or 'l2')", repr("kernel")
    )


def count_distribution(n_columns: int, kernel_of_count: np.ndarray) -> np.ndarray:
    """``P(i kept) ∝ C(d, i) * kernel(i)`` for ``i = 0..d``.

    Parameters
    ----------
    n_columns : int
    kernel_of_count : ndarray of shape (n_columns + 1,)
        The kernel weight of a row keeping ``i`` features.

    Returns
    -------
    ndarray of shape (n_columns + 1,)
    """
    counts = np.arange(n_columns + 1)
    with np.errstate(divide="ignore"):
        log_p = (
            gammaln(n_columns + 1)
            - gammaln(counts + 1)
            - gammaln(n_columns - counts + 1)
            + np.log(np.asarray(kernel_of_count, dtype=float))
        )
    if not np.isfinite(log_p).any():
        raise bad_value("kernel", "positive weights for some perturbations", "zero weight for every kept count")
    p = np.exp(log_p - np.max(log_p[np.isfinite(log_p)]))
    return p / p.sum()


def kernel_masks(rng: np.random.Generator, num_samples: int, probabilities: np.ndarray) -> np.ndarray:
    """Row 0 keeps everything; every other row keeps ``i ~ probabilities`` features chosen uniformly."""
    n_columns = probabilities.shape[0] - 1
    kept = rng.choice(n_columns + 1, size=num_samples - 1, p=probabilities)
    keep = np.ones((num_samples, n_columns), dtype=bool)
    keep[1:] = masks_removing(rng, n_columns - kept, n_columns)
    return keep
