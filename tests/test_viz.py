"""Plots and HTML: each view draws something checkable; user strings are escaped."""

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_hex

from limekit import TabularExplainer
from limekit.viz import bar_chart, explanation_html, global_importance_bars, page, waterfall

EVIL = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned=2">'


def proba(X):
    p = 1 / (1 + np.exp(-(2 * X[:, 0] - 1.5 * X[:, 1])))
    return np.column_stack([1 - p, p])


@pytest.fixture(scope="module")
def tabular_exp():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 5))
    X[:, 4] = rng.integers(0, 2, 400)
    explainer = TabularExplainer(
        X,
        feature_names=[EVIL, "b&c", "c", "d", "flag"],
        categorical_features=[4],
        categorical_names={4: ["off", EVIL]},
        class_names=["no", EVIL],
        random_state=0,
    )
    row = X[0].copy()
    row[4] = 1
    return explainer.explain_instance(row, proba, num_features=5, num_samples=500)


def test_bar_chart_has_one_bar_per_feature_coloured_by_sign(tabular_exp):
    fig = bar_chart(tabular_exp, label=1)
    ax = fig.axes[0]
    bars = ax.patches
    weights = [w for _, w in tabular_exp.as_list(label=1)][::-1]
    assert len(bars) == 5
    for bar, weight in zip(bars, weights):
        assert bar.get_width() == pytest.approx(weight)
        assert to_hex(bar.get_facecolor()) == ("#2e7d32" if weight > 0 else "#c62828")
    assert [t.get_text() for t in ax.get_yticklabels()] == [n for n, _ in tabular_exp.as_list(label=1)][::-1]
    assert ax.get_title().startswith("Local explanation for class")
    plt.close(fig)


def test_waterfall_ends_at_the_surrogate_prediction(tabular_exp):
    fig = waterfall(tabular_exp, label=1)
    ax = fig.axes[0]
    bars = ax.patches
    assert len(bars) == 1 + 5
    end = bars[-1].get_x() + bars[-1].get_width()
    assert end == pytest.approx(float(tabular_exp.local_preds[1][0]), abs=1e-9)
    assert bars[0].get_width() == pytest.approx(tabular_exp.intercept[1])
    plt.close(fig)


def test_global_importance_bars_sorted():
    fig = global_importance_bars({"a": 0.1, "b": 0.5, "c": -0.3})
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "c", "b"]
    assert len(ax.patches) == 3
    plt.close(fig)


def test_html_escapes_everything_from_the_user(tabular_exp):
    html = page(explanation_html(tabular_exp))
    assert "<script" not in html and "onerror=" not in html.replace("onerror=&quot;", "")
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in html
    assert "b&amp;c" in html
    assert len(html.encode()) < 100_000


def test_html_renders_from_json_as_from_the_live_object(tabular_exp):
    class FromJson:
        def __init__(self, data):
            self.data = data

        def to_dict(self):
            return self.data

    payload = json.loads(tabular_exp.to_json())
    assert explanation_html(FromJson(payload)) == explanation_html(tabular_exp)


def test_html_shows_probabilities_weights_and_values(tabular_exp):
    html = explanation_html(tabular_exp)
    assert "Prediction probabilities" in html
    assert html.count('class="bar"') >= 5 + 2
    assert "Feature values" in html
    for _name, weight in tabular_exp.as_list(label=1):
        assert f"{weight:+.4f}" in html


@pytest.fixture(scope="module")
def image_exp():
    from limekit import ImageExplainer

    rng = np.random.default_rng(0)
    image = (rng.random((48, 48, 3)) * 60).astype(np.uint8)
    image[8:24, 8:24] = 220
    grid = np.arange(48 * 48).reshape(48, 48)
    segments = (grid // 48 // 8) * 6 + (grid % 48) // 8

    def proba(images):
        p = images[:, 8:24, 8:24].mean(axis=(1, 2, 3)) / 255
        return np.column_stack([1 - p, p])

    return ImageExplainer(random_state=0).explain_instance(
        image,
        proba,
        labels=(1,),
        top_labels=None,
        num_samples=300,
        segmentation_fn=lambda img: segments,
        hide_color=0,
        progress_bar=False,
    )


def test_image_overlay_tints_the_top_superpixels(image_exp):
    from limekit.viz import image_overlay, image_overlay_array

    array = image_overlay_array(image_exp, 1, num_features=4, positive_only=True)
    assert array.shape == (48, 48, 3) and 0 <= array.min() and array.max() <= 1
    # the planted bright square's superpixels are outlined (yellow boundaries) and the corner is not
    segments = image_exp.segments
    top = [f for f, w in image_exp.local_exp[1][:4]]
    assert set(top) == set(np.unique(segments[8:24, 8:24]).tolist())
    yellow = (array[..., 0] > 0.99) & (array[..., 1] > 0.99) & (array[..., 2] < 0.01)
    assert yellow[6:26, 6:26].any() and not yellow[40:, 40:].any()
    fig = image_overlay(image_exp, 1)
    assert len(fig.axes[0].images) == 1
    plt.close(fig)


def test_the_overlay_numbers_the_superpixels_the_table_names(image_exp):
    from scipy import ndimage

    from limekit.viz import image_overlay

    fig = image_overlay(image_exp, 1, num_features=4)
    texts = {int(text.get_text()): text.get_position() for text in fig.axes[0].texts}
    listed = [int(name.split()[-1]) for name, _ in image_exp.as_list(label=1)[:4]]  # 'superpixel <id>'
    assert sorted(texts) == sorted(listed)
    for feature, (x, y) in texts.items():  # each id sits on its own superpixel
        row, column = ndimage.center_of_mass(image_exp.segments == feature)
        assert (x, y) == pytest.approx((column, row))
    plt.close(fig)
    html = explanation_html(image_exp)
    assert html.count("data:image/png;base64,") >= 1


def test_superpixel_heatmap_colours_follow_the_weights(image_exp):
    from limekit.viz import superpixel_heatmap

    fig = superpixel_heatmap(image_exp, 1)
    ax = fig.axes[0]
    heat = np.asarray(ax.images[1].get_array())
    weights = dict(image_exp.local_exp[1])
    segments = image_exp.segments
    for segment in (0, 7, 35):
        assert np.allclose(heat[segments == segment], weights.get(segment, 0.0))
    vmin, vmax = ax.images[1].get_clim()
    assert vmin == -vmax  # centred on zero
    assert len(fig.axes) == 2  # the colour bar
    plt.close(fig)


def test_shape_functions_mark_the_instance():
    from limekit.viz import shape_functions

    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(400, 3))

    def regression(X):
        return np.asarray(X)[:, 0] ** 2 + np.asarray(X)[:, 1]

    exp = TabularExplainer(X, mode="regression", surrogate="ebm", random_state=0).explain_instance(
        X[0], regression, num_samples=600
    )
    fig = shape_functions(exp, label=1)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 3
    for ax in axes:
        assert len(ax.lines) >= 2  # the curve and the instance marker (plus the zero line)
    marker = [line for line in axes[0].lines if line.get_linestyle() == "--"][0]
    feature = exp.local_exp[1][0][0]
    assert marker.get_xdata()[0] == pytest.approx(X[0, feature])
    plt.close(fig)
    with pytest.raises(ValueError, match="^label:"):
        shape_functions(tabular_exp_linear(), label=1)


def tabular_exp_linear():
    X = np.random.default_rng(1).normal(size=(100, 3))
    return TabularExplainer(X, random_state=0).explain_instance(X[0], proba, num_samples=100)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (34900.0, "34,900"),
        (-34900, "-34,900"),
        (12.0, "12"),
        (12.5, "12.5"),
        (0.00931, "0.00931"),
        (1234.567, "1,235"),
        (2.5e-7, "2.5e-07"),
        (1e300, "1e+300"),
        (0.0, "0"),
        (float("nan"), "nan"),
        ("Never-married", "Never-married"),
    ],
)
def test_numbers_are_shown_as_people_read_them(value, shown):
    from limekit.viz.numbers import readable

    assert readable(value) == shown


def test_html_values_have_no_scientific_notation_for_money():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.integers(0, 100_000, 300).astype(float), rng.normal(size=300)])
    row = np.array([34_900.0, 0.5])
    exp = TabularExplainer(X, feature_names=["income", "score"], random_state=0).explain_instance(
        row,
        lambda rows: np.column_stack([1 - (rows[:, 0] > 50_000), rows[:, 0] > 50_000]).astype(float),
        num_samples=300,
    )
    html = explanation_html(exp)
    assert "34,900" in html and "3.49e+04" not in html
