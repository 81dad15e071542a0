"""Issues 13 and 22: property-based checks of every public entry point, on valid and on invalid input.

Valid and invalid inputs are generated apart, so that neither kind of test
can pass by accident:

* a **valid** input (finite data within limekit's documented limits, a model
  whose outputs are well formed) must give explanations whose weights,
  intercepts and scores are finite and whose ``to_json`` reads back: any
  exception fails the test;
* an **invalid** input (NaN, infinity or magnitudes past the limits, an
  instance with no word, an image with one pixel, a model returning NaN or
  too few rows, ...) must raise a limekit error (``LimekitValueError`` /
  ``LimekitTypeError``) naming the argument at fault; returning, or raising
  anything else, fails.

Where validity cannot be known before the call, the outcomes are counted
and a stated share must succeed: slic or quickshift may find one superpixel
in a small random image (the one error allowed; at least MIN_SHARE of the
images are explained), and a random value in a field of a stored record may
or may not fit (refused naming a field, or read back; at least one in twenty
read back).  Either way, never a numeric warning, nor a flood of warnings.
Small sizes and ``num_samples`` keep the whole file fast.
"""

import json
import math
import re
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
from limekit.tabular.sampler import SAFE_MAGNITUDE
from limekit.text import TextExplainer

pd = pytest.importorskip("pandas")

LIMEKIT_ERRORS = (LimekitValueError, LimekitTypeError)


def _settings(max_examples):
    return settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


VALID = _settings(60)  # each example a full explanation
INVALID = _settings(40)  # refused before (or at) the first model call
MAX_WARNINGS = 3
MIN_SHARE = 0.9  # of the inputs whose validity is not known up front, the share that must give explanations

# Values that stress the numerics without leaving limekit's documented domain: ordinary, tiny,
# subnormal, huge up to SAFE_MAGNITUDE (training values and rows are refused past it).
FINITE = st.one_of(
    st.floats(-10, 10),
    st.sampled_from([0.0, -0.0, 1e-300, 5e-324, 1e10, -1e12, 1e38, 1e140, -1e150, SAFE_MAGNITUDE]),
)
# Values no training data or row may hold: infinite, or past SAFE_MAGNITUDE (NaN is a missing
# value, explained: test_tabular_missing_values).
INFINITE = st.sampled_from([np.inf, -np.inf])
HOSTILE = st.one_of(INFINITE, st.sampled_from([1e151, 1e200, -1.7e308, 1.7e308]))
FLOAT32_MAX = float(np.finfo(np.float32).max)


# ---------------------------------------------------------------- the two checks


def _warnings_checked(entry_point):
    """``entry_point()`` with the warnings it gives checked (no numeric warning, at most MAX_WARNINGS)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            return entry_point()
        finally:
            runtime = [w for w in caught if issubclass(w.category, RuntimeWarning)]
            assert not runtime, f"numeric warnings leaked: {[str(w.message) for w in runtime][:3]}"
            assert len(caught) <= MAX_WARNINGS, f"{len(caught)} warnings: {[str(w.message) for w in caught][:3]}"


def explains(entry_point):
    """``entry_point()`` on a valid input: its explanations (a list), checked; any exception fails the test."""
    result = _warnings_checked(entry_point)
    explanations = result if isinstance(result, list) else [result]
    assert explanations, "no explanation"
    for exp in explanations:
        assert isinstance(exp, Explanation), f"expected an Explanation; got {type(exp).__name__}"
        check_explanation(exp)
    return explanations


def refuses(entry_point, *arguments):
    """``entry_point()`` on an invalid input must raise a limekit error naming one of ``arguments``."""
    with pytest.raises(LIMEKIT_ERRORS) as error:
        _warnings_checked(entry_point)
    check_named(error.value, arguments)
    return error.value


def check_named(exc, arguments=()):
    """A limekit error names its argument (``.argument``, and the message starts with it)."""
    assert exc.argument, f"the error names no argument: {exc}"
    assert str(exc).startswith(f"{exc.argument}: "), f"the message does not start with {exc.argument!r}: {exc}"
    if arguments:
        assert exc.argument in arguments, f"expected an error naming {arguments}; got {exc}"


def check_explanation(exp):
    """Finite weights, intercepts and scores; ``to_json`` writes and ``from_json`` reads it back."""
    for label, pairs in exp.local_exp.items():
        weights = np.array([w for _, w in pairs], dtype=float)
        assert np.isfinite(weights).all(), f"label {label}: non-finite weights {weights}"
        assert np.isfinite(float(exp.intercept[label])), f"label {label}: intercept {exp.intercept[label]}"
        assert np.isfinite(float(exp.scores[label])), f"label {label}: score {exp.scores[label]}"
    assert Explanation.from_json(exp.to_json()).as_map() == json_map(exp)


def json_map(exp):
    return {int(k): [(int(f), float(w)) for f, w in v] for k, v in exp.as_map().items()}


# ---------------------------------------------------------------- models


def smooth_proba(X):
    """A classifier of two classes that stays finite for any finite input."""
    X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=float)
    with np.errstate(all="ignore"):
        score = np.tanh(np.nan_to_num(X[:, 0] / (1 + np.abs(X[:, 0]))))
    p = 0.5 + 0.4 * score
    return np.column_stack([1 - p, p])


def smooth_value(X):
    return smooth_proba(X)[:, 1] * 10


def _model(mode):
    return smooth_proba if mode == "classification" else smooth_value


def shaped_model(kind, mode, good=None):
    """The model ``good``, its outputs changed in one way: see VALID_OUTPUTS and INVALID_OUTPUTS."""
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


# Outputs limekit takes (numbers as a list or as numeric strings, constant outputs); huge values only as
# regression outputs (classification needs probabilities).
VALID_OUTPUTS = {
    "classification": st.sampled_from(["good", "constant", "list", "strings"]),
    "regression": st.sampled_from(["good", "constant", "scaled", "list", "strings"]),
}
# Outputs limekit refuses, naming the model's argument: NaN, infinity, a row missing; probabilities past 1.
INVALID_OUTPUTS = {
    "classification": st.sampled_from(["nan", "inf", "short", "scaled"]),
    "regression": st.sampled_from(["nan", "inf", "short"]),
}
MODES = st.sampled_from(["classification", "regression"])


# ---------------------------------------------------------------- tabular


def _as_dtype(array, dtype):
    """``array`` (float) in ``dtype``, every value kept within limekit's domain."""
    if dtype in ("int64", "bool"):
        return array.clip(-1e6, 1e6).astype(dtype)
    if dtype == "float32":
        return array.clip(-FLOAT32_MAX, FLOAT32_MAX).astype(np.float32)
    if dtype == "object":
        return array.astype(object)
    return array


@st.composite
def tabular_cases(draw, mode=MODES):
    """Valid training data (shapes, dtypes, magnitudes), a valid row, options and num_samples."""
    n = draw(st.integers(1, 25))
    d = draw(st.integers(1, 4))
    data = np.array(draw(st.lists(st.lists(FINITE, min_size=d, max_size=d), min_size=n, max_size=n)), dtype=float)
    array = _as_dtype(data, draw(st.sampled_from(["float64", "float32", "int64", "bool", "object"])))
    if draw(st.booleans()):
        row = array[draw(st.integers(0, n - 1))]
    else:  # a row not in the data: each value one of its column's (so within the training spread)
        row = np.array([array[draw(st.integers(0, n - 1)), j] for j in range(d)], dtype=array.dtype)
    options = dict(
        discretize_continuous=draw(st.booleans()),
        mode=draw(mode),
        sample_around_instance=draw(st.booleans()),
        random_state=0,
    )
    return array, row, options, draw(st.integers(2, 40))


@st.composite
def with_hostile_values(draw, array, values=HOSTILE):
    """A float copy of ``array`` with one to three of its values replaced by ``values``."""
    array = np.array(array, dtype=float)
    flat = array.reshape(-1)
    for position in draw(st.lists(st.integers(0, flat.size - 1), min_size=1, max_size=3, unique=True)):
        flat[position] = draw(values)
    return array


@VALID
@given(tabular_cases(), st.data())
def test_tabular_valid_input_is_explained(case, data):
    array, row, options, num_samples = case
    kind = data.draw(VALID_OUTPUTS[options["mode"]])
    explains(
        lambda: TabularExplainer(array, **options).explain_instance(
            row, shaped_model(kind, options["mode"]), num_samples=num_samples
        )
    )


@INVALID
@given(tabular_cases(), st.sampled_from(["training_data", "data_row", "predict_fn"]), st.data())
def test_tabular_invalid_input_is_refused(case, argument, data):
    array, row, options, num_samples = case
    model = _model(options["mode"])
    if argument == "training_data":
        array = data.draw(with_hostile_values(array))
    elif argument == "data_row":
        # with a discretizer a row only picks its bins: there, only infinite values are refused
        row = data.draw(with_hostile_values(row, INFINITE if options["discretize_continuous"] else HOSTILE))
    else:
        model = shaped_model(data.draw(INVALID_OUTPUTS[options["mode"]]), options["mode"])
    refuses(lambda: TabularExplainer(array, **options).explain_instance(row, model, num_samples=num_samples), argument)


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


@VALID
@given(tabular_cases(), st.data())
def test_tabular_missing_values(case, data):
    """NaN in training and in the row: explained with a discretizer, else refused naming the option."""
    array, row, options, num_samples = case
    array = data.draw(with_hostile_values(array, st.just(np.nan)))
    row = data.draw(with_hostile_values(row, st.just(np.nan)))
    model = _model(options["mode"])

    def explain():
        explainer = TabularExplainer(array, **options)
        return explainer.explain_instance(row, lambda X: model(np.nan_to_num(X)), num_samples=num_samples)

    if np.isnan(array).all(axis=0).any():
        refuses(explain, "training_data")  # a column without any value
    elif not options["discretize_continuous"]:
        refuses(explain, "discretize_continuous")
    else:
        explains(explain)


@VALID
@given(tabular_cases(), st.integers(1, 3), st.data())
def test_tabular_explain_many(case, n_rows, data):
    array, _, options, num_samples = case
    rows = array[:n_rows]
    model = _model(options["mode"])
    explainer = TabularExplainer(array, **options)
    assert len(explains(lambda: explainer.explain_many(rows, model, num_samples=num_samples))) == len(rows)
    bad = data.draw(with_hostile_values(rows, INFINITE if options["discretize_continuous"] else HOSTILE))
    refuses(lambda: explainer.explain_many(bad, model, num_samples=num_samples), "data_rows", "data_row")


@VALID
@given(tabular_cases())
def test_tabular_sparse(case):
    array, row, options, num_samples = case
    options = dict(options, discretize_continuous=False)
    data = sp.csr_matrix(np.asarray(array, dtype=float))
    explains(
        lambda: TabularExplainer(data, **options).explain_instance(
            sp.csr_matrix(np.asarray(row, dtype=float)), _model(options["mode"]), num_samples=num_samples
        )
    )


@INVALID
@given(tabular_cases(), st.booleans(), st.data())
def test_tabular_sparse_invalid(case, in_training, data):
    array, row, options, num_samples = case
    options = dict(options, discretize_continuous=False)
    array, row = np.asarray(array, dtype=float), np.asarray(row, dtype=float)
    if in_training:
        array = data.draw(with_hostile_values(array))
    else:
        row = data.draw(with_hostile_values(row))
    refuses(
        lambda: TabularExplainer(sp.csr_matrix(array), **options).explain_instance(
            sp.csr_matrix(row), _model(options["mode"]), num_samples=num_samples
        ),
        "training_data" if in_training else "data_row",
    )


CATEGORIES = st.one_of(st.sampled_from(["a", "b", "<c>", ""]), st.none(), st.just(float("nan")))


@st.composite
def frame_cases(draw):
    """A frame of a numeric column (valid values) and an object or category column (missing values allowed)."""
    n = draw(st.integers(1, 20))
    numeric = draw(st.lists(FINITE, min_size=n, max_size=n))
    categories = draw(st.lists(CATEGORIES, min_size=n, max_size=n))
    frame = pd.DataFrame({"x": numeric, "c": pd.Series(categories, dtype=object)})
    if draw(st.booleans()):
        frame["c"] = frame["c"].astype("category")
    return frame, draw(st.integers(0, n - 1)), draw(st.booleans()), draw(st.integers(2, 30))


def frame_model(frame):
    return smooth_proba(np.asarray(frame["x"], dtype=float)[:, None])


@VALID
@given(frame_cases())
def test_tabular_dataframe(case):
    frame, index, discretize, num_samples = case
    explains(
        lambda: TabularExplainer(frame, discretize_continuous=discretize, random_state=0).explain_instance(
            frame.iloc[index], frame_model, num_samples=num_samples
        )
    )


@INVALID
@given(frame_cases(), st.data())
def test_tabular_dataframe_invalid(case, data):
    frame, index, discretize, num_samples = case
    frame = frame.assign(x=data.draw(with_hostile_values(frame["x"].to_numpy())))
    refuses(
        lambda: TabularExplainer(frame, discretize_continuous=discretize, random_state=0).explain_instance(
            frame.iloc[index], frame_model, num_samples=num_samples
        ),
        "training_data",
    )


# ---------------------------------------------------------------- text

TEXTS = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "a", "</script><script>alert(1)</script> x", "word " * 30, "\x00\ud7ff\u2028 é 字"]),
)


def has_words(text, char_level):
    """Whether the default tokenizer (``\\W+`` separators) or the characters find something to perturb."""
    return bool(text) if char_level else re.search(r"\w", text) is not None


def text_model(texts):
    lengths = np.array([len(t) for t in texts], dtype=float)
    p = 0.5 + 0.4 * np.tanh(lengths / 20 - 0.5)
    return np.column_stack([1 - p, p])


def _text_model(mode, kind="good"):
    return shaped_model(kind, mode, text_model if mode == "classification" else (lambda texts: text_model(texts)[:, 1]))


@VALID
@given(TEXTS, st.booleans(), st.booleans(), st.integers(2, 40), MODES, st.data())
def test_text(text, bow, char_level, num_samples, mode, data):
    explainer = TextExplainer(bow=bow, char_level=char_level, mode=mode, random_state=0)
    if not has_words(text, char_level):
        refuses(lambda: explainer.explain_instance(text, _text_model(mode), num_samples=num_samples), "text_instance")
        text = text + "x"
    model = _text_model(mode, data.draw(VALID_OUTPUTS[mode]))
    explanations = explains(lambda: explainer.explain_instance(text, model, num_samples=num_samples))
    assert "<script>alert(1)" not in explanations[0].as_html()


@INVALID
@given(st.text(min_size=1, max_size=20).filter(lambda t: has_words(t, False)), st.booleans(), MODES, st.data())
def test_text_invalid_model_outputs(text, char_level, mode, data):
    model = _text_model(mode, data.draw(INVALID_OUTPUTS[mode]))
    explainer = TextExplainer(char_level=char_level, mode=mode, random_state=0)
    refuses(lambda: explainer.explain_instance(text, model, num_samples=20), "classifier_fn")


@VALID
@given(st.lists(TEXTS, min_size=1, max_size=3), st.integers(2, 20))
def test_text_explain_many(texts, num_samples):
    explainer = TextExplainer(random_state=0)
    valid = [text for text in texts if has_words(text, False)]
    if len(valid) < len(texts):
        refuses(lambda: explainer.explain_many(texts, text_model, num_samples=num_samples), "text_instance")
    if valid:
        assert len(explains(lambda: explainer.explain_many(valid, text_model, num_samples=num_samples))) == len(valid)


# ---------------------------------------------------------------- image

QUICKSHIFT_CHANNELS = (None, 1, 3, 4)  # quickshift works in the Lab colour space
SEGMENTATIONS = st.sampled_from(["blocks", None, "slic"])  # None: quickshift, the default
BLOCKS = st.just("blocks")
# Pixel values kept to 1e12: past ~1e15 a float32 image overflows float32 in quickshift's Lab conversion
# (a numeric warning), below the 1e100 that limekit checks.
PIXELS = st.one_of(st.floats(-1e12, 1e12), st.sampled_from([0.0, 5e-324, 1e12]))


@st.composite
def image_cases(draw, segmentation=SEGMENTATIONS, shape=None, dtype=None):
    """A valid image (dtype, channels, finite values, at least 2 pixels), its segmentation, num_samples, hide_color.

    'blocks' (2x2 superpixels) is given at least 3 pixels along one side, so it always has 2 segments or more;
    slic and quickshift (None, given float images) may still find a single one in a small image: see MIN_SHARE.
    """
    segmentation = draw(segmentation)
    if shape is None:
        h = draw(st.integers(3 if segmentation == "blocks" else 2, 10))
        w = draw(st.integers(1, 10))
        channels = draw(st.sampled_from(QUICKSHIFT_CHANNELS if segmentation is None else (None, 1, 3, 4, 5)))
        if channels == 5 and h in (3, 4):  # would read as channels first
            h = 5
        shape = (h, w) if channels is None else (h, w, channels)
    # quickshift finds a single segment in a small integer image of noise (its colour distances are larger)
    if dtype is None:
        float_only = segmentation is None
        dtype = draw(
            st.sampled_from(["float32", "float64"] if float_only else ["uint8", "int16", "float32", "float64"])
        )
    image = np.random.default_rng(draw(st.integers(0, 3))).random(shape) * 200
    if dtype.startswith("float") and draw(st.booleans()):
        flat = image.reshape(-1)
        flat[draw(st.integers(0, flat.size - 1))] = draw(PIXELS)
    return image.astype(dtype), segmentation, draw(st.integers(2, 20)), draw(st.sampled_from([None, 0, "blur"]))


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


def _explain_image(case, model=image_model):
    image, segmentation, num_samples, hide_color = case
    return ImageExplainer(random_state=0).explain_instance(
        image,
        model,
        num_samples=num_samples,
        segmentation_fn=_segmentation(segmentation),
        hide_color=hide_color,
        progress_bar=False,
    )


def one_segment(exc):
    return exc.argument == "segmentation_fn" and "at least 2 segments" in str(exc)


def test_image_valid_input_is_explained():
    """Any exception fails, except slic/quickshift finding one segment, which may end at most 1 - MIN_SHARE."""
    outcomes = {"explained": 0, "one segment": 0}

    @VALID
    @given(image_cases(), st.sampled_from(["good", "constant", "list", "strings"]))
    def check(case, kind):
        try:
            explains(lambda: _explain_image(case, shaped_model(kind, "classification", image_model)))
        except LIMEKIT_ERRORS as exc:
            if case[1] == "blocks" or not one_segment(exc):
                raise
            outcomes["one segment"] += 1
            return
        outcomes["explained"] += 1

    check()
    total = sum(outcomes.values())
    assert outcomes["explained"] >= MIN_SHARE * total, outcomes


@st.composite
def invalid_image_cases(draw):
    """An image case with one fault, and the argument that must be named."""
    image, segmentation, num_samples, hide_color = draw(image_cases(segmentation=BLOCKS))
    fault = draw(st.sampled_from(["non-finite", "one pixel", "channels first", "quickshift channels", "one segment"]))
    argument = "image"
    if fault == "non-finite":
        image = image.astype(float)
        image.reshape(-1)[draw(st.integers(0, image.size - 1))] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    elif fault == "one pixel":
        image = image[:1, :1]
    elif fault == "channels first":
        image = np.zeros((3, draw(st.integers(2, 10)), draw(st.integers(5, 8))), dtype=image.dtype)
    elif fault == "quickshift channels":
        image = np.zeros(image.shape[:2] + (draw(st.sampled_from([2, 5])),), dtype=image.dtype)
        segmentation = None
    else:
        segmentation, argument = "one", "segmentation_fn"
    return (image, segmentation, num_samples, hide_color), argument


@INVALID
@given(invalid_image_cases())
def test_image_invalid_input_is_refused(case_and_argument):
    case, argument = case_and_argument
    refuses(lambda: _explain_image(case), argument)


@INVALID
@given(image_cases(segmentation=BLOCKS), st.data())
def test_image_invalid_model_outputs(case, data):
    model = shaped_model(data.draw(INVALID_OUTPUTS["classification"]), "classification", image_model)
    refuses(lambda: _explain_image(case, model), "classifier_fn")


@VALID
@given(image_cases(segmentation=BLOCKS), st.integers(1, 3), st.data())
def test_image_explain_many(case, n_images, data):
    image, _, num_samples, _ = case
    images = [image] + [
        data.draw(image_cases(segmentation=BLOCKS, shape=image.shape, dtype=image.dtype.name))[0]
        for _ in range(n_images - 1)
    ]
    explainer = ImageExplainer(random_state=0)

    def explain(images):
        return explainer.explain_many(
            images, image_model, num_samples=num_samples, segmentation_fn=_segmentation("blocks"), progress_bar=False
        )

    assert len(explains(lambda: explain(images))) == len(images)
    other = np.concatenate([image, image], axis=1)  # another shape
    refuses(lambda: explain(images + [other]), "instances")


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
        refuses(explain, "num_samples")


@pytest.mark.parametrize(
    "training_data",
    [np.zeros((0, 3)), np.zeros((3, 0)), np.zeros(0), [], [[]], sp.csr_matrix((0, 3)), np.zeros((2, 2, 2))],
)
def test_empty_training_data(training_data):
    refuses(lambda: TabularExplainer(training_data), "training_data")


# ---------------------------------------------------------------- from_json


def _record():
    X = np.random.default_rng(0).normal(size=(30, 3))
    return json.loads(
        TabularExplainer(X, random_state=0).explain_instance(X[0], smooth_proba, num_samples=50).to_json()
    )


RECORD = _record()
RECORD_TEXT = json.dumps(RECORD)
JSONISH = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=5)),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3),
    max_leaves=8,
)
# Plain JSON that any unknown field of a record may hold: finite numbers, no NaN or Infinity.
PLAIN_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**53), 2**53), st.floats(allow_nan=False, allow_infinity=False)),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3),
    max_leaves=8,
)


def _weights_path(record):
    label = next(iter(record["explanations"]))
    return record["explanations"][label]


@st.composite
def valid_records(draw):
    """RECORD, written another way: formatting, a new finite weight or intercept, an unknown field."""
    record = json.loads(RECORD_TEXT)
    edit = draw(st.sampled_from(["format", "weight", "intercept", "unknown field"]))
    finite = st.floats(allow_nan=False, allow_infinity=False)
    if edit == "weight":
        features = _weights_path(record)["features"]
        features[draw(st.integers(0, len(features) - 1))]["weight"] = draw(finite)
    elif edit == "intercept":
        _weights_path(record)["intercept"] = draw(finite)
    elif edit == "unknown field":
        record["x_" + draw(st.text(max_size=6))] = draw(PLAIN_JSON)
    return json.dumps(record, indent=draw(st.sampled_from([None, 0, 2])), sort_keys=draw(st.booleans()))


@VALID
@given(valid_records())
def test_from_json_reads_what_to_json_writes(text):
    exp = Explanation.from_json(text)
    check_explanation(exp)


NOT_A_RECORD = st.one_of(
    st.text(max_size=60).filter(lambda t: not _parses(t)).map(lambda t: (t, "text")),
    st.binary(max_size=60).filter(lambda b: not _parses(b)).map(lambda b: (b, "text")),
    st.integers(0, len(RECORD_TEXT) - 1).map(lambda cut: (RECORD_TEXT[:cut], "text")),  # never whole JSON
    JSONISH.filter(lambda v: not isinstance(v, dict)).map(lambda v: (json.dumps(v), "data")),
    st.dictionaries(st.text(max_size=4).filter(lambda k: k not in RECORD), JSONISH, max_size=3).map(
        lambda v: (json.dumps(v), "data")
    ),
    st.sampled_from(["mode", "labels", "explanations"]).map(
        lambda key: (json.dumps({k: v for k, v in RECORD.items() if k != key}), "data")
    ),
    st.sampled_from(["NaN", "Infinity", "-Infinity", '"1"', "true", "1e999"]).map(
        lambda token: (RECORD_TEXT.replace('"intercept": ', f'"intercept": {token}, "was": ', 1), None)
    ),
)


def _parses(text):
    try:
        json.loads(text)
    except (ValueError, TypeError):
        return False
    return True


@INVALID
@given(NOT_A_RECORD)
def test_from_json_refuses_what_is_not_a_record(text_and_argument):
    text, argument = text_and_argument
    if argument is None:  # a non-finite or non-numeric intercept: named by its path
        exc = refuses(lambda: Explanation.from_json(text))
        assert exc.argument.endswith(".intercept"), exc
    else:
        refuses(lambda: Explanation.from_json(text), argument)


def test_from_json_hostile_edits():
    """A random value in one field: read back, or refused naming a field (which values fit is not known up front).

    About one edit in seven fits (None where a field may be null, an unknown key); at least one in twenty must
    read back, so that a from_json refusing everything fails here too.
    """
    outcomes = {"read back": 0, "refused": 0}

    @_settings(80)
    @given(st.tuples(st.sampled_from(sorted(RECORD)), JSONISH))
    def check(edit):
        key, value = edit
        text = json.dumps({**RECORD, key: value})
        try:
            exp = _warnings_checked(lambda: Explanation.from_json(text))
        except LIMEKIT_ERRORS as exc:
            check_named(exc)
            outcomes["refused"] += 1
            return
        check_explanation(exp)
        assert all(math.isfinite(w) for pairs in exp.as_map().values() for _, w in pairs)
        outcomes["read back"] += 1

    check()
    assert outcomes["read back"] >= 0.05 * sum(outcomes.values()), outcomes
