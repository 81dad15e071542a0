"""Issue 13: property-based checks of every public entry point on hostile input.

Whatever the shapes, dtypes, NaN/inf placements and sizes, an entry point
either returns explanations whose weights, intercepts and scores are finite
(and whose ``to_json`` reads back, or names the field it cannot write), or
raises a limekit error (``LimekitValueError`` / ``LimekitTypeError``); never
another exception type, and never a flood of warnings.  Small sizes and
``num_samples`` keep the whole file fast.
"""

import json
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from limekit._validation import LimekitTypeError, LimekitValueError
from limekit.core.explanation import Explanation
from limekit.image import ImageExplainer
from limekit.tabular import TabularExplainer
from limekit.text import TextExplainer

pd = pytest.importorskip("pandas")

LIMEKIT_ERRORS = (LimekitValueError, LimekitTypeError)
SETTINGS = settings(
    max_examples=80,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
MAX_WARNINGS = 3

# Values that stress the numerics: ordinary, tiny, huge, at the float limits, non-finite.
VALUES = st.one_of(
    st.floats(-10, 10),
    st.sampled_from([0.0, -0.0, 1e-300, 5e-324, 1e10, -1e12, 1e140, 1e200, -1.7e308, 1.7e308, np.nan, np.inf, -np.inf]),
)


def run(entry_point):
    """``entry_point()``'s explanations (a list), or None when it raised a limekit error; checks the rest."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = entry_point()
        except LIMEKIT_ERRORS as exc:
            assert str(exc), "a limekit error must say what went wrong"
            result = None
    runtime = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert not runtime, f"numeric warnings leaked: {[str(w.message) for w in runtime][:3]}"
    assert len(caught) <= MAX_WARNINGS, f"{len(caught)} warnings: {[str(w.message) for w in caught][:3]}"
    if result is None:
        return None
    explanations = result if isinstance(result, list) else [result]
    for exp in explanations:
        check_explanation(exp)
    return explanations


def check_explanation(exp):
    for label, pairs in exp.local_exp.items():
        weights = np.array([w for _, w in pairs], dtype=float)
        assert np.isfinite(weights).all(), f"label {label}: non-finite weights {weights}"
        assert np.isfinite(float(exp.intercept[label])), f"label {label}: intercept {exp.intercept[label]}"
        assert np.isfinite(float(exp.scores[label])), f"label {label}: score {exp.scores[label]}"
    try:
        text = exp.to_json()
    except LIMEKIT_ERRORS:
        return
    assert Explanation.from_json(text).as_map() == json_map(exp)


def json_map(exp):
    return {int(k): [(int(f), float(w)) for f, w in v] for k, v in exp.as_map().items()}


def smooth_proba(X):
    """A classifier of two classes that stays finite for any finite input."""
    X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=float)
    with np.errstate(all="ignore"):
        score = np.tanh(np.nan_to_num(X[:, 0] / (1 + np.abs(X[:, 0]))))
    p = 0.5 + 0.4 * score
    return np.column_stack([1 - p, p])


def smooth_value(X):
    return smooth_proba(X)[:, 1] * 10


# ---------------------------------------------------------------- tabular


@st.composite
def tabular_cases(draw):
    n = draw(st.integers(1, 25))
    d = draw(st.integers(1, 4))
    data = draw(st.lists(st.lists(VALUES, min_size=d, max_size=d), min_size=n, max_size=n))
    dtype = draw(st.sampled_from(["float64", "float32", "int64", "bool", "object"]))
    array = np.array(data, dtype=float)
    if dtype in ("int64", "bool"):
        array = np.nan_to_num(array, nan=0, posinf=1, neginf=-1).clip(-1e6, 1e6).astype(dtype)
    elif dtype == "float32":
        with np.errstate(over="ignore"):
            array = array.astype(np.float32)
    elif dtype == "object":
        array = array.astype(object)
    row_from_data = draw(st.booleans())
    row = (
        array[draw(st.integers(0, n - 1))]
        if row_from_data
        else np.array(draw(st.lists(VALUES, min_size=d, max_size=d)))
    )
    options = dict(
        discretize_continuous=draw(st.booleans()),
        mode=draw(st.sampled_from(["classification", "regression"])),
        sample_around_instance=draw(st.booleans()),
        random_state=0,
    )
    num_samples = draw(st.integers(2, 40))
    return array, row, options, num_samples


def _model(mode):
    return smooth_proba if mode == "classification" else smooth_value


def hostile_model(kind, mode, good=None):
    """A model whose outputs are wrong in one way (or, for 'constant' and 'scaled', only unusual)."""
    good = good or _model(mode)

    def model(X):
        out = np.array(good(X), dtype=float)
        if kind == "nan":
            out[-1] = np.nan
        elif kind == "inf":
            out[0] = np.inf
        elif kind == "constant":
            out[:] = out[:1]
        elif kind == "scaled":
            out = out * 1e120
        elif kind == "short":
            out = out[:-1]
        elif kind == "list":
            out = out.tolist()
        elif kind == "strings":
            out = out.astype(str)
        return out

    return model


OUTPUT_KINDS = st.sampled_from(["good", "nan", "inf", "constant", "scaled", "short", "list", "strings"])


@SETTINGS
@given(tabular_cases(), OUTPUT_KINDS)
def test_tabular_numpy(case, kind):
    array, row, options, num_samples = case
    run(
        lambda: TabularExplainer(array, **options).explain_instance(
            row, hostile_model(kind, options["mode"]), num_samples=num_samples
        )
    )


@settings(max_examples=5, deadline=None, database=None)
@given(st.sampled_from([1e300, -1e300, 1e250]), st.sampled_from(["tabular", "text"]))
def test_regression_outputs_near_the_float_maximum_give_finite_scores(scale, frontend):
    if frontend == "tabular":
        X = np.random.default_rng(0).normal(size=(30, 3))
        exp = TabularExplainer(X, mode="regression", random_state=0).explain_instance(
            X[0], lambda A: scale * smooth_value(A), num_samples=60
        )
    else:
        exp = TextExplainer(mode="regression", random_state=0).explain_instance(
            "one two three four", lambda texts: scale * text_model(texts)[:, 1], num_samples=60
        )
    check_explanation(exp)


@SETTINGS
@given(tabular_cases(), st.integers(1, 3))
def test_tabular_explain_many(case, n_rows):
    array, _, options, num_samples = case
    rows = array[:n_rows]
    run(lambda: TabularExplainer(array, **options).explain_many(rows, _model(options["mode"]), num_samples=num_samples))


@SETTINGS
@given(tabular_cases())
def test_tabular_sparse(case):
    array, row, options, num_samples = case
    options = dict(options, discretize_continuous=False)

    def explain():
        try:
            data = sp.csr_matrix(array.astype(float))
        except (TypeError, ValueError):
            raise LimekitTypeError("not numeric") from None  # scipy's own conversion, not limekit's input
        return TabularExplainer(data, **options).explain_instance(
            sp.csr_matrix(np.asarray(row, dtype=float)), _model(options["mode"]), num_samples=num_samples
        )

    run(explain)


@st.composite
def frame_cases(draw):
    n = draw(st.integers(1, 20))
    numeric = draw(st.lists(VALUES, min_size=n, max_size=n))
    categories = draw(
        st.lists(
            st.one_of(st.sampled_from(["a", "b", "<c>", ""]), st.none(), st.just(float("nan"))), min_size=n, max_size=n
        )
    )
    frame = pd.DataFrame({"x": numeric, "c": pd.Series(categories, dtype=object)})
    if draw(st.booleans()):
        frame["c"] = frame["c"].astype("category")
    return frame, draw(st.integers(0, n - 1)), draw(st.booleans()), draw(st.integers(2, 30))


def frame_model(frame):
    return smooth_proba(np.asarray(frame["x"], dtype=float)[:, None])


@SETTINGS
@given(frame_cases())
def test_tabular_dataframe(case):
    frame, index, discretize, num_samples = case
    run(
        lambda: TabularExplainer(frame, discretize_continuous=discretize, random_state=0).explain_instance(
            frame.iloc[index], frame_model, num_samples=num_samples
        )
    )


# ---------------------------------------------------------------- text

TEXTS = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "a", "</script><script>alert(1)</script> x", "word " * 30, "\x00\ud7ff\u2028 é 字"]),
)


def text_model(texts):
    lengths = np.array([len(t) for t in texts], dtype=float)
    p = 0.5 + 0.4 * np.tanh(lengths / 20 - 0.5)
    return np.column_stack([1 - p, p])


@SETTINGS
@given(
    TEXTS,
    st.booleans(),
    st.booleans(),
    st.integers(2, 40),
    st.sampled_from(["classification", "regression"]),
    OUTPUT_KINDS,
)
def test_text(text, bow, char_level, num_samples, mode, kind):
    model = hostile_model(
        kind, mode, text_model if mode == "classification" else (lambda texts: text_model(texts)[:, 1])
    )
    explainer = TextExplainer(bow=bow, char_level=char_level, mode=mode, random_state=0)
    explanations = run(lambda: explainer.explain_instance(text, model, num_samples=num_samples))
    if explanations:
        html = explanations[0].as_html()
        assert "<script>alert(1)" not in html


@SETTINGS
@given(st.lists(TEXTS, min_size=1, max_size=3), st.integers(2, 20))
def test_text_explain_many(texts, num_samples):
    run(lambda: TextExplainer(random_state=0).explain_many(texts, text_model, num_samples=num_samples))


# ---------------------------------------------------------------- image


@st.composite
def image_cases(draw):
    h, w = draw(st.integers(1, 10)), draw(st.integers(1, 10))
    channels = draw(st.sampled_from([None, 1, 3, 4, 5]))
    shape = (h, w) if channels is None else (h, w, channels)
    dtype = draw(st.sampled_from(["uint8", "int16", "float32", "float64"]))
    image = np.random.default_rng(draw(st.integers(0, 3))).random(shape) * 200
    if dtype.startswith("float") and draw(st.booleans()):
        flat = image.reshape(-1)
        flat[draw(st.integers(0, flat.size - 1))] = draw(VALUES)
    with np.errstate(over="ignore", invalid="ignore"):
        image = image.astype(dtype)
    segmentation = draw(st.sampled_from(["blocks", "one", None, "slic"]))
    return image, segmentation, draw(st.integers(2, 20)), draw(st.sampled_from([None, 0, "blur"]))


def image_model(batch):
    batch = np.asarray(batch, dtype=float)
    with np.errstate(all="ignore"):
        mean = np.nan_to_num(batch.reshape(len(batch), -1).mean(axis=1))
    p = 0.5 + 0.4 * np.tanh(mean / 100 - 1)
    return np.column_stack([1 - p, p])


def _segmentation(name):
    if name == "blocks":
        return lambda image: np.arange(image.shape[0])[:, None] // 2 * 10 + np.arange(image.shape[1])[None, :] // 2
    if name == "one":
        return lambda image: np.zeros(image.shape[:2], dtype=int)
    return name


@SETTINGS
@given(image_cases(), OUTPUT_KINDS)
def test_image(case, kind):
    image, segmentation, num_samples, hide_color = case
    run(
        lambda: ImageExplainer(random_state=0).explain_instance(
            image,
            hostile_model(kind, "classification", image_model),
            num_samples=num_samples,
            segmentation_fn=_segmentation(segmentation),
            hide_color=hide_color,
            progress_bar=False,
        )
    )


@SETTINGS
@given(st.lists(image_cases(), min_size=1, max_size=2))
def test_image_explain_many(cases):
    images = [case[0] for case in cases]
    run(
        lambda: ImageExplainer(random_state=0).explain_many(
            images, image_model, num_samples=cases[0][2], segmentation_fn=_segmentation("blocks"), progress_bar=False
        )
    )


# ---------------------------------------------------------------- huge and empty


@pytest.mark.parametrize("num_samples", [10**13, 2**62])
def test_huge_num_samples_everywhere(num_samples):
    X = np.random.default_rng(0).normal(size=(20, 3))
    segments = np.arange(16).reshape(4, 4) // 4
    for explain in (
        lambda: TabularExplainer(X).explain_instance(X[0], smooth_proba, num_samples=num_samples),
        lambda: TextExplainer().explain_instance("a b", text_model, num_samples=num_samples),
        lambda: ImageExplainer().explain_instance(
            np.ones((4, 4, 3)),
            image_model,
            num_samples=num_samples,
            segmentation_fn=lambda image: segments,
            progress_bar=False,
        ),
    ):
        assert run(explain) is None


@pytest.mark.parametrize(
    "training_data",
    [np.zeros((0, 3)), np.zeros((3, 0)), np.zeros(0), [], [[]], sp.csr_matrix((0, 3)), np.zeros((2, 2, 2))],
)
def test_empty_training_data(training_data):
    assert run(lambda: TabularExplainer(training_data)) is None


# ---------------------------------------------------------------- from_json


def _record():
    X = np.random.default_rng(0).normal(size=(30, 3))
    return json.loads(
        TabularExplainer(X, random_state=0).explain_instance(X[0], smooth_proba, num_samples=50).to_json()
    )


RECORD = _record()
JSONISH = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=5)),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3),
    max_leaves=8,
)


@SETTINGS
@given(
    st.one_of(
        st.text(max_size=60),
        st.binary(max_size=60),
        JSONISH.map(lambda v: json.dumps(v)),
        st.tuples(st.sampled_from(sorted(RECORD)), JSONISH).map(lambda edit: json.dumps({**RECORD, edit[0]: edit[1]})),
        st.integers(0, 2000).map(lambda cut: json.dumps(RECORD)[:cut]),
    )
)
def test_from_json(text):
    run(lambda: Explanation.from_json(text))
