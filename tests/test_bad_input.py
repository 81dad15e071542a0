"""Bad input is rejected with an error naming the argument, before the model sees perturbations."""

import numpy as np
import pytest

from limekit import LimekitTypeError, LimekitValueError, TabularExplainer


class CountingModel:
    """Records the size of every batch it is asked about."""

    def __init__(self, fn):
        self.fn = fn
        self.batches = []

    def __call__(self, X):
        self.batches.append(len(X))
        return self.fn(np.asarray(X, dtype=float))

    @property
    def went_past_first_batch(self):
        """The instance rides in the first batch: a bad output must stop everything there."""
        return len(self.batches) > 1


def proba(X):
    p = 1 / (1 + np.exp(-X[:, 0]))
    return np.column_stack([1 - p, p])


@pytest.fixture
def X():
    return np.random.default_rng(0).normal(size=(200, 4))


def expect_error(kind, argument, *words):
    class Checker:
        def __enter__(self):
            self.ctx = pytest.raises(kind)
            self.info = self.ctx.__enter__()
            return self

        def __exit__(self, *exc):
            handled = self.ctx.__exit__(*exc)
            message = str(self.info.value)
            assert message.startswith(f"{argument}:"), message
            assert "expected" in message and "got" in message, message
            for word in words:
                assert word in message, message
            return handled

    return Checker()


@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_infinite_training_data(X, bad):  # NaN is a missing value (tests/test_real_tables.py)
    X[3, 2] = bad
    with expect_error(ValueError, "training_data", "1 infinite value(s)"):
        TabularExplainer(X)


@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_infinite_row(X, bad):
    model = CountingModel(proba)
    row = X[0].copy()
    row[1] = bad
    with expect_error(ValueError, "data_row"):
        TabularExplainer(X).explain_instance(row, model)
    assert not model.batches


def test_row_of_wrong_length(X):
    model = CountingModel(proba)
    with expect_error(ValueError, "data_row", "4 values"):
        TabularExplainer(X).explain_instance(X[0, :3], model)
    assert not model.batches


def test_row_with_unknown_or_missing_columns():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(100, 3)), columns=["a", "b", "c"])
    explainer = TabularExplainer(frame)
    model = CountingModel(lambda X: proba(np.asarray(X)))
    with expect_error(ValueError, "data_row", "unknown", "'zzz'"):
        explainer.explain_instance(pd.Series({"a": 1.0, "b": 2.0, "c": 0.0, "zzz": 1.0}), model)
    with expect_error(ValueError, "data_row", "missing", "'c'"):
        explainer.explain_instance(pd.Series({"a": 1.0, "b": 2.0}), model)
    assert not model.batches


@pytest.mark.parametrize(
    "output, words",
    [
        (lambda X: proba(X)[:-1], ["shape"]),
        (lambda X: proba(X)[:, 1], ["shape"]),
        (lambda X: proba(X)[:, 1:], ["at least 2 columns"]),
        (lambda X: np.where(X[:, :2] > 0, np.nan, 0.5), ["finite"]),
        (lambda X: proba(X) * 3, ["probabilities in [0, 1]"]),
    ],
)
def test_bad_model_output(X, output, words):
    model = CountingModel(output)
    with expect_error(ValueError, "predict_fn", *words):
        TabularExplainer(X, random_state=0, batch_size=20).explain_instance(X[0], model, num_samples=100)
    assert model.batches == [20]


def test_model_going_bad_on_perturbations_is_caught(X):
    def sometimes_nan(X):
        out = proba(X)
        if len(X) > 1:
            out[5] = np.nan
        return out

    with expect_error(ValueError, "predict_fn", "finite"):
        TabularExplainer(X, random_state=0).explain_instance(X[0], sometimes_nan, num_samples=100)


def test_labels_the_model_does_not_output(X):
    model = CountingModel(proba)
    with expect_error(ValueError, "labels", "[0, 1]", "[2]"):
        TabularExplainer(X, batch_size=50).explain_instance(X[0], model, labels=(2,))
    with expect_error(ValueError, "top_labels", "2 classes"):
        TabularExplainer(X, batch_size=50).explain_instance(X[0], model, top_labels=3)
    assert model.batches == [50, 50]
    with expect_error(ValueError, "labels"):
        TabularExplainer(X).explain_instance(X[0], model, labels=("a",))
    assert model.batches == [50, 50]  # a bad labels argument is refused before any model call


@pytest.mark.parametrize("num_samples", [1, 0, -5])
def test_too_few_samples(X, num_samples):
    model = CountingModel(proba)
    with expect_error(ValueError, "num_samples", ">= 2"):
        TabularExplainer(X).explain_instance(X[0], model, num_samples=num_samples)
    assert not model.batches


def test_num_samples_wrong_type(X):
    with expect_error(TypeError, "num_samples", "integer"):
        TabularExplainer(X).explain_instance(X[0], proba, num_samples=10.5)


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"discretizer": "quintile"}, "discretizer"),
        ({"discretizer": 3}, "discretizer"),
        ({"feature_selection": "best"}, "feature_selection"),
        ({"mode": "clustering"}, "mode"),
        ({"kernel_width": -1}, "kernel_width"),
        ({"kernel": "gaussian"}, "kernel"),
        ({"random_state": "seed"}, "random_state"),
        ({"feature_names": ["a", "b"]}, "feature_names"),
        ({"categorical_features": [9]}, "categorical_features"),
        ({"surrogate": "forest"}, "surrogate"),
        ({"discretizer": "entropy"}, "training_labels"),
    ],
)
def test_bad_constructor_arguments(X, kwargs, argument):
    with pytest.raises((LimekitValueError, LimekitTypeError)) as info:
        TabularExplainer(X, **kwargs)
    assert str(info.value).startswith(f"{argument}:"), str(info.value)
    assert info.value.argument == argument


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"distance_metric": "nonsense"}, "distance_metric"),
        ({"num_features": 0}, "num_features"),
        ({"sampling_method": "sobol"}, "sampling_method"),
        ({"batch_size": 0}, "batch_size"),
    ],
)
def test_bad_call_arguments(X, kwargs, argument):
    model = CountingModel(proba)
    with pytest.raises((ValueError, TypeError)) as info:
        TabularExplainer(X).explain_instance(X[0], model, **kwargs)
    assert str(info.value).startswith(f"{argument}:"), str(info.value)
    assert not model.batches


def test_predict_fn_not_callable(X):
    with expect_error(TypeError, "predict_fn", "callable"):
        TabularExplainer(X).explain_instance(X[0], "model")


def test_strings_in_numpy_training_data_point_to_dataframes():
    data = np.array([["a", 1.0], ["b", 2.0]], dtype=object)
    with expect_error(TypeError, "training_data", "DataFrame"):
        TabularExplainer(data)


def test_regression_model_must_return_one_value_per_row(X):
    model = CountingModel(proba)  # two columns
    with expect_error(ValueError, "predict_fn", "one value per row"):
        TabularExplainer(X, mode="regression", batch_size=64).explain_instance(X[0], model)
    assert model.batches == [64]


def test_check_in_interval_names_the_interval_and_keeps_its_ends():
    from limekit._validation import LimekitTypeError, LimekitValueError, check_in_interval

    assert check_in_interval(0, "p", 0, 1) == 0.0 and check_in_interval(1, "p", 0, 1) == 1.0
    assert check_in_interval(0, "fraction", 0, 1, closed=(True, False)) == 0.0
    for value, closed in [
        (1, (True, False)),
        (0.5, (False, False)),
        (float("nan"), (True, True)),
        (1.01, (True, True)),
    ]:
        with pytest.raises(LimekitValueError, match=r"^p: expected a number in"):
            check_in_interval(value, "p", 0.5 if closed == (False, False) else 0, 1, closed=closed)
    with pytest.raises(LimekitTypeError, match=r"^confidence: expected a number in \(0.5, 1\), such as 0.95; got True"):
        check_in_interval(True, "confidence", 0.5, 1, closed=(False, False), hint=", such as 0.95")
    with pytest.raises(LimekitValueError, match=r"^keep: expected a number in \[0, 1\]; got 2$"):
        check_in_interval(2, "keep", 0, 1)
