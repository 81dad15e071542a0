"""SP-LIME (limekit.submodular_pick): greedy coverage pick, reproducibility, validation."""

import itertools

import numpy as np
import pytest

from limekit import LimekitTypeError, LimekitValueError, TabularExplainer
from limekit.submodular_pick import (
    SubmodularPick,
    coverage,
    explanation_matrix,
    feature_importance,
    greedy_coverage_pick,
)

N_FEATURES = 6
N_GROUPS = 4
ROWS_PER_GROUP = 5


def reference_pick(W, k):
    """LIME paper, Algorithm 2, written plainly: the coverage of V + [i] for every candidate i, the best kept.

    Ties (coverages within 1e-10 of the total importance of the best) go to the lowest index.
    """
    W = np.asarray(W, dtype=float)
    importance = np.sum(np.abs(W), axis=0) ** 0.5
    tolerance = 1e-10 * importance.sum()
    V = []
    remaining = list(range(W.shape[0]))
    for _ in range(min(k, W.shape[0])):
        covers = [np.dot(np.sum(np.abs(W)[V + [i]], axis=0) > 0, importance) for i in remaining]
        best = max(covers)
        best_i = next(i for i, c in zip(remaining, covers) if c >= best - tolerance)
        V.append(best_i)
        remaining.remove(best_i)
    return V


def reference_coverage(W, V):
    importance = np.sum(np.abs(W), axis=0) ** 0.5
    return float(np.dot(np.sum(np.abs(W)[list(V)], axis=0) > 0, importance))


# --------------------------------------------------------------------------- the greedy step


@pytest.mark.parametrize("seed", range(12))
def test_vectorised_greedy_equals_reference(seed):
    rng = np.random.default_rng(seed)
    n, d = rng.integers(1, 40), rng.integers(1, 30)
    W = rng.normal(size=(n, d)) * (rng.random((n, d)) < rng.uniform(0.05, 0.5))
    for k in (1, 2, 5, n, n + 3):
        V = greedy_coverage_pick(W, k)
        assert V == reference_pick(W, k)
        assert coverage(W, V) == pytest.approx(reference_coverage(W, V), rel=1e-12)


def test_greedy_ties_and_saturation():
    # rows 1 and 3 are copies of 0; row 4 is empty; row 2 covers the rest
    W = np.array(
        [[1.0, 2.0, 0.0, 0.0], [1.0, 2.0, 0.0, 0.0], [0.0, 0.0, 3.0, 0.0], [1.0, 2.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
    )
    assert greedy_coverage_pick(W, 5) == reference_pick(W, 5) == [0, 2, 1, 3, 4]
    assert feature_importance(W).tolist() == pytest.approx([np.sqrt(3), np.sqrt(6), np.sqrt(3), 0.0])
    assert greedy_coverage_pick(np.zeros((3, 2)), 2) == [0, 1]


def test_greedy_with_integer_weights_equals_reference():
    rng = np.random.default_rng(7)
    for _ in range(40):
        W = rng.integers(-2, 3, size=(15, 6)).astype(float) * (rng.random((15, 6)) < 0.3)
        for k in (1, 3, 15):
            assert greedy_coverage_pick(W, k) == reference_pick(W, k)


# --------------------------------------------------------------------------- planted data


def group_model(X):
    """Regression model: feature k matters only when it is large, so each group relies on its own feature."""
    X = np.asarray(X, dtype=float)
    return 10.0 * (X[:, :N_GROUPS] > 1.0).sum(axis=1)


def group_data():
    """Rows of group k have x_k = 2 and every other feature near 0, so their explanation is feature k."""
    rng = np.random.default_rng(5)
    rows = 0.05 * rng.normal(size=(N_GROUPS * ROWS_PER_GROUP, N_FEATURES))
    for k in range(N_GROUPS):
        rows[k * ROWS_PER_GROUP : (k + 1) * ROWS_PER_GROUP, k] = 2.0
    return rows


def training_data():
    return np.random.default_rng(0).normal(size=(500, N_FEATURES))


def regression_explainer(random_state=0):
    return TabularExplainer(training_data(), mode="regression", random_state=random_state)


@pytest.fixture(scope="module")
def planted_pick():
    return SubmodularPick(
        regression_explainer(),
        group_data(),
        group_model,
        method="full",
        num_exps_desired=N_GROUPS,
        num_features=1,
        num_samples=500,
    )


def test_planted_explanations_use_their_group_feature(planted_pick):
    groups = np.repeat(np.arange(N_GROUPS), ROWS_PER_GROUP)
    tops = [exp.as_map()[1][0][0] for exp in planted_pick.explanations]
    assert tops == groups.tolist()


def test_pick_covers_every_planted_group(planted_pick):
    sp = planted_pick
    picked = {f for exp in sp.sp_explanations for f, _ in exp.as_map()[1]}
    assert picked == set(range(N_GROUPS))
    # the first N_GROUPS explanations (all from group 0) cover one feature only
    first = {f for exp in sp.explanations[:N_GROUPS] for f, _ in exp.as_map()[1]}
    assert len(first) == 1
    assert sp.coverage == pytest.approx(coverage(sp.W, sp.V))
    assert sp.coverage > coverage(sp.W, range(N_GROUPS))


def test_two_picks_cover_the_most(planted_pick):
    sp = planted_pick
    V = greedy_coverage_pick(sp.W, 2)
    best_pair = max(coverage(sp.W, pair) for pair in itertools.combinations(range(len(sp.explanations)), 2))
    assert coverage(sp.W, V) == pytest.approx(best_pair)
    groups = {i // ROWS_PER_GROUP for i in V}
    assert len(groups) == 2


def test_explanation_matrix_from_as_map(planted_pick):
    sp = planted_pick
    assert sp.W.shape == (len(sp.explanations), len(sp.features))
    for i, exp in enumerate(sp.explanations):
        expected = np.zeros(len(sp.features))
        for f, w in exp.as_map()[1]:  # regression: label 1, as lime
            expected[sp.features.index(f)] += w
        np.testing.assert_allclose(sp.W[i], expected)
    np.testing.assert_allclose(sp.importance, np.sqrt(np.abs(sp.W).sum(axis=0)))
    assert sp.sp_explanations == [sp.explanations[i] for i in sp.V]
    np.testing.assert_array_equal(sp.sample_indices, np.arange(len(sp.explanations)))


def test_feature_keys_names_is_limes_matrix(planted_pick):
    exps = planted_pick.explanations
    W, features = explanation_matrix(exps, feature_keys="names")
    # lime's construction: by as_list name, in first-seen order
    lime_features = {}
    for exp in exps:
        for name, _ in exp.as_list(label=1):
            lime_features.setdefault(name, len(lime_features))
    assert features == list(lime_features)
    lime_W = np.zeros((len(exps), len(lime_features)))
    for i, exp in enumerate(exps):
        for name, w in exp.as_list(1):
            lime_W[i, lime_features[name]] += w
    np.testing.assert_allclose(W, lime_W)


def test_classification_matrix_sums_the_explained_labels():
    train = training_data()

    def proba(X):
        p = 1 / (1 + np.exp(-3 * (X[:, 0] - X[:, 1])))
        q = 0.5 * (1 - p)
        return np.column_stack([p, q, 1 - p - q])

    explainer = TabularExplainer(train, random_state=0)
    sp = SubmodularPick(
        explainer, train[:5], proba, method="full", num_exps_desired=2, num_features=2, num_samples=300, top_labels=2
    )
    for i, exp in enumerate(sp.explanations):
        assert len(exp.available_labels()) == 2
        expected = np.zeros(len(sp.features))
        for label in exp.available_labels():
            for f, w in exp.as_map()[label]:
                expected[sp.features.index(f)] += w
        np.testing.assert_allclose(sp.W[i], expected)


# --------------------------------------------------------------------------- randomness


def run_sample(explainer_seed, global_seed, data=None):
    np.random.seed(global_seed)
    explainer = regression_explainer(explainer_seed)
    np.random.seed(global_seed + 1)
    data = np.tile(group_data(), (2, 1)) if data is None else data
    sp = SubmodularPick(
        explainer,
        data,
        group_model,
        method="sample",
        sample_size=8,
        num_exps_desired=3,
        num_features=2,
        num_samples=300,
    )
    return sp


def summary(sp):
    return sp.sample_indices.tolist(), sp.V, [exp.as_map()[1] for exp in sp.explanations]


def test_same_random_state_same_pick():
    assert summary(run_sample(3, 0)) == summary(run_sample(3, 0))


def test_numpy_global_seed_does_not_matter():
    a, b = run_sample(3, 0), run_sample(3, 12345)
    assert summary(a) == summary(b)
    assert run_sample(4, 0).sample_indices.tolist() != a.sample_indices.tolist()


def test_dataframe_rows_by_position():
    pd = pytest.importorskip("pandas")
    data = np.tile(group_data(), (2, 1))
    frame = pd.DataFrame(data, index=np.arange(100, 100 + len(data))[::-1])
    assert summary(run_sample(3, 0, frame)) == summary(run_sample(3, 0, data))


def test_sample_larger_than_data_warns_and_explains_all():
    with pytest.warns(UserWarning, match="sample_size"):
        sp = SubmodularPick(
            regression_explainer(),
            group_data()[:3],
            group_model,
            sample_size=10,
            num_exps_desired=2,
            num_features=1,
            num_samples=200,
        )
    assert sorted(sp.sample_indices.tolist()) == [0, 1, 2]


def test_more_exps_than_explanations_warns_and_returns_all():
    with pytest.warns(UserWarning, match="num_exps_desired"):
        sp = SubmodularPick(
            regression_explainer(),
            group_data()[:3],
            group_model,
            method="full",
            num_exps_desired=5,
            num_features=1,
            num_samples=200,
        )
    assert sorted(sp.V) == [0, 1, 2]


# --------------------------------------------------------------------------- validation


class CountingModel:
    calls = 0

    def __call__(self, X):
        self.calls += 1
        return group_model(X)


@pytest.mark.parametrize(
    "kwargs,error,argument,words",
    [
        ({"method": "random"}, LimekitValueError, "method", ["'sample'", "'full'", "'random'"]),
        ({"method": 3}, LimekitTypeError, "method", ["'sample'", "int"]),
        ({"num_exps_desired": 0}, LimekitValueError, "num_exps_desired", [">= 1", "0"]),
        ({"num_exps_desired": 2.5}, LimekitTypeError, "num_exps_desired", ["integer", "2.5"]),
        ({"num_exps_desired": "3"}, LimekitTypeError, "num_exps_desired", ["integer", "'3'"]),
        ({"sample_size": 0}, LimekitValueError, "sample_size", [">= 1", "0"]),
        ({"sample_size": None}, LimekitTypeError, "sample_size", ["integer", "None"]),
        ({"num_features": 0}, LimekitValueError, "num_features", [">= 1"]),
        ({"feature_keys": "bins"}, LimekitValueError, "feature_keys", ["'ids'", "'bins'"]),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, error, argument, words):
    model = CountingModel()
    with pytest.raises(error) as info:
        SubmodularPick(regression_explainer(), group_data(), model, **kwargs)
    message = str(info.value)
    assert info.value.argument == argument and message.startswith(argument + ":")
    assert "expected" in message and "got" in message
    for word in words:
        assert word in message
    assert model.calls == 0  # checked before any explanation


def test_bad_explainer_predict_fn_and_data():
    with pytest.raises(TypeError, match="^explainer:"):
        SubmodularPick(object(), group_data(), group_model)
    with pytest.raises(TypeError, match="^predict_fn:"):
        SubmodularPick(regression_explainer(), group_data(), None)
    with pytest.raises(ValueError, match="^data:"):
        SubmodularPick(regression_explainer(), np.empty((0, N_FEATURES)), group_model)
    with pytest.raises(ValueError, match="^num_exps_desired:"):
        greedy_coverage_pick(np.ones((2, 2)), 0)


def test_compat_path_is_the_same_class():
    from limekit.compat.submodular_pick import SubmodularPick as Compat

    assert Compat is SubmodularPick


# --------------------------------------------------------------------------- other inputs


def test_recurrent_explainer_series():
    from limekit import RecurrentTabularExplainer

    rng = np.random.default_rng(0)
    series = rng.normal(size=(60, 3, 2))

    def classifier_fn(X):
        p = 1 / (1 + np.exp(-3 * X[:, -1, 0]))
        return np.column_stack([1 - p, p])

    sp = SubmodularPick(
        RecurrentTabularExplainer(series, random_state=0),
        series[:10],
        classifier_fn,
        sample_size=5,
        num_exps_desired=2,
        num_features=2,
        num_samples=200,
    )
    assert len(sp.explanations) == 5 and len(sp.V) == 2
    assert all(0 <= f < 6 for f in sp.features)


def test_sparse_rows():
    sparse = pytest.importorskip("scipy.sparse")
    X = sparse.random(100, 8, density=0.4, format="csr", random_state=0)

    def model(Z):
        return np.asarray(Z[:, 0].todense()).ravel() + np.asarray(Z[:, 3].todense()).ravel()

    explainer = TabularExplainer(X, mode="regression", discretize_continuous=False, random_state=0)
    sp = SubmodularPick(explainer, X, model, sample_size=6, num_exps_desired=2, num_features=2, num_samples=200)
    assert sp.W.shape[0] == 6 and len(sp.V) == 2
    assert all(0 <= f < 8 for f in sp.features)


def test_lime_explainer_is_matched_by_name():
    lime_tabular = pytest.importorskip("lime.lime_tabular")
    train = training_data()
    explainer = lime_tabular.LimeTabularExplainer(train, mode="regression", random_state=0)
    sp = SubmodularPick(
        explainer, group_data(), group_model, sample_size=6, num_exps_desired=2, num_features=1, num_samples=300
    )
    assert all(isinstance(f, str) for f in sp.features)  # lime's TableDomainMapper: as_list names
    assert len(sp.V) == 2
