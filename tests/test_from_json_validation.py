"""Issue 13: a stored explanation is validated before it is trusted.

``limekit.core.records.validate_explanation_record`` checks what
``Explanation.to_dict`` writes: every bad field raises a limekit error naming
its path, and whatever it accepts renders (HTML and plots).

The tests marked ``WIRING`` call ``Explanation.from_json`` / ``from_dict`` /
``to_json`` and pass once ``limekit/core/explanation.py`` calls the validator
(``from_dict``, ``from_json``) and writes strict JSON (``to_json`` with
``allow_nan=False``).
"""

import copy
import json
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from limekit import Explanation, ImageExplainer, TabularExplainer, TextExplainer
from limekit._validation import LimekitError, LimekitTypeError, LimekitValueError
from limekit.core.records import MAX_DEPTH, validate_explanation_record
from limekit.viz.plots import global_importance_bars, shape_functions

LIMEKIT_ERRORS = (LimekitValueError, LimekitTypeError)


# ---------------------------------------------------------------- real records of every kind


def _tabular(**options):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    X[:, 2] = rng.integers(0, 2, 200)

    def proba(X):
        p = 1 / (1 + np.exp(-(2 * X[:, 0] - X[:, 1])))
        return np.column_stack([1 - p, p])

    explainer = TabularExplainer(
        X,
        feature_names=["a", "b", "flag"],
        categorical_features=[2],
        categorical_names={2: ["off", "on"]},
        class_names=["no", "yes"],
        random_state=0,
        **options,
    )
    return explainer.explain_instance(X[0], proba, num_features=3, num_samples=300)


def _regression():
    X = np.random.default_rng(1).normal(size=(150, 3))
    return TabularExplainer(X, mode="regression", random_state=0).explain_instance(
        X[0], lambda rows: rows[:, 0] * 2.0, num_features=2, num_samples=200
    )


def _text():
    def proba(texts):
        p = np.array([0.9 if "great" in t else 0.2 for t in texts])
        return np.column_stack([1 - p, p])

    return TextExplainer(class_names=["bad", "good"], random_state=0).explain_instance(
        "a great film with great music", proba, num_features=4, num_samples=200
    )


def _image():
    image = np.zeros((24, 24, 3), dtype=np.uint8)
    image[4:12, 4:12] = 220
    grid = np.arange(24 * 24).reshape(24, 24)
    segments = (grid // 24 // 8) * 3 + (grid % 24) // 8

    def proba(images):
        p = images[:, 4:12, 4:12].mean(axis=(1, 2, 3)) / 255
        return np.column_stack([1 - p, p])

    return ImageExplainer(random_state=0).explain_instance(
        image, proba, labels=(1,), top_labels=None, num_samples=100, segmentation_fn=lambda img: segments
    )


MAKERS = {
    "tabular": lambda: _tabular(stability_samples=5),
    "tabular-ebm": lambda: _tabular(surrogate="ebm", fidelity_samples=0),
    "regression": _regression,
    "text": _text,
    "image": _image,
}


@pytest.fixture(scope="module")
def records():
    made = {}
    for name, make in MAKERS.items():
        if name == "tabular-ebm":
            pytest.importorskip("interpret")
        made[name] = json.loads(json.dumps(make().to_dict()))
    return made


@pytest.fixture
def record(records):
    return copy.deepcopy(records["tabular"])


def _render(data):
    """Everything a reader does with a stored explanation: HTML, bars, waterfall, shapes, importance."""
    exp = Explanation.from_dict(data)
    assert exp.as_html().startswith("<!DOCTYPE html>")
    labels = list(exp.local_exp) if exp.mode == "classification" else [1]
    try:
        for label in labels:
            exp.as_pyplot_figure(label=label)
            exp.as_waterfall_figure(label=label)
            if exp.shape_functions.get(label if exp.mode == "classification" else 1):
                shape_functions(exp, label=label)
            if label in exp.importance:
                global_importance_bars(exp.global_importance(label))
        json.dumps(exp.to_dict(), allow_nan=False)
    finally:
        plt.close("all")
    return exp


@pytest.mark.parametrize("kind", list(MAKERS))
def test_what_to_dict_writes_is_accepted_and_renders(records, kind):
    data = copy.deepcopy(records[kind])
    assert validate_explanation_record(data) is data
    assert validate_explanation_record(json.dumps(data)) == data
    assert validate_explanation_record(json.dumps(data).encode()) == data
    _render(data)


# ---------------------------------------------------------------- every bad field names its path


def _set(path, value):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _delete(path):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


FEATURE = ("explanations", "1", "features", 0)

CASES = [
    # (change, error type, message start)
    (
        _set(FEATURE + ("weight",), "x"),
        LimekitTypeError,
        "explanations['1'].features[0].weight: expected a finite number; got 'x' (str)",
    ),
    (
        _set(FEATURE + ("weight",), float("inf")),
        LimekitValueError,
        "explanations['1'].features[0].weight: expected a finite number; got inf (float)",
    ),
    (
        _set(FEATURE + ("weight",), float("nan")),
        LimekitValueError,
        "explanations['1'].features[0].weight: expected a finite number",
    ),
    (_set(FEATURE + ("weight",), True), LimekitTypeError, "explanations['1'].features[0].weight: expected a finite"),
    (_set(FEATURE + ("weight",), 10**400), LimekitValueError, "explanations['1'].features[0].weight: expected a"),
    (  # issue 22: any finite float64 is valid (limekit makes weights near 1e300); beyond it, refused
        _set(FEATURE + ("weight",), int(sys.float_info.max) + 1),
        LimekitValueError,
        "explanations['1'].features[0].weight: expected a number of magnitude at most 1.7976931348623157e+308",
    ),
    (
        _set(("explanations", "1", "intercept"), -(10**309)),
        LimekitValueError,
        "explanations['1'].intercept: expected a finite number; got -1000",
    ),
    (
        _delete(FEATURE + ("weight",)),
        LimekitValueError,
        "explanations['1'].features[0].weight: expected a finite number; got nothing (no 'weight' key",
    ),
    (
        _delete(FEATURE + ("id",)),
        LimekitValueError,
        "explanations['1'].features[0].id: expected an integer; got nothing",
    ),
    (_set(FEATURE + ("id",), -1), LimekitValueError, "explanations['1'].features[0].id: expected an integer in [0"),
    (_set(FEATURE + ("id",), "0"), LimekitTypeError, "explanations['1'].features[0].id: expected an integer"),
    (_set(FEATURE + ("id",), 1.5), LimekitTypeError, "explanations['1'].features[0].id: expected an integer"),
    (
        _set(FEATURE + ("name",), None),
        LimekitTypeError,
        "explanations['1'].features[0].name: expected a string; got None",
    ),
    (
        _set(FEATURE + ("value",), [1, 2]),
        LimekitTypeError,
        "explanations['1'].features[0].value: expected a string, a finite number",
    ),
    (_set(FEATURE + ("value",), float("-inf")), LimekitValueError, "explanations['1'].features[0].value:"),
    (_set(FEATURE, "feature"), LimekitTypeError, "explanations['1'].features[0]: expected a dict"),
    (
        _set(("explanations", "1", "features"), {"0": {}}),
        LimekitTypeError,
        "explanations['1'].features: expected a list",
    ),
    (_set(("explanations", "1", "features", 1, "id"), None), LimekitTypeError, "explanations['1'].features[1].id"),
    (_delete(("explanations", "1", "score")), LimekitValueError, "explanations['1'].score: expected a finite number"),
    (_set(("explanations", "1", "score"), None), LimekitTypeError, "explanations['1'].score: expected a finite"),
    (_set(("explanations", "1", "intercept"), "0.5"), LimekitTypeError, "explanations['1'].intercept:"),
    (_set(("explanations", "1", "local_pred"), [0.5]), LimekitTypeError, "explanations['1'].local_pred:"),
    (
        _set(("explanations", "1", "local_decision"), float("nan")),
        LimekitValueError,
        "explanations['1'].local_decision:",
    ),
    (_set(("explanations", "1"), []), LimekitTypeError, "explanations['1']: expected a dict"),
    (_set(("explanations",), []), LimekitTypeError, "explanations: expected a dict"),
    (_set(("explanations", "one"), {}), LimekitValueError, "explanations['one']: expected a key naming a label"),
    (_set(("explanations", "01"), {}), LimekitValueError, "explanations['01']: expected a key naming a label"),
    (_delete(("explanations", "1")), LimekitValueError, "explanations['1']: expected the record of label 1"),
    (_set(("labels",), "1"), LimekitTypeError, "labels: expected a list"),
    (_set(("labels",), [1, 1]), LimekitValueError, "labels: expected distinct labels"),
    (_set(("labels",), [True]), LimekitTypeError, "labels[0]: expected an integer"),
    (_set(("top_labels",), [7]), LimekitValueError, "top_labels[0]: expected one of labels"),
    (_set(("mode",), "ranking"), LimekitValueError, "mode: expected 'classification' or 'regression'"),
    (_set(("mode",), 1), LimekitTypeError, "mode: expected 'classification' or 'regression'"),
    (_set(("class_names",), "no yes"), LimekitTypeError, "class_names: expected a list"),
    (_set(("class_names",), ["no", 1]), LimekitTypeError, "class_names[1]: expected a string"),
    (_set(("predict_proba",), [0.5, "x"]), LimekitTypeError, "predict_proba[1]: expected a finite number"),
    (_set(("predict_proba",), [0.5, float("inf")]), LimekitValueError, "predict_proba[1]: expected a finite"),
    (_set(("diagnostics",), []), LimekitTypeError, "diagnostics: expected a dict"),
    (
        _set(("diagnostics", "effective_sample_size"), "many"),
        LimekitTypeError,
        "diagnostics.effective_sample_size: expected a finite number",
    ),
    (_set(("diagnostics", "num_samples"), float("inf")), LimekitValueError, "diagnostics.num_samples:"),
    (
        _set(("diagnostics", "stability", "1", "n_draws"), None),
        LimekitTypeError,
        "diagnostics.stability['1'].n_draws: expected an integer",
    ),
    (
        _delete(("diagnostics", "stability", "1", "n_draws")),
        LimekitValueError,
        "diagnostics.stability['1'].n_draws: expected an integer; got nothing",
    ),
    (
        _set(("diagnostics", "stability", "1", "sign_agreement", "0"), "high"),
        LimekitTypeError,
        "diagnostics.stability['1'].sign_agreement['0']: expected a finite number",
    ),
    (_set(("diagnostics", "fidelity"), {"1": "good"}), LimekitTypeError, "diagnostics.fidelity['1']: expected a"),
    (
        _set(("diagnostics", "anything"), {"deep": [1, float("nan")]}),
        LimekitValueError,
        "diagnostics.anything.deep[1]: expected a finite number",
    ),
    (_set(("diagnostics", "anything"), {1, 2}), LimekitTypeError, "diagnostics.anything: expected a JSON value"),
    (_set(("domain",), "tabular"), LimekitTypeError, "domain: expected a dict"),
    (_set(("domain", "modality"), "audio"), LimekitValueError, "domain.modality: expected one of 'tabular'"),
    (_set(("domain", "feature_names"), ["a", None]), LimekitTypeError, "domain.feature_names[1]: expected a string"),
    (_set(("domain", "text"), 5), LimekitTypeError, "domain.text: expected a string"),
    (_set(("extra",), float("nan")), LimekitValueError, "extra: expected a finite number"),
]


@pytest.mark.parametrize("change, error, start", CASES, ids=[case[2][:60] for case in CASES])
def test_bad_field_is_named_by_its_path(record, change, error, start):
    change(record)
    with pytest.raises(error) as info:
        validate_explanation_record(record)
    assert str(info.value).startswith(start), str(info.value)
    assert isinstance(info.value, LimekitError)


@pytest.mark.parametrize(
    "kind, change, start",
    [
        ("regression", _delete(("predicted_value",)), "predicted_value: expected a finite number; got nothing"),
        ("regression", _set(("max_value",), "big"), "max_value: expected a finite number; got 'big' (str)"),
        ("regression", _set(("labels",), [0]), "labels: expected label 1 among the labels of a regression"),
        ("text", _set(FEATURE + ("spans",), [[3]]), "explanations['1'].features[0].spans[0]: expected a [start, end]"),
        ("text", _set(FEATURE + ("spans",), [[5, 2]]), "explanations['1'].features[0].spans[0]: expected start <= end"),
        ("text", _set(FEATURE + ("spans",), [[-1, 2]]), "explanations['1'].features[0].spans[0][0]: expected an"),
        ("text", _set(FEATURE + ("positions",), ["2"]), "explanations['1'].features[0].positions[0]: expected an"),
        ("text", _set(("domain", "bow"), "yes"), "domain.bow: expected true or false"),
        ("image", _set(FEATURE + ("centroid",), [1.0]), "explanations['1'].features[0].centroid: expected a [row, "),
        ("image", _set(FEATURE + ("bbox",), [0, 0, "8", 8]), "explanations['1'].features[0].bbox[2]: expected an"),
        ("image", _set(FEATURE + ("n_pixels",), -3), "explanations['1'].features[0].n_pixels: expected an integer"),
        (
            "tabular-ebm",
            _set(("explanations", "1", "shape_functions", 0, "values"), [0.0]),
            "explanations['1'].shape_functions[0].values: expected",
        ),
        (
            "tabular-ebm",
            _set(("explanations", "1", "shape_functions", 0, "grid", 0), None),
            "explanations['1'].shape_functions[0].grid[0]: expected a finite number",
        ),
        (
            "tabular-ebm",
            _set(("explanations", "1", "shape_functions"), [{"id": 99, "name": "z", "grid": [1.0], "values": [0.0]}]),
            "explanations['1'].shape_functions: expected a shape function for every listed feature",
        ),
        (
            "tabular-ebm",
            _set(("explanations", "1", "global_importance", 0, "importance"), -1.0),
            "explanations['1'].global_importance[0].importance: expected a number >= 0",
        ),
    ],
)
def test_bad_fields_of_each_modality(records, kind, change, start):
    if kind not in records:
        pytest.skip(f"{kind} not available")
    data = copy.deepcopy(records[kind])
    change(data)
    with pytest.raises(LIMEKIT_ERRORS) as info:
        validate_explanation_record(data)
    assert str(info.value).startswith(start), str(info.value)


def test_repeated_feature_ids_are_refused(record):
    features = record["explanations"]["1"]["features"]
    features[1]["id"] = features[0]["id"]
    with pytest.raises(LimekitValueError, match=r"^explanations\['1'\]\.features\[1\]\.id: expected ids that appear"):
        validate_explanation_record(record)


def test_missing_top_level_keys_name_the_record(record):
    del record["labels"]
    with pytest.raises(
        LimekitValueError,
        match=r"^data: expected a dict made by Explanation.to_dict\(\), with keys "
        r"\['mode', 'labels', 'explanations'\]; got no \['labels'\]",
    ):
        validate_explanation_record(record)


@pytest.mark.parametrize("data", [None, 3, [1, 2], ("mode",)])
def test_not_a_dict(data):
    with pytest.raises(LimekitTypeError, match="^data: expected a dict made by Explanation.to_dict"):
        validate_explanation_record(data)


# ---------------------------------------------------------------- JSON text


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_json_tokens_are_refused_with_their_path(records, token):
    text = json.dumps(records["tabular"]).replace('"score": ', f'"score": {token}, "was": ', 1)
    with pytest.raises(
        LimekitValueError,
        match=rf"^explanations\['\d'\]\.score: expected a finite number; "
        rf"got {token} \(not a JSON number\)",
    ):
        validate_explanation_record(text)


def test_overflowing_json_number_is_refused(records):
    text = json.dumps(records["tabular"]).replace('"intercept": ', '"intercept": 1e999, "was": ', 1)
    with pytest.raises(LimekitValueError, match=r"^explanations\['\d'\]\.intercept: expected a finite number; got inf"):
        validate_explanation_record(text)


@pytest.mark.parametrize("depth", [MAX_DEPTH + 5, 100_000])
def test_absurd_nesting_is_refused_without_recursion_error(records, depth):
    text = json.dumps(records["tabular"])[:-1] + ', "deep": ' + "[" * depth + "]" * depth + "}"
    with pytest.raises(LimekitValueError) as info:
        validate_explanation_record(text)
    assert "levels deep; got deeper nesting" in str(info.value)


def test_self_referencing_dict_is_refused(record):
    record["diagnostics"]["loop"] = record["diagnostics"]
    with pytest.raises(LimekitValueError, match="levels deep; got deeper nesting"):
        validate_explanation_record(record)


@pytest.mark.parametrize(
    "text, words",
    [
        ("{not json", "text: expected a JSON string made by Explanation.to_json(); got invalid JSON"),
        ("", "text: expected a JSON string made by Explanation.to_json(); got invalid JSON"),
        (b"\xff\xfe\x00", "text: expected a JSON string"),
        (
            '{"mode": "regression", "mode": "classification"}',
            "text: expected JSON objects without repeated keys; got the key 'mode' twice",
        ),
        ("[1, 2]", "data: expected a dict made by Explanation.to_dict()"),
        ("1" * 5000, "text: expected a JSON string"),
    ],
)
def test_bad_json_text(text, words):
    with pytest.raises(LIMEKIT_ERRORS) as info:
        validate_explanation_record(text)
    assert str(info.value).startswith(words), str(info.value)


def test_extreme_but_allowed_magnitudes_render(records):
    data = copy.deepcopy(records["tabular"])
    record = data["explanations"]["1"]
    record["intercept"] = 1e100
    for i, feature in enumerate(record["features"]):
        feature["weight"] = 1e100 if i % 2 else -1e100
    validate_explanation_record(data)
    _render(data)


def test_unknown_plain_fields_are_kept(record):
    record["note"] = {"by": "me", "tags": ["a", 1, None, True]}
    record["explanations"]["1"]["features"][0]["unit"] = "cm"
    assert validate_explanation_record(record)["note"]["tags"] == ["a", 1, None, True]
    _render(record)


def test_regression_record_with_importance_only_for_label_0_renders(records):
    """Regression keeps lime's mirrored labels 0 and 1; each stored key is written back as it is."""
    data = copy.deepcopy(records["regression"])
    assert "global_importance" in data["explanations"]["0"]
    del data["explanations"]["1"]["global_importance"]
    exp = _render(data)
    again = exp.to_dict()["explanations"]
    assert "global_importance" not in again["1"]
    assert again["0"]["global_importance"] == data["explanations"]["0"]["global_importance"]


# ---------------------------------------------------------------- whatever is accepted renders

HOSTILE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.integers(2**60, 2**70),
    st.floats(allow_nan=True),
    st.text(max_size=5),
    st.just([]),
    st.just({}),
    st.just([[0, 1]]),
    st.just({"0": 0.5}),
    st.lists(st.floats(-1e3, 1e3), max_size=3),
    st.lists(st.text(max_size=3), max_size=3),
    st.sampled_from([1.7e308, -1.7e308, 1e100, -1e100, 2**53 + 1]),
)


def _paths(value, path=()):
    """Every (container path, key) in a record."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield path + (key,)
            yield from _paths(item, path + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield path + (i,)
            yield from _paths(item, path + (i,))


@pytest.mark.slow  # every field of every record edited: seconds per kind
@pytest.mark.parametrize("kind", list(MAKERS))
def test_hostile_edits_raise_a_limekit_error_or_render(records, kind):
    base = records[kind]
    paths = list(_paths(base))

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(
        edits=st.lists(
            st.tuples(st.sampled_from(paths), st.one_of(HOSTILE, st.just("<delete>"))), min_size=1, max_size=3
        )
    )
    def check(edits):
        data = copy.deepcopy(base)
        for path, value in edits:
            target = data
            try:
                for key in path[:-1]:
                    target = target[key]
                if value == "<delete>":
                    del target[path[-1]]
                else:
                    target[path[-1]] = value
            except (KeyError, IndexError, TypeError):  # an earlier edit removed or replaced the container
                continue
        try:
            validate_explanation_record(data)
        except LIMEKIT_ERRORS:
            return
        _render(data)

    check()


# ---------------------------------------------------------------- WIRING: needs core/explanation.py to call
# validate_explanation_record in from_dict/from_json and to_json(allow_nan=False); fails until then.


def test_wiring_from_json_names_the_bad_field(records):
    data = copy.deepcopy(records["tabular"])
    data["explanations"]["1"]["features"][0]["weight"] = "x"
    with pytest.raises(
        LimekitTypeError,
        match=r"^explanations\['1'\]\.features\[0\]\.weight: expected a finite "
        r"number; got 'x' \(str\)",
    ):
        Explanation.from_json(json.dumps(data))


def test_wiring_from_json_refuses_infinity(records):
    text = json.dumps(records["tabular"]).replace('"weight": ', '"weight": Infinity, "was": ', 1)
    with pytest.raises(LimekitValueError, match="got Infinity"):
        Explanation.from_json(text)


def test_wiring_from_json_refuses_absurd_nesting(records):
    text = json.dumps(records["tabular"])[:-1] + ', "deep": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(LimekitValueError, match="deeper nesting"):
        Explanation.from_json(text)


def test_wiring_from_dict_missing_key_is_not_a_key_error(records):
    data = copy.deepcopy(records["tabular"])
    del data["explanations"]["1"]["intercept"]
    with pytest.raises(LimekitValueError, match=r"^explanations\['1'\]\.intercept: expected a finite number"):
        Explanation.from_dict(data)


def test_wiring_from_dict_wrong_container_is_not_an_attribute_error(records):
    data = copy.deepcopy(records["tabular"])
    data["explanations"] = [data["explanations"]]
    with pytest.raises(LimekitTypeError, match="^explanations: expected a dict"):
        Explanation.from_dict(data)


def test_wiring_to_json_writes_strict_json(records):
    exp = Explanation.from_dict(copy.deepcopy(records["tabular"]))
    exp.diagnostics["effective_sample_size"] = float("inf")  # _plain writes null for it
    exp.intercept[1] = float("nan")  # a required number: to_json names it, as from_json would
    with pytest.raises(LimekitValueError, match=r"^explanations\['1'\]\.intercept: expected a finite number; got nan"):
        exp.to_json()
