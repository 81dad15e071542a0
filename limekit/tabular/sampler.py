"""Tabular perturbations: lime's per-feature sampling from training statistics, vectorised.

With a discretizer every feature is sampled as a bin (or category) from its
training frequencies and continuous bins are turned back into values by a
truncated normal; without one, continuous features are drawn from a normal
with the training standard deviation (centred on the training mean, or on the
instance with ``sample_around_instance``).  The interpretable row says, per
feature, whether the perturbation falls in the instance's bin/category (or,
undiscretised, holds the standardised value).  All of it is done on whole
``(num_samples, n_features)`` matrices.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.special import ndtri

from ..core.neighbourhood import OriginalSpace

__all__ = ["TabularSampler", "SparseRows", "SAMPLING_METHODS"]

SAMPLING_METHODS = ("gaussian", "lhs")


class TabularSampler:
    """Draws the perturbations of a row from training statistics.

    Parameters
    ----------
    n_features : int
    is_sparse : bool
        Sparse rows vary only their non-zero features (lime's scheme).
    discretizer : BaseDiscretizer or None
    sampled_categorical : list of int
        Columns sampled from their value frequencies: every column with a
        discretizer, the declared categorical ones without.
    declared_categorical : list of int
        Columns holding category codes.
    feature_values, feature_frequencies : dict of int -> ndarray
        Per sampled-categorical column, its values (bins) and their frequencies.
    mean, scale : ndarray of shape (n_features,)
        Centre and spread of the normal draws (0 and 1 on sampled-categorical columns).
    standard_mean, standard_scale : ndarray of shape (n_features,)
        The standardisation of the original space for GAM surrogates
        (categorical codes stay as they are).
    sample_around_instance : bool
    values_entropy : int or None
        Set when the caller passed a discretizer with its own ``random_state``:
        the values within bins then derive from it (and the instance's
        generator), as lime draws them from the discretizer's generator.
    """

    def __init__(self, n_features, is_sparse, discretizer, sampled_categorical, declared_categorical,
                 feature_values, feature_frequencies, mean, scale, standard_mean, standard_scale,
                 sample_around_instance, values_entropy=None):
        self.n_features = n_features
        self.is_sparse = is_sparse
        self.discretizer = discretizer
        self.sampled_categorical = list(sampled_categorical)
        self.declared_categorical = list(declared_categorical)
        self.feature_values = feature_values
        self.cumulative = {f: np.cumsum(p) for f, p in feature_frequencies.items()}
        self.mean, self.scale = mean, scale
        self.standard_mean, self.standard_scale = standard_mean, standard_scale
        self.sample_around_instance = sample_around_instance
        self.values_entropy = values_entropy

    def sample(self, row, num_samples, rng, sampling_method="gaussian"):
        """Return ``(Z, inverse, feature_ids)``: interpretable rows, model-space rows, column ids of ``Z``.

        Row 0 is the instance itself.  ``inverse`` is a float matrix, or a
        :class:`SparseRows` for sparse rows.
        """
        if self.is_sparse:
            return self._sample_sparse(row, num_samples, rng, sampling_method)
        columns = self.sampled_categorical
        if self.discretizer is not None:
            first_row = self.discretizer.discretize(row)
            bins = self._sample_categories(num_samples, columns, rng)
            bins[0] = first_row
            Z = (bins == first_row).astype(float)
            values_rng = rng
            if self.values_entropy is not None:
                values_rng = np.random.default_rng([self.values_entropy, *rng.integers(0, 2**32, size=4)])
            inverse = self.discretizer.undiscretize_bins(bins, values_rng)
            inverse[0] = row
        else:
            inverse = _standard_normal(num_samples, self.n_features, sampling_method, rng) * self.scale
            inverse += row if self.sample_around_instance else self.mean
            if columns:
                inverse[:, columns] = self._sample_categories(num_samples, columns, rng)
            inverse[0] = row
            Z = (inverse - self.mean) / self.scale
            if columns:
                Z[:, columns] = (inverse[:, columns] == row[columns]).astype(float)
        return Z, inverse, None

    def _sample_sparse(self, row, num_samples, rng, sampling_method):
        """Sparse rows: only the instance's non-zero features vary (lime's scheme)."""
        active = row.indices.copy()
        scale, mean = self.scale[active], self.mean[active]
        values = row.data.copy()
        draws = _standard_normal(num_samples, active.size, sampling_method, rng) * scale
        draws += values if self.sample_around_instance else mean
        draws[0] = values
        return (draws - mean) / scale, SparseRows(draws, active, self.n_features), active

    def _sample_categories(self, num_samples, columns, rng):
        """Draw each listed column's values from its training frequencies (one uniform draw for all).

        Drawn column by column in a (columns, samples) layout, so that every
        inverse-CDF lookup reads and writes contiguous memory.
        """
        uniforms = rng.random((len(columns), num_samples))
        samples = np.empty((len(columns), num_samples))
        for j, feature in enumerate(columns):
            values = self.feature_values[feature]
            index = np.searchsorted(self.cumulative[feature], uniforms[j], side="right")
            samples[j] = values[np.minimum(index, len(values) - 1)]
        return np.ascontiguousarray(samples.T)  # models and the rest of the pipeline read rows

    def original_space(self, Z, inverse, feature_ids, categorical_names):
        """The perturbations as GAM surrogates see them: standardised continuous columns, category codes."""
        if isinstance(inverse, SparseRows):  # Z already holds the standardised varying features
            mean, scale = self.standard_mean[feature_ids], self.standard_scale[feature_ids]
            return OriginalSpace(Z, [], feature_ids, lambda column, grid: grid * scale[column] + mean[column])
        X = (inverse - self.standard_mean) / self.standard_scale

        def display(column, grid):
            """A shape-function grid in the user's units: unscaled values, or category names."""
            if column in self.declared_categorical:
                codes = np.asarray(grid).astype(int)
                names = categorical_names.get(column)
                if names is None:
                    return codes
                return np.array([names[c] if 0 <= c < len(names) else str(c) for c in codes], dtype=object)
            return np.asarray(grid) * self.standard_scale[column] + self.standard_mean[column]

        return OriginalSpace(X, list(self.declared_categorical), None, display)


def _standard_normal(num_samples, n_columns, sampling_method, rng):
    if sampling_method == "lhs":
        from scipy.stats import qmc

        hypercube = qmc.LatinHypercube(d=n_columns, rng=rng).random(num_samples)
        return ndtri(np.clip(hypercube, 1e-12, 1 - 1e-12))
    return rng.standard_normal((num_samples, n_columns))


class SparseRows:
    """Perturbations of a sparse row, handed to the model as CSR batches."""

    def __init__(self, values, columns, n_features):
        self.values = values
        self.columns = columns
        self.n_features = n_features

    def rows(self, rows):
        block = self.values[rows]
        n_rows, n_active = block.shape
        indptr = np.arange(0, n_active * (n_rows + 1), n_active) if n_active else np.zeros(n_rows + 1, int)
        return sp.csr_matrix((block.ravel(), np.tile(self.columns, n_rows), indptr),
                             shape=(n_rows, self.n_features))
