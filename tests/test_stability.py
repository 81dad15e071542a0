"""Stability diagnostics: Bayesian-bootstrap refits on the perturbations already predicted."""

import json

import numpy as np
import pytest

from limekit import LimekitError, TabularExplainer
from limekit.core.stability import SIGN_AGREEMENT_FLOOR, resolve_stability_samples, stability_scores
from limekit.text import TextExplainer

N_FEATURES = 10


def _train(n=1000, seed=0):
    return np.random.default_rng(seed).normal(size=(n, N_FEATURES))


def _logistic(beta):
    def predict_proba(X):
        p = 1 / (1 + np.exp(-(np.asarray(X) @ beta)))
        return np.column_stack([1 - p, p])

    return predict_proba


PLANTED = _logistic(np.r_[3.0, -2.0, 1.5, np.zeros(N_FEATURES - 3)])  # only features 0-2 matter
EVEN = _logistic(np.full(N_FEATURES, 0.05))  # every feature alike, weakly: no stable top 3


class Counter:
    def __init__(self, fn):
        self.fn, self.rows, self.calls = fn, 0, 0

    def __call__(self, X):
        self.calls += 1
        self.rows += len(X)
        return self.fn(X)


def test_scores_by_hand():
    reference = [(0, 1.0), (1, -0.5)]
    draws = [{0: 1.0, 1: -0.4, 2: 0.1}, {0: 0.9, 2: 0.6, 1: 0.05}]
    scores = stability_scores(reference, draws)
    assert scores["jaccard"] == pytest.approx((1.0 + 1 / 3) / 2)  # second draw's top 2 is {0, 2}
    assert scores["sign_agreement"] == {0: 1.0, 1: 0.5}
    assert scores["weight_std"][0] == pytest.approx(0.05)
    assert scores["weight_std"][1] == pytest.approx(np.std([-0.4, 0.05]))
    assert scores["n_draws"] == 2
    assert scores["unsure_features"] == [1]  # half the refits disagree on feature 1's sign
    assert scores["sign_agreement_floor"] == SIGN_AGREEMENT_FLOOR
    assert json.loads(json.dumps(scores))["unsure_features"] == [1]  # the record says it, also read back
    dropped = stability_scores(reference, [{0: 2.0, 3: 1.0}])  # a draw without feature 1: weight 0
    assert dropped["sign_agreement"][1] == 0.0 and dropped["weight_std"][1] == 0.0


@pytest.mark.parametrize("discretize", [True, False])
def test_planted_features_are_stable_and_an_even_model_is_not(discretize):
    X = _train()
    row = np.r_[1.5, -1.5, 1.5, np.zeros(N_FEATURES - 3)]  # planted features in outer quartiles
    kwargs = dict(discretize_continuous=discretize, random_state=0, stability_samples=30)
    planted = TabularExplainer(X, **kwargs).explain_instance(row, PLANTED, num_features=3, num_samples=2000)
    alike = np.full(N_FEATURES, 0.3)  # every feature in the same place, the model treats them alike
    even = TabularExplainer(X, **kwargs).explain_instance(alike, EVEN, num_features=3, num_samples=2000)
    stable, shaky = planted.diagnostics["stability"][1], even.diagnostics["stability"][1]
    assert {f for f, _ in planted.local_exp[1]} == {0, 1, 2}
    assert stable["jaccard"] > 0.95 and min(stable["sign_agreement"].values()) == 1.0
    assert shaky["jaccard"] < 0.8  # the refits pick different features among equals
    assert stable["n_draws"] == 30 and set(stable["weight_std"]) == {0, 1, 2}
    assert max(stable["weight_std"].values()) < 0.25 * min(abs(w) for _, w in planted.local_exp[1])


def test_no_model_call_and_same_seed_same_figures():
    X = _train()
    counts = {}
    results = []
    for n in (0, 20, 20):
        model = Counter(PLANTED)
        exp = TabularExplainer(X, random_state=3, stability_samples=n).explain_instance(
            X[0], model, num_features=4, num_samples=1000
        )
        counts.setdefault(n, set()).add((model.calls, model.rows))
        results.append(exp)
    assert counts[0] == counts[20]  # the refits reuse the predicted perturbations
    assert results[0].diagnostics["stability"] is None
    assert results[1].diagnostics["stability"] == results[2].diagnostics["stability"]
    assert results[0].as_list(1) == results[1].as_list(1)  # the explanation itself is unchanged


def test_per_call_override_gam_surrogate_and_json():
    X = _train(600)
    explainer = TabularExplainer(X, random_state=0, surrogate="ebm")
    assert explainer.explain_instance(X[0], PLANTED, num_samples=400).diagnostics["stability"] is None
    exp = explainer.explain_instance(X[0], PLANTED, num_features=3, num_samples=400, stability_samples=4)
    stability = exp.diagnostics["stability"][1]
    assert stability["n_draws"] == 4 and set(stability["weight_std"]) == {f for f, _ in exp.local_exp[1]}
    assert exp.fits[1].feature_space == "original"
    back = json.loads(exp.to_json())
    assert back["diagnostics"]["stability"]["1"]["jaccard"] == pytest.approx(stability["jaccard"])
    html = exp.as_html()
    assert "bootstrap refits" in html and f"{stability['jaccard']:.2f}" in html


def test_text_frontend_reports_stability():
    from test_text import DOC, planted_proba

    exp = TextExplainer(random_state=0, stability_samples=10).explain_instance(
        DOC, planted_proba, num_features=3, num_samples=600
    )
    stability = exp.diagnostics["stability"][1]
    assert stability["jaccard"] > 0.9 and stability["n_draws"] == 10


def test_image_frontend_reports_stability():
    from skimage import data, transform
    from test_image import grid_segments, region_model

    from limekit.image import ImageExplainer

    image = np.clip(np.round(transform.resize(data.astronaut(), (64, 64)) * 255), 1, 255).astype(np.uint8)
    exp = ImageExplainer(random_state=0, stability_samples=8).explain_instance(
        image,
        region_model(image),
        segmentation_fn=lambda img: grid_segments(),
        hide_color=0,
        num_features=4,
        num_samples=300,
        progress_bar=False,
    )
    stability = exp.diagnostics["stability"][1]
    assert stability["n_draws"] == 8 and 0.0 <= stability["jaccard"] <= 1.0
    assert set(stability["sign_agreement"]) == {f for f, _ in exp.local_exp[1][:4]}


@pytest.mark.parametrize(
    "value, kind", [(-1, ValueError), (1, ValueError), (2.5, TypeError), (True, TypeError), ("auto", TypeError)]
)
def test_bad_stability_samples_named_before_the_model_is_called(value, kind):
    X = _train(200)
    with pytest.raises(kind) as error:
        TabularExplainer(X, stability_samples=value)
    assert error.value.argument == "stability_samples" and isinstance(error.value, LimekitError)
    model = Counter(PLANTED)
    with pytest.raises(kind):
        TabularExplainer(X).explain_instance(X[0], model, stability_samples=value)
    assert model.calls == 0
    with pytest.raises(kind):
        resolve_stability_samples(value)
