"""TabularExplainer.explain_instances: many rows, few model calls, the same explanations."""

import numpy as np
import pytest
import scipy.sparse as sp
from cases_tabular import N_FEATURES, planted_data, planted_proba, planted_regression

from limekit import LimekitError, RecurrentTabularExplainer, TabularExplainer


class Calls:
    """Counts the model's calls and rows."""

    def __init__(self, fn):
        self.fn, self.sizes = fn, []

    def __call__(self, X):
        self.sizes.append(len(X))
        return self.fn(X)


def _same(a, b):
    assert sorted(a.local_exp) == sorted(b.local_exp)
    for label in a.local_exp:
        assert a.as_list(label) == b.as_list(label)
        assert a.intercept[label] == b.intercept[label]
    for label in a.scores:
        assert a.scores[label] == b.scores[label]
        np.testing.assert_array_equal(a.local_preds[label], b.local_preds[label])


@pytest.mark.parametrize("discretize", [True, False])
@pytest.mark.parametrize("mode", ["classification", "regression"])
def test_same_explanations_as_one_row_at_a_time(discretize, mode):
    X = planted_data()
    fn = planted_proba if mode == "classification" else planted_regression
    rows = X[:7]
    kwargs = dict(mode=mode, discretize_continuous=discretize, random_state=5)
    batch = TabularExplainer(X, **kwargs).explain_instances(rows, fn, num_features=4, num_samples=800)
    single = TabularExplainer(X, **kwargs)
    assert len(batch) == len(rows)
    for row, exp in zip(rows, batch):
        _same(exp, single.explain_instance(row, fn, num_features=4, num_samples=800))


def test_few_model_calls_instances_first():
    X = planted_data()
    model = Calls(planted_proba)
    exps = TabularExplainer(X, random_state=0).explain_many(X[:12], model, num_samples=1000)
    assert model.sizes == [12 * 1000]  # the instances and every perturbation in one call
    assert len(exps) == 12
    model = Calls(planted_proba)
    TabularExplainer(X, random_state=0).explain_many(X[:5], model, rows_per_task=2, num_samples=1000, batch_size=1500)
    assert model.sizes == [1500, 500, 1500, 500, 1000]  # tasks of 2, 2 and 1 rows


def test_labels_per_row_and_diagnostics():
    X = planted_data()
    exps = TabularExplainer(X, random_state=0, stability_samples=5).explain_instances(
        X[:6], planted_proba, top_labels=1, num_samples=600, fidelity_samples=200
    )
    for row, exp in zip(X[:6], exps):
        assert exp.top_labels == [int(np.argmax(planted_proba(row[None])[0]))]
        np.testing.assert_allclose(exp.predict_proba, planted_proba(row[None])[0])
        assert exp.diagnostics["fidelity"][exp.top_labels[0]]["n_samples"] == 200
        assert exp.diagnostics["stability"][exp.top_labels[0]]["n_draws"] == 5
    again = TabularExplainer(X, random_state=0, stability_samples=5).explain_instances(
        X[:6], planted_proba, top_labels=1, num_samples=600, fidelity_samples=200
    )
    assert [e.to_json() for e in exps] == [e.to_json() for e in again]


def test_dataframe_sparse_and_recurrent_rows():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"age": rng.integers(18, 80, 400).astype(float), "colour": rng.choice(["red", "blue"], 400)})

    def red_proba(batch):
        p = np.where(batch["colour"] == "red", 0.9, 0.2)
        return np.column_stack([1 - p, p])

    exps = TabularExplainer(frame, random_state=0).explain_instances(frame.iloc[:3], red_proba, num_samples=300)
    assert [e.as_list(1)[0][0] for e in exps] == [f"colour={c}" for c in frame["colour"][:3]]

    X = sp.random(300, N_FEATURES, density=0.3, format="csr", random_state=0)

    def sparse_regression(batch):
        return planted_regression(batch.toarray())

    batch = TabularExplainer(X, mode="regression", random_state=2).explain_instances(
        X[:3], sparse_regression, num_samples=300
    )
    single = TabularExplainer(X, mode="regression", random_state=2)
    for i, exp in enumerate(batch):
        _same(exp, single.explain_instance(X[i], sparse_regression, num_samples=300))

    series = np.random.default_rng(1).normal(size=(200, 4, 3))

    def last_step(batch):
        p = 1 / (1 + np.exp(-3 * batch[:, -1, 0]))
        return np.column_stack([1 - p, p])

    recurrent = RecurrentTabularExplainer(series, random_state=0)
    exps = recurrent.explain_instances(series[:2], last_step, num_features=2, num_samples=400)
    assert all(" 0_t-0 " in e.as_list(1)[0][0] for e in exps)  # the last step of feature 0 drives the model
    # limekit's name for the model works too (lime's is classifier_fn); the same explanations
    by_name = recurrent.explain_many(series[:2], predict_fn=last_step, num_features=2, num_samples=400)
    for exp, named in zip(exps, by_name):
        assert [name for name, _ in named.as_list(1)] == [name for name, _ in exp.as_list(1)]
        np.testing.assert_allclose([w for _, w in named.as_list(1)], [w for _, w in exp.as_list(1)], rtol=1e-9)
    with pytest.raises(TypeError, match="classifier_fn.*predict_fn"):
        recurrent.explain_many(series[:2], last_step, predict_fn=last_step)


@pytest.mark.parametrize(
    "rows, words",
    [
        (np.zeros((3, N_FEATURES + 1)), "data_rows"),
        (np.zeros((0, N_FEATURES)), "data_rows"),
        (np.full((2, N_FEATURES), np.inf), "data_rows"),  # NaN: a missing value, explained
        (np.zeros(N_FEATURES), "data_rows"),
    ],
)
def test_bad_rows_rejected_before_the_model_is_called(rows, words):
    X = planted_data(200)
    model = Calls(planted_proba)
    with pytest.raises(LimekitError) as error:
        TabularExplainer(X).explain_instances(rows, model)
    assert error.value.argument == words and model.sizes == []


def test_bad_model_output_caught_on_the_instances():
    X = planted_data(200)
    model = Calls(lambda batch: planted_proba(batch)[:, :1])  # one column in classification
    with pytest.raises(ValueError) as error:
        TabularExplainer(X, batch_size=10).explain_instances(X[:4], model)
    assert error.value.argument == "predict_fn" and model.sizes == [10]  # stopped after the first batch
