"""Proximity kernels: distances to the explained instance -> sample weights.

The LIME paper weights a perturbation z of x by

    pi_x(z) = exp(-D(x, z)^2 / sigma^2).

The reference ``lime`` package computes ``sqrt(exp(-d^2 / w^2))``, which is the
same kernel with ``sigma^2 = 2 w^2``.  limekit keeps lime's form and defaults
(``kernel_width`` = 0.75 * sqrt(n_features) for tabular data, 25 for text) so
that explanations match lime's; pass ``kernel=paper_kernel`` for the paper's
form, or any callable ``kernel(distances, kernel_width) -> weights``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from .._validation import bad_type, bad_value, check_positive_float

__all__ = ["exponential_kernel", "paper_kernel", "make_kernel_fn", "check_weights"]


def exponential_kernel(distances: np.ndarray, kernel_width: float) -> np.ndarray:
    """lime's kernel: ``sqrt(exp(-d**2 / kernel_width**2))``.

    Parameters
    ----------
    distances : ndarray of shape (n_samples,)
    kernel_width : float

    Returns
    -------
    weights : ndarray of shape (n_samples,), in (0, 1]
    """
    distances = np.asarray(distances, dtype=float)
    return np.exp(-0.5 * (distances / kernel_width) ** 2)


def paper_kernel(distances: np.ndarray, kernel_width: float) -> np.ndarray:
    """The paper's kernel ``exp(-d**2 / kernel_width**2)`` (sigma = kernel_width)."""
    distances = np.asarray(distances, dtype=float)
    return np.exp(-((distances / kernel_width) ** 2))


def make_kernel_fn(kernel: Callable[..., Any] | None, kernel_width: float) -> Callable[..., Any]:
    """Bind ``kernel_width`` to ``kernel`` (lime's ``partial(kernel, kernel_width=...)``).

    Parameters
    ----------
    kernel : callable or None
        ``kernel(distances, kernel_width)``; None gives :func:`exponential_kernel`.
    kernel_width : float
        Must be finite and > 0.

    Returns
    -------
    kernel_fn : callable
        ``kernel_fn(distances) -> weights``.
    """
    kernel_width = check_positive_float(kernel_width, "kernel_width")
    if kernel is None:
        kernel = exponential_kernel
    elif not callable(kernel):
        raise bad_type("kernel", "a callable kernel(distances, kernel_width) or None", kernel)
    return partial(kernel, kernel_width=kernel_width)


def check_weights(weights: np.ndarray, n_samples: int, argument: str = "kernel") -> np.ndarray:
    """Check a kernel's output: shape (n_samples,), finite, >= 0, not all zero."""
    weights = np.asarray(weights, dtype=float)
    if weights.shape != (n_samples,):
        raise bad_value(argument, f"weights of shape ({n_samples},)", f"shape {weights.shape}")
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise bad_value(argument, "finite, non-negative weights", "NaN, infinite or negative weights")
    if not weights.any():
        raise bad_value(
            argument,
            "at least one positive weight",
            "all weights zero",
            "The kernel width is probably too small for these distances.",
        )
    return weights
