"""Issue 22: every explanation limekit makes round-trips through JSON, at any magnitude.

``Explanation.from_json(exp.to_json())`` succeeds and gives back the same
record (``to_dict`` equal, floats bit for bit) for regression models whose
outputs span float64's range (1e-300 .. 1e300, both signs, constant outputs,
subnormals).  Both sides run the one check
(:func:`limekit.core.records.validate_explanation_record`): any finite
float64 is valid; what float64 cannot hold is refused on both sides, and a
fit that overflows float64 (outputs near 1e307) is refused when explaining,
naming the field, instead of giving an explanation that cannot be saved.
"""

import copy
import json
import math
import sys
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from limekit import Explanation, ImageExplainer, TabularExplainer, TextExplainer
from limekit._validation import LimekitValueError
from limekit.core.records import MAX_MAGNITUDE, validate_explanation_record
from limekit.viz.plots import bar_chart, global_importance_bars, shape_functions, waterfall

TINY = 5e-324  # the smallest subnormal float64
X_TRAIN = np.random.default_rng(1).normal(size=(150, 3))
COEF = np.array([2.0, -1.0, 0.5])


def _same(a, b, path="record"):
    """``a == b`` for plain JSON records, floats equal (or within rtol 1e-12), with the path of a difference."""
    if isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, (int, float)) and isinstance(b, (int, float)), f"{path}: {a!r} != {b!r}"
        assert a == b or math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0), f"{path}: {a!r} != {b!r}"
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), f"{path}: keys {list(a)} != {list(b)}"
        for key in a:
            _same(a[key], b[key], f"{path}[{key!r}]")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), f"{path}: {a!r} != {b!r}"
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{path}[{i}]")
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def _numbers(value):
    """Every number in a record."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _numbers(item)
    elif isinstance(value, list):
        for item in value:
            yield from _numbers(item)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield value


def _round_trip(exp):
    """``from_json(to_json())`` gives back the same record and the same text; returns the record."""
    record = exp.to_dict()
    text = exp.to_json()
    assert "NaN" not in text and "Infinity" not in text
    back = Explanation.from_json(text)
    _same(back.to_dict(), record)
    assert back.to_json() == text
    assert json.loads(text) == record  # JSON floats read back exactly
    assert all(math.isfinite(v) for v in _numbers(record))
    for label in exp.local_exp:
        assert back.as_list(label=label) == exp.as_list(label=label)
    assert back.intercept == {k: float(v) for k, v in exp.intercept.items()}
    return record


def _explain_tabular(predict, **options):
    explainer = TabularExplainer(X_TRAIN, mode="regression", random_state=0, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # sums of squares of 1e300 overflow in diagnostics
        return explainer.explain_instance(X_TRAIN[0], predict, num_features=3, num_samples=100)


# ---------------------------------------------------------------- the property: extreme outputs, tabular


def test_extreme_regression_outputs_round_trip():
    """A linear model (or a constant) times a scale from 1e-300 to 1e300, both signs: every case is explained
    and round-trips, holding numbers of the model's magnitude."""
    made = []

    @settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        exponent=st.floats(-300, 300),
        negative=st.booleans(),
        constant=st.booleans(),
        diagnostics=st.booleans(),
    )
    def check(exponent, negative, constant, diagnostics):
        scale = (-1.0 if negative else 1.0) * 10.0**exponent
        if constant:

            def predict(rows):
                return np.full(len(rows), scale)

        else:

            def predict(rows):
                return (rows @ COEF) * scale

        options = {"stability_samples": 3, "fidelity_samples": 50} if diagnostics else {}
        exp = _explain_tabular(predict, **options)  # produced: nothing raises at these magnitudes
        record = _round_trip(exp)
        made.append(scale)

        # the record holds numbers of the model's magnitude, not a rescaled or clipped copy
        # the model on one row against its row in a batch: BLAS may sum in another order (1e-12)
        assert record["predicted_value"] == pytest.approx(float(predict(X_TRAIN[:1])[0]), rel=1e-12)
        weights = [abs(f["weight"]) for f in record["explanations"]["1"]["features"]]
        if constant:
            assert math.isclose(record["explanations"]["1"]["intercept"], scale, rel_tol=1e-9)
            assert max(weights) <= 1e-9 * abs(scale)
        else:
            assert 1e-3 * abs(scale) < max(weights) < 1e3 * abs(scale)

    check()
    # the cases were explained (a property that passes because every case raises proves nothing)
    assert len(made) >= 20
    assert max(abs(s) for s in made) > 1e100 and min(abs(s) for s in made) < 1e-100


@pytest.mark.parametrize(
    "scale, constant",
    [
        (1e300, False),
        (-1e300, False),
        (1e305, False),
        (1e-300, False),
        (1e-310, False),  # subnormal outputs
        (TINY, True),
        (-1e300, True),
        (0.0, True),
        (1e305, True),
    ],
)
def test_fixed_extreme_tabular_cases_round_trip(scale, constant):
    def predict(rows):
        return np.full(len(rows), scale) if constant else (rows @ COEF) * scale

    exp = _explain_tabular(predict, stability_samples=3, fidelity_samples=50)
    record = _round_trip(exp)
    assert record["predicted_value"] == pytest.approx(float(predict(X_TRAIN[:1])[0]), rel=1e-12)


def test_additive_surrogate_at_extreme_outputs_round_trips():
    """Shape functions and global importances at 1e300 (EBM surrogate)."""
    pytest.importorskip("interpret")
    exp = _explain_tabular(lambda rows: (2 * rows[:, 0] + rows[:, 1] ** 2) * 1e300, surrogate="ebm", fidelity_samples=0)
    record = _round_trip(exp)
    assert record["explanations"]["1"]["shape_functions"] and record["explanations"]["1"]["global_importance"]


@pytest.mark.parametrize("scale", [1e300, -1e-300])
def test_text_regression_at_extreme_outputs_round_trips(scale):
    def predict(texts):
        return np.array([t.count("great") + 0.5 * len(t) for t in texts]) * scale

    exp = TextExplainer(mode="regression", random_state=0).explain_instance(
        "a great film with great music", predict, num_samples=100, num_features=3
    )
    record = _round_trip(exp)
    expected = abs(float(predict(["a great film with great music"])[0]))
    assert abs(record["predicted_value"]) == pytest.approx(expected, rel=1e-12)
    assert max(abs(f["weight"]) for f in record["explanations"]["1"]["features"]) > 1e-3 * abs(scale)


@pytest.mark.parametrize("scale", [1e300, -1e-300])
def test_image_regression_at_extreme_outputs_round_trips(scale):
    image = np.zeros((24, 24, 3), dtype=np.uint8)
    image[4:12, 4:12] = 220
    grid = np.arange(24 * 24).reshape(24, 24)
    segments = (grid // 24 // 8) * 3 + (grid % 24) // 8

    def predict(images):
        return images[:, 4:12, 4:12].mean(axis=(1, 2, 3)) / 255 * scale

    exp = ImageExplainer(random_state=0, mode="regression").explain_instance(
        image, predict, num_samples=60, segmentation_fn=lambda img: segments, progress_bar=False
    )
    record = _round_trip(exp)
    assert max(abs(f["weight"]) for f in record["explanations"]["1"]["features"]) > 1e-3 * abs(scale)


# ---------------------------------------------------------------- beyond float64: refused when explaining


@pytest.mark.parametrize("scale, constant", [(1e307, False), (-1e307, False), (sys.float_info.max, True)])
def test_a_fit_that_overflows_is_refused_when_explaining_naming_the_field(scale, constant):
    """Outputs near 1e307 overflow the weighted fit (as scikit-learn's Ridge refuses them): a clear error
    at explanation time, not an explanation with a NaN intercept that to_json cannot write."""
    with pytest.raises(LimekitValueError) as info:
        _explain_tabular(lambda rows: np.full(len(rows), scale) if constant else (rows @ COEF) * scale)
    message = str(info.value)
    assert message.startswith("explanations['0'].")
    assert "expected a finite number; got nan" in message
    assert "overflowed float64" in message and "divide predict_fn's outputs" in message


# ---------------------------------------------------------------- one limit, both sides


@pytest.fixture(scope="module")
def record():
    exp = _explain_tabular(lambda rows: rows @ COEF)
    return json.loads(exp.to_json())


@pytest.mark.parametrize("big", [MAX_MAGNITUDE, -MAX_MAGNITUDE, 1e300, TINY, -TINY])
def test_any_finite_float64_is_written_read_and_drawn(record, big):
    data = copy.deepcopy(record)
    for label_record in data["explanations"].values():
        label_record["intercept"] = big
        label_record["local_pred"] = big
        label_record["local_decision"] = big
        label_record["model_prediction"] = big  # derived on reading: the predicted_value set below
        label_record["local_gap"] = 0.0  # local_pred - model_prediction
        for feature in label_record["features"]:
            feature["weight"] = big
        for item in label_record.get("global_importance", []):
            item["importance"] = abs(big)
    data["predicted_value"] = data["min_value"] = data["max_value"] = big
    assert validate_explanation_record(json.dumps(data, allow_nan=False)) == data
    exp = Explanation.from_json(json.dumps(data, allow_nan=False))
    _same(exp.to_dict(), data)
    assert Explanation.from_json(exp.to_json()).to_json() == exp.to_json()
    try:  # the views draw it (sums beyond float64 included): scaled axes, no overflow
        assert exp.as_html().startswith("<!DOCTYPE html>")
        bar_chart(exp)
        fig = waterfall(exp)
        assert "inf" not in fig.axes[0].get_xlabel()
        global_importance_bars(exp.global_importance())
    finally:
        plt.close("all")


def test_shape_functions_at_the_float64_limit_are_drawn():
    pytest.importorskip("interpret")
    exp = _explain_tabular(lambda rows: 2 * rows[:, 0] + rows[:, 1] ** 2, surrogate="ebm", fidelity_samples=0)
    data = exp.to_dict()
    for item in data["explanations"]["1"]["shape_functions"]:
        item["values"] = [MAX_MAGNITUDE * (-1) ** i for i in range(len(item["values"]))]
        if all(isinstance(g, float) for g in item["grid"]):
            item["grid"] = [MAX_MAGNITUDE * (i / len(item["grid"]) - 0.5) for i in range(len(item["grid"]))]
    back = Explanation.from_json(json.dumps(data, allow_nan=False))
    try:
        shape_functions(back, label=1)
    finally:
        plt.close("all")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_what_json_cannot_hold_is_refused_by_both_sides_alike(record, value):
    """to_json (writing) and from_dict (reading) run the same check and give the same message."""
    exp = Explanation.from_dict(copy.deepcopy(record))
    exp.intercept[1] = value
    with pytest.raises(LimekitValueError) as writing:
        exp.to_json()
    data = copy.deepcopy(record)
    data["explanations"]["1"]["intercept"] = value
    with pytest.raises(LimekitValueError) as reading:
        Explanation.from_dict(data)
    assert str(writing.value) == str(reading.value)
    assert str(reading.value).startswith(f"explanations['1'].intercept: expected a finite number; got {value!r}")


@pytest.mark.parametrize(
    "value, words",
    [
        (int(MAX_MAGNITUDE) + 1, "expected a number of magnitude at most 1.7976931348623157e+308 (a float64)"),
        (-(10**400), "expected a finite number; got -1000"),
    ],
    ids=["max-plus-one", "minus-1e400"],
)
def test_numbers_beyond_float64_are_refused_when_read(record, value, words):
    data = copy.deepcopy(record)
    data["explanations"]["1"]["intercept"] = value
    with pytest.raises(LimekitValueError) as info:
        Explanation.from_dict(data)
    assert str(info.value).startswith(f"explanations['1'].intercept: {words}"), str(info.value)


def test_text_beyond_float64_is_refused(record):
    text = json.dumps(record).replace('"intercept": ', '"intercept": 1e309, "was": ', 1)
    with pytest.raises(LimekitValueError, match=r"^explanations\['\d'\]\.intercept: expected a finite number; got inf"):
        Explanation.from_json(text)


def test_a_nan_weight_is_named_as_nan(record):
    exp = Explanation.from_dict(copy.deepcopy(record))
    feature, _ = exp.local_exp[1][0]
    exp.local_exp[1][0] = (feature, float("nan"))
    with pytest.raises(LimekitValueError, match=r"^explanations\['1'\]\.features\[0\]\.weight: .* got nan \(float\)"):
        exp.to_json()


def test_overflowed_diagnostics_are_written_as_null():
    """A diagnostic that overflows float64 (here stability's weight_std at 1e300) has no JSON number: null."""
    exp = _explain_tabular(lambda rows: (rows @ COEF) * 1e300, stability_samples=3)
    exp.diagnostics["extra"] = {"overflowed": float("inf"), "kept": 1e300}
    record = _round_trip(exp)
    assert record["diagnostics"]["extra"] == {"overflowed": None, "kept": 1e300}


def test_a_constant_column_rounded_past_one_saves():
    """A 0/1 column whose weighted mean rounds just above 1 has importance 0, not -1e-46 (which to_json refuses)."""
    X = np.array([[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1]], dtype=float)

    def proba(rows):
        p = 1 / (1 + np.exp(-np.asarray(rows, dtype=float).sum(axis=1)))
        return np.column_stack([1 - p, p])

    for seed in range(20):
        exp = TabularExplainer(X, random_state=seed).explain_instance(X[0], proba, num_samples=12)
        importances = [v for _, v in exp.global_importance(1, names=False)]
        assert min(importances) >= 0
        Explanation.from_json(exp.to_json())
