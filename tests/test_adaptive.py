"""num_samples='auto': rounds until the explanation is stable, a verdict for every explanation, kernel sampling."""

import json
from dataclasses import FrozenInstanceError, replace

import numpy as np
import pytest
from cases_adaptive import TEXT, Counting, word_model

from limekit import ImageExplainer, LimekitValueError, TabularExplainer, TextExplainer
from limekit.core.adaptive import SamplingPlan, Verdict, next_sample_size, resolve_sampling, stop_reason
from limekit.viz import verdict_text

KEYS = {
    "num_samples",
    "model_calls",
    "rounds",
    "converged",
    "tied_features",
    "tied_names",
    "method",
    "adaptive",
    "agreement",
    "max_samples",
    "confidence",
    "scheme",
}


def planted_tabular(X):
    X = np.asarray(X, dtype=float)
    p = 1 / (1 + np.exp(-(3 * X[:, 0] - 2 * X[:, 1] + 1.5 * X[:, 2])))
    return np.column_stack([1 - p, p])


def tabular_data():
    return np.random.default_rng(0).normal(size=(400, 6))


def test_planted_features_converge_within_1000_samples():
    X = tabular_data()
    exp = TabularExplainer(X, random_state=0, discretize_continuous=False).explain_instance(
        X[3], planted_tabular, num_features=3, num_samples="auto"
    )
    sampling = exp.diagnostics["sampling"]
    assert sampling["converged"] and sampling["num_samples"] == 1000 and sampling["rounds"] == 1
    assert {name for name, _ in exp.as_list()} == {"0", "1", "2"}
    text = TextExplainer(random_state=0).explain_instance(
        TEXT, word_model({"alpha": 2.0, "gamma": -1.5, "eta": 1.0}), num_features=3, num_samples="auto"
    )
    assert text.diagnostics["sampling"]["converged"] and text.diagnostics["sampling"]["num_samples"] == 1000
    assert {w for w, _ in text.as_list()} == {"alpha", "gamma", "eta"}


def test_two_exactly_tied_features_end_not_converged_and_are_named():
    model = Counting(word_model({"alpha": 1.0, "beta": 1.0, "gamma": 0.2}))
    exp = TextExplainer(random_state=0, batch_size=None).explain_instance(
        TEXT, model, num_features=1, num_samples="auto", max_samples=6000
    )
    sampling = exp.diagnostics["sampling"]
    assert not sampling["converged"] and set(sampling["tied_names"]) == {"alpha", "beta"}
    # at max_samples, or earlier when the test's own projection is far beyond it
    assert (sampling["stopped"], sampling["num_samples"]) == ("max_samples", 6000) or (
        sampling["stopped"] == "out_of_reach" and sampling["num_samples"] < 6000
    )
    n = sampling["num_samples"]
    assert sum(model.sizes) == n and len(model.sizes) == sampling["rounds"] == sampling["model_calls"]
    # a tie that more samples would not break is an answer, named as such (its place and its members)
    assert sampling["outcome"] == "tied" and sampling["settled"] == {1: []}
    (group,) = sampling["tie_groups"][1]
    assert group["places"] == [1] and set(group["names"]) == {"alpha", "beta"}
    text = verdict_text(sampling)
    assert text.startswith(f"a tie after {n:,} samples") and "place 1: one of alpha or beta" in text
    assert "alpha" in exp.as_html() and "tie A (place 1)" in exp.as_html()


def test_a_model_linear_in_two_tied_features_is_not_called_stable():
    # no residual at all: the full fit's sandwich would be zero, but forward selection's first pick
    # between alpha and beta still changes with the sample
    def linear(texts):
        score = np.array(
            [0.3 * ("alpha" in t.split()) + 0.3 * ("beta" in t.split()) + 0.1 * ("gamma" in t.split()) for t in texts]
        )
        return np.column_stack([1 - score, score])

    exp = TextExplainer(random_state=0).explain_instance(
        TEXT, linear, num_features=1, num_samples="auto", max_samples=4000
    )
    sampling = exp.diagnostics["sampling"]
    assert not sampling["converged"] and set(sampling["tied_names"]) == {"alpha", "beta"}
    picks = {
        TextExplainer(random_state=seed)
        .explain_instance(TEXT, linear, num_features=1, num_samples=1000)
        .as_list()[0][0]
        for seed in range(8)
    }
    assert picks == {"alpha", "beta"}  # and indeed the pick changes from seed to seed


def test_rounds_never_predict_a_perturbation_twice_and_grow_the_sample():
    model = Counting(word_model({"alpha": 1.0, "beta": 0.9, "gamma": 0.8, "delta": 0.77}))
    exp = TextExplainer(random_state=3, batch_size=None).explain_instance(
        TEXT, model, num_features=3, num_samples="auto"
    )
    sampling = exp.diagnostics["sampling"]
    assert sampling["rounds"] > 1  # close weights need more than the first round
    assert model.sizes[0] == 1000 and sum(model.sizes) == sampling["num_samples"] == exp.diagnostics["num_samples"]
    assert len(model.sizes) == sampling["model_calls"] == sampling["rounds"]
    assert all(b > 0 for b in model.sizes)


def test_same_seed_same_adaptive_explanation():
    model = word_model({"alpha": 1.0, "beta": 0.9, "gamma": 0.8})
    runs = [
        json.dumps(
            TextExplainer(random_state=5).explain_instance(TEXT, model, num_features=2, num_samples="auto").to_dict(),
            sort_keys=True,
        )
        for _ in range(2)
    ]
    assert runs[0] == runs[1]


def test_explain_many_makes_one_call_per_round_for_every_instance_still_sampling():
    texts = [TEXT, "alpha beta gamma", "alpha gamma delta epsilon"]
    model = Counting(word_model({"alpha": 1.0, "beta": 1.0, "gamma": 0.3}))
    explainer = TextExplainer(random_state=2, batch_size=None)
    many = explainer.explain_many(texts, model, num_features=1, num_samples="auto", max_samples=4000)
    rounds = [e.diagnostics["sampling"]["rounds"] for e in many]
    assert len(model.sizes) == max(rounds)  # one call per round, shared by the instances still sampling
    assert sum(model.sizes) == sum(e.diagnostics["sampling"]["num_samples"] for e in many)
    single = [explainer.explain_instance(t, model, num_features=1, num_samples="auto", max_samples=4000) for t in texts]
    assert [json.dumps(e.to_dict(), sort_keys=True) for e in many] == [
        json.dumps(e.to_dict(), sort_keys=True) for e in single
    ]


def test_fixed_num_samples_reports_the_same_keys():
    X = tabular_data()
    exp = TabularExplainer(X, random_state=0).explain_instance(X[0], planted_tabular, num_samples=800)
    sampling = exp.diagnostics["sampling"]
    assert KEYS <= set(sampling) and sampling["rounds"] == 1 and sampling["num_samples"] == 800
    assert sampling["method"] == "sandwich" and isinstance(sampling["converged"], bool)
    assert not sampling["adaptive"]


def test_other_surrogates_use_the_bootstrap_test():
    exp = TextExplainer(random_state=0, surrogate="lasso").explain_instance(
        TEXT, word_model({"alpha": 2.0, "gamma": -1.5}), num_features=2, num_samples="auto"
    )
    sampling = exp.diagnostics["sampling"]
    assert sampling["method"] == "bootstrap" and sampling["converged"] and sampling["agreement"] >= 0.95
    assert "agreed in" in verdict_text(sampling)
    fixed = TextExplainer(random_state=0, surrogate="lasso", stability_samples=10).explain_instance(
        TEXT, word_model({"alpha": 2.0, "gamma": -1.5}), num_features=2, num_samples=600
    )
    assert fixed.diagnostics["sampling"]["method"] == "bootstrap"  # decided by the stability refits


def test_kernel_sampling_draws_from_the_kernel_and_fits_unweighted():
    model = word_model({"alpha": 2.0, "gamma": -1.5, "eta": 1.0})
    lime_exp = TextExplainer(random_state=1).explain_instance(TEXT, model, num_features=3, num_samples=600)
    kernel_exp = TextExplainer(random_state=1).explain_instance(
        TEXT, model, num_features=3, num_samples=600, sampling="kernel"
    )
    assert kernel_exp.diagnostics["effective_sample_size"] == pytest.approx(600)  # unit weights
    assert lime_exp.diagnostics["effective_sample_size"] < 600
    assert {w for w, _ in kernel_exp.as_list()} == {"alpha", "gamma", "eta"}
    assert kernel_exp.diagnostics["sampling"]["scheme"] == "kernel"
    # the kept-word counts follow C(d, i) * kernel(i): mostly near the instance with lime's text kernel
    image = np.random.default_rng(0).random((16, 16, 3))
    grid = np.indices((16, 16))[0] // 4 * 4 + np.indices((16, 16))[1] // 4
    img_exp = ImageExplainer(random_state=0).explain_instance(
        image,
        lambda b: np.column_stack(
            [np.asarray(b)[:, :8, :8, 0].mean((1, 2)), 1 - np.asarray(b)[:, :8, :8, 0].mean((1, 2))]
        ),
        segmentation_fn=lambda img: grid,
        num_samples=300,
        sampling="kernel",
        progress_bar=False,
        top_labels=1,
    )
    assert img_exp.diagnostics["effective_sample_size"] == pytest.approx(300)


def test_sampling_arguments_are_checked_before_the_model_is_called():
    model = Counting(planted_tabular)
    X = tabular_data()
    explainer = TabularExplainer(X)
    for kwargs, argument in [
        (dict(num_samples="many"), "num_samples"),
        (dict(confidence=1.5), "confidence"),
        (dict(num_samples="auto", max_samples=1), "max_samples"),
        (dict(sampling="glime"), "sampling"),
    ]:
        with pytest.raises(LimekitValueError) as error:
            explainer.explain_instance(X[0], model, **kwargs)
        assert error.value.argument == argument
    with pytest.raises(LimekitValueError) as error:  # no binary representation to draw from the kernel
        TabularExplainer(X, discretize_continuous=False).explain_instance(X[0], model, sampling="kernel")
    assert error.value.argument == "sampling"
    with pytest.raises(LimekitValueError, match="distance_metric"):
        TextExplainer().explain_instance(TEXT, model, sampling="kernel", distance_metric="manhattan")
    assert model.sizes == []


def test_round_sizes_follow_the_projection_and_early_looks_are_stricter():
    plan = resolve_sampling("auto", max_samples=10_000)
    assert isinstance(plan, SamplingPlan) and plan.initial == 1000
    assert plan.required(1000) == pytest.approx(0.995) and plan.required(10_000) == 0.95
    assert resolve_sampling(2000).required(2000) == 0.95  # a fixed size has one look

    def projected(needed):
        return Verdict("sandwich", False, 0.5, 0.8, 0.9, needed)

    assert next_sample_size(1000, projected(1440), plan) == 1440  # the projection
    assert next_sample_size(1000, projected(50_000), plan) == 2000  # at most doubling
    assert next_sample_size(1000, projected(1100), plan) == 1250  # at least +25%
    assert next_sample_size(8000, projected(None), plan) == 10_000  # never past max_samples


def test_one_rule_says_when_sampling_stops():
    plan = resolve_sampling("auto", max_samples=10_000)
    unsettled = Verdict("sandwich", False, 0.5, 0.8, 0.9, 3000)
    assert stop_reason(1000, unsettled, plan) is None  # within reach: another round
    assert stop_reason(2000, replace(unsettled, converged=True), plan) == "converged"
    assert stop_reason(10_000, unsettled, plan) == "max_samples"
    assert stop_reason(1000, replace(unsettled, needed=10**9), plan) is None  # one round's projection is too noisy
    assert stop_reason(2000, replace(unsettled, needed=10**9), plan) == "out_of_reach"
    assert stop_reason(2000, replace(unsettled, needed=None), plan) == "out_of_reach"  # no size would settle it
    assert stop_reason(2000, Verdict("bootstrap", False, 0.4), plan) is None  # no projection: never out of reach
    assert stop_reason(5000, unsettled, resolve_sampling(5000)) == "num_samples"


def test_the_verdict_records_what_its_test_reports():
    sandwich = Verdict("sandwich", False, 0.5, 0.8, 0.9, 3000, (4, 2)).stopped_by("max_samples")
    assert sandwich.to_dict() == {
        "method": "sandwich",
        "jaccard": 0.8,
        "agreement": 0.5,
        "sign_agreement": 0.9,
        "needed": 3000,
        "converged": False,
        "tied_features": [4, 2],
        "stopped": "max_samples",
    }
    assert Verdict("bootstrap", True, 1.0).to_dict() == {
        "method": "bootstrap",
        "agreement": 1.0,
        "converged": True,
        "tied_features": [],
    }
    assert Verdict(None, None).to_dict() == {"method": None, "converged": None, "tied_features": []}
    with pytest.raises(FrozenInstanceError):
        sandwich.converged = True


def test_the_verdict_measures_agreement_between_samples():
    # planted weights: every simulated pair of samples names the same features and signs
    X = tabular_data()
    planted = (
        TabularExplainer(X, random_state=0, discretize_continuous=False)
        .explain_instance(X[3], planted_tabular, num_features=3, num_samples=2000)
        .diagnostics["sampling"]
    )
    assert planted["method"] == "sandwich" and planted["converged"]
    assert planted["agreement"] == planted["jaccard"] == planted["sign_agreement"] == 1.0
    # an exact tie at k = 1: far from agreement, the two words named, more samples projected
    tie = (
        TextExplainer(random_state=0)
        .explain_instance(TEXT, word_model({"alpha": 1.0, "beta": 1.0, "gamma": 0.2}), num_features=1, num_samples=2000)
        .diagnostics["sampling"]
    )
    assert not tie["converged"] and tie["agreement"] < 0.9 and set(tie["tied_names"]) == {"alpha", "beta"}
    assert tie["needed"] is None or tie["needed"] > 2000
    assert "agreed in 100% of resampled fits" in verdict_text(planted)


def test_tabular_kernel_sampling_follows_the_kernel_weighted_lime_law():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 6))
    X[:, 5] = rng.integers(0, 3, 2000)
    explainer = TabularExplainer(X, categorical_features=[5], random_state=0)
    from limekit.core.kernel_sampling import distance_of_kept_count

    kernel = explainer.kernel_fn(distance_of_kept_count(np.arange(7), 6, "euclidean"))
    Z_kernel, inverse, _ = explainer.sampler.sample_kernel(X[0], 100_001, np.random.default_rng(1), kernel)
    Z_lime, _, _ = explainer.sampler.sample(X[0], 100_001, np.random.default_rng(2))
    weights = kernel[Z_lime[1:].sum(axis=1).astype(int)]
    np.testing.assert_allclose(Z_kernel[1:].mean(axis=0), weights @ Z_lime[1:] / weights.sum(), atol=0.01)
    # matching features keep the instance's bin, the others never do
    bins = explainer.discretizer.discretize(inverse)
    first = explainer.discretizer.discretize(X[0])
    np.testing.assert_array_equal(Z_kernel, (bins == first).astype(float))
    exp = explainer.explain_instance(X[0], planted_tabular, num_features=2, num_samples=2000, sampling="kernel")
    assert exp.diagnostics["effective_sample_size"] == pytest.approx(2000)
    with pytest.raises(LimekitValueError, match="sampling"):
        TabularExplainer(X, discretize_continuous=False).explain_instance(X[0], planted_tabular, sampling="kernel")
