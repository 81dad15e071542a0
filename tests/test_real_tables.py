"""Issue 24: real tables, with missing numbers and categories unseen in training.

A numeric NaN is a state of its own: the missing bin beside the discretizer's
bins, drawn at its training frequency, named ``"income is missing"`` and
handed back to the model as NaN.  A category the training data never had is
explained as its own value, noted in ``diagnostics['unseen_categories']``.
Infinite values stay an error, and ``explain_many(errors="skip")`` returns the
rows that fail their checks as FailedRows.
"""

import json

import joblib
import numpy as np
import pytest

pd = pytest.importorskip("pandas")

from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder  # noqa: E402

from limekit._validation import LimekitValueError  # noqa: E402
from limekit.cli import main  # noqa: E402
from limekit.core.explanation import Explanation  # noqa: E402
from limekit.frame import FailedRow  # noqa: E402
from limekit.tabular import TabularExplainer  # noqa: E402

NUMERIC = ["income", "debt", "age"]
TEXT = ["purpose", "housing"]
INCOME_MISSING = 0.25  # the planted share of missing incomes


def loan_table(n=1200, seed=0):
    """A loan-risk table whose label is driven mainly by a missing income, and its labels."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "income": rng.lognormal(10.5, 0.4, n).round(-2),
            "debt": rng.gamma(2.0, 4000.0, n).round(),
            "age": rng.integers(21, 70, n).astype(float),
            "purpose": rng.choice(["car", "house", "education", "business"], n),
            "housing": rng.choice(["own", "rent", "mortgage"], n),
        }
    )
    frame.loc[rng.random(n) < INCOME_MISSING, "income"] = np.nan
    frame.loc[rng.random(n) < 0.1, "age"] = np.nan
    risk = np.where(frame["income"].isna(), 0.9, 0.1 + 0.1 * (frame["debt"] > 10000))
    return frame, (rng.random(n) < risk).astype(int)


def loan_pipeline(frame, labels):
    """Imputer (with missing indicators) on the numbers, one-hot (unknown ignored) on the strings, a forest."""
    prepare = ColumnTransformer(
        [
            ("numbers", SimpleImputer(add_indicator=True), NUMERIC),
            ("strings", OneHotEncoder(handle_unknown="ignore"), TEXT),
        ]
    )
    forest = RandomForestClassifier(60, min_samples_leaf=5, random_state=0)
    return Pipeline([("prepare", prepare), ("forest", forest)]).fit(frame, labels)


@pytest.fixture(scope="module")
def loans():
    frame, labels = loan_table()
    return frame, loan_pipeline(frame, labels)


class Recorder:
    """A model that keeps every batch it is given (and answers from column 'income' being missing)."""

    def __init__(self, column="income"):
        self.column, self.batches = column, []

    def __call__(self, rows):
        self.batches.append(rows.copy())
        values = rows[self.column] if hasattr(rows, "columns") else rows[:, self.column]
        p = np.where(pd.isna(values), 0.9, 0.1)
        return np.column_stack([1 - p, p])

    @property
    def seen(self):
        if hasattr(self.batches[0], "columns"):
            return pd.concat(self.batches, ignore_index=True)
        return np.concatenate(self.batches)


def _applicant(frame, **values):
    row = frame.iloc[[0]].copy()
    for column, value in values.items():
        row[column] = value
    return row


# ---------------------------------------------------------------- acceptance: the loan table of the issue


def test_loan_pipeline_with_missing_income_and_an_unseen_purpose(loans):
    frame, pipeline = loans
    explainer = TabularExplainer(frame, class_names=["repaid", "default"], random_state=0)
    applicant = _applicant(frame, income=np.nan, purpose="boat")
    exp = explainer.explain_instance(applicant, pipeline.predict_proba, labels=["default"], num_samples=3000)
    ranked = exp.as_list(label="default")
    assert ranked[0][0] == "income is missing"  # the planted effect ranks first, toward default
    assert ranked[0][1] > 0.3 and all(abs(weight) < 0.5 * ranked[0][1] for _, weight in ranked[1:])
    assert "purpose=boat" in dict(ranked)
    assert exp.diagnostics["unseen_categories"] == {"purpose": "boat"}
    assert exp.predict_proba[1] == pytest.approx(pipeline.predict_proba(applicant)[0, 1], abs=1e-12)


def test_explain_many_skips_the_rows_that_fail_their_checks(loans):
    frame, pipeline = loans
    explainer = TabularExplainer(frame, random_state=0)
    rows = frame.iloc[:5].copy().astype({"debt": object})
    rows.loc[0, "income"] = np.nan
    rows.loc[1, "income"] = np.inf
    rows.loc[2, "debt"] = "a lot"
    rows.loc[3, "purpose"] = "boat"
    results = explainer.explain_many(rows, pipeline.predict_proba, num_samples=500, errors="skip")
    assert [type(result).__name__ for result in results] == [
        "Explanation",
        "FailedRow",
        "FailedRow",
        "Explanation",
        "Explanation",
    ]
    infinite, wrong_type = results[1], results[2]
    assert isinstance(infinite, FailedRow) and infinite.position == 1
    assert "numeric column 'income'" in infinite.error and "infinite" in infinite.error
    assert isinstance(wrong_type, FailedRow) and wrong_type.position == 2
    assert "numbers in column 'debt'" in wrong_type.error
    assert "income is missing" in dict(results[0].as_list())
    assert results[3].diagnostics["unseen_categories"] == {"purpose": "boat"}
    assert "unseen_categories" not in results[4].diagnostics
    alone = explainer.explain_instance(rows.iloc[[0]], pipeline.predict_proba, num_samples=500)
    np.testing.assert_allclose(  # the same explanation as alone: a row's randomness is its own
        [w for _, w in results[0].as_list()], [w for _, w in alone.as_list()], rtol=1e-9, atol=1e-12
    )


def test_a_nan_aware_model_on_arrays():
    frame, labels = loan_table(800, seed=1)
    X = frame[NUMERIC].to_numpy()
    model = HistGradientBoostingClassifier(max_iter=60, random_state=0).fit(X, labels)
    explainer = TabularExplainer(X, feature_names=NUMERIC, random_state=0)
    row = X[0].copy()
    row[0] = np.nan
    exp = explainer.explain_instance(row, model.predict_proba, num_samples=3000)
    assert exp.as_list()[0][0] == "income is missing" and exp.as_list()[0][1] > 0.3


# ---------------------------------------------------------------- the missing bin


def test_the_missing_bin_has_its_training_frequency_and_its_name():
    frame, _ = loan_table()
    explainer = TabularExplainer(frame, random_state=0)
    income = frame.columns.get_loc("income")
    names = explainer.discretizer.names[income]
    assert names[-1] == "income is missing" and len(names) == 5  # four quartile bins, then the missing one
    missing_code = explainer.discretizer.n_bins[list(explainer.discretizer.discretized_features).index(income)]
    values, frequencies = explainer.feature_values[income], explainer.feature_frequencies[income]
    assert values[-1] == missing_code
    assert frequencies[-1] == pytest.approx(frame["income"].isna().mean(), abs=1e-12)
    np.testing.assert_allclose(frequencies[:-1], 0.25 * (1 - frequencies[-1]), atol=0.01)  # quartiles of the rest
    assert "debt is missing" not in explainer.discretizer.names[frame.columns.get_loc("debt")]


@pytest.mark.parametrize("discretizer", ["quartile", "decile", "entropy"])
def test_the_model_gets_nan_at_the_training_frequency(discretizer):
    frame, labels = loan_table()
    model = Recorder()
    explainer = TabularExplainer(frame, training_labels=labels, discretizer=discretizer, random_state=0)
    n = 4000
    exp = explainer.explain_instance(frame.dropna().iloc[0], model, num_samples=n)  # an applicant with an income
    missing = model.seen["income"].isna().to_numpy()[1:n]
    share = frame["income"].isna().mean()
    assert abs(missing.mean() - share) < 4 * np.sqrt(share * (1 - share) / (n - 1))
    assert model.seen["debt"].notna().all()  # no missing debt in training: never drawn
    present = model.seen["income"].dropna()
    assert present.min() >= frame["income"].min() and present.max() <= frame["income"].max()
    top, weight = exp.as_list()[0]  # the instance's income bin: away from it, 0.9 when missing, else 0.1
    assert "income" in top and top != "income is missing" and weight < -0.1


def test_an_instance_missing_a_value_matches_exactly_the_draws_that_are_missing():
    frame, _ = loan_table()
    explainer = TabularExplainer(frame, random_state=0)
    row = explainer._check_instance(_applicant(frame, income=np.nan))
    Z, inverse, _ = explainer.sampler.sample(row, 3000, np.random.default_rng(1))
    income = frame.columns.get_loc("income")
    np.testing.assert_array_equal(Z[:, income] == 1, np.isnan(inverse[:, income]))
    assert Z[0, income] == 1 and 0.2 < Z[1:, income].mean() < 0.3


def _near_share(hits, share):
    """``hits`` (booleans) come up at ``share``, within four binomial standard deviations."""
    hits = np.asarray(hits)
    return abs(hits.mean() - share) < 4 * np.sqrt(share * (1 - share) / hits.size)


def test_a_missing_value_the_training_data_never_had():
    frame, _ = loan_table()
    model = Recorder("debt")
    explainer = TabularExplainer(frame, random_state=0)
    exp = explainer.explain_instance(_applicant(frame, debt=np.nan), model, num_samples=2000)
    missing = model.seen["debt"].isna().to_numpy()
    assert missing[0] and _near_share(missing[1:], 1 / 5)  # one more state beside the four quartile bins
    assert exp.as_list()[0][0] == "debt is missing"  # the model's answer turns on it
    assert exp.as_list()[0][1] == pytest.approx(0.8, abs=0.05)  # 0.9 when missing, 0.1 otherwise


# ---------------------------------------------------------------- what refuses it, naming the option


def test_undiscretised_sampling_refuses_missing_training_values_naming_the_option():
    frame, _ = loan_table()
    with pytest.raises(LimekitValueError, match=r"^discretize_continuous: expected True when numeric columns hold"):
        TabularExplainer(frame, discretize_continuous=False)


def test_undiscretised_sampling_refuses_a_missing_value_in_the_row_naming_the_option():
    frame, _ = loan_table()
    complete = frame.dropna()
    explainer = TabularExplainer(complete, discretize_continuous=False, random_state=0)
    with pytest.raises(LimekitValueError, match=r"^data_row: .*column 'income'.*Use discretize_continuous=True"):
        explainer.explain_instance(_applicant(complete, income=np.nan), Recorder(), num_samples=100)


@pytest.mark.parametrize("surrogate", ["ebm", "gaminet"])
def test_gam_surrogates_refuse_missing_values_naming_the_option(surrogate):
    frame, _ = loan_table()
    explainer = TabularExplainer(frame, random_state=0)
    model = Recorder()
    with pytest.raises(LimekitValueError, match=r"^surrogate: expected a linear surrogate .*column 'income'"):
        explainer.explain_instance(frame.iloc[0], model, num_samples=100, surrogate=surrogate)
    complete = TabularExplainer(frame.dropna(), random_state=0)
    with pytest.raises(LimekitValueError, match=r"^data_row: .*column 'income'.*Use surrogate='ridge'"):
        complete.explain_instance(_applicant(frame, income=np.nan), model, num_samples=100, surrogate=surrogate)
    assert not model.batches


def test_infinite_values_are_errors_naming_the_argument():
    frame, _ = loan_table()
    bad = frame.copy()
    bad.loc[3, "debt"] = np.inf
    with pytest.raises(LimekitValueError, match=r"^training_data: expected finite numbers in numeric column 'debt'"):
        TabularExplainer(bad)
    explainer = TabularExplainer(frame, random_state=0)
    with pytest.raises(LimekitValueError, match=r"^data_row: expected finite numbers in numeric column 'debt'"):
        explainer.explain_instance(_applicant(frame, debt=-np.inf), Recorder(), num_samples=100)
    X = frame[NUMERIC].to_numpy()
    array_explainer = TabularExplainer(X, random_state=0)
    row = X[0].copy()
    row[1] = np.inf
    with pytest.raises(LimekitValueError, match=r"^data_row: expected finite values or NaN \(missing\)"):
        array_explainer.explain_instance(row, Recorder(0), num_samples=100)


# ---------------------------------------------------------------- unseen categories


def test_an_unseen_category_is_drawn_as_one_more_and_the_model_gets_it_as_it_came():
    frame, _ = loan_table()
    model = Recorder()
    explainer = TabularExplainer(frame, random_state=0)
    exp = explainer.explain_instance(_applicant(frame, purpose="boat"), model, num_samples=2000)
    purposes = model.seen["purpose"]
    boats = (purposes == "boat").to_numpy()
    assert boats[0] and _near_share(boats[1:], 1 / 5)  # one more category beside the four of training
    others = purposes[~boats].value_counts(normalize=True)  # the training categories, in their proportions
    training = frame["purpose"].value_counts(normalize=True)
    np.testing.assert_allclose(others[training.index], training, atol=0.04)
    assert "purpose=boat" in dict(exp.as_list())
    assert exp.diagnostics["unseen_categories"] == {"purpose": "boat"}
    record = next(f for f in exp.to_dict()["explanations"]["1"]["features"] if f["name"] == "purpose=boat")
    assert record["value"] == "boat"


def test_the_weight_of_an_unseen_category_is_the_models_change_from_it():
    frame, _ = loan_table()
    complete = frame.dropna()

    def boats_default(rows):
        p = np.where(rows["purpose"] == "boat", 0.8, 0.2)
        return np.column_stack([1 - p, p])

    exp = TabularExplainer(complete, random_state=0).explain_instance(
        _applicant(complete, purpose="boat"), boats_default, num_samples=2000
    )
    assert exp.as_list()[0][0] == "purpose=boat"
    assert exp.as_list()[0][1] == pytest.approx(0.6, abs=0.05)  # 0.8 at the instance, 0.2 everywhere else


@pytest.mark.parametrize(
    "settings, call",
    [
        ({}, {"sampling": "kernel"}),
        ({"discretize_continuous": False, "sample_around_instance": True}, {}),
        ({}, {"surrogate": "ebm"}),  # the GAM sampler keeps the instance's category half the time
    ],
    ids=["kernel", "around-instance", "gam-keep-category"],
)
def test_unseen_categories_in_every_sampling_mode(settings, call):
    frame, _ = loan_table()
    complete = frame.dropna()
    model = Recorder("debt")
    explainer = TabularExplainer(complete, random_state=0, **settings)
    exp = explainer.explain_instance(_applicant(complete, purpose="boat"), model, num_samples=500, **call)
    purposes = model.seen["purpose"]
    boats = (purposes == "boat").to_numpy()
    assert boats[0] and set(purposes[~boats]) == set(complete["purpose"])
    if "surrogate" in call:
        assert _near_share(boats[1:], 0.5 + 0.5 / 5)  # keep_category=0.5, else one category in five
        grid, _ = exp.shape_function("purpose")
        assert "boat" in list(grid)  # the shape function names it
    elif "sampling" in call:
        assert 0.05 < boats.mean() < 0.95  # the kernel's law reweights lime's: drawn, not left to the instance
    else:
        assert _near_share(boats[1:], 1 / 5)
    assert exp.diagnostics["unseen_categories"] == {"purpose": "boat"}


def test_shared_samples_refuse_a_row_with_an_unseen_category_naming_the_option():
    frame, _ = loan_table()
    model = Recorder()
    explainer = TabularExplainer(frame, random_state=0)
    rows = pd.concat([frame.iloc[[1]], _applicant(frame, housing="boat house")])
    with pytest.raises(LimekitValueError, match=r"^share_samples: expected False .* housing='boat house'"):
        explainer.explain_many(rows, model, num_samples=500, share_samples=True)
    assert not model.batches
    results = explainer.explain_many(rows, model, num_samples=500, share_samples=True, errors="skip")
    assert not isinstance(results[0], FailedRow) and isinstance(results[1], FailedRow)


def test_an_unseen_category_of_a_category_dtype_column():
    frame, _ = loan_table()
    frame["housing"] = frame["housing"].astype("category")
    model = Recorder()
    explainer = TabularExplainer(frame, random_state=0)
    applicant = _applicant(frame.astype({"housing": object}), housing="boat house")
    exp = explainer.explain_instance(applicant, model, num_samples=300)
    first = model.batches[0]["housing"]
    assert isinstance(first.dtype, pd.CategoricalDtype) and first.iloc[0] == "boat house"
    assert "housing=boat house" in dict(exp.as_list())


# ---------------------------------------------------------------- records, the command line, lime's API


def test_json_round_trip_of_missing_values_and_unseen_categories(loans):
    frame, pipeline = loans
    explainer = TabularExplainer(frame, random_state=0)
    exp = explainer.explain_instance(
        _applicant(frame, income=np.nan, purpose="boat"), pipeline.predict_proba, num_samples=1000
    )
    text = exp.to_json()
    json.loads(text)  # plain JSON: no NaN token
    back = Explanation.from_json(text)
    assert [name for name, _ in back.as_list()] == [name for name, _ in exp.as_list()]
    np.testing.assert_allclose([w for _, w in back.as_list()], [w for _, w in exp.as_list()], rtol=1e-12)
    assert back.diagnostics["unseen_categories"] == {"purpose": "boat"}
    income = next(f for f in back.to_dict()["explanations"]["1"]["features"] if f["name"] == "income is missing")
    assert income["value"] is None


def test_the_command_line_reads_empty_cells_as_missing_values(loans, tmp_path):
    frame, pipeline = loans
    table = frame.assign(label=pipeline.predict(frame)).iloc[:400]
    table.to_csv(tmp_path / "loans.csv", index=False)
    assert ",," in (tmp_path / "loans.csv").read_text()  # empty cells
    joblib.dump(pipeline, tmp_path / "model.joblib")
    row = int(np.flatnonzero(table["income"].isna().to_numpy())[0])
    code = main(
        [
            "explain",
            str(tmp_path / "model.joblib"),
            str(tmp_path / "loans.csv"),
            "--row",
            str(row),
            "--target",
            "label",
            "--num-samples",
            "1500",
            "--stability",
            "0",
            "--quiet",
            "--json",
            str(tmp_path / "out.json"),
        ]
    )
    assert code == 0
    record = json.loads((tmp_path / "out.json").read_text())
    (label,) = record["explanations"]
    names = [feature["name"] for feature in record["explanations"][label]["features"]]
    assert names[0] == "income is missing"


def test_lime_api_unchanged_without_missing_values():
    lime_discretize = pytest.importorskip("lime.discretize")
    from limekit.compat import lime_tabular

    frame, _ = loan_table()
    X = frame[NUMERIC].dropna().to_numpy()
    names = list(NUMERIC)
    ours = lime_tabular.LimeTabularExplainer(X, feature_names=names, random_state=0)
    theirs = lime_discretize.QuartileDiscretizer(X, [], names, random_state=0)
    assert ours.discretizer.names == theirs.names  # no missing bin where training has no NaN
    for feature in range(3):
        np.testing.assert_allclose(ours.discretizer.means[feature], theirs.means[feature], rtol=1e-12)
        np.testing.assert_allclose(ours.discretizer.stds[feature], theirs.stds[feature], rtol=1e-12)
    np.testing.assert_array_equal(ours.discretizer.discretize(X), theirs.discretize(X))
