"""Tests for limekit.tabular.discretize against lime 0.2.0.1's lime.discretize."""

import pickle

import numpy as np
import pytest
from scipy.stats import truncnorm

from limekit.tabular.discretize import (
    BaseDiscretizer,
    DecileDiscretizer,
    EntropyDiscretizer,
    QuartileDiscretizer,
    StatsDiscretizer,
    make_discretizer,
    truncnorm_from_uniform,
)

lime_discretize = pytest.importorskip("lime.discretize")

KINDS = {
    "quartile": (QuartileDiscretizer, "QuartileDiscretizer"),
    "decile": (DecileDiscretizer, "DecileDiscretizer"),
    "entropy": (EntropyDiscretizer, "EntropyDiscretizer"),
}
CATEGORICAL = [4]


def _data(seed=0, n=600):
    """Mixed columns: scaled normals, a skewed one, an integer-valued one
    (duplicate percentiles) and a categorical one."""
    rng = np.random.default_rng(seed)
    X = np.empty((n, 6))
    X[:, 0] = rng.normal(size=n)
    X[:, 1] = 10 * rng.normal(size=n) + 3
    X[:, 2] = rng.exponential(size=n) ** 2
    X[:, 3] = rng.integers(0, 3, size=n)
    X[:, 4] = rng.integers(0, 4, size=n)
    X[:, 5] = rng.uniform(-5, 5, size=n)
    y = (X[:, 0] + 0.1 * X[:, 1] > 0).astype(int) + (X[:, 5] > 2)
    return X, y


def _continuous_data(seed=1, n=800):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5)) * [1.0, 3.0, 0.5, 2.0, 1.0] + [0.0, 1.0, -2.0, 5.0, 0.0]
    y = (X[:, 0] + X[:, 1] > 1).astype(int) + (X[:, 2] > -2)
    return X, y


def _names(d):
    return [f"feat_{i}" for i in range(d)]


def _pair(kind, X, y, categorical=CATEGORICAL, seed=7):
    ours_cls, lime_name = KINDS[kind]
    ours = ours_cls(X, categorical, _names(X.shape[1]), labels=y, random_state=seed)
    theirs = getattr(lime_discretize, lime_name)(X, categorical, _names(X.shape[1]), labels=y, random_state=seed)
    return ours, theirs


# ---------------------------------------------------------------------------
# Same bins and statistics as lime
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("seed", [0, 3])
def test_attributes_match_lime(kind, seed):
    X, y = _data(seed)
    ours, theirs = _pair(kind, X, y)
    assert ours.to_discretize == theirs.to_discretize
    assert sorted(ours.lambdas) == sorted(theirs.lambdas)
    assert ours.names == theirs.names
    for attr in ("mins", "maxs", "means", "stds"):
        a, b = getattr(ours, attr), getattr(theirs, attr)
        assert sorted(a) == sorted(b), attr
        for f in b:
            assert list(a[f]) == list(b[f]), (attr, f)
    assert ours.feature_names == _names(X.shape[1])
    assert ours.categorical_features == CATEGORICAL
    assert ours.random_state == 7


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_discretize_matches_lime(kind):
    X, y = _data(5)
    ours, theirs = _pair(kind, X, y)
    # Fresh points, including values outside the training range and on boundaries.
    rng = np.random.default_rng(11)
    Z = X[rng.permutation(len(X))] + rng.normal(scale=0.5, size=X.shape)
    Z[:5] = X[:5]
    Z[5, 0] = ours.bin_edges[0][0]
    Z[6, 0] = -1e9
    Z[7, 0] = 1e9
    np.testing.assert_array_equal(ours.discretize(Z), theirs.discretize(Z))
    for row in Z[:10]:
        np.testing.assert_array_equal(ours.discretize(row), theirs.discretize(row))
    # A copy is returned and lambdas behave like lime's.
    out = ours.discretize(Z)
    assert out is not Z and not np.shares_memory(out, Z)
    np.testing.assert_array_equal(ours.lambdas[0](Z[:, 0]), theirs.lambdas[0](Z[:, 0]))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_padded_tables_match_dicts(kind):
    X, y = _data(2)
    d, _ = _pair(kind, X, y)
    np.testing.assert_array_equal(d.discretized_features, d.to_discretize)
    assert d.bin_mins.shape == (len(d.to_discretize), int(d.n_bins.max()))
    for row, f in enumerate(d.discretized_features):
        nb = d.n_bins[row]
        assert nb == len(d.names[f]) == len(d.bin_edges[f]) + 1
        for table, stats in ((d.bin_mins, d.mins), (d.bin_maxs, d.maxs), (d.bin_means, d.means), (d.bin_stds, d.stds)):
            np.testing.assert_array_equal(table[row, :nb], np.asarray(stats[f], float))
            assert np.all(np.isnan(table[row, nb:]))


def test_stats_discretizer_matches_lime():
    X, _y = _continuous_data()
    q = QuartileDiscretizer(X, [1], _names(5), random_state=0)
    stats = {
        "means": q.means,
        "stds": q.stds,
        "mins": q.mins,
        "maxs": q.maxs,
        "feature_values": {},
        "feature_frequencies": {},
        "bins": {f: list(q.bin_edges[f]) for f in q.to_discretize},
    }
    ours = StatsDiscretizer(X[:10], [1], _names(5), random_state=0, data_stats=stats)
    theirs = lime_discretize.StatsDiscretizer(X[:10], [1], _names(5), random_state=0, data_stats=stats)
    assert ours.names == theirs.names == q.names
    for attr in ("mins", "maxs", "means", "stds"):
        assert getattr(ours, attr) == getattr(theirs, attr)
    np.testing.assert_array_equal(ours.discretize(X), theirs.discretize(X))
    np.testing.assert_array_equal(ours.bin_means, q.bin_means)
    with pytest.raises(ValueError, match="data_stats"):
        StatsDiscretizer(X, [], _names(5), data_stats=None)


# ---------------------------------------------------------------------------
# undiscretize_bins
# ---------------------------------------------------------------------------


def _all_bins_matrix(d, n_rows, seed):
    """Random bin indices for every discretized column (categorical columns
    keep arbitrary values)."""
    rng = np.random.default_rng(seed)
    bins = rng.normal(size=(n_rows, len(d.feature_names)))
    for row, f in enumerate(d.discretized_features):
        bins[:, f] = rng.integers(0, d.n_bins[row], size=n_rows)
    return bins


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_undiscretize_bins_in_bin_and_roundtrip(kind):
    X, y = _continuous_data()
    d = KINDS[kind][0](X, [1], _names(5), labels=y, random_state=0)
    bins = _all_bins_matrix(d, 4000, seed=1)
    out = d.undiscretize_bins(bins, np.random.default_rng(2))
    assert out.shape == bins.shape and out.dtype == np.float64
    np.testing.assert_array_equal(out[:, 1], bins[:, 1])  # categorical passes through
    for row, f in enumerate(d.discretized_features):
        codes = bins[:, f].astype(int)
        lo = d.bin_mins[row, codes]
        hi = d.bin_maxs[row, codes]
        assert np.all((out[:, f] >= lo) & (out[:, f] <= hi))
        on_edge = np.isin(out[:, f], d.bin_edges[f])
        assert on_edge.mean() < 1e-3
        back = d.discretize(out)[:, f]
        np.testing.assert_array_equal(back[~on_edge], codes[~on_edge])
    # One row works too.
    row_out = d.undiscretize_bins(bins[0], np.random.default_rng(2))
    assert row_out.shape == (5,)
    np.testing.assert_array_equal(d.discretize(row_out)[d.discretized_features], bins[0, d.discretized_features])


def test_undiscretize_bins_distribution_matches_truncnorm():
    X, _ = _continuous_data()
    d = QuartileDiscretizer(X, [], _names(5), random_state=0)
    n = 200_000
    for f, b in ((0, 1), (0, 0), (1, 3), (3, 2)):
        row = list(d.discretized_features).index(f)
        bins = np.zeros((n, 5))
        bins[:, f] = b
        draws = d.undiscretize_bins(bins, np.random.default_rng(100 + f))[:, f]
        mean, std = d.bin_means[row, b], d.bin_stds[row, b]
        a = (d.bin_mins[row, b] - mean) / std
        z = (d.bin_maxs[row, b] - mean) / std
        ref = truncnorm(a, z, loc=mean, scale=std)
        se = ref.std() / np.sqrt(n)
        assert abs(draws.mean() - ref.mean()) < 5 * se, (f, b)
        assert abs(draws.std() / ref.std() - 1) < 0.01, (f, b)


@pytest.mark.parametrize(
    "a,b", [(-1.0, 1.0), (0.5, 2.0), (5.0, 6.0), (-6.0, -5.0), (8.0, 40.0), (-3.0, np.inf), (-np.inf, -2.0)]
)
def test_truncnorm_from_uniform_is_the_quantile_function(a, b):
    u = np.linspace(0.0, 1.0, 101)[:-1] + 0.005
    mine = truncnorm_from_uniform(u, a, b, 0.0, 1.0)
    np.testing.assert_allclose(mine, truncnorm.ppf(u, a, b), rtol=1e-9, atol=1e-12)
    # Location and scale.
    mine = truncnorm_from_uniform(u, 3 + 2 * a, 3 + 2 * b, 3.0, 2.0)
    np.testing.assert_allclose(mine, truncnorm.ppf(u, a, b, loc=3, scale=2), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("a,b", [(40.0, 41.0), (-41.0, -40.0), (200.0, np.inf), (1e6, 1e6 + 1)])
def test_truncnorm_from_uniform_far_tails(a, b):
    u = np.random.default_rng(0).random(200_000)
    x = truncnorm_from_uniform(u, a, b, 0.0, 1.0)
    assert np.all((x >= a) & (x <= b))
    # Mean offset from the near boundary is about 1/|boundary|.
    near = a if a > 0 else b
    ref = truncnorm.mean(a, b) if abs(near) < 1e3 else near + np.sign(near) / abs(near)
    assert abs(x.mean() - ref) < 0.02 * abs(ref - near)


def test_truncnorm_from_uniform_degenerate_and_zero_std():
    assert truncnorm_from_uniform(0.3, 2.0, 2.0, 0.0, 1.0) == 2.0
    assert truncnorm_from_uniform(0.3, 2.0, 3.0, 5.0, 0.0) == 3.0
    assert truncnorm_from_uniform(0.3, 2.0, 3.0, 2.5, 0.0) == 2.5
    x = truncnorm_from_uniform(np.array([0.0, 0.5, 0.999999]), 2.0, 3.0, 0.0, 1e-11)
    assert np.all((x >= 2.0) & (x <= 3.0))


def test_same_generator_seed_same_output():
    X, _y = _continuous_data()
    d = DecileDiscretizer(X, [], _names(5), random_state=0)
    bins = _all_bins_matrix(d, 1000, seed=3)
    a = d.undiscretize_bins(bins, np.random.default_rng(42))
    b = d.undiscretize_bins(bins, np.random.default_rng(42))
    c = d.undiscretize_bins(bins, np.random.default_rng(43))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # The uniforms are one rng.random(shape) call, mapped cell by cell by the bin's (tabulated) inverse CDF:
    # within _QUANTILE_TOLERANCE of the bin's width of the exact quantile.
    u = np.random.default_rng(42).random(bins.shape)
    rows = np.arange(5)
    codes = bins.astype(int)
    low, high, means, stds = (t[rows, codes] for t in (d.bin_mins, d.bin_maxs, d.bin_means, d.bin_stds))
    tolerance = 1.01e-3 * (high - low)
    np.testing.assert_array_less(np.abs(a - truncnorm_from_uniform(u, low, high, means, stds)), tolerance + 1e-12)
    exact = truncnorm.ppf(u, (low - means) / stds, (high - means) / stds, means, stds)
    np.testing.assert_array_less(np.abs(a - exact), tolerance + 1e-9 * np.abs(exact))


def test_undiscretized_far_tails_follow_scipy_quantiles():
    # A heavy right tail: the top quartile bin reaches 50 of its own standard deviations.
    rng = np.random.default_rng(5)
    X = np.column_stack([rng.exponential(size=4000) ** 3, rng.normal(size=4000)])
    d = QuartileDiscretizer(X, [], ["heavy", "normal"], random_state=0)
    u = np.random.default_rng(6).random((200_000, 2))  # the draws of both columns
    bins = np.zeros((200_000, 2))
    bins[:, 0] = 3  # the top bin
    draws = d.undiscretize_bins(bins, np.random.default_rng(6))[:, 0]
    low, high, mean, std = d.bin_mins[0, 3], d.bin_maxs[0, 3], d.bin_means[0, 3], d.bin_stds[0, 3]
    expected = truncnorm.ppf(u[:, 0], (low - mean) / std, (high - mean) / std, mean, std)
    np.testing.assert_array_less(np.abs(draws - expected), 1.01e-3 * (high - low))  # the table's tolerance


def test_random_state_reproducible_undiscretize():
    X, _y = _continuous_data()
    outs = []
    for _ in range(2):
        d = QuartileDiscretizer(X, [], _names(5), random_state=123)
        bins = d.discretize(X[:300])
        outs.append((d.undiscretize(bins), d.get_undiscretize_values(0, bins[:, 0])))
    np.testing.assert_array_equal(outs[0][0], outs[1][0])
    np.testing.assert_array_equal(outs[0][1], outs[1][1])
    # int -> default_rng(int)
    d = QuartileDiscretizer(X, [], _names(5), random_state=123)
    np.testing.assert_array_equal(d.undiscretize(bins), d.undiscretize_bins(bins, np.random.default_rng(123)))


@pytest.mark.parametrize("state", [None, 5, np.int64(5), np.random.RandomState(3), np.random.default_rng(3)])
def test_random_state_types(state):
    X, y = _continuous_data()
    for cls in (QuartileDiscretizer, EntropyDiscretizer):
        d = cls(X, [], _names(5), labels=y, random_state=state)
        assert d.random_state is state
        bins = d.discretize(X[:50])
        out = d.undiscretize(bins)
        np.testing.assert_array_equal(d.discretize(out), bins)
    with pytest.raises(TypeError, match="random_state"):
        QuartileDiscretizer(X, [], _names(5), random_state="seed")


def test_random_state_generator_is_used_directly():
    X, _ = _continuous_data()
    g = np.random.default_rng(9)
    d = QuartileDiscretizer(X, [], _names(5), random_state=g)
    bins = d.discretize(X[:20])
    np.testing.assert_array_equal(d.undiscretize(bins), d.undiscretize_bins(bins, np.random.default_rng(9)))


def test_random_state_randomstate_derivation():
    X, _ = _continuous_data()
    d = QuartileDiscretizer(X, [], _names(5), random_state=np.random.RandomState(4))
    seed = np.random.RandomState(4).randint(0, 2**31 - 1)
    bins = d.discretize(X[:20])
    np.testing.assert_array_equal(d.undiscretize(bins), d.undiscretize_bins(bins, np.random.default_rng(seed)))


def test_degenerate_bin_returns_boundary():
    rng = np.random.default_rng(0)
    col = np.concatenate([np.zeros(400), rng.uniform(1, 2, size=600)])
    X = np.column_stack([col, rng.normal(size=1000)])
    d = QuartileDiscretizer(X, [], ["a", "b"], random_state=0)
    # q25 = 0 = min: bin 0 is exactly {0}.
    assert d.mins[0][0] == d.maxs[0][0] == 0.0
    bins = np.zeros((1000, 2))
    out = d.undiscretize_bins(bins, np.random.default_rng(1))
    assert np.all(out[:, 0] == 0.0)
    np.testing.assert_array_equal(d.get_undiscretize_values(0, np.zeros(5, int)), 0.0)


class _FixedBins(BaseDiscretizer):
    """Custom subclass with an empty bin (10, 11]."""

    def bins(self, data, labels):
        return [np.array([-1.0, 0.0, 10.0, 11.0]) for _ in self.to_discretize]


def test_empty_bin_draws_stay_in_bin():
    X = np.random.default_rng(0).normal(size=(500, 2))
    d = _FixedBins(X, [], ["a", "b"], random_state=0)
    row = 0
    assert d.means[0][3] == 0 and d.stds[0][3] == pytest.approx(1e-11)
    bins = np.full((2000, 2), 3.0)
    out = d.undiscretize_bins(bins, np.random.default_rng(1))
    assert np.all((out >= 10.0) & (out <= 11.0))
    assert d.n_bins[row] == 5


def test_out_of_range_bin_index_raises():
    X, _ = _continuous_data()
    d = QuartileDiscretizer(X, [], _names(5), random_state=0)
    bins = np.zeros((3, 5))
    bins[1, 2] = 4  # n_bins: the missing bin, drawn as NaN
    assert np.isnan(d.undiscretize_bins(bins, np.random.default_rng(0))[1, 2])
    bins[1, 2] = 5
    with pytest.raises(ValueError, match="bin index"):
        d.undiscretize_bins(bins, np.random.default_rng(0))
    bins[1, 2] = -1
    with pytest.raises(ValueError, match="bin index"):
        d.undiscretize(bins)


def test_undiscretize_one_row_and_values_shape():
    X, _ = _continuous_data()
    d = QuartileDiscretizer(X, [2], _names(5), random_state=0)
    row = d.discretize(X[0])
    out = d.undiscretize(row)
    assert out.shape == (5,) and out[2] == X[0, 2]
    np.testing.assert_array_equal(d.discretize(out), row)
    vals = d.get_undiscretize_values(0, np.array([[0], [3]]))
    assert vals.shape == (2, 1)
    assert d.bin_mins[0, 3] <= vals[1, 0] <= d.bin_maxs[0, 3]


def test_pickle_roundtrip():
    X, _ = _continuous_data()
    d = QuartileDiscretizer(X, [], _names(5), random_state=0)
    d2 = pickle.loads(pickle.dumps(d))
    np.testing.assert_array_equal(d2.discretize(X), d.discretize(X))


# ---------------------------------------------------------------------------
# make_discretizer and errors
# ---------------------------------------------------------------------------


def test_make_discretizer_strings_and_instances():
    X, y = _continuous_data()
    for name, (cls, _) in KINDS.items():
        d = make_discretizer(name, X, [], _names(5), y, 0)
        assert type(d) is cls
    inst = QuartileDiscretizer(X, [], _names(5))
    assert make_discretizer(inst, X, [], _names(5), None, 0) is inst
    stats = {"means": inst.means, "stds": inst.stds, "mins": inst.mins, "maxs": inst.maxs, "bins": inst.bin_edges}
    d = make_discretizer("quartile", X, [], _names(5), None, 0, data_stats=stats)
    assert isinstance(d, StatsDiscretizer) and d.names == inst.names


def test_make_discretizer_errors():
    X, y = _continuous_data()
    with pytest.raises(ValueError, match="discretizer") as exc:
        make_discretizer("foo", X, [], _names(5), y, 0)
    assert "'foo'" in str(exc.value) and "'quartile', 'decile', 'entropy'" in str(exc.value)
    with pytest.raises(TypeError, match="discretizer"):
        make_discretizer(5, X, [], _names(5), y, 0)
    lime_inst = lime_discretize.QuartileDiscretizer(X, [], _names(5))
    with pytest.raises(TypeError, match="discretizer"):
        make_discretizer(lime_inst, X, [], _names(5), y, 0)
    with pytest.raises(ValueError, match="training_labels"):
        make_discretizer("entropy", X, [], _names(5), None, 0)


def test_entropy_without_labels_raises():
    X, _ = _continuous_data()
    with pytest.raises(ValueError, match="training_labels"):
        EntropyDiscretizer(X, [], _names(5), labels=None)


def test_base_discretizer_is_abstract():
    X, _ = _continuous_data()
    with pytest.raises(TypeError):
        BaseDiscretizer(X, [], _names(5))


@pytest.mark.parametrize("kind", ["quartile", "decile", "entropy"])
def test_tabulated_draws_stay_within_tolerance_of_the_exact_inverse_cdf(kind):
    # the kept speed path (a table of each bin's inverse CDF) against the plain formulation, uniform for uniform
    from limekit.tabular.discretize import _QUANTILE_TOLERANCE

    rng = np.random.default_rng(11)
    X = np.column_stack([rng.exponential(size=2000) ** 3, rng.normal(size=2000), rng.standard_t(2, size=2000)])
    labels = (X[:, 1] > 0).astype(int)
    d = make_discretizer(kind, X, [], ["heavy", "normal", "t"], labels, 0)
    codes = np.column_stack([rng.integers(0, n, 20_000) for n in d.n_bins])
    rows = np.arange(d.n_bins.size)
    u = rng.random(codes.shape)
    tabulated = d._draw(rows, codes, u)
    low, high, means, stds = (t[rows, codes] for t in (d.bin_mins, d.bin_maxs, d.bin_means, d.bin_stds))
    exact = truncnorm_from_uniform(u, low, high, means, stds)
    assert np.all(np.abs(tabulated - exact) <= 1.01 * _QUANTILE_TOLERANCE * (high - low) + 1e-12 * np.abs(exact))
    assert np.all((tabulated >= low) & (tabulated <= high))  # inside the bin
    assert np.abs(tabulated - exact).max() > 0  # the table, not the exact curve, drew most cells
