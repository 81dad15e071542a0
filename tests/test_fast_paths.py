"""Shortcuts on the hot path give the figures of the general computation they replace."""

import numpy as np

from limekit.core.adaptive import _top_k
from limekit.tabular.sampler import TabularSampler, uniform_bits
from limekit.weighted import WeightedDesign


def test_top_k_by_partition_is_the_k_largest_even_with_ties():
    rng = np.random.default_rng(2)
    magnitude = np.abs(rng.normal(size=(300, 14)))
    magnitude[:20, :6] = 1.0  # ties across the k-th place in some rows
    for k in (1, 5, 10, 14):
        members = _top_k(magnitude, k)
        assert np.all(members.sum(axis=1) == k)
        kth_in = np.where(members, magnitude, np.inf).min(axis=1)
        best_out = np.where(members, -np.inf, magnitude).max(axis=1)
        assert np.all(kth_in >= best_out)


def test_category_table_draws_equal_a_binary_search_of_the_uniforms():
    rng = np.random.default_rng(3)
    values = {0: np.arange(4.0), 1: np.array([2.0, 5.0, 7.0]), 2: np.arange(40.0), 3: np.array([9.0])}
    frequencies = {f: rng.dirichlet(np.ones(len(v))) for f, v in values.items()}
    frequencies[2][5:8] = 1e-7  # values narrower than a table cell
    frequencies[2] /= frequencies[2].sum()
    sampler = TabularSampler(
        4,
        False,
        None,
        [0, 1, 2, 3],
        [0, 1, 2, 3],
        values,
        frequencies,
        np.zeros(4),
        np.ones(4),
        np.zeros(4),
        np.ones(4),
        False,
    )
    drawn = sampler._sample_categories(20_000, [0, 1, 2, 3], np.random.default_rng(4))
    uniforms = uniform_bits(np.random.default_rng(4), (20_000, 4)) / 2.0**32  # exact in floating point
    for j in range(4):
        cumulative = np.cumsum(frequencies[j])
        index = np.minimum(np.searchsorted(cumulative, uniforms[:, j], side="right"), len(values[j]) - 1)
        np.testing.assert_array_equal(drawn[:, j], values[j][index])


def test_category_draws_follow_the_frequencies():
    frequencies = {0: np.array([0.5, 0.3, 0.2, 0.0]), 1: np.full(20, 0.05)}
    values = {0: np.arange(4.0), 1: np.arange(20.0)}
    sampler = TabularSampler(
        2, False, None, [0, 1], [0, 1], values, frequencies, np.zeros(2), np.ones(2), np.zeros(2), np.ones(2), False
    )
    drawn = sampler._sample_categories(200_000, [0, 1], np.random.default_rng(5))
    for j in (0, 1):
        share = np.bincount(drawn[:, j].astype(int), minlength=len(values[j])) / 200_000
        np.testing.assert_allclose(share, frequencies[j], atol=4e-3)
    assert not np.any(drawn[:, 0] == 3)  # a value of frequency 0 is never drawn


def test_in_place_values_equal_the_undiscretized_copy():
    from limekit.tabular.discretize import QuartileDiscretizer

    rng = np.random.default_rng(6)
    X = np.column_stack([rng.exponential(size=3000) ** 3, rng.normal(size=3000), rng.integers(0, 3, 3000)])
    d = QuartileDiscretizer(X, [2], ["heavy", "normal", "code"], random_state=0)
    bins = np.column_stack([rng.integers(0, 4, 50_000), rng.integers(0, 4, 50_000), rng.integers(0, 3, 50_000)])
    out = d.undiscretize_in_place(bins.astype(float), np.random.default_rng(7))
    np.testing.assert_array_equal(out, d.undiscretize_bins(bins, np.random.default_rng(7)))
    np.testing.assert_array_equal(out[:, 2], bins[:, 2])  # categorical codes stay


def test_blocked_sandwich_meat_equals_the_sum_over_rows():
    rng = np.random.default_rng(5)
    n = 3000  # more rows than one block
    Z = (rng.random((n, 12)) < rng.random(12)).astype(float)
    weights, y, coef = rng.random(n), rng.random(n), rng.normal(size=12)
    design = WeightedDesign(Z, weights)
    y_mean, _cross = design.label_stats(y)
    centred = Z - design.mean
    residual = (y - y_mean) - centred @ coef
    expected = (centred * ((weights * residual) ** 2)[:, None]).T @ centred
    np.testing.assert_allclose(
        design.sandwich_meat(y - y_mean, coef), expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max()
    )


def test_binary_columns_spread_is_two_p_one_minus_p():
    from limekit.weighted import weighted_mean_abs_deviation

    rng = np.random.default_rng(1)
    Z = (rng.random((3000, 12)) < rng.random(12)).astype(float)
    Z[:, 0] = 1.0  # a constant column: spread 0
    weights = rng.random(3000)
    np.testing.assert_allclose(
        weighted_mean_abs_deviation(Z, weights, binary=True), weighted_mean_abs_deviation(Z, weights), atol=1e-12
    )
