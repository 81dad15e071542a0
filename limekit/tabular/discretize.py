"""Discretizers for tabular LIME, vectorised.

Drop-in replacement for ``lime.discretize`` (lime 0.2.0.1): same classes,
constructor signatures, public attributes (``to_discretize``, ``names``,
``lambdas``, ``means``, ``stds``, ``mins``, ``maxs``, ``random_state``) and
bin boundaries.  What differs:

* Per-bin statistics are also kept as padded ``(n_discretized, max_bins)``
  tables (``bin_mins``, ``bin_maxs``, ``bin_means``, ``bin_stds``) so that a
  whole matrix of bin indices is undiscretized by fancy indexing.
* :meth:`BaseDiscretizer.undiscretize_bins` draws every cell from its bin's
  truncated normal by inverse CDF (:func:`truncnorm_from_uniform`), from a
  single ``rng.random(shape)``.
* A bin whose minimum equals its maximum undiscretizes to that value (lime
  returns a z-score there).
* ``random_state`` may be ``None``, an int, a ``numpy.random.RandomState`` or a
  ``numpy.random.Generator``.
* Missing values (NaN) are a bin of their own: the bin boundaries and per-bin
  statistics are those of the values present, :meth:`BaseDiscretizer.discretize`
  puts NaN in the *missing bin* (index ``n_bins``, after the regular bins),
  whose draws are NaN; a column with missing training values gets the name
  ``"<feature> is missing"`` for it (``names[feature][-1]``).
"""

from abc import ABC, abstractmethod
from functools import partial

import numpy as np
import sklearn.tree
from scipy.special import ndtr, ndtri
from scipy.stats import truncnorm

from .._validation import bad_type, bad_value, check_random_state

__all__ = [
    "BaseDiscretizer",
    "StatsDiscretizer",
    "QuartileDiscretizer",
    "DecileDiscretizer",
    "EntropyDiscretizer",
    "make_discretizer",
    "truncnorm_from_uniform",
    "missing_name",
]

# lime adds this to every per-bin standard deviation.
_STD_EPS = 0.00000000001
# Below this the standard normal CDF loses precision (it underflows to 0 near
# z = -37.5): such far-tail intervals go to scipy.stats.truncnorm.
_TAIL_P = 1e-290
# The tabulated inverse CDFs (_TabulatedInverseCDF): steps of probability, and the largest distance of a
# step's line from the exact curve, as a share of the bin's width, before the step is drawn exactly.
_QUANTILE_STEPS = 256
_QUANTILE_TOLERANCE = 1e-3


def missing_name(feature_name):
    """How the missing bin of a feature is shown: ``"income is missing"``."""
    return f"{feature_name} is missing"


# ---------------------------------------------------------------------------
# Random state handling
# ---------------------------------------------------------------------------


def _as_generator(random_state):
    """Derive a ``numpy.random.Generator`` deterministically from a seed-like
    (see :func:`limekit._validation.check_random_state`); ``np.random`` means
    its global RandomState, as in scikit-learn."""
    if random_state is np.random:
        random_state = np.random.mtrand._rand
    return check_random_state(random_state)


def _sklearn_random_state(random_state, rng):
    """Value to hand to scikit-learn estimators (which reject Generators)."""
    if random_state is np.random:
        return np.random.mtrand._rand
    if isinstance(random_state, np.random.Generator):
        return int(rng.integers(0, 2**31 - 1))
    return random_state


# ---------------------------------------------------------------------------
# Truncated normal by inverse CDF
# ---------------------------------------------------------------------------


def truncnorm_from_uniform(u, mins, maxs, means, stds):
    """Normal(means, stds) truncated to [mins, maxs], by inverse CDF: ``scipy.stats.truncnorm.ppf``'s figures.

    ``x = mean + std * Phi^-1(Phi(a) + u (Phi(b) - Phi(a)))`` with ``a``, ``b``
    the standardised bounds, on the interval mirrored below the mean when it
    lies above it (so that ``Phi`` is evaluated in its accurate lower tail;
    the draw stays increasing in ``u``).  Intervals whose probability
    underflows (beyond ~37 standard deviations) go to
    ``scipy.stats.truncnorm.ppf``.  Where ``min == max`` the result is ``min``;
    a non-positive std gives the mean clipped into the interval; the result is
    always clipped into ``[min, max]``.

    Parameters
    ----------
    u : array_like
        Uniform draws in [0, 1).
    mins, maxs, means, stds : array_like
        Truncation bounds and normal parameters, broadcastable with ``u``.

    Returns
    -------
    numpy.ndarray
        Float array of the broadcast shape (a scalar for scalar inputs).
    """
    u, mins, maxs, means, stds = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (u, mins, maxs, means, stds))
    )
    shape = u.shape
    mins, maxs, means, stds = (v.ravel() for v in (mins, maxs, means, stds))
    return _inverse_cdf(_inverse_cdf_table(mins, maxs, means, stds), u.ravel(), means, stds).reshape(shape)[()]


def _inverse_cdf_table(mins, maxs, means, stds):
    """Per distribution, the row ``(base, step, loc, scale, min, max)`` of its inverse CDF.

    The inverse CDF at ``u`` is ``loc + scale * ndtri(base + u * step)``,
    clipped into ``[min, max]``.  ``base`` is NaN where the interval's
    probability underflows (:func:`_inverse_cdf` hands those to scipy); where
    ``min == max`` or ``std <= 0``, ``scale`` is 0 (and ``base`` 0.5), so that
    the draw is ``loc``.
    """
    ok = (stds > 0) & (mins < maxs)
    std = np.where(ok, stds, 1.0)
    with np.errstate(over="ignore", invalid="ignore"):
        a, b = (mins - means) / std, (maxs - means) / std
    flip = a > 0  # the mirrored interval [-b, -a], drawn from its top down
    p_lo, p_hi = ndtr(np.where(flip, -b, a)), ndtr(np.where(flip, -a, b))
    base = np.where(ok, np.where(flip, p_hi, p_lo), 0.5)
    base[ok & (p_hi < _TAIL_P)] = np.nan
    step = np.where(ok, np.where(flip, p_lo - p_hi, p_hi - p_lo), 0.0)
    loc = np.where(ok, means, np.where(mins == maxs, mins, np.clip(means, mins, maxs)))
    scale = np.where(ok, np.where(flip, -std, std), 0.0)
    return np.column_stack([base, step, loc, scale, mins, maxs])


def _inverse_cdf(rows, u, means, stds):
    """The draws at uniforms ``u`` (1-D), one per row of an :func:`_inverse_cdf_table` (``rows``).

    ``means`` and ``stds`` are the rows' normal parameters, read only for the
    far-tail rows (``scipy.stats.truncnorm.ppf``).
    """
    base, step, loc, scale, lowest, highest = rows.T
    z = np.multiply(u, step)
    z += base
    ndtri(z, out=z)
    z *= scale
    z += loc
    tail = np.flatnonzero(np.isnan(base))
    if tail.size:
        mean, std = means[tail], stds[tail]
        a, b = (lowest[tail] - mean) / std, (highest[tail] - mean) / std
        z[tail] = truncnorm.ppf(u[tail], a, b, loc=mean, scale=std)
    return np.clip(z, lowest, highest, out=z)


class _TabulatedInverseCDF:
    """The inverse CDFs of many truncated normals, tabulated at equal steps of probability.

    The one speed path of the discretizer kept by the complexity budget:
    ``ndtri`` costs ~15-20 ns a value and a linear interpolation in a table a
    few, which is 2-3 ms of an explanation of 20 discretized features at
    5000 samples (about 4% of it end to end with a random forest;
    ``benchmarks/bench_ab.py``).  Each inverse CDF is tabulated at
    ``_QUANTILE_STEPS`` equal steps of probability and interpolated linearly;
    a step where the line strays from the exact curve by more than
    ``_QUANTILE_TOLERANCE`` of the bin's width (far tails) is drawn by the
    exact :func:`_inverse_cdf`.  So every draw is within that tolerance of the
    exact draw at the same uniform, inside its bin.

    Parameters
    ----------
    rows : ndarray of shape (n_cells, 6)
        The :func:`_inverse_cdf_table` rows of the distributions.
    means, stds : ndarray of shape (n_cells,)
        Their normal parameters.
    """

    def __init__(self, rows, means, stds):
        self._rows, self._means, self._stds = rows, means, stds
        cells, steps = rows.shape[0], _QUANTILE_STEPS
        if cells == 0:  # no continuous column (every column categorical): nothing to tabulate
            self._steps = np.empty((0, 2))
            return
        grid = np.arange(steps + 1) / steps
        grid[-1] = np.nextafter(1.0, 0.0)  # the bin's top, without u = 1
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):  # NaN padding cells
            edges = self._exact(np.repeat(np.arange(cells), steps + 1), np.tile(grid, cells)).reshape(cells, -1)
            middles = self._exact(np.repeat(np.arange(cells), steps), np.tile((np.arange(steps) + 0.5) / steps, cells))
            low, high = edges[:, :-1], edges[:, 1:]
            span = high - low
            over = low + span > high  # rounding: keep low + position * span <= high for every position < 1
            while over.any():
                span[over] = np.nextafter(span[over], 0.0)
                over = low + span > high
            width = (rows[:, 5] - rows[:, 4])[:, None]
            exact = ~(np.abs(0.5 * (low + high) - middles.reshape(cells, steps)) <= _QUANTILE_TOLERANCE * width)
        span[exact] = np.nan  # these steps are drawn by the exact inverse CDF
        self._steps = np.stack([np.nan_to_num(low), span], axis=-1).reshape(cells * steps, 2)

    def _exact(self, cells, u):
        return _inverse_cdf(np.take(self._rows, cells, axis=0), u, self._means[cells], self._stds[cells])

    def __call__(self, cells, u):
        """Draws at uniforms ``u`` in [0, 1) (1-D) of the distributions ``cells`` (1-D indices)."""
        position = u * _QUANTILE_STEPS
        step = np.floor(position)
        position -= step
        step += cells * _QUANTILE_STEPS
        low_span = np.take(self._steps, step.astype(np.intp), axis=0)
        draws = low_span[:, 1] * position
        draws += low_span[:, 0]
        exact = np.flatnonzero(np.isnan(draws))
        if exact.size:
            draws[exact] = self._exact(cells[exact], u[exact])
        return draws


# ---------------------------------------------------------------------------
# Discretizers
# ---------------------------------------------------------------------------


class BaseDiscretizer(ABC):
    """Abstract discretizer; subclasses implement :meth:`bins`.

    Parameters
    ----------
    data : numpy.ndarray
        Training data, shape ``(n_samples, n_features)``.  Missing values
        (NaN) of a discretized column go to its missing bin; the boundaries
        and statistics come from the values present.
    categorical_features : list of int
        Indices of categorical columns; these are not discretized.  Every
        other column is.
    feature_names : list of str
        Column names, used to build the bin names.  ``None`` uses the column
        indices.
    labels : array_like, optional
        Training labels (needed by :class:`EntropyDiscretizer`).
    random_state : None, int, numpy.random.RandomState or numpy.random.Generator
        Source of randomness for :meth:`undiscretize` (and the entropy tree).
        Stored unchanged as ``random_state``; an internal
        ``numpy.random.Generator`` is derived from it deterministically.
    data_stats : dict, optional
        Precomputed statistics with keys ``'means'``, ``'stds'``, ``'mins'``
        and ``'maxs'`` (dicts feature -> list of per-bin values), used instead
        of statistics computed from ``data`` (as in lime).

    Attributes
    ----------
    to_discretize : list of int
        Non-categorical columns.
    names : dict
        feature -> list of bin names (lime's format), followed by the missing
        bin's name (:func:`missing_name`) where the training column has NaN.
    lambdas : dict
        feature -> callable mapping values to bin indices (searchsorted).
    means, stds, mins, maxs : dict
        feature -> list of per-bin statistics (lime's format).
    bin_edges : dict
        feature -> sorted unique bin boundaries.
    discretized_features : numpy.ndarray
        Discretized columns, in the row order of the ``bin_*`` tables.
    n_bins : numpy.ndarray
        Number of bins of each discretized feature (the missing bin, index
        ``n_bins``, not counted).
    bin_mins, bin_maxs, bin_means, bin_stds : numpy.ndarray
        Per-bin statistics, shape ``(n_discretized, max_bins)``, NaN-padded.
    """

    def __init__(self, data, categorical_features, feature_names, labels=None, random_state=None, data_stats=None):
        data = np.asarray(data)
        if data.ndim != 2:
            raise ValueError(f"data: expected a 2-D array; got shape {data.shape!r}")
        n_features = data.shape[1]
        if categorical_features is None:
            categorical_features = []
        if feature_names is None:
            feature_names = [str(i) for i in range(n_features)]
        self.categorical_features = list(categorical_features)
        self.feature_names = list(feature_names)
        categorical = set(self.categorical_features)
        self.to_discretize = [x for x in range(n_features) if x not in categorical]
        self.data_stats = data_stats
        self.names = {}
        self.lambdas = {}
        self.means = {}
        self.stds = {}
        self.mins = {}
        self.maxs = {}
        self.bin_edges = {}
        self.random_state = random_state
        self._rng = _as_generator(random_state)

        # Subclass hook: one boundary array per feature of to_discretize
        # (None skips a feature).
        all_bins = self.bins(data, labels)
        pairs = [(f, np.unique(q)) for f, q in zip(self.to_discretize, all_bins) if q is not None]

        if data_stats:
            missing = [k for k in ("means", "stds", "mins", "maxs") if data_stats.get(k) is None]
            if missing:
                raise ValueError(f"data_stats: missing keys {missing}")
            self.means = dict(data_stats["means"])
            self.stds = dict(data_stats["stds"])
            self.mins = dict(data_stats["mins"])
            self.maxs = dict(data_stats["maxs"])

        for feature, qts in pairs:
            if qts.shape[0] == 0:
                raise ValueError(f"bins: feature {feature!r} has no bin boundaries")
            name = self.feature_names[feature]
            column = data[:, feature]
            present = ~np.isnan(column)
            self.bin_edges[feature] = qts
            self.names[feature] = _bin_names(name, qts)
            if not present.all():
                self.names[feature].append(missing_name(name))
            # functools.partial (unlike lime's lambda) keeps the object picklable.
            self.lambdas[feature] = partial(np.searchsorted, qts)
            if data_stats:
                continue
            self._fit_bin_stats(feature, column if present.all() else column[present], qts)

        self._build_tables([f for f, _ in pairs])

    @abstractmethod
    def bins(self, data, labels):
        """Bin boundaries of each feature to discretize.

        Parameters
        ----------
        data : numpy.ndarray
            Training data, shape ``(n_samples, n_features)``.
        labels : array_like or None
            Training labels.

        Returns
        -------
        list of numpy.ndarray
            One array of boundaries per entry of ``self.to_discretize`` (in
            that order); bins are ``x <= q[0]``, ``q[i] < x <= q[i+1]``,
            ``x > q[-1]``.
        """
        raise NotImplementedError("Must override bins() method")

    # -- fitting helpers ---------------------------------------------------

    def _fit_bin_stats(self, feature, column, qts):
        """Per-bin mean/std/min/max of one training column, as lime."""
        n_bins = qts.shape[0] + 1
        codes = np.searchsorted(qts, column)
        # Group samples by bin, keeping their order within a bin, so each
        # slice equals lime's boolean selection element for element.
        small = codes.astype(np.int16) if n_bins < 2**15 else codes
        order = np.argsort(small, kind="stable")
        grouped = column[order]
        counts = np.bincount(codes, minlength=n_bins)
        ends = np.cumsum(counts)
        starts = ends - counts
        means, stds = [], []
        for s, e in zip(starts, ends):
            selection = grouped[s:e]
            mean = 0 if e == s else np.mean(selection)
            std = 0 if e == s else np.std(selection)
            std += _STD_EPS
            means.append(mean)
            stds.append(std)
        self.means[feature] = means
        self.stds[feature] = stds
        self.mins[feature] = [np.min(column)] + qts.tolist()
        self.maxs[feature] = qts.tolist() + [np.max(column)]

    def _build_tables(self, features):
        """Padded (n_discretized, max_bins) tables and sampler constants."""
        self.discretized_features = np.asarray(features, dtype=np.intp)
        self._row_of = {f: i for i, f in enumerate(features)}
        n_bins = [self.bin_edges[f].shape[0] + 1 for f in features]
        self.n_bins = np.asarray(n_bins, dtype=np.intp)
        width = max(n_bins, default=0)
        tables = {}
        for key, stats in (
            ("bin_mins", self.mins),
            ("bin_maxs", self.maxs),
            ("bin_means", self.means),
            ("bin_stds", self.stds),
        ):
            table = np.full((len(features), width), np.nan)
            for row, (f, nb) in enumerate(zip(features, n_bins)):
                try:
                    values = np.asarray(stats[f], dtype=float).ravel()
                except KeyError:
                    raise ValueError(f"data_stats: no {key[4:]!r} entry for feature {f!r}") from None
                if values.shape[0] != nb:
                    raise ValueError(
                        f"data_stats: feature {f!r} has {nb} bins but {values.shape[0]} {key[4:]!r} values"
                    )
                table[row, :nb] = values
            tables[key] = table
            setattr(self, key, table)
        # per bin (flat, row-major), its inverse CDF: one gather per draw.  One more NaN column: every
        # feature's missing bin (index n_bins) has NaN statistics, so its draws are NaN.
        mins, maxs, means, stds = (
            np.pad(tables[key], ((0, 0), (0, 1)), constant_values=np.nan).ravel()
            for key in ("bin_mins", "bin_maxs", "bin_means", "bin_stds")
        )
        with np.errstate(invalid="ignore"):  # NaN padding and missing bins
            self._inverse_cdfs = _TabulatedInverseCDF(_inverse_cdf_table(mins, maxs, means, stds), means, stds)
        self._width = width + 1

    # -- discretize ----------------------------------------------------------

    def discretize(self, data):
        """Replace each discretized column by its bin index.

        Parameters
        ----------
        data : numpy.ndarray
            One row (1-D) or a matrix (2-D).

        Returns
        -------
        numpy.ndarray
            A copy of ``data`` (same dtype) whose discretized columns hold bin
            indices; a missing value (NaN) gets the missing bin, ``n_bins``.
        """
        ret = np.array(data, copy=True)
        columns = ret[None, :] if ret.ndim == 1 else ret
        for feature, qts in self.bin_edges.items():
            values = columns[:, feature]
            columns[:, feature] = np.where(np.isnan(values), qts.shape[0] + 1, np.searchsorted(qts, values))
        return ret

    # -- undiscretize --------------------------------------------------------

    def _draw(self, rows, codes, u):
        """Truncated-normal draws for table ``rows`` and bin ``codes`` at the uniforms ``u``."""
        flat = np.asarray(rows * self._width + codes, dtype=np.intp).ravel()
        return self._inverse_cdfs(flat, np.ravel(u)).reshape(np.shape(u))

    @staticmethod
    def _check_codes(codes, n_bins, what):
        """Raise ValueError unless every code is in ``[0, n_bins]`` (``n_bins``: the missing bin)."""
        if codes.size == 0:
            return
        if codes.min() < 0 or np.any(codes.max(axis=0) > n_bins):
            bad = (codes < 0) | (codes > n_bins)
            raise ValueError(f"{what}: bin index out of range (got {int(codes[bad][0])})")

    def undiscretize_bins(self, bins, rng=None):
        """Sample feature values for a matrix of bin indices.

        Each discretized column gets draws from its bin's normal
        ``N(mean, std)`` truncated to ``[min, max]`` (lime's model), NaN for
        the missing bin; all cells come from one ``rng.random(shape)`` call.
        Other columns are copied.

        Parameters
        ----------
        bins : array_like
            Shape ``(N, D)`` (or one row of length ``D``); discretized columns
            hold integer bin indices.
        rng : numpy.random.Generator, optional
            Random source; defaults to the generator derived from
            ``random_state``.  Ints and RandomStates are converted as in the
            constructor.

        Returns
        -------
        numpy.ndarray
            Float array of the same shape.
        """
        rng = self._rng if rng is None else _as_generator(rng)
        bins = np.asarray(bins)
        out = np.array(bins, dtype=float, copy=True)
        one_row = out.ndim == 1
        if one_row:
            out = out[None, :]
        if out.ndim != 2:
            raise ValueError(f"bins: expected a 1-D or 2-D array; got shape {bins.shape!r}")
        codes = self._codes(out)
        if codes is not None:
            self._check_codes(codes, self.n_bins, "bins")
            self._fill_draws(out, codes, rng)
        return out[0] if one_row else out

    def _codes(self, bins):
        """The bin indices of the discretized columns of a 2-D ``bins`` (None when none is discretized)."""
        feats = self.discretized_features
        if feats.size == 0:
            return None
        return (bins if feats.size == bins.shape[1] else bins[:, feats]).astype(np.intp)

    def _fill_draws(self, out, codes, rng):
        """Write draws for bin ``codes`` (one ``rng.random`` of their shape) into the discretized columns of ``out``."""
        feats = self.discretized_features
        draws = self._draw(np.arange(feats.size, dtype=np.intp), codes, rng.random(codes.shape))
        if feats.size == out.shape[1]:  # feats is 0..D-1 in order
            out[...] = draws
        else:
            out[:, feats] = draws

    def undiscretize_in_place(self, bins, rng):
        """:meth:`undiscretize_bins` for a float matrix of valid bin indices, overwritten with the draws.

        The tabular sampler's own bins need no copy and no range check.
        """
        codes = self._codes(bins)
        if codes is not None:
            self._fill_draws(bins, codes, rng)
        return bins

    def get_undiscretize_values(self, feature, values):
        """Sample values of one feature from its bins' truncated normals.

        Parameters
        ----------
        feature : int
            A discretized column.
        values : array_like of int
            Bin indices (any shape).

        Returns
        -------
        numpy.ndarray
            Float draws, same shape as ``values``.
        """
        if feature not in self._row_of:
            raise KeyError(feature)
        row = self._row_of[feature]
        codes = np.asarray(values).astype(np.intp)
        self._check_codes(codes, self.n_bins[row], "values")
        u = self._rng.random(codes.shape)
        return self._draw(np.intp(row), codes, u)

    def undiscretize(self, data):
        """Sample feature values for discretized data (lime's signature).

        Parameters
        ----------
        data : numpy.ndarray
            One row (1-D) or a matrix (2-D) whose discretized columns hold bin
            indices.

        Returns
        -------
        numpy.ndarray
            Float copy with the discretized columns replaced by draws, using
            the generator derived from ``random_state``.
        """
        return self.undiscretize_bins(data, self._rng)


def _bin_names(name, qts):
    """lime's bin names for boundaries ``qts``."""
    names = [f"{name} <= {qts[0]:.2f}"]
    names.extend(f"{lo:.2f} < {name} <= {hi:.2f}" for lo, hi in zip(qts[:-1], qts[1:]))
    names.append(f"{name} > {qts[-1]:.2f}")
    return names


def _percentiles(columns, q):
    """Percentiles ``q`` of each column, of its values present (NaN left out)."""
    if np.isnan(columns).any():
        return np.nanpercentile(columns, q, axis=0)
    return np.percentile(columns, q, axis=0)


class StatsDiscretizer(BaseDiscretizer):
    """Discretizer whose boundaries and statistics come from ``data_stats``.

    ``data_stats['bins']`` maps a feature to its boundaries; features without
    an entry are not discretized (lime silently misaligns them instead).
    Without a ``'bins'`` key nothing is discretized, as in lime.
    """

    def __init__(self, data, categorical_features, feature_names, labels=None, random_state=None, data_stats=None):
        if not data_stats:
            raise ValueError(f"data_stats: StatsDiscretizer needs a dict of training statistics; got {data_stats!r}")
        BaseDiscretizer.__init__(
            self,
            data,
            categorical_features,
            feature_names,
            labels=labels,
            random_state=random_state,
            data_stats=data_stats,
        )

    def bins(self, data, labels):
        bins_from_stats = self.data_stats.get("bins")
        if bins_from_stats is None:
            return []
        out = []
        for feature in self.to_discretize:
            qts = bins_from_stats.get(feature)
            out.append(None if qts is None else np.asarray(qts, dtype=float))
        return out


class QuartileDiscretizer(BaseDiscretizer):
    """Bins at the 25th, 50th and 75th percentiles of each feature."""

    def __init__(self, data, categorical_features, feature_names, labels=None, random_state=None):
        BaseDiscretizer.__init__(
            self, data, categorical_features, feature_names, labels=labels, random_state=random_state
        )

    def bins(self, data, labels):
        if not self.to_discretize:
            return []
        qts = _percentiles(data[:, self.to_discretize], [25, 50, 75])
        return list(qts.T)


class DecileDiscretizer(BaseDiscretizer):
    """Bins at the 10th, 20th, ..., 90th percentiles of each feature."""

    def __init__(self, data, categorical_features, feature_names, labels=None, random_state=None):
        BaseDiscretizer.__init__(
            self, data, categorical_features, feature_names, labels=labels, random_state=random_state
        )

    def bins(self, data, labels):
        if not self.to_discretize:
            return []
        qts = _percentiles(data[:, self.to_discretize], [10, 20, 30, 40, 50, 60, 70, 80, 90])
        return list(qts.T)


class EntropyDiscretizer(BaseDiscretizer):
    """Bins at the split thresholds of a depth-3 entropy decision tree.

    Each feature gets the thresholds of a
    ``DecisionTreeClassifier(criterion='entropy', max_depth=3)`` fitted on
    that feature alone (at most 8 bins); the median if the tree has no split.
    """

    def __init__(self, data, categorical_features, feature_names, labels=None, random_state=None):
        if labels is None:
            raise bad_value(
                "training_labels", "the training labels (the entropy discretizer fits a tree on them)", "None"
            )
        BaseDiscretizer.__init__(
            self, data, categorical_features, feature_names, labels=labels, random_state=random_state
        )

    def bins(self, data, labels):
        tree_state = _sklearn_random_state(self.random_state, self._rng)
        out = []
        for feature in self.to_discretize:
            dt = sklearn.tree.DecisionTreeClassifier(criterion="entropy", max_depth=3, random_state=tree_state)
            column = data[:, feature]
            present = ~np.isnan(column)  # the tree splits the values present; NaN has its own bin
            column = column[present]
            dt.fit(column.reshape(-1, 1), np.asarray(labels)[present])
            tree = dt.tree_
            qts = tree.threshold[tree.children_left > -1]
            if qts.shape[0] == 0:
                qts = np.array([np.median(column)])
            else:
                qts = np.sort(qts)
            out.append(qts)
        return out


_DISCRETIZERS = {
    "quartile": QuartileDiscretizer,
    "decile": DecileDiscretizer,
    "entropy": EntropyDiscretizer,
}


def make_discretizer(
    discretizer, training_data, categorical_features, feature_names, labels, random_state, data_stats=None
):
    """Build (or pass through) a discretizer, as ``LimeTabularExplainer`` does.

    Parameters
    ----------
    discretizer : {'quartile', 'decile', 'entropy'} or BaseDiscretizer
        Name of a built-in discretizer, or an instance (returned unchanged).
    training_data : numpy.ndarray
        Training data, shape ``(n_samples, n_features)``.
    categorical_features : list of int
        Columns not to discretize.
    feature_names : list of str
        Column names.
    labels : array_like or None
        Training labels; required by ``'entropy'``.
    random_state : None, int, numpy.random.RandomState or numpy.random.Generator
        Passed to the discretizer.
    data_stats : dict, optional
        Training statistics; when given (non-empty) a :class:`StatsDiscretizer`
        is built from them whatever ``discretizer`` names, as lime does
        (``discretizer`` is still validated).

    Returns
    -------
    BaseDiscretizer

    Raises
    ------
    ValueError
        Unknown discretizer name, or ``'entropy'`` without labels.
    TypeError
        ``discretizer`` is neither a string nor a BaseDiscretizer.
    """
    expected = "'quartile', 'decile', 'entropy' or a BaseDiscretizer instance"
    if isinstance(discretizer, str):
        if discretizer not in _DISCRETIZERS:
            raise bad_value("discretizer", expected, repr(discretizer))
    elif not isinstance(discretizer, BaseDiscretizer):
        raise bad_type("discretizer", expected, discretizer)
    if data_stats:
        return StatsDiscretizer(
            training_data,
            categorical_features,
            feature_names,
            labels=labels,
            random_state=random_state,
            data_stats=data_stats,
        )
    if isinstance(discretizer, BaseDiscretizer):
        return discretizer
    return _DISCRETIZERS[discretizer](
        training_data, categorical_features, feature_names, labels=labels, random_state=random_state
    )
