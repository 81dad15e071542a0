"""The perturbations of one instance, as they travel through perturb -> score -> fit.

A frontend builds a :class:`Neighbourhood` (the interpretable rows, their
distances to the instance and a lazy source of model inputs); the core adds the
kernel weights, fills in the model's outputs and fits, scores and bootstraps
the surrogate on it.  One object instead of a dozen positional arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["Neighbourhood", "OriginalSpace"]


@dataclass
class OriginalSpace:
    """The perturbations in the frontend's original feature space, for GAM surrogates.

    Surrogates with ``feature_space='original'`` (EBM, GAMI-Net) are fitted
    on these rows instead of the interpretable ``Z`` when a frontend provides
    them (tabular data: continuous features standardised, categorical
    features as integer codes).

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features)
        Row for row the same perturbations as the neighbourhood's ``Z``.
    categorical_features : list of int
        Columns of ``X`` holding category codes (declared to the surrogate).
    feature_ids : ndarray of int or None
        Feature id of each column of ``X`` (identity when None).
    display : callable or None
        ``display(column, grid) -> values``: the grid of a shape function in
        the user's units (undoing the scaling, naming categories).
    """

    X: np.ndarray
    categorical_features: list[int] = field(default_factory=list)
    feature_ids: np.ndarray | None = None
    display: Callable[[int, np.ndarray], np.ndarray] | None = None


@dataclass
class Neighbourhood:
    """Perturbations of one instance, from sampling to fitting.

    Attributes
    ----------
    Z : ndarray or sparse matrix of shape (n_samples, n_features)
        Interpretable rows.  Row 0 is the instance when ``includes_instance``.
    inputs : callable
        ``inputs(rows: slice) -> model input`` for those rows, built on
        demand so that memory follows the batch size.
    distances : ndarray of shape (n_samples,)
        Distance of each row to the instance.
    weights : ndarray of shape (n_samples,) or None
        Kernel weights (set by the core).
    outputs : ndarray of shape (n_samples, n_outputs) or None
        The model's outputs (set by the scoring stage).
    feature_ids : ndarray of int or None
        Feature id of each column of ``Z`` (identity when None).
    original : OriginalSpace or None
        The same rows in the original space, for GAM surrogates.
    includes_instance : bool, default=True
        False for held-out samples, which are all perturbations.
    binary : bool, default=False
        Every entry of ``Z`` is 0 or 1 (indicator rows: discretised tabular
        data, word and superpixel masks).
    """

    Z: Any  # ndarray or scipy sparse matrix
    inputs: Callable[[slice], Any]
    distances: np.ndarray
    weights: np.ndarray | None = None
    outputs: np.ndarray | None = None
    feature_ids: np.ndarray | None = None
    original: OriginalSpace | None = None
    includes_instance: bool = True
    binary: bool = False

    @property
    def n_samples(self) -> int:
        return self.Z.shape[0]

    def column_ids(self) -> np.ndarray:
        """Feature id of every column of ``Z``."""
        return np.arange(self.Z.shape[1]) if self.feature_ids is None else np.asarray(self.feature_ids)

    def extended(self, other: Neighbourhood) -> Neighbourhood:
        """These rows followed by ``other``'s (a scored extension without its instance); no model inputs."""
        stack = (
            (lambda a, b: sp.vstack([a, b], format="csr")) if sp.issparse(self.Z) else (lambda a, b: np.vstack([a, b]))
        )
        original = self.original
        if original is not None:
            assert other.original is not None, "both samples have an original space, or neither"
            original = replace(original, X=np.vstack([original.X, other.original.X]))
        assert self.weights is not None and other.weights is not None  # scored and weighted samples only
        assert self.outputs is not None and other.outputs is not None
        return replace(
            self,
            Z=stack(self.Z, other.Z),
            inputs=_no_inputs,
            distances=np.concatenate([self.distances, other.distances]),
            weights=np.concatenate([self.weights, other.weights]),
            outputs=np.concatenate([self.outputs, other.outputs]),
            original=original,
        )

    def without_instance(self) -> Neighbourhood:
        """The same perturbations with row 0 (the instance) left out: a held-out sample."""
        inputs = self.inputs
        original = self.original
        if original is not None:
            original = replace(original, X=original.X[1:])
        return replace(
            self,
            Z=self.Z[1:],
            inputs=lambda rows: inputs(slice(rows.start + 1, rows.stop + 1)),
            distances=self.distances[1:],
            weights=None if self.weights is None else self.weights[1:],
            outputs=None if self.outputs is None else self.outputs[1:],
            original=original,
            includes_instance=False,
        )


def _no_inputs(rows: slice) -> Any:
    """The model inputs of an extended sample: gone (its rows were scored when they were drawn)."""
    raise RuntimeError("an extended neighbourhood keeps no model inputs: its rows are already scored")
