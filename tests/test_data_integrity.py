"""Issue 13: missing and non-finite values in pandas input never give a silently wrong explanation.

A numeric infinity in a DataFrame (training data, a Series or one-row
instance, many rows) is an error naming the argument and the column, raised
before the model is called; a numeric NaN is a missing value, explained as a
state of its own (issue 24, tests/test_real_tables.py).  A missing value in a categorical column is a
category of its own, shown as "missing", sampled with its training frequency
and handed back to the model as the missing value it was trained on.
"""

import numpy as np
import pytest

pd = pytest.importorskip("pandas")

from limekit._validation import LimekitTypeError, LimekitValueError  # noqa: E402
from limekit.tabular import TabularExplainer  # noqa: E402


def _frame(n=200, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.choice(["x", "y", "z"], n)})


class Recorder:
    """predict_proba on column 'a' that keeps every batch it is given."""

    def __init__(self):
        self.batches = []

    def __call__(self, frame):
        self.batches.append(frame.copy())
        p = 1 / (1 + np.exp(-np.asarray(frame["a"], dtype=float)))
        return np.column_stack([1 - p, p])

    @property
    def seen(self):
        return pd.concat(self.batches, ignore_index=True)


def _never_called(frame):
    raise AssertionError("the model must not be called on bad input")


# ---------------------------------------------------------------- numeric inf is an error (NaN: missing)


@pytest.mark.parametrize("bad, words", [(np.inf, "1 infinite value(s)"), (-np.inf, "1 infinite value(s)")])
def test_training_frame_with_a_non_finite_number_is_refused(bad, words):
    frame = _frame()
    frame.loc[7, "b"] = bad
    with pytest.raises(LimekitValueError) as info:
        TabularExplainer(frame, random_state=0)
    message = str(info.value)
    assert message.startswith("training_data: expected finite numbers in numeric column 'b'")
    assert words in message and "row 7" in message
    assert info.value.argument == "training_data"


def test_training_frame_nullable_integer_with_pd_na_is_a_missing_value():
    frame = _frame()
    frame["n"] = pd.array(np.arange(len(frame)), dtype="Int64")
    frame.loc[3, "n"] = pd.NA
    model = Recorder()
    exp = TabularExplainer(frame, random_state=0).explain_instance(frame.iloc[3], model, num_samples=2000)
    seen = model.seen["n"]  # draws within a bin are not whole: floats, NaN where missing
    assert pd.api.types.is_numeric_dtype(seen)
    assert seen.isna().iloc[0] and 0 < seen.isna().mean() < 0.02  # the instance's NA, and about 1 draw in 200
    assert "n is missing" in dict(exp.as_list(label=1))  # 4 features: all listed


def test_only_infinite_values_are_counted():
    frame = _frame()
    frame.loc[[1, 2], "a"] = np.nan
    frame.loc[5, "a"] = np.inf
    with pytest.raises(
        LimekitValueError,
        match=r"'a'; got 1 infinite value\(s\), the first in row 5",
    ):
        TabularExplainer(frame)


@pytest.mark.parametrize("as_frame", [False, True], ids=["series", "one-row frame"])
@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_instance_with_a_non_finite_number_is_refused_before_the_model_runs(as_frame, bad):
    explainer = TabularExplainer(_frame(), random_state=0)
    row = _frame().iloc[[4]].astype(object) if as_frame else _frame().iloc[4].astype(object)
    if as_frame:
        row.iloc[0, 1] = bad
    else:
        row["b"] = bad
    with pytest.raises(LimekitValueError) as info:
        explainer.explain_instance(row, _never_called, num_samples=100)
    assert str(info.value).startswith("data_row: expected finite numbers in numeric column 'b'")


def test_many_rows_with_a_non_finite_number_are_refused_naming_the_column():
    explainer = TabularExplainer(_frame(), random_state=0)
    rows = _frame(10, seed=1)
    rows.loc[6, "a"] = np.inf
    with pytest.raises(
        LimekitValueError,
        match=r"^data_rows: expected finite numbers in numeric column 'a'; "
        r"got 1 infinite value\(s\), the first in row 6",
    ):
        explainer.explain_instances(rows, _never_called, num_samples=100)


def test_text_in_a_numeric_column_is_still_a_type_error():
    explainer = TabularExplainer(_frame(), random_state=0)
    row = _frame().iloc[0].astype(object)
    row["a"] = "twelve"
    with pytest.raises(LimekitTypeError, match="data_row: expected numbers in column 'a'; got 'twelve' \\(str\\)"):
        explainer.explain_instance(row, _never_called)


@pytest.mark.parametrize(
    "column, dtype",
    [
        (lambda n: pd.date_range("2020-01-01", periods=n), "datetime64"),
        (lambda n: pd.to_timedelta(np.arange(n), unit="D"), "timedelta64"),
        (lambda n: np.arange(n) * 1j, "complex128"),
    ],
)
def test_columns_without_numbers_or_categories_are_refused_at_construction(column, dtype):
    """A date, a duration or a complex number is no number limekit can sample nor a category: the constructor
    names the column and its dtype (before, dates were read as nanoseconds and the explained row then failed)."""
    frame = _frame()
    frame["when"] = column(len(frame))
    with pytest.raises(LimekitTypeError, match=f"training_data: expected .*; got column 'when' of dtype {dtype}"):
        TabularExplainer(frame, random_state=0)


def test_declared_categorical_numeric_column_with_nan_is_refused():
    frame = _frame()
    frame["k"] = np.arange(len(frame)) % 3.0
    frame.loc[9, "k"] = np.nan
    with pytest.raises(
        LimekitValueError, match=r"categorical_features: expected integer codes in column 'k'; got missing values"
    ):
        TabularExplainer(frame, categorical_features=["k"])


# ---------------------------------------------------------------- categorical missing is a category


def _with_missing(kind, n=400, seed=0):
    """A frame whose column 'c' has about 10% missing values, in the given dtype."""
    frame = _frame(n, seed)
    absent = np.arange(n) % 10 == 3
    if kind == "object-none":
        column = frame["c"].astype(object)
        column[absent] = None
    elif kind == "object-nan":
        column = frame["c"].astype(object)
        column[absent] = np.nan
    elif kind == "string":
        column = frame["c"].astype("string")
        column[absent] = pd.NA
    elif kind == "category":
        column = frame["c"].astype("category")
        column[absent] = np.nan
    elif kind == "boolean":
        column = pd.array(frame["c"].to_numpy() == "x", dtype="boolean")
        column[absent] = pd.NA
    frame["c"] = column
    return frame


@pytest.mark.parametrize("kind", ["object-none", "object-nan", "string", "category", "boolean"])
def test_missing_category_is_explained_and_given_back_to_the_model_as_trained(kind):
    frame = _with_missing(kind)
    training_marker = frame["c"][frame["c"].isna()].iloc[0]
    explainer = TabularExplainer(frame, random_state=0)
    model = Recorder()
    exp = explainer.explain_instance(frame.iloc[3], model, num_features=3, num_samples=3000)
    names = [name for name, _ in exp.as_list()]
    assert "c=missing" in names
    seen = model.seen
    # the model gets the training dtype and the training frame's own missing marker
    assert seen["c"].dtype == frame["c"].dtype
    assert seen["c"].isna().iloc[0]
    got = seen["c"][seen["c"].isna()]
    if kind == "object-none":
        assert all(value is None for value in got)
    elif kind == "object-nan":
        assert all(isinstance(value, float) and np.isnan(value) for value in got)
    else:
        assert all(value is training_marker or pd.isna(value) for value in got)
    # sampled with its training frequency (10%)
    assert abs(seen["c"].isna().mean() - 0.1) < 0.025
    # the other values are the training categories
    assert set(seen["c"].dropna().astype(str)) <= set(frame["c"].dropna().astype(str))
    record = next(r for r in exp.to_dict()["explanations"]["1"]["features"] if r["feature"] == "c")
    assert record["value"] == "missing"


def test_missing_category_in_many_rows():
    frame = _with_missing("object-none")
    model = Recorder()
    many = TabularExplainer(frame, random_state=0).explain_instances(
        frame.iloc[[2, 3]], model, num_features=3, num_samples=500
    )
    assert "c=missing" not in [name for name, _ in many[0].as_list()]
    assert "c=missing" in [name for name, _ in many[1].as_list()]
    seen = model.seen["c"]
    assert all(value is None for value in seen[seen.isna()]) and 0.05 < seen.isna().mean() < 0.15


def test_a_row_that_is_not_missing_still_samples_missing_values():
    frame = _with_missing("category")
    model = Recorder()
    exp = TabularExplainer(frame, random_state=0).explain_instance(frame.iloc[0], model, num_samples=2000)
    assert not any(name == "c=missing" for name, _ in exp.as_list())
    assert 0.05 < model.seen["c"].isna().mean() < 0.15


def test_missing_category_unseen_in_training_is_refused():
    frame = _frame()
    explainer = TabularExplainer(frame, random_state=0)
    row = frame.iloc[0].copy()
    row["c"] = None
    with pytest.raises(
        LimekitValueError,
        match=r"data_row: expected values of column 'c' seen in training "
        r"\(the training data has no missing values there\)",
    ):
        explainer.explain_instance(row, _never_called)


def test_a_real_category_called_missing_is_not_confused_with_a_missing_value():
    frame = _with_missing("object-none")
    frame.loc[0, "c"] = "missing"
    explainer = TabularExplainer(frame, random_state=0)
    assert explainer.categorical_names[2] == ["missing", "x", "y", "z", "<missing>"]
    names = [name for name, _ in explainer.explain_instance(frame.iloc[3], Recorder(), num_samples=300).as_list()]
    assert "c=<missing>" in names


def test_gam_surrogate_grid_names_the_missing_category():
    pytest.importorskip("interpret")
    frame = _with_missing("category", n=300)
    exp = TabularExplainer(frame, random_state=0, surrogate="ebm").explain_instance(
        frame.iloc[3], Recorder(), num_samples=300, fidelity_samples=0
    )
    grid, _ = exp.shape_function("c")
    assert "missing" in [str(g) for g in grid]


# ---------------------------------------------------------------- the Adult data with its missing values


@pytest.fixture(scope="module")
def adult_with_missing():
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from limekit.datasets import ADULT_CATEGORICAL, load_adult

    X, y = load_adult("train")  # missing values kept (drop_missing=False)
    X, y = X.iloc[:2500].reset_index(drop=True), y[:2500]
    assert X["workclass"].isna().any()
    model = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ADULT_CATEGORICAL), remainder=StandardScaler()
        ),
        LogisticRegression(max_iter=300),
    ).fit(X, y)
    return X, model


def test_adult_row_with_missing_workclass_is_explained_end_to_end(adult_with_missing):
    X, model = adult_with_missing
    batches = []

    def predict(frame):
        batches.append(frame)
        return model.predict_proba(frame)

    row = int(np.flatnonzero(X["workclass"].isna().to_numpy())[0])
    explainer = TabularExplainer(X, class_names=["<=50K", ">50K"], random_state=0)
    exp = explainer.explain_instance(X.iloc[row], predict, num_features=14, num_samples=2000)
    names = [name for name, _ in exp.as_list()]
    assert "workclass=missing" in names
    np.testing.assert_allclose(exp.predict_proba, model.predict_proba(X.iloc[[row]])[0])
    seen = pd.concat(batches, ignore_index=True)
    for column in ("workclass", "occupation", "native_country"):
        assert seen[column].dtype == X[column].dtype  # category dtype, NaN for missing
    assert abs(seen["workclass"].isna().mean() - X["workclass"].isna().mean()) < 0.02
    assert "workclass=missing" in exp.as_html()
