"""Tabular perturbations: lime's per-feature sampling from training statistics, vectorised.

With a discretizer every feature is sampled as a bin (or category) from its
training frequencies and continuous bins are turned back into values by a
truncated normal; without one, continuous features are drawn from a normal
with the training standard deviation (centred on the training mean, or on the
instance with ``sample_around_instance``).  The interpretable row says, per
feature, whether the perturbation falls in the instance's bin/category (or,
undiscretised, holds the standardised value).  All of it is done on whole
``(num_samples, n_features)`` matrices.

A missing number (NaN) is one more bin of the discretizer (drawn with its
training frequency, drawn back as NaN); a category unseen in training has a
code no frequency draws, so only the instance's row holds it (and, with
``keep_category``, the rows that keep the instance's category).  The
undiscretised draws have no missing state: the explainer refuses NaN there.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.special import ndtri

from .._validation import bad_value
from ..core.neighbourhood import OriginalSpace

__all__ = ["TabularSampler", "SparseRows", "SAMPLING_METHODS", "SAFE_MAGNITUDE", "check_training_magnitude"]

SAMPLING_METHODS = ("gaussian", "lhs")
#: Largest magnitude of a training value, and of an instance's standardised value: the
#: statistics, the draws and the distances square and sum such numbers, which stays finite.
SAFE_MAGNITUDE = 1e150


def _column_name(feature_names, column):
    return repr(feature_names[column]) if feature_names is not None else str(column)


def check_training_magnitude(data, feature_names=None, argument="training_data"):
    """Raise if a column holds a value too large to sample from (its variance would overflow).

    Parameters
    ----------
    data : ndarray or sparse matrix of shape (n_samples, n_features)
        Training data without infinite values (NaN, a missing value, is left out).
    feature_names : list of str or None
        Column names for the error message.
    argument : str, default='training_data'

    Raises
    ------
    LimekitValueError
        Naming the first such column, its largest magnitude and its row.
    """
    if sp.issparse(data):
        peak = np.asarray(abs(data).max(axis=0).todense()).ravel()
    else:
        peak = np.maximum(np.fmax.reduce(data, axis=0), -np.fmin.reduce(data, axis=0))  # NaN left out, no |data| copy
    over = np.flatnonzero(peak > SAFE_MAGNITUDE)
    if over.size:
        column = int(over[0])
        values = data[:, column]
        values = np.asarray(values.todense()).ravel() if sp.issparse(values) else values
        row = int(np.argmax(np.abs(values)))
        raise bad_value(
            argument,
            f"values of magnitude at most {SAFE_MAGNITUDE:g} (their squares are summed for the sampling statistics)",
            f"{values[row]:.6g} in column {_column_name(feature_names, column)} (row {row})",
            "Rescale the column (other units, or its logarithm).",
        )


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
    spread : float, default=1.0
        Undiscretised sampling: the normal draws' standard deviation is
        ``spread * scale`` (lime: 1).  Distances stay in units of ``scale``.
    keep_category : float, default=0.0
        Undiscretised sampling: each sampled-categorical value is the
        instance's own with this probability, else drawn from the training
        frequencies (lime: 0, always drawn).
    bounds : (ndarray, ndarray) or None, default=None
        Undiscretised dense sampling: the draws are clipped to ``[low, high]``
        per column (lime: None, not clipped).
    """

    def __init__(
        self,
        n_features,
        is_sparse,
        discretizer,
        sampled_categorical,
        declared_categorical,
        feature_values,
        feature_frequencies,
        mean,
        scale,
        standard_mean,
        standard_scale,
        sample_around_instance,
        values_entropy=None,
        spread=1.0,
        keep_category=0.0,
        bounds=None,
    ):
        self.n_features = n_features
        self.is_sparse = is_sparse
        self.discretizer = discretizer
        self.sampled_categorical = list(sampled_categorical)
        self.declared_categorical = list(declared_categorical)
        self.feature_values = feature_values
        self.cumulative = {f: np.cumsum(p) for f, p in feature_frequencies.items()}
        self._category_tables = {}  # per tuple of columns, made on first use
        self.mean, self.scale = mean, scale
        self.standard_mean, self.standard_scale = standard_mean, standard_scale
        self.sample_around_instance = sample_around_instance
        self.values_entropy = values_entropy
        self.spread = float(spread)
        self.keep_category = float(keep_category)
        self.bounds = bounds

    def check_row(self, row, feature_names=None, argument="data_row"):
        """Raise if the undiscretised draws around ``row`` would overflow (a value absurdly far out).

        Without a discretizer the interpretable row is the standardised value
        ``(x - mean) / scale``, whose squares give the distances: it must stay
        within :data:`SAFE_MAGNITUDE` (and so must the value itself).
        """
        if self.discretizer is not None:
            return  # bins: the instance only picks its bin
        if sp.issparse(row):
            columns, values = row.indices, row.data
        else:
            columns = np.setdiff1d(np.arange(self.n_features), self.sampled_categorical)
            values = row[columns]
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            standard = (values - self.mean[columns]) / self.scale[columns]
        bad = np.flatnonzero(~(np.abs(standard) <= SAFE_MAGNITUDE) | ~(np.abs(values) <= SAFE_MAGNITUDE))
        if bad.size:
            column = int(columns[bad[0]])
            raise bad_value(
                argument,
                f"values within {SAFE_MAGNITUDE:g} training standard deviations of the "
                f"training mean (the distances square them)",
                f"{values[bad[0]]:.6g} in column {_column_name(feature_names, column)}, "
                f"{standard[bad[0]]:.3g} standard deviations from the mean {self.mean[column]:.6g}",
            )

    def sample(self, row, num_samples, rng, sampling_method="gaussian", new_states=()):
        """Return ``(Z, inverse, feature_ids)``: interpretable rows, model-space rows, column ids of ``Z``.

        Row 0 is the instance itself.  ``inverse`` is a float matrix, or a
        :class:`SparseRows` for sparse rows.  The caller checks the row
        first with :meth:`check_row`.

        Parameters
        ----------
        row : ndarray of shape (n_features,) or sparse matrix of shape (1, n_features)
        num_samples : int
        rng : numpy.random.Generator
        sampling_method : {'gaussian', 'lhs'}, default='gaussian'
        new_states : sequence of int, default=()
            Sampled-categorical columns where ``row`` holds a state the
            training data never had (a category unseen in training, a missing
            value where training has none): its training frequency is 0, so
            it is drawn as one more state (see :meth:`_draw_new_states`).
        """
        if self.is_sparse:
            return self._sample_sparse(row, num_samples, rng, sampling_method)
        columns = self.sampled_categorical
        if self.discretizer is not None:
            first_row = self.discretizer.discretize(row)
            bins = self._sample_categories(num_samples, columns, rng)
            self._draw_new_states(bins, first_row, new_states, rng)
            bins[0] = first_row
            Z = (bins == first_row).astype(float)
            inverse = self._values_in_bins(bins, rng)
            inverse[0] = row
        else:
            inverse = self._normal_values(
                num_samples, rng, sampling_method, row if self.sample_around_instance else self.mean
            )
            self._draw_new_states(inverse, row, new_states, rng)
            if columns and self.keep_category > 0:
                keep = rng.random((num_samples, len(columns))) < self.keep_category
                inverse[:, columns] = np.where(keep, row[columns], inverse[:, columns])
            inverse[0] = row
            Z = (inverse - self.mean) / self.scale
            if columns:
                Z[:, columns] = (inverse[:, columns] == row[columns]).astype(float)
        return Z, inverse, None

    def new_state_share(self, column):
        """How often a perturbation takes the instance's new state of ``column``: ``1 / (K + 1)``.

        ``K`` is the number of values (categories or bins) the column has in
        training: the new state is drawn as if it were one more, equally
        likely, and the training values share the rest in their proportions.
        """
        return 1.0 / (len(self.feature_values[column]) + 1)

    def _draw_new_states(self, matrix, row, new_states, rng):
        """Give each row of ``matrix`` (full width) ``row``'s value of each ``new_states`` column at its share.

        One ``rng.random`` batch, drawn only when there are such columns.
        """
        if not len(new_states):
            return
        uniforms = rng.random((matrix.shape[0], len(new_states)))
        for k, column in enumerate(new_states):  # a loop over columns, not rows
            takes_it = uniforms[:, k] < self.new_state_share(column)
            matrix[takes_it, column] = row[column]

    def shares_draws(self):
        """True when the perturbations do not depend on the instance (so explanations may share them).

        Discretised dense sampling draws every bin from its training
        frequency whatever the row, and undiscretised dense sampling draws
        around the training mean (lime's default, not
        ``sample_around_instance``) with categories from their frequencies;
        only the interpretable row (which bins or categories match the
        instance's) and the distances depend on it.
        """
        if self.is_sparse:
            return False
        return self.discretizer is not None or (not self.sample_around_instance and self.keep_category == 0)

    def sample_shared(self, num_samples, rng, sampling_method="gaussian"):
        """Return ``(codes, inverse)``: ``num_samples`` perturbations of no instance in particular.

        The draws of :meth:`sample` without the instance's row: ``codes``
        holds what :meth:`match` compares with an instance (each row's bins
        with a discretizer, else the values themselves), ``inverse`` the
        model rows.  Only when :meth:`shares_draws`.
        """
        if self.discretizer is not None:
            bins = self._sample_categories(num_samples, self.sampled_categorical, rng)
            return bins, self._values_in_bins(bins.copy(), rng)
        inverse = self._normal_values(num_samples, rng, sampling_method, self.mean)
        return inverse, inverse

    def _values_in_bins(self, bins, rng):
        """Values drawn inside ``bins`` (a float matrix, overwritten), from a caller's discretizer's own stream."""
        values_rng = rng
        if self.values_entropy is not None:
            values_rng = np.random.default_rng([self.values_entropy, *rng.integers(0, 2**32, size=4)])
        return self.discretizer.undiscretize_in_place(bins, values_rng)

    def _normal_values(self, num_samples, rng, sampling_method, centre):
        """Undiscretised draws: normals of the training scale around ``centre``, categories from their frequencies."""
        inverse = _standard_normal(num_samples, self.n_features, sampling_method, rng) * self.scale
        if self.spread != 1.0:
            inverse *= self.spread
        inverse += centre
        if self.bounds is not None:
            np.clip(inverse, self.bounds[0], self.bounds[1], out=inverse)
        columns = self.sampled_categorical
        if columns:
            inverse[:, columns] = self._sample_categories(num_samples, columns, rng)
        return inverse

    def shared_codes(self, row):
        """``row`` as :meth:`sample_shared`'s ``codes`` hold a perturbation."""
        return self.discretizer.discretize(row) if self.discretizer is not None else np.asarray(row, dtype=float)

    def match(self, row, codes):
        """``row``'s interpretable rows of shared ``codes``, as :meth:`sample` makes them."""
        if self.discretizer is not None:
            return (codes == self.discretizer.discretize(row)).astype(float)
        Z = (codes - self.mean) / self.scale
        columns = self.sampled_categorical
        if columns:
            Z[:, columns] = (codes[:, columns] == row[columns]).astype(float)
        return Z

    def sample_kernel(self, row, num_samples, rng, kernel_of_count, new_states=()):
        """Discretised perturbations drawn from lime's sampler reweighted by the kernel (GLIME), to fit unweighted.

        lime draws each bin from its training frequency, so feature ``j``
        matches the instance's bin with probability ``q_j``; the kernel weighs
        a row by the number ``i`` of matching features.  Here ``i`` is drawn
        with probability ``PB(i) * kernel(i)`` (``PB``: the Poisson-binomial
        law of the matches under lime's sampler), then which features match
        from the conditional Bernoulli law given ``i`` (sequentially, from the
        suffix Poisson-binomial tables), and the other features' bins from
        their frequencies without the instance's bin.  Row 0 is the instance.

        Parameters
        ----------
        row : ndarray of shape (n_features,)
        num_samples : int
        rng : numpy.random.Generator
        kernel_of_count : ndarray of shape (n_features + 1,)
            The kernel weight of a row matching ``i`` features.
        new_states : sequence of int, default=()
            As for :meth:`sample`: the instance's state of these columns
            matches with probability :meth:`new_state_share` (not 0).

        Returns
        -------
        (Z, inverse, None)
        """
        columns = self.sampled_categorical
        first_row = self.discretizer.discretize(row)
        d = len(columns)
        own = np.empty(d)
        for j, feature in enumerate(columns):  # the instance's bin's training frequency
            values = self.feature_values[feature]
            probability = np.diff(np.concatenate([[0.0], self.cumulative[feature]]))
            own[j] = probability[values == first_row[feature]].sum()
            if feature in new_states:  # one more state: the training values share the rest in their proportions
                own[j] = self.new_state_share(feature)
        own = np.clip(own, 0.0, 1.0)
        # suffix[j, r] = P(exactly r matches among features j..d-1)
        suffix = np.zeros((d + 1, d + 1))
        suffix[d, 0] = 1.0
        for j in range(d - 1, -1, -1):
            suffix[j] = suffix[j + 1] * (1 - own[j])
            suffix[j, 1:] += suffix[j + 1, :-1] * own[j]
        target = suffix[0] * np.asarray(kernel_of_count, dtype=float)
        if not target.sum() > 0:
            raise bad_value("kernel", "positive weight for some number of matching features", "zero for all")
        remaining = rng.choice(d + 1, size=num_samples - 1, p=target / target.sum())
        match = np.empty((num_samples - 1, d), dtype=bool)
        uniforms = rng.random((d, num_samples - 1))
        for j in range(d):
            with np.errstate(divide="ignore", invalid="ignore"):
                p_match = own[j] * suffix[j + 1][np.maximum(remaining - 1, 0)] / suffix[j][remaining]
            p_match = np.where(remaining > 0, np.nan_to_num(p_match, nan=0.0), 0.0)
            match[:, j] = uniforms[j] < p_match
            remaining -= match[:, j]
        others = self._sample_categories_excluding(num_samples - 1, columns, first_row, rng)
        bins = np.empty((num_samples, d))
        bins[0] = first_row[columns]
        bins[1:] = np.where(match, first_row[columns], others)
        full = np.tile(first_row, (num_samples, 1)).astype(float)
        full[:, columns] = bins
        Z = (full == first_row).astype(float)
        inverse = self.discretizer.undiscretize_in_place(full, rng)
        inverse[0] = row
        return Z, inverse, None

    def _sample_categories_excluding(self, num_samples, columns, first_row, rng):
        """Each column's bin from its training frequencies without the instance's bin.

        A column with only one bin keeps its own.
        """
        uniforms = rng.random((len(columns), num_samples))
        samples = np.empty((len(columns), num_samples))
        for j, feature in enumerate(columns):
            values = self.feature_values[feature]
            probability = np.diff(np.concatenate([[0.0], self.cumulative[feature]]))
            probability = np.where(values == first_row[feature], 0.0, np.maximum(probability, 0.0))
            if not probability.sum() > 0:
                samples[j] = first_row[feature]
                continue
            cumulative = np.cumsum(probability / probability.sum())
            index = np.searchsorted(cumulative, uniforms[j], side="right")
            samples[j] = values[np.minimum(index, len(values) - 1)]
        return np.ascontiguousarray(samples.T)

    def _sample_sparse(self, row, num_samples, rng, sampling_method):
        """Sparse rows: only the instance's non-zero features vary (lime's scheme)."""
        active = row.indices.copy()
        scale, mean = self.scale[active], self.mean[active]
        values = row.data.copy()
        draws = _standard_normal(num_samples, active.size, sampling_method, rng) * scale
        if self.spread != 1.0:
            draws *= self.spread
        draws += values if self.sample_around_instance else mean
        draws[0] = values
        return (draws - mean) / scale, SparseRows(draws, active, self.n_features), active

    def _sample_categories(self, num_samples, columns, rng):
        """Draw each listed column's values from its training frequencies (one batch of random bits for all).

        Returns an array of shape ``(num_samples, len(columns))``; see
        :class:`_CategoryTable` for how 32 random bits become a value.
        """
        key = tuple(columns)
        table = self._category_tables.get(key)
        if table is None:
            table = _CategoryTable([self.feature_values[f] for f in columns], [self.cumulative[f] for f in columns])
            self._category_tables[key] = table
        return table.draw(uniform_bits(rng, (num_samples, len(columns))))

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


class _CategoryTable:
    """Draws the values of several columns, each from its own frequencies, for many rows at once.

    numpy has no vectorised sampler of several categorical distributions
    (``Generator.choice`` takes one), and a binary search per column costs
    ~20 ns a draw, so this is written here.  A draw is 32 random bits; the
    value is the ``k``-th when ``k`` of the column's cumulative frequencies,
    scaled to ``2**32`` and rounded up, are at or below the bits (so every
    value comes with its frequency to within ``2**-32``).  The top
    ``PREFIX_BITS`` bits index a table of values; the few table cells that
    straddle a cumulative frequency are settled by a binary search over the
    full 32 bits (the table holds NaN there).

    Parameters
    ----------
    values : list of ndarray
        Per column, its values.
    cumulative : list of ndarray
        Per column, the cumulative sums of its values' frequencies.
    """

    PREFIX_BITS = 9

    def __init__(self, values, cumulative):
        cells, shift = 1 << self.PREFIX_BITS, 32 - self.PREFIX_BITS
        starts = np.arange(cells, dtype=np.uint64) << np.uint64(shift)
        ends = starts + np.uint64((1 << shift) - 1)
        self.n_columns = len(values)
        table = np.empty((self.n_columns, cells))  # NaN: the cell straddles a cumulative frequency
        thresholds = []
        for j, (column_values, column_cumulative) in enumerate(zip(values, cumulative)):
            bounds = np.minimum(np.ceil(np.asarray(column_cumulative[:-1], dtype=float) * 2.0**32), 2.0**32 - 1)
            bounds = bounds.astype(np.uint64)
            first, last = np.searchsorted(bounds, starts, side="right"), np.searchsorted(bounds, ends, side="right")
            table[j] = np.where(first == last, np.asarray(column_values, dtype=float)[first], np.nan)
            thresholds.append(bounds + (np.uint64(j) << np.uint64(32)))  # column j's keys, above every earlier column's
        self._table = table.ravel()
        self._any_ambiguous = bool(np.isnan(table).any())
        self._column_cells = np.arange(self.n_columns, dtype=np.intp) * cells
        self._keys = np.concatenate(thresholds) if thresholds else np.zeros(0, dtype=np.uint64)
        self._keys_before = np.cumsum([0] + [t.size for t in thresholds])[:-1].astype(np.intp)
        self._values = np.concatenate([np.asarray(v, dtype=float) for v in values]) if values else np.zeros(0)
        self._values_before = np.cumsum([0] + [len(v) for v in values])[:-1].astype(np.intp)
        self._shift = shift

    def draw(self, bits):
        """Values for ``bits`` of shape ``(n_rows, n_columns)`` (uint32): an array of floats of that shape."""
        cell = (bits >> self._shift).astype(np.intp)
        cell += self._column_cells
        samples = np.take(self._table, cell)
        if self._any_ambiguous:
            straddling = np.flatnonzero(np.isnan(samples))
            if straddling.size:
                column = straddling % self.n_columns
                keys = bits.ravel()[straddling].astype(np.uint64) + (column.astype(np.uint64) << np.uint64(32))
                index = np.searchsorted(self._keys, keys, side="right") - self._keys_before[column]
                samples.ravel()[straddling] = self._values[self._values_before[column] + index]
        return samples


def uniform_bits(rng, shape):
    """Uniform 32-bit integers: the two halves of the generator's raw 64-bit output (cheaper than ``rng.random``)."""
    count = int(np.prod(shape))
    raw = rng.bit_generator.random_raw((count + 1) // 2)
    # little-endian halves on every platform: the low half first, then the high one
    return raw.astype("<u8", copy=False).view("<u4")[:count].reshape(shape)


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
        return sp.csr_matrix((block.ravel(), np.tile(self.columns, n_rows), indptr), shape=(n_rows, self.n_features))
