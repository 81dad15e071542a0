"""variance_reduction='emulator': lime's estimand with a smaller variance, a test that counts every error."""

import json

import numpy as np
import pytest
from cases_adaptive import TEXT, Counting, word_model

from limekit import ImageExplainer, LimekitValueError, TabularExplainer, TextExplainer
from limekit.core.emulator import cheap_sample_size, emulator_targets
from limekit.core.neighbourhood import Neighbourhood
from limekit.viz import verdict_text
from limekit.weighted import WeightedDesign, weighted_r2

pytestmark = pytest.mark.slow  # the emulator's fits: seconds per test (make test-fast leaves them out)


def interacting_tabular(X):
    """A black box with an interaction, which lime's linear fit leaves in its residual."""
    X = np.asarray(X, dtype=float)
    p = 1 / (1 + np.exp(-(2 * X[:, 0] + 2 * X[:, 1] * X[:, 2] + X[:, 3])))
    return np.column_stack([1 - p, p])


def tabular_data():
    return np.random.default_rng(0).normal(size=(2000, 6))


def coefficients(exp, d):
    out = np.zeros(d)
    for feature, weight in exp.local_exp[1]:
        out[feature] = weight
    return out


def test_same_estimand_as_lime_with_a_smaller_variance():
    X = tabular_data()
    d = X.shape[1]
    kwargs = dict(num_features=d, num_samples=2000)
    plain = np.array(
        [
            coefficients(TabularExplainer(X, random_state=s).explain_instance(X[0], interacting_tabular, **kwargs), d)
            for s in range(12)
        ]
    )
    reduced = np.array(
        [
            coefficients(
                TabularExplainer(X, random_state=s).explain_instance(
                    X[0], interacting_tabular, variance_reduction="emulator", **kwargs
                ),
                d,
            )
            for s in range(12)
        ]
    )
    truth = coefficients(
        TabularExplainer(X, random_state=99).explain_instance(
            X[0], interacting_tabular, num_features=d, num_samples=200_000
        ),
        d,
    )
    # the variance falls (the emulator follows the interaction) ...
    assert reduced.var(axis=0).sum() < 0.5 * plain.var(axis=0).sum()
    # ... and the mean stays lime's: within 4 standard errors (and the truth's own error) of the large sample
    error = np.abs(reduced.mean(axis=0) - truth)
    standard_error = np.sqrt(reduced.var(axis=0, ddof=1) / len(reduced) + plain.var(axis=0, ddof=1) * 2000 / 200_000)
    assert np.all(error <= 4 * standard_error + 1e-3), (error, standard_error)


@pytest.fixture(scope="module")
def tree_model():
    """A gradient-boosted black box with an interaction, as the emulator meets in practice."""
    from sklearn.ensemble import GradientBoostingClassifier

    X = tabular_data()
    y = (X[:, 0] + X[:, 1] * X[:, 2] + 0.5 * X[:, 3] > 0).astype(int)
    return X, GradientBoostingClassifier(n_estimators=50, max_depth=3, random_state=0).fit(X, y)


def test_auto_converges_sooner_on_the_planted_features(tree_model):
    X, model = tree_model
    plain, reduced = [], []
    for seed in range(4):
        explainer = TabularExplainer(X, random_state=seed)
        plain.append(explainer.explain_instance(X[1], model.predict_proba, num_features=3, num_samples="auto"))
        reduced.append(
            explainer.explain_instance(
                X[1], model.predict_proba, num_features=3, num_samples="auto", variance_reduction="emulator"
            )
        )

    def rows(runs):
        return np.mean([e.diagnostics["sampling"]["num_samples"] for e in runs])

    def settled(runs):
        return sum(e.diagnostics["sampling"]["converged"] for e in runs)

    # the emulator settles every place where lime's estimator, at as many rows or more, is left with a tie (which
    # num_samples='auto' stops at once it is out of reach), or it settles them with a quarter fewer rows
    assert settled(reduced) == len(reduced)
    assert rows(reduced) <= rows(plain)
    assert settled(plain) < len(plain) or rows(reduced) < 0.75 * rows(plain)
    truth = TabularExplainer(X, random_state=99).explain_instance(
        X[1], model.predict_proba, num_features=3, num_samples=200_000
    )
    top = {(feature, weight > 0) for feature, weight in truth.local_exp[1]}
    assert all({(feature, weight > 0) for feature, weight in e.local_exp[1]} == top for e in reduced)
    sampling = reduced[0].diagnostics["sampling"]
    assert sampling["variance_reduction"] == "emulator" and sampling["emulator_r2"][1] > 0.5
    assert verdict_text(sampling).startswith("stable") and "with an emulator of the model" in verdict_text(sampling)
    assert "with an emulator" not in verdict_text(plain[0].diagnostics["sampling"])


def test_exact_ties_still_end_not_converged():
    model = Counting(word_model({"alpha": 1.0, "beta": 1.0, "gamma": 0.2}))
    exp = TextExplainer(random_state=0, batch_size=None).explain_instance(
        TEXT, model, num_features=1, num_samples="auto", max_samples=6000, variance_reduction="emulator"
    )
    sampling = exp.diagnostics["sampling"]
    assert not sampling["converged"] and set(sampling["tied_names"]) == {"alpha", "beta"}
    # the cheap perturbations go to the emulator only: the model sees each round's rows once
    assert sum(model.sizes) == sampling["num_samples"] and len(model.sizes) == sampling["rounds"]


def test_the_score_is_the_fit_of_the_model_outputs():
    X = tabular_data()
    explainer = TabularExplainer(X, random_state=3)
    neighbourhood_outputs = []

    def recording(batch):
        out = interacting_tabular(batch)
        neighbourhood_outputs.append(out)
        return out

    exp = explainer.explain_instance(X[2], recording, num_features=6, num_samples=1500, variance_reduction="emulator")
    assert np.allclose(exp.predict_proba, neighbourhood_outputs[0][0])  # the model's own output
    # intercept + contributions = the surrogate's prediction at the instance (exact)
    assert exp.intercept[1] + sum(w for _, w in exp.local_exp[1]) == pytest.approx(exp.local_pred[0], abs=1e-12)
    assert 0 < exp.score < 1 and exp.diagnostics["r2"][1] == exp.score


def test_adjusted_targets_remove_only_what_a_linear_fit_cannot_follow():
    rng = np.random.default_rng(0)
    Z = (rng.random((3000, 4)) < 0.5).astype(float)
    weights = rng.random(3000) + 0.5
    linear = 0.3 + Z @ np.array([1.0, -2.0, 0.5, 0.0])
    outputs = np.column_stack([linear, linear + 4 * Z[:, 0] * Z[:, 1]])  # label 0 linear, label 1 not
    neighbourhood = Neighbourhood(Z[:2000], None, np.zeros(2000), weights=weights[:2000], outputs=outputs[:2000])
    cheap = Neighbourhood(Z[2000:], None, np.zeros(1000), weights=weights[2000:])
    targets, r2, covariance = emulator_targets(neighbourhood, [0, 1], cheap, np.random.default_rng(1))
    # a linear black box is its own linear fit: nothing is taken out
    assert np.allclose(targets[:, 0], outputs[:2000, 0], atol=0.05)
    # an interaction is: the adjusted target is (nearly) linear in Z, with the same weighted linear fit
    design = WeightedDesign(Z[:2000], weights[:2000])

    def fit(y):  # the weighted least-squares fit (a, b)
        return design.fit(y, np.arange(4), alpha=0.0)[:2]

    residual = targets[:, 1] - fit(targets[:, 1])[0] - Z[:2000] @ fit(targets[:, 1])[1]
    assert weighted_r2(targets[:, 1], targets[:, 1] - residual, weights[:2000]) > 0.99
    assert np.allclose(fit(targets[:, 1])[1], fit(outputs[:2000, 1])[1], atol=0.1)
    assert r2[1] > 0.99 and covariance[1].shape == (4, 4) and np.all(np.linalg.eigvalsh(covariance[1]) > -1e-12)
    assert cheap_sample_size(2000, 4) == 40_000 and cheap_sample_size(50_000, 4) == 200_000
    assert cheap_sample_size(5000, 10_000) == 5000  # wide rows: fewer cheap rows, never fewer than predicted


def test_same_seed_same_explanation_and_explain_many_agrees():
    model = word_model({"alpha": 1.0, "beta": 0.6, "gamma": -0.8})
    explainer = TextExplainer(random_state=4)
    kwargs = dict(num_features=2, num_samples="auto", variance_reduction="emulator")
    runs = [json.dumps(explainer.explain_instance(TEXT, model, **kwargs).to_dict(), sort_keys=True) for _ in range(2)]
    assert runs[0] == runs[1]
    many = explainer.explain_many([TEXT, "alpha beta gamma delta"], model, **kwargs)
    assert json.dumps(many[0].to_dict(), sort_keys=True) == runs[0]
    plain = json.dumps(
        explainer.explain_instance(TEXT, model, num_features=2, num_samples="auto").to_dict(), sort_keys=True
    )
    assert plain != runs[0]


def test_image_explanations_take_it_too():
    image = np.zeros((32, 32, 3))
    image[:16, :16] = 1.0
    image[16:, 16:, 1] = 1.0

    def segments(img):
        labels = np.zeros(img.shape[:2], dtype=int)
        labels[:16, 16:], labels[16:, :16], labels[16:, 16:] = 1, 2, 3
        return labels

    def model(batch):
        batch = np.asarray(batch)
        score = 3 * batch[:, :16, :16].mean(axis=(1, 2, 3)) + 2 * batch[:, 16:, 16:, 1].mean(axis=(1, 2))
        score = score * (1 + batch[:, 16:, 16:, 1].mean(axis=(1, 2)))  # an interaction
        return np.column_stack([1 - np.tanh(score) / 2, np.tanh(score) / 2])

    exp = ImageExplainer(random_state=0).explain_instance(
        image,
        model,
        segmentation_fn=segments,
        hide_color=0,
        labels=(1,),
        top_labels=None,
        num_features=2,
        num_samples=800,
        variance_reduction="emulator",
    )
    assert {f for f, _ in exp.local_exp[1]} == {0, 3}
    assert exp.diagnostics["sampling"]["emulator_r2"][1] > 0.9


def test_bad_variance_reduction_is_refused_before_the_model_is_called():
    model = Counting(interacting_tabular)
    X = tabular_data()
    with pytest.raises(LimekitValueError) as error:
        TabularExplainer(X).explain_instance(X[0], model, variance_reduction="control")
    assert error.value.argument == "variance_reduction" and "'emulator'" in str(error.value)
    for settings in (dict(surrogate="lasso"), dict(surrogate_task="classification")):
        with pytest.raises(LimekitValueError) as error:
            TabularExplainer(X, **settings).explain_instance(X[0], model, variance_reduction="emulator")
        assert error.value.argument == "variance_reduction"
    assert model.sizes == []


def test_sparse_tabular_rows_take_it_too():
    import scipy.sparse as sp

    X = sp.random(300, 20, density=0.2, format="csr", random_state=0)
    direction = np.random.default_rng(0).normal(size=20)

    def model(batch):
        score = np.asarray(batch @ direction).ravel()
        p = 1 / (1 + np.exp(-score * score))
        return np.column_stack([1 - p, p])

    reduced = TabularExplainer(X, random_state=0).explain_instance(
        X[0], model, num_features=1, num_samples=2000, variance_reduction="emulator"
    )
    plain = TabularExplainer(X, random_state=1).explain_instance(X[0], model, num_features=1, num_samples=50_000)
    assert reduced.as_list()[0][0] == plain.as_list()[0][0]
    assert reduced.diagnostics["sampling"]["emulator_r2"][1] > 0.8


# ---------------------------------------------------------------- variance_reduction='auto'


def test_auto_leaves_a_fast_model_without_an_emulator_untried_and_says_so():
    X = np.random.default_rng(0).normal(size=(300, 5))

    def model(rows):
        return np.asarray(rows, dtype=float) @ np.array([3.0, -2.0, 1.0, 0.0, 0.0])

    explainer = TabularExplainer(X, mode="regression", random_state=0)
    auto = explainer.explain_instance(X[0], model, num_features=3, num_samples="auto")
    plain = explainer.explain_instance(X[0], model, num_features=3, num_samples="auto", variance_reduction=None)
    sampling = auto.diagnostics["sampling"]
    assert sampling["variance_reduction"] is None
    choice = sampling["variance_choice"]
    assert choice == {"chosen": None, "reason": "the model is faster than any emulator round"}
    assert auto.as_list() == plain.as_list()  # the same explanation as without
    fixed = explainer.explain_instance(X[0], model, num_features=3, num_samples=500).diagnostics["sampling"]
    assert fixed["variance_reduction"] is None and "variance_choice" not in fixed  # int num_samples: never
    lasso = TabularExplainer(X, mode="regression", random_state=0, surrogate="lasso")
    assert lasso.explain_instance(X[0], model, num_samples="auto").diagnostics["sampling"]["variance_reduction"] is None


def test_choose_emulator_keeps_it_when_the_model_rows_it_saves_cost_more_than_its_round():
    from limekit.core.emulator import EMULATOR_FLOOR_SECONDS, EmulatedTargets, choose_emulator

    fitted = []

    def fit():
        fitted.append(1)
        return EmulatedTargets(np.zeros((10, 1)), {0: 0.9}, {0: np.zeros((2, 2))})

    emulated, choice = choose_emulator(EMULATOR_FLOOR_SECONDS / 10_000, 1000, fit)  # too fast: untried
    assert emulated is None and choice.chosen is None and choice.emulator_seconds is None and not fitted
    emulated, choice = choose_emulator(1.0, 1000, fit)  # a second per row: any emulator round pays
    assert emulated is not None and choice.chosen == "emulator" and choice.emulator_r2 == 0.9 and fitted
    useless = lambda: EmulatedTargets(np.zeros((10, 1)), {0: -0.1}, {0: np.zeros((2, 2))})  # noqa: E731
    emulated, choice = choose_emulator(1.0, 1000, useless)  # an emulator that follows nothing saves nothing
    assert emulated is None and choice.chosen is None and choice.emulator_seconds is not None
