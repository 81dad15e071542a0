"""Shortcuts on the hot path give the figures of the general computation they replace."""

import numpy as np
import pytest
import scipy.sparse as sp

from limekit.core.adaptive import _top_k
from limekit.core.distances import distances_to_first
from limekit.core.fidelity import black_box_labels
from limekit.core.fit import _column_spread
from limekit.tabular.sampler import TabularSampler
from limekit.weighted import WeightedDesign, weighted_mean_abs_deviation


@pytest.mark.parametrize("sparse", [False, True])
def test_binary_distances_equal_the_euclidean_distance(sparse):
    rng = np.random.default_rng(0)
    Z = (rng.random((400, 25)) < 0.4).astype(float)
    Z[0] = rng.random(25) < 0.7  # the instance need not be all ones
    Z = sp.csr_matrix(Z) if sparse else Z
    dense = Z.toarray() if sparse else Z
    expected = np.sqrt(((dense - dense[0]) ** 2).sum(axis=1))
    np.testing.assert_array_equal(distances_to_first(Z, "euclidean", binary=True), expected)
    np.testing.assert_allclose(distances_to_first(Z, "euclidean"), expected, rtol=1e-15)


def test_spread_of_binary_columns_is_two_p_one_minus_p():
    rng = np.random.default_rng(1)
    Z = (rng.random((3000, 12)) < rng.random(12)).astype(float)
    weights = rng.random(3000)
    design = WeightedDesign(Z, weights)
    general = weighted_mean_abs_deviation(Z, weights)
    np.testing.assert_allclose(_column_spread(Z, weights, True, design), general, rtol=1e-12)
    np.testing.assert_allclose(_column_spread(Z, weights, True, None), general, rtol=1e-12)
    continuous = rng.normal(size=(3000, 4))
    np.testing.assert_array_equal(
        _column_spread(continuous, weights, False, None), weighted_mean_abs_deviation(continuous, weights)
    )


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


def test_two_column_labels_equal_argmax_with_ties_to_the_first():
    outputs = np.array([[0.2, 0.8], [0.5, 0.5], [0.9, 0.1], [0.3, 0.7]])
    for label in (0, 1):
        np.testing.assert_array_equal(black_box_labels(outputs, label), np.argmax(outputs, axis=1) == label)


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


def test_stacked_group_aucs_equal_one_at_a_time():
    from limekit.weighted import sorted_groups_auc

    rng = np.random.default_rng(3)
    for score in (np.sort(rng.normal(size=300)), np.sort(rng.integers(0, 20, 300)).astype(float)):  # ties, or none
        positive, negative = rng.random((2, 300)), rng.random((2, 300))
        negative[1] = 0.0  # the second row has no negatives: None
        stacked = sorted_groups_auc(positive, negative, score)
        assert stacked == [sorted_groups_auc(positive[0], negative[0], score), None]
        assert stacked[0] is not None
