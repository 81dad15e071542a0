"""Behaviour of the tabular explainer: planted truth, invariants, determinism, pandas, sparse."""

import json

import numpy as np
import pytest
import scipy.sparse as sp
from cases_tabular import N_FEATURES, planted_data, planted_proba, planted_regression

from limekit import RecurrentTabularExplainer, TabularExplainer


def _labels(X):
    return (planted_proba(X)[:, 1] > 0.5).astype(int)


def top_features(exp, label, k=3):
    return {feature for feature, _ in exp.as_map()[label][:k]}


@pytest.mark.parametrize("mode", ["classification", "regression"])
@pytest.mark.parametrize("discretizer", ["quartile", "decile", "entropy", None])
def test_planted_features_come_first(mode, discretizer):
    X = planted_data()
    explainer = TabularExplainer(
        X,
        mode=mode,
        training_labels=_labels(X),
        discretize_continuous=discretizer is not None,
        discretizer=discretizer or "quartile",
        random_state=1,
    )
    fn = planted_proba if mode == "classification" else planted_regression
    # planted features a standard deviation from the mean: leaving their bins changes the output
    row = X[0].copy()
    row[:3] = [1.2, 1.2, -1.2]
    exp = explainer.explain_instance(row, fn, num_features=5, num_samples=3000)
    label = 1
    assert top_features(exp, label) == {0, 1, 2}
    weights = dict(exp.as_map()[label])
    # being where the instance is (high x0, x1; low x2) raises the output
    if discretizer is None:
        assert weights[0] > 0 and weights[1] > 0 and weights[2] < 0
    else:
        assert weights[0] > 0 and weights[1] > 0 and weights[2] > 0


@pytest.mark.parametrize("discretize", [True, False])
def test_same_seed_identical_explanation(discretize):
    X = planted_data()
    row = X[5]
    runs = []
    for _ in range(2):
        explainer = TabularExplainer(X, discretize_continuous=discretize, random_state=42)
        exp = explainer.explain_instance(row, planted_proba, num_features=6, num_samples=1000)
        runs.append((exp.as_list(), exp.intercept, exp.score, exp.local_pred.tolist()))
    assert runs[0] == runs[1]
    other = TabularExplainer(X, discretize_continuous=discretize, random_state=43)
    exp = other.explain_instance(row, planted_proba, num_features=6, num_samples=1000)
    assert exp.as_list() != runs[0][0]


def test_numpy_global_seed_does_not_matter():
    X = planted_data()
    results = []
    for global_seed in (0, 1):
        np.random.seed(global_seed)
        exp = TabularExplainer(X, random_state=3).explain_instance(X[1], planted_proba, num_samples=500)
        results.append(exp.as_list())
    assert results[0] == results[1]


@pytest.mark.parametrize("discretize", [True, False])
@pytest.mark.parametrize("selection", ["none", "forward_selection", "highest_weights", "lasso_path", "auto"])
def test_intercept_plus_weights_times_row_is_local_pred(discretize, selection):
    X = planted_data()
    explainer = TabularExplainer(X, discretize_continuous=discretize, feature_selection=selection, random_state=0)
    exp = explainer.explain_instance(X[2], planted_proba, top_labels=2, num_features=4, num_samples=800)
    scaled_row = exp.domain_mapper.scaled_row
    for label in exp.available_labels():
        total = exp.intercept[label] + sum(w * scaled_row[f] for f, w in exp.local_exp[label])
        assert total == pytest.approx(float(exp.local_preds[label][0]), abs=1e-10)
    assert set(exp.scores) == {0, 1}
    # the last label's score/local_pred are lime's attributes
    last = list(exp.local_exp)[-1]
    assert exp.score == exp.scores[last]


def test_surrogate_matches_sklearn_ridge():
    from sklearn.linear_model import Ridge

    X = planted_data()
    explainer = TabularExplainer(X, random_state=0, feature_selection="none")
    exp = explainer.explain_instance(X[3], planted_proba, num_samples=600)
    ridge = exp.fits[1].surrogate
    # refit with scikit-learn on the same perturbations
    Z, inverse, _ = explainer.sampler.sample(X[3], 600, explainer.randomness(X[3]).perturbation)
    outputs = planted_proba(inverse)[:, 1]
    weights = explainer.kernel_fn(np.sqrt(((Z - Z[0]) ** 2).sum(1)))
    reference = Ridge(alpha=1.0).fit(Z, outputs, sample_weight=weights)
    np.testing.assert_allclose(ridge.coef_, reference.coef_, atol=1e-10)
    assert ridge.intercept_ == pytest.approx(reference.intercept_, abs=1e-10)
    assert exp.score == pytest.approx(reference.score(Z, outputs, sample_weight=weights), abs=1e-10)


def test_model_regressor_is_used_per_label():
    from sklearn.linear_model import Lasso

    X = planted_data()
    explainer = TabularExplainer(X, random_state=0)
    exp = explainer.explain_instance(
        X[0], planted_proba, labels=(0, 1), num_features=3, num_samples=500, model_regressor=Lasso(alpha=0.001)
    )
    assert exp.fits[0].surrogate.model_ is not exp.fits[1].surrogate.model_
    w0 = dict(exp.local_exp[0])
    w1 = dict(exp.local_exp[1])
    for feature in w0:
        assert w0[feature] == pytest.approx(-w1.get(feature, -w0[feature]), abs=1e-6)


def test_readable_names_and_json():
    X = planted_data()
    X[:, 4] = np.random.default_rng(0).integers(0, 3, size=X.shape[0])
    explainer = TabularExplainer(
        X,
        feature_names=[f"f{i}" for i in range(N_FEATURES)],
        categorical_features=[4],
        categorical_names={4: ["low", "mid", "high"]},
        class_names=["no", "yes"],
        random_state=0,
    )
    row = X[0].copy()
    row[4] = 2
    exp = explainer.explain_instance(row, planted_proba, num_features=N_FEATURES, num_samples=500)
    names = [name for name, _ in exp.as_list()]
    assert "f4=high" in names
    assert any(name.startswith("f0 <= ") or " < f0 <= " in name or name.startswith("f0 > ") for name in names)
    payload = json.loads(exp.to_json())
    assert payload["class_names"] == ["no", "yes"]
    assert payload["predict_proba"] == pytest.approx(planted_proba(row[None])[0].tolist())
    features = payload["explanations"]["1"]["features"]
    assert {f["name"] for f in features} == set(names)
    assert next(f for f in features if f["name"] == "f4=high")["value"] == "high"
    assert payload["diagnostics"]["effective_sample_size"] > 0


def test_regression_accessors():
    X = planted_data()
    explainer = TabularExplainer(X, mode="regression", random_state=0)
    exp = explainer.explain_instance(X[0], planted_regression, num_features=3, num_samples=800)
    assert exp.predicted_value == pytest.approx(planted_regression(X[:1])[0])
    assert exp.min_value <= exp.predicted_value <= exp.max_value
    assert exp.local_exp[0] == [(f, -w) for f, w in exp.local_exp[1]]
    assert exp.as_list() == exp.as_list(label=0) == exp.as_list(label=1)  # the fit whatever the label, as in lime
    assert exp.available_labels() == [1] and exp.label == 1


def test_batches_give_identical_result():
    X = planted_data()
    calls = []

    def counting(X_batch):
        calls.append(len(X_batch))
        return planted_proba(X_batch)

    a = TabularExplainer(X, random_state=0).explain_instance(X[0], planted_proba, num_samples=1000)
    b = TabularExplainer(X, random_state=0, batch_size=128).explain_instance(X[0], counting, num_samples=1000)
    assert a.as_list() == b.as_list()
    assert max(calls) <= 128 and sum(calls) == 1000


def test_user_kernel_and_width():
    X = planted_data()
    seen = {}

    def kernel(d, kernel_width):
        seen["width"] = kernel_width
        return np.ones_like(d)

    exp = TabularExplainer(X, kernel=kernel, kernel_width=7, random_state=0).explain_instance(
        X[0], planted_proba, num_samples=300
    )
    assert seen["width"] == 7
    assert exp.diagnostics["effective_sample_size"] == pytest.approx(300)


def test_dataframe_with_string_categories_end_to_end():
    pd = pytest.importorskip("pandas")
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(0)
    n = 1200
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "colour": rng.choice(["red", "green", "blue"], n),
            "size": pd.Categorical(rng.choice(["S", "M", "L"], n), categories=["S", "M", "L"]),
            "noise": rng.normal(size=n),
        }
    )
    y = ((frame["colour"] == "red") ^ (rng.random(n) < 0.05)).astype(int)
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["colour", "size"]), remainder="passthrough"),
        LogisticRegression(max_iter=1000),
    ).fit(frame, y)
    seen_types = []

    def predict(batch):
        seen_types.append((type(batch).__name__, str(batch["colour"].dtype), str(batch["size"].dtype)))
        return model.predict_proba(batch)

    explainer = TabularExplainer(frame, class_names=["other", "red"], random_state=0)
    assert explainer.feature_names == ["age", "colour", "size", "noise"]
    assert set(explainer.declared_categorical) == {1, 2}
    row = frame.iloc[int(np.flatnonzero(frame["colour"] == "red")[0])]
    exp = explainer.explain_instance(row, predict, num_features=2, num_samples=800)
    assert exp.as_list()[0][0] == "colour=red"
    assert exp.as_list()[0][1] > 0
    expected = ("DataFrame", str(frame["colour"].dtype), "category")
    assert all(t == expected for t in seen_types)
    assert json.loads(exp.to_json())["explanations"]["1"]["features"][0]["value"] == "red"


def test_sparse_rows_only_vary_nonzero_features():
    rng = np.random.default_rng(0)
    dense = rng.normal(size=(300, 40)) * (rng.random((300, 40)) < 0.2)
    training = sp.csr_matrix(dense)
    row = sp.csr_matrix(dense[0:1])
    seen = []

    def predict(batch):
        assert sp.issparse(batch)
        seen.append(batch)
        values = np.asarray(batch[:, 0].todense()).ravel() + 2 * np.asarray(batch[:, 1].todense()).ravel()
        p = 1 / (1 + np.exp(-values))
        return np.column_stack([1 - p, p])

    explainer = TabularExplainer(training, random_state=0)
    exp = explainer.explain_instance(row, predict, num_features=3, num_samples=400)
    active = set(row.indices.tolist())
    assert {f for f, _ in exp.as_map()[1]} <= active
    batch = sp.vstack(seen)
    assert set(batch.nonzero()[1].tolist()) <= active
    if {0, 1} <= active:
        assert top_features(exp, 1, 2) == {0, 1}


def test_recurrent_explainer_reshapes_series():
    rng = np.random.default_rng(0)
    series = rng.normal(size=(400, 4, 3))  # (n, timesteps, features)

    def classifier(batch):
        assert batch.ndim == 3 and batch.shape[1:] == (4, 3)
        score = 3 * batch[:, -1, 0]  # only the last step of feature "a"
        p = 1 / (1 + np.exp(-score))
        return np.column_stack([1 - p, p])

    explainer = RecurrentTabularExplainer(
        series, feature_names=["a", "b", "c"], discretize_continuous=False, random_state=0
    )
    assert explainer.feature_names[:4] == ["a_t-3", "a_t-2", "a_t-1", "a_t-0"]
    exp = explainer.explain_instance(series[0], classifier, num_features=3, num_samples=500)
    assert exp.as_list()[0][0] == "a_t-0"


def test_lhs_sampling_and_sample_around_instance():
    X = planted_data()
    explainer = TabularExplainer(X, discretize_continuous=False, sample_around_instance=True, random_state=0)
    row = X[0] + 5
    _Z, inverse, _ = explainer.sampler.sample(row, 2000, np.random.default_rng(0), "lhs")
    np.testing.assert_allclose(inverse[1:].mean(axis=0), row, atol=0.15)
    exp = explainer.explain_instance(row, planted_proba, num_samples=500, sampling_method="lhs")
    assert len(exp.as_list()) == 10


def test_every_column_categorical_explains():
    """No continuous column: the discretizer has no inverse CDF to tabulate (it crashed on an empty reshape)."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 3, size=(200, 4)).astype(float)

    def model(rows):
        first = np.asarray(rows, dtype=float)[:, 0] / 3
        return np.column_stack([first, 1 - first])

    explainer = TabularExplainer(X, categorical_features=[0, 1, 2, 3], random_state=0)
    exp = explainer.explain_instance(X[0], model, num_samples=300)
    assert exp.as_list()[0][0].startswith("0=")
    assert len(exp.as_list()) == 4
