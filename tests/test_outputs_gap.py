"""Issue 24, deliverables 6 and 8: the model's prediction beside the surrogate's, and output details.

The local gap (surrogate minus model at the instance) is in the JSON, the HTML
and the waterfall plot (the command line's in tests/test_cli.py); a low R^2 or a large gap is flagged
like an unsure verdict.  Image explanations take class names, progress bars
appear only on a terminal or when asked for, image batches follow the
classifier's own batch size, and the HTML shows fidelity as a table and the
"same sign" column whenever stability refits exist.
"""

import json
import re

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from limekit import Explanation, ImageExplainer, TabularExplainer, TextExplainer
from limekit._validation import LimekitError, LimekitValueError
from limekit.core import score as score_module
from limekit.core.trust import LARGE_GAP, LOW_R2, fit_warnings
from limekit.viz import explanation_html, waterfall


def linear_proba(X):
    p = 1 / (1 + np.exp(-(2 * X[:, 0] - 1.5 * X[:, 1])))
    return np.column_stack([1 - p, p])


def interaction_proba(X):
    """A strong interaction: no additive surrogate can follow it around the origin."""
    p = 1 / (1 + np.exp(-(6 * X[:, 0] * X[:, 1])))
    return np.column_stack([1 - p, p])


@pytest.fixture(scope="module")
def data():
    return np.random.default_rng(0).normal(size=(400, 3))


def explain(data, model, **options):
    explainer_options = {k: options.pop(k) for k in ("stability_samples", "surrogate_task", "mode") if k in options}
    explainer = TabularExplainer(data, random_state=0, discretize_continuous=False, **explainer_options)
    return explainer.explain_instance(data[0], model, num_samples=options.pop("num_samples", 1000), **options)


@pytest.fixture(scope="module")
def good(data):
    return explain(data, linear_proba)


@pytest.fixture(scope="module")
def poor(data):
    return explain(data, interaction_proba)


# ---------------------------------------------------------------- the gap, in the API and the JSON


def test_the_gap_is_surrogate_minus_model_at_the_instance(good):
    assert good.model_prediction(1) == good.predict_proba[1]
    assert good.local_gap(1) == pytest.approx(float(good.local_preds[1][0]) - good.predict_proba[1], abs=1e-15)
    with pytest.raises(LimekitValueError, match="label"):  # not explained
        good.local_gap(0)


def test_the_gap_is_in_the_json_and_round_trips(good):
    record = good.to_dict()["explanations"]["1"]
    assert record["model_prediction"] == good.predict_proba[1]
    assert record["local_gap"] == good.local_gap(1)
    assert record["local_gap"] == pytest.approx(record["local_pred"] - record["model_prediction"], abs=1e-15)
    text = good.to_json()
    back = Explanation.from_json(text)
    assert back.local_gap(1) == good.local_gap(1)
    assert back.model_prediction(1) == good.model_prediction(1)
    assert back.to_dict() == json.loads(text)


def test_json_written_before_the_gap_still_loads_and_gains_it(good):
    data = json.loads(good.to_json())
    for record in data["explanations"].values():
        del record["model_prediction"], record["local_gap"]
    back = Explanation.from_json(json.dumps(data))
    assert back.local_gap(1) == good.local_gap(1)
    assert back.to_dict()["explanations"]["1"]["local_gap"] == good.local_gap(1)


def test_a_stored_gap_must_be_a_number(good):
    data = json.loads(good.to_json())
    data["explanations"]["1"]["local_gap"] = "large"
    with pytest.raises(LimekitError, match=r"explanations\[.1.\]\.local_gap: expected a finite number"):
        Explanation.from_json(json.dumps(data))


def test_regression_gap_reads_the_predicted_value(data):
    def value(X):
        return 3 * X[:, 0] - 2 * X[:, 1]

    exp = explain(data, value, mode="regression")
    assert exp.model_prediction() == exp.predicted_value == pytest.approx(value(data[:1])[0])
    assert exp.local_gap() == pytest.approx(float(exp.local_preds[1][0]) - exp.predicted_value, abs=1e-12)
    assert exp.to_dict()["explanations"]["1"]["model_prediction"] == exp.predicted_value


def test_a_classification_surrogate_is_compared_on_the_probability_scale(data):
    exp = explain(data, linear_proba, surrogate_task="classification")
    surrogate = float(exp.local_preds[1][0])
    assert 0.0 <= surrogate <= 1.0  # its probability that the model picks label 1, not its logit
    assert surrogate != pytest.approx(exp.local_decisions[1])
    assert exp.local_gap(1) == pytest.approx(surrogate - exp.predict_proba[1], abs=1e-15)


# ---------------------------------------------------------------- the thresholds, in one place


def test_thresholds_flag_a_low_r2_and_a_large_gap():
    assert LOW_R2 == 0.5 and LARGE_GAP == 0.1
    assert fit_warnings("classification", 0.51, 0.09) == {}
    assert set(fit_warnings("classification", 0.49, 0.0)) == {"r2"}
    assert set(fit_warnings("classification", 0.9, -0.11)) == {"gap"}
    # regression: a tenth of the model's output range over the perturbations
    assert fit_warnings("regression", 0.9, 9.0, 50.0, min_value=0.0, max_value=100.0) == {}
    assert set(fit_warnings("regression", 0.9, 11.0, 50.0, min_value=0.0, max_value=100.0)) == {"gap"}
    # a model constant over the perturbations: a rounding-size gap is not flagged, a real one is
    assert fit_warnings("regression", 0.9, 1e-13, 5.0, min_value=5.0, max_value=5.0) == {}
    assert set(fit_warnings("regression", 0.9, 0.5, 5.0, min_value=5.0, max_value=5.0)) == {"gap"}
    assert fit_warnings("classification", None, None) == {}


def test_a_planted_interaction_gives_a_low_r2_warning(good, poor):
    assert poor.scores[1] < LOW_R2 and "r2" in poor.fit_warnings(1)
    assert good.scores[1] > LOW_R2 and good.fit_warnings(1) == {}


# ---------------------------------------------------------------- the views


def trust_box(html):
    return re.search(r'<div class="trust">(.*?)</table></div>', html).group(1)


def test_the_html_shows_the_gap_and_flags_a_low_r2(good, poor):
    box = trust_box(explanation_html(poor))
    assert f"the model {poor.predict_proba[1]:.3f}" in box
    assert f"local gap {poor.local_gap(1):+.3f}" in box
    assert f'<span class="warn">{poor.scores[1]:.3f}</span>' in box  # the R^2 itself, flagged
    assert "unsure: low R²" in box
    calm = trust_box(explanation_html(good))
    assert f"local gap {good.local_gap(1):+.3f}" in calm
    assert "unsure" not in calm and f"{good.scores[1]:.3f}</span>" not in calm


def test_the_html_flags_a_large_gap(poor):
    data = poor.to_dict()
    data["explanations"]["1"]["local_gap"] = 0.25
    data["explanations"]["1"]["local_pred"] = data["explanations"]["1"]["model_prediction"] + 0.25
    back = Explanation.from_dict(data)
    box = trust_box(explanation_html(back))
    assert '<span class="warn">+0.250</span>' in box and "unsure: large local gap +0.25" in box


def test_fidelity_is_a_table_not_a_dict(data):
    exp = explain(data, linear_proba, fidelity_samples=200)
    box = trust_box(explanation_html(exp))
    assert "n_samples" not in box and "effective_sample_size" not in box and "{" not in box
    table = box[box.index("<table>") :]
    assert table.count("<tr>") == 3  # the header, held out, in sample
    held = exp.diagnostics["fidelity"][1]
    assert "<td>held out</td>" in table and f'<td class="num">{held["r2"]:.3f}</td>' in table
    assert f'<td class="num">{held["n_samples"]}</td>' in table


def test_the_same_sign_column_follows_the_stability_refits(data, good):
    steady = explain(data, linear_proba, stability_samples=10)
    html = explanation_html(steady)
    assert "same sign" in html
    signs = steady.diagnostics["stability"][1]["sign_agreement"]
    for feature, weight in steady.local_exp[1]:
        assert f'<td class="num">{signs[feature]:.0%}</td><td class="num">{weight:+.4f}</td>' in html
    assert "same sign" not in explanation_html(good)
    assert "same sign" in explanation_html(Explanation.from_json(steady.to_json()))  # from JSON too


def test_regression_html_shows_stability_and_fidelity(data):
    def value(X):
        return 3 * X[:, 0] - 2 * X[:, 1]

    exp = explain(data, value, mode="regression", stability_samples=5, fidelity_samples=100)
    html = explanation_html(exp)
    assert "same sign" in html and "<td>held out</td>" in html and "stability over 5 bootstrap refits" in html


def marker(fig):
    (line,) = [line for line in fig.axes[0].get_lines() if line.get_label() == "model prediction"]
    return float(line.get_xdata()[0])


def test_the_waterfall_marks_the_model_prediction(good):
    fig = waterfall(good, label=1)
    try:
        assert marker(fig) == pytest.approx(good.predict_proba[1])
        ax = fig.axes[0]
        assert "model prediction" in [t.get_text() for t in ax.get_yticklabels()]
        assert f"local gap {good.local_gap(1):+.3g}" in ax.get_xlabel()
        end = ax.patches[-1].get_x() + ax.patches[-1].get_width()
        assert end == pytest.approx(float(good.local_preds[1][0]), abs=1e-9)  # still ends at the surrogate
        again = waterfall(Explanation.from_json(good.to_json()), label=1)  # from JSON too
        assert marker(again) == pytest.approx(good.predict_proba[1])
    finally:
        plt.close("all")


def test_the_waterfall_of_a_classifier_surrogate_marks_the_model_logit(data):
    exp = explain(data, linear_proba, surrogate_task="classification")
    fig = waterfall(exp, label=1)
    try:
        p = exp.predict_proba[1]
        assert marker(fig) == pytest.approx(np.log(p / (1 - p)))
        assert "surrogate logit" in fig.axes[0].get_xlabel()
    finally:
        plt.close("all")


# ---------------------------------------------------------------- progress bars


def text_proba(texts):
    p = np.array([0.9 if "good" in t else 0.2 for t in texts])
    return np.column_stack([1 - p, p])


TEXT = "a good film with good music and a dull ending"


def test_no_bar_when_stderr_is_not_a_terminal(capsys):
    explainer = TextExplainer(random_state=0, batch_size=50)  # progress_bar='auto' by default
    assert explainer.progress_bar == "auto"
    explainer.explain_instance(TEXT, text_proba, num_samples=300)
    assert capsys.readouterr().err == ""


def test_a_bar_when_asked_for(capsys):
    TextExplainer(random_state=0, batch_size=50, progress_bar=True).explain_instance(TEXT, text_proba, num_samples=300)
    assert "predicting" in capsys.readouterr().err


def test_a_bar_per_call_on_every_explainer(capsys, data):
    TextExplainer(random_state=0, batch_size=50, progress_bar=False).explain_instance(
        TEXT, text_proba, num_samples=300, progress_bar=True
    )
    assert "predicting" in capsys.readouterr().err
    tabular = TabularExplainer(data, random_state=0, batch_size=100, progress_bar=True)
    tabular.explain_instance(data[0], linear_proba, num_samples=500, progress_bar=False)
    assert capsys.readouterr().err == ""
    tabular.explain_instance(data[0], linear_proba, num_samples=500)
    assert "predicting" in capsys.readouterr().err


class Terminal:
    """A stand-in for a terminal's stderr."""

    def __init__(self):
        self.text = []

    def write(self, text):
        self.text.append(text)

    def flush(self):
        pass

    def isatty(self):
        return True


def test_auto_shows_a_bar_on_a_terminal_once_the_delay_has_passed(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    monkeypatch.setattr(score_module, "PROGRESS_DELAY", 0.0)
    TextExplainer(random_state=0, batch_size=50).explain_instance(TEXT, text_proba, num_samples=300)
    assert "predicting" in "".join(terminal.text)
    terminal.text.clear()
    monkeypatch.setattr(score_module, "PROGRESS_DELAY", 60.0)  # a short run: no bar
    TextExplainer(random_state=0, batch_size=50).explain_instance(TEXT, text_proba, num_samples=300)
    assert "predicting" not in "".join(terminal.text)


@pytest.mark.parametrize("bad", ["yes", None, 1])
def test_progress_bar_takes_auto_true_or_false(bad):
    with pytest.raises(LimekitValueError, match="progress_bar"):
        TextExplainer(progress_bar=bad)


# ---------------------------------------------------------------- images: class names, batch size


SIZE = 24
GRID = np.arange(SIZE * SIZE).reshape(SIZE, SIZE)
SEGMENTS = (GRID // SIZE // 8) * 3 + (GRID % SIZE) // 8  # nine 8 x 8 cells


def square():
    image = np.zeros((SIZE, SIZE, 3), dtype=np.uint8)
    image[:8, :8] = 220
    return image


class CountingModel:
    """Class probabilities from the top-left cell's brightness; records each call's batch size."""

    def __init__(self, batch_size=None):
        if batch_size is not None:
            self.batch_size = batch_size
        self.calls = []

    def __call__(self, images):
        self.calls.append(len(images))
        p = np.asarray(images, dtype=float)[:, :8, :8].mean(axis=(1, 2, 3)) / 255
        return np.column_stack([1 - p, p])


def explain_image(model, explainer=None, **options):
    explainer = explainer or ImageExplainer(random_state=0, progress_bar=False)
    return explainer.explain_instance(
        square(),
        model,
        labels=(1,),
        top_labels=None,
        num_samples=60,
        hide_color=0,
        segmentation_fn=lambda image: SEGMENTS,
        **options,
    )


def test_image_class_names_name_the_label_in_the_views():
    explainer = ImageExplainer(random_state=0, class_names=["background", "square"], progress_bar=False)
    exp = explain_image(CountingModel(), explainer)
    assert exp.class_names == ["background", "square"]
    html = explanation_html(exp)
    assert "Explanation for square" in html and "Superpixels for square" in html
    assert "Explanation for 1" not in html
    assert explain_image(CountingModel()).class_names is None  # lime's: none unless given


@pytest.mark.parametrize(
    "own, asked, expected",
    [(7, None, 7), (7, 5, 5), (None, None, 10), (True, None, 10), ("auto", None, 10)],
)
def test_image_batches_follow_the_classifiers_batch_size(own, asked, expected):
    model = CountingModel(own)
    explain_image(model, batch_size=asked, fidelity_samples=0)
    assert max(model.calls) == expected and sum(model.calls) == 60
    assert all(n == expected for n in model.calls[:-1])


def test_compat_keeps_limes_batches_of_ten():
    from limekit.compat import lime_image

    model = CountingModel(7)
    lime_image.LimeImageExplainer(random_state=0).explain_instance(
        square(), model, top_labels=1, num_samples=60, segmentation_fn=lambda image: SEGMENTS, progress_bar=False
    )
    assert max(model.calls) == 10
