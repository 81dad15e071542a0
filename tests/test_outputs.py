"""HTML in a real browser, JSON round trips, for all three modalities."""

import json

import numpy as np
import pytest
from browser import ensure_chromium, non_blank_fraction, open_page

from limekit import Explanation, ImageExplainer, TabularExplainer, TextExplainer

EVIL = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
CHECK_INJECTION = (
    "[window.__pwned === undefined, document.querySelectorAll('script').length, "
    "document.querySelectorAll('img[onerror]').length]"
)


def tabular_explanation():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    X[:, 3] = rng.integers(0, 2, 300)

    def proba(X):
        p = 1 / (1 + np.exp(-(2 * X[:, 0] - X[:, 1])))
        return np.column_stack([1 - p, p])

    explainer = TabularExplainer(
        X,
        feature_names=[EVIL, "b", "c", "flag"],
        categorical_features=[3],
        categorical_names={3: ["off", EVIL]},
        class_names=["no", EVIL],
        random_state=0,
    )
    row = X[0].copy()
    row[3] = 1
    return explainer.explain_instance(row, proba, num_features=4, num_samples=400)


def text_explanation():
    def proba(texts):
        p = np.array([0.9 if "great" in t else 0.2 for t in texts])
        return np.column_stack([1 - p, p])

    text = f"A great film {EVIL} with great music & more"
    return TextExplainer(class_names=["bad", EVIL], random_state=0).explain_instance(
        text, proba, num_features=5, num_samples=300
    )


def image_explanation():
    rng = np.random.default_rng(0)
    image = (rng.random((48, 48, 3)) * 60).astype(np.uint8)
    image[8:24, 8:24] = 220

    def proba(images):
        p = images[:, 8:24, 8:24].mean(axis=(1, 2, 3)) / 255
        return np.column_stack([1 - p, p])

    grid = np.arange(48 * 48).reshape(48, 48)
    segments = (grid // 48 // 8) * 6 + (grid % 48) // 8
    exp = ImageExplainer(random_state=0).explain_instance(
        image,
        proba,
        labels=(1,),
        top_labels=None,
        num_samples=200,
        segmentation_fn=lambda img: segments,
        progress_bar=False,
    )
    exp.class_names = ["dark", EVIL]
    return exp


MAKERS = {"tabular": tabular_explanation, "text": text_explanation, "image": image_explanation}


@pytest.fixture(scope="module", params=list(MAKERS))
def explanation(request):
    return request.param, MAKERS[request.param]()


def test_json_round_trip(explanation):
    _, exp = explanation
    text = exp.to_json()
    back = Explanation.from_json(text)
    assert back.to_json() == text
    for label in exp.local_exp:
        assert back.as_list(label=label) == exp.as_list(label=label)
    assert back.as_map() == {k: list(v) for k, v in exp.as_map().items()}
    assert back.intercept == exp.intercept and back.scores == exp.scores
    assert json.loads(text)["domain"]["modality"] in MAKERS


def test_from_json_rejects_garbage():
    with pytest.raises(ValueError, match="^text:"):
        Explanation.from_json("{not json")
    with pytest.raises(ValueError, match="^data:"):
        Explanation.from_dict({"hello": 1})


def test_html_is_small_escaped_and_modality_specific(explanation):
    modality, exp = explanation
    html = exp.as_html()
    assert "<script" not in html
    assert "&lt;script&gt;" in html
    assert 'onerror="' not in html
    if modality == "tabular":
        assert len(html.encode()) < 100_000 and "Feature values" in html
    elif modality == "text":
        assert "Text with highlighted words" in html and '<span style="background:rgba(46,125,50' in html
    else:
        assert 'src="data:image/png;base64,' in html
    notebook = exp._repr_html_()  # a notebook's view: the page's body with its .lk-scoped stylesheet
    assert notebook.startswith("<style>") and notebook.split("</style>", 1)[1] in html
    assert all(rule.lstrip().startswith(".lk") for rule in notebook[7:].split("</style>")[0].split("}") if rule.strip())


@pytest.fixture(scope="module")
def chromium():
    path, reason = ensure_chromium()
    if path is None:
        pytest.skip(reason)
    pytest.importorskip("playwright")
    return path


@pytest.mark.slow  # a headless Chromium: seconds
def test_html_in_the_browser(explanation, chromium, tmp_path):
    modality, exp = explanation
    page_path = tmp_path / f"{modality}.html"
    exp.save_to_file(str(page_path))
    report = open_page(chromium, page_path, tmp_path / f"{modality}.png", CHECK_INJECTION)
    assert report.errors == []
    not_pwned, scripts, handlers = report.evaluate
    assert not_pwned and scripts == 0 and handlers == 0
    assert non_blank_fraction(report.screenshot) > 0.01


@pytest.mark.slow  # a headless Chromium: seconds
def test_html_from_json_renders_in_the_browser(chromium, tmp_path):
    back = Explanation.from_json(text_explanation().to_json())
    page_path = tmp_path / "from_json.html"
    back.save_to_file(str(page_path))
    report = open_page(chromium, page_path, tmp_path / "from_json.png", CHECK_INJECTION)
    assert report.errors == [] and report.evaluate[0]
