"""Issue 13: extreme values, absurd sizes and hostile strings never give a silently wrong explanation.

Values near the float maximum are refused with the argument and column named
(never left to overflow into NaN blamed on the model or the kernel), a
``num_samples`` that cannot fit in memory is refused with the estimate before
anything is allocated, ``to_json`` names the field it cannot write, and
lime's JavaScript snippet cannot be broken out of by a token.
"""

import json
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from limekit._validation import LimekitValueError
from limekit.core.budget import available_memory, check_perturbation_memory, format_bytes
from limekit.core.explanation import Explanation
from limekit.core.fidelity import fidelity_scores
from limekit.image import ImageExplainer
from limekit.tabular import TabularExplainer
from limekit.text import TextExplainer
from limekit.text.indexed import IndexedString, TextDomainMapper


def _never_called(*args):
    raise AssertionError("the model must not be called on bad input")


def _data(n=100, d=3, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d))


# ---------------------------------------------------------------- extreme values


@pytest.mark.parametrize("discretize", [True, False])
@pytest.mark.parametrize("sparse", [False, True])
def test_training_values_near_the_float_maximum_are_refused_naming_the_column(discretize, sparse):
    X = _data()
    X[17, 1] = -1.5e307
    data = sp.csr_matrix(X) if sparse else X
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # refused before any overflow warning
        with pytest.raises(LimekitValueError) as info:
            TabularExplainer(data, feature_names=["a", "b", "c"], discretize_continuous=discretize)
    message = str(info.value)
    assert message.startswith("training_data: expected values of magnitude at most 1e+150")
    assert "-1.5e+307 in column 'b' (row 17)" in message
    assert info.value.argument == "training_data"


def test_large_but_safe_training_values_still_explain():
    X = _data() * 1e120
    explainer = TabularExplainer(X, mode="regression", discretize_continuous=False, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        exp = explainer.explain_instance(X[0], lambda A: A[:, 0] / 1e120, num_samples=300)
    assert np.isfinite([w for _, w in exp.as_list()]).all()


def test_an_instance_absurdly_far_from_the_training_data_is_blamed_on_data_row():
    explainer = TabularExplainer(_data(), feature_names=["a", "b", "c"], discretize_continuous=False)
    row = np.array([0.0, 1e200, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(
            LimekitValueError,
            match=r"^data_row: expected values within 1e\+150 training standard "
            r"deviations .*got 1e\+200 in column 'b'",
        ):
            explainer.explain_instance(row, _never_called, num_samples=100)


def test_fidelity_r2_of_outputs_near_1e300_is_finite_and_scale_free():
    rng = np.random.default_rng(0)
    target = rng.normal(size=200)
    prediction = target + 0.3 * rng.normal(size=200)
    weights = rng.random(200)
    small = fidelity_scores(target, None, prediction, prediction, weights, 0.5)["r2"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        huge = fidelity_scores(1e300 * target, None, 1e300 * prediction, prediction, weights, 0.5)["r2"]
    assert np.isfinite(huge)
    assert huge == pytest.approx(small, rel=1e-12)


def test_to_json_names_a_non_finite_field_instead_of_a_bare_value_error():
    X = _data()
    exp = TabularExplainer(X, random_state=0).explain_instance(
        X[0], lambda A: np.c_[1 / (1 + np.exp(A[:, 0])), 1 - 1 / (1 + np.exp(A[:, 0]))], num_samples=100
    )
    exp.scores[1] = float("nan")
    with pytest.raises(LimekitValueError, match=r"^explanations\['1'\]\.score: expected a finite number; got nan"):
        exp.to_json()


def test_to_json_of_regression_outputs_near_1e300_reads_back():
    """Issue 22: any finite float64 is written and read back (it once refused magnitudes beyond 1e100)."""
    X = _data()
    exp = TabularExplainer(X, mode="regression", random_state=0).explain_instance(
        X[0], lambda A: 1e300 * A[:, 0], num_samples=100
    )
    back = Explanation.from_json(exp.to_json())
    assert back.to_dict() == exp.to_dict()
    assert abs(back.predicted_value) > 1e250


def test_to_json_output_always_reads_back():
    X = _data()
    exp = TabularExplainer(X, random_state=0).explain_instance(
        X[0], lambda A: np.c_[1 / (1 + np.exp(A[:, 0])), 1 - 1 / (1 + np.exp(A[:, 0]))], num_samples=100
    )
    exp.diagnostics["effective_sample_size"] = float("inf")  # free diagnostics: written as null
    text = exp.to_json()
    assert json.loads(text)["diagnostics"]["effective_sample_size"] is None
    assert Explanation.from_json(text).as_list() == exp.as_list()


# ---------------------------------------------------------------- sizes


def test_perturbation_memory_estimate_and_message():
    assert check_perturbation_memory(1000, 10, limit=10**9) == 1000 * 10 * 8 * 3
    with pytest.raises(
        LimekitValueError,
        match=r"^num_samples: expected a size whose perturbations fit in memory "
        r"\(1\.0 KiB available\); got 1000 rows of 10 value\(s\), about "
        r"234\.4 KiB\. Lower num_samples\.",
    ):
        check_perturbation_memory(1000, 10, limit=1024)
    assert format_bytes(32 * 2**40) == "32.0 TiB"
    memory = available_memory()
    assert memory is None or memory > 0


@pytest.mark.parametrize("frontend", ["tabular", "sparse", "text", "image"])
def test_a_num_samples_that_cannot_fit_is_refused_with_the_estimate_before_allocating(frontend):
    X = _data()
    if frontend in ("tabular", "sparse"):
        data = sp.csr_matrix(X) if frontend == "sparse" else X
        call = lambda: TabularExplainer(data).explain_instance(data[0], _never_called, num_samples=10**12)  # noqa
    elif frontend == "text":
        call = lambda: TextExplainer().explain_instance("a b c", _never_called, num_samples=10**12)  # noqa
    else:
        segments = np.arange(64).reshape(8, 8) % 4
        call = lambda: ImageExplainer().explain_instance(  # noqa
            np.random.rand(8, 8, 3),
            _never_called,
            num_samples=10**12,
            segmentation_fn=lambda image: segments,
            progress_bar=False,
        )
    with pytest.raises(
        LimekitValueError,
        match=r"^num_samples: expected a size whose perturbations fit in "
        r"memory .*; got 1000000000000 rows of \d value\(s\), about "
        r"[\d.]+ TiB",
    ) as info:
        call()
    assert not isinstance(info.value, MemoryError)


def test_an_image_batch_that_cannot_fit_names_batch_size():
    image = np.zeros((1000, 1000, 3), dtype=np.uint8)  # 3 MB: a batch of 10**6 is 3 TB
    segments = np.repeat(np.arange(4), 250)[None, :].repeat(1000, axis=0)
    with pytest.raises(LimekitValueError, match=r"^batch_size: expected a size whose perturbations fit in memory"):
        ImageExplainer().explain_instance(
            image,
            _never_called,
            num_samples=10**6,
            batch_size=10**6,
            segmentation_fn=lambda image: segments,
            progress_bar=False,
        )


def test_five_channels_with_the_default_segmentation_names_image_and_the_channel_count():
    with pytest.raises(
        LimekitValueError,
        match=r"^image: expected 1 \(grayscale\), 3 \(RGB\) or 4 \(RGBA\) "
        r"channels for the quickshift segmentation .*; got 5 channels",
    ):
        ImageExplainer().explain_instance(np.random.rand(16, 16, 5), _never_called, num_samples=10, progress_bar=False)


# ---------------------------------------------------------------- lime's JavaScript snippet


def test_visualize_instance_html_cannot_be_broken_out_of():
    token = "</script><script>alert(1)</script>"
    mapper = TextDomainMapper(IndexedString(f"good {token} & <b>bad</b>", split_expression=" "))
    words = [mapper.indexed_string.word(i) for i in range(mapper.indexed_string.num_words())]
    assert token in words
    snippet = mapper.visualize_instance_html([(words.index(token), 0.5), (0, -0.1)], 1, "text_div", "exp")
    assert "<" not in snippet and ">" not in snippet and "&" not in snippet
    arguments = snippet.strip()[len("exp.show_raw_text(") : -len(");")]
    occurrences = json.loads(arguments[: arguments.index("]], ") + 2])
    assert occurrences[0][0] == token  # the JavaScript string is the token itself


@pytest.mark.parametrize("argument, value", [("div_name", "d); alert(1); (d"), ("exp_object_name", "</script>")])
def test_visualize_instance_html_names_must_be_javascript_names(argument, value):
    mapper = TextDomainMapper(IndexedString("a b", split_expression=" "))
    names = {"div_name": "div", "exp_object_name": "exp", argument: value}
    with pytest.raises(LimekitValueError, match=f"^{argument}: expected a JavaScript variable name"):
        mapper.visualize_instance_html([(0, 0.5)], 1, names["div_name"], names["exp_object_name"])


def test_explain_many_refuses_images_of_different_shapes_or_dtypes():
    segments = lambda image: np.arange(image.shape[0] * image.shape[1]).reshape(image.shape[:2]) % 2  # noqa
    explainer = ImageExplainer()
    for other in (np.zeros((4, 4, 1), dtype=np.uint8), np.zeros((4, 4, 3), dtype=np.float64)):
        with pytest.raises(
            LimekitValueError,
            match=r"^instances: expected images of one shape and dtype .*; got "
            r"image 1 of shape",
        ):
            explainer.explain_many(
                [np.zeros((4, 4, 3), dtype=np.uint8), other],
                _never_called,
                num_samples=5,
                segmentation_fn=segments,
                progress_bar=False,
            )


@pytest.mark.parametrize("algorithm", [None, "slic"])
def test_a_float_image_too_large_for_the_colour_conversion_is_refused_naming_image(algorithm):
    image = np.full((8, 8, 3), 50.0)
    image[0, 1, 0] = 1e140  # the Lab conversion would raise it to the power 2.4
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # refused before any numeric warning
        with pytest.raises(LimekitValueError, match=r"image: expected pixel values of magnitude at most 1e\+100"):
            ImageExplainer(random_state=0).explain_instance(
                image, lambda b: np.full((len(b), 2), 0.5), segmentation_fn=algorithm, num_samples=10
            )


def test_scale_huge_brings_huge_outputs_into_half_open_unit_interval_and_leaves_others():
    from limekit.weighted import HUGE_OUTPUT, scale_huge

    for largest in (0.0, 1.0, 1e10, HUGE_OUTPUT, np.inf, np.nan):
        values = np.array([0.5, -largest, np.inf])
        scale, scaled = scale_huge(values)
        assert scale == 1.0
        np.testing.assert_array_equal(scaled, values)
    for largest in (2 * HUGE_OUTPUT, 1e300, 1.7e308):
        scale, first, second = scale_huge(np.array([-largest, 3.0, np.nan]), [1.0, np.inf])  # non-finite: ignored
        assert 0.5 <= largest * scale < 1.0
        assert np.frexp(scale)[0] == 0.5  # a power of two: scaling is exact
        np.testing.assert_array_equal(first, np.array([-largest, 3.0, np.nan]) * scale)
        np.testing.assert_array_equal(second, np.array([1.0, np.inf]) * scale)
    assert scale_huge(np.zeros(3), [1e300])[0] == np.ldexp(1.0, -997)  # one scale for all the arrays
