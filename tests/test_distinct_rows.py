"""distinct_coalition_rows: the same outputs as scoring every (coalition, background) pair, from fewer rows."""

import numpy as np
import pytest

from limekit.core.distinct_rows import distinct_coalition_rows


def every_row(masks, instance, background):
    return np.where(masks[:, None, :], instance[None, None, :], background[None, :, :])


@pytest.mark.parametrize("n_features", [3, 9, 70])  # 70: more than 64 bits of mask
def test_rows_and_inverse_rebuild_every_pair(n_features):
    rng = np.random.default_rng(n_features)
    background = rng.integers(0, 3, (40, n_features)).astype(float)
    instance = rng.integers(0, 3, n_features).astype(float)
    masks = rng.random((200, n_features)) < 0.5
    rows, inverse = distinct_coalition_rows(masks, instance, background)
    pairs = every_row(masks, instance, background)
    np.testing.assert_array_equal(rows[inverse], pairs)
    # one row per background row and distinct values, the instance once for all background rows
    keys = {
        (-1 if (row == instance).all() else b, row.tobytes())
        for c in range(masks.shape[0])
        for b, row in enumerate(pairs[c])
    }
    assert len(rows) == len(keys)


def test_a_model_scored_on_distinct_rows_gives_the_pairs_outputs():
    rng = np.random.default_rng(0)
    background = rng.integers(0, 4, (25, 6)).astype(float)
    instance = background[0].copy()
    masks = rng.random((64, 6)) < 0.5
    calls = []

    def model(X):
        calls.append(len(X))
        return np.sin(X @ np.arange(1.0, 7.0)) + X[:, 0] * X[:, 1]

    rows, inverse = distinct_coalition_rows(masks, instance, background)
    expected = model(every_row(masks, instance, background).reshape(-1, 6)).reshape(64, 25)
    np.testing.assert_allclose(model(rows)[inverse], expected, rtol=0, atol=1e-12)
    assert calls[-1] < 64 * 25  # background row 0 equals the instance: its 64 pairs are one row
    assert np.unique(inverse[:, 0]).size == 1


def test_object_rows_and_missing_values():
    background = np.array([["a", 1.0], ["b", np.nan], ["a", np.nan]], dtype=object)
    instance = np.array(["a", np.nan], dtype=object)
    masks = np.array([[True, True], [False, False], [True, False], [False, True]])
    rows, inverse = distinct_coalition_rows(masks, instance, background)
    rebuilt, pairs = rows[inverse], every_row(masks, instance, background)
    assert rebuilt.shape == pairs.shape
    for got, want in zip(rebuilt.reshape(-1, 2), pairs.reshape(-1, 2)):
        assert got[0] == want[0] and (got[1] == want[1] or (np.isnan(got[1]) and np.isnan(want[1])))


def test_the_instance_is_one_row_whatever_the_background_row():
    background = np.array([[0.0, 0.0], [1.0, 1.0]])
    instance = np.array([1.0, 0.0])
    masks = np.array([[False, False], [True, True]])
    rows, inverse = distinct_coalition_rows(masks, instance, background)
    assert len(rows) == 3 and inverse[1, 0] == inverse[1, 1]
    np.testing.assert_array_equal(rows[inverse[1, 0]], instance)
