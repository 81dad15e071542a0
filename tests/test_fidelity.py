"""Fidelity diagnostics: held-out and in-sample R^2, AUC and accuracy of the surrogate against the black box."""

import numpy as np
import pytest

from limekit import LimekitValueError, TabularExplainer
from limekit.core.fidelity import evaluate_fidelity, resolve_fidelity_samples, weighted_auc
from limekit.core.fit import fit_local_models, fit_spec
from limekit.core.neighbourhood import Neighbourhood

N_FEATURES = 6
BETA = np.array([2.0, -1.5, 1.0, 0.0, 0.0, 0.0])


def _train(n=1000, seed=0):
    return np.random.default_rng(seed).normal(size=(n, N_FEATURES))


def linear_regressor(X):
    return np.asarray(X) @ BETA


def logistic_proba(X):
    p = 1 / (1 + np.exp(-(np.asarray(X) @ BETA)))
    return np.column_stack([1 - p, p])


class Recorder:
    def __init__(self, fn):
        self.fn, self.batches = fn, []

    def __call__(self, X):
        self.batches.append(np.array(X, copy=True))
        return self.fn(X)


def test_linear_black_box_gets_near_perfect_fidelity_and_a_weak_surrogate_less():
    X = _train()
    explainer = TabularExplainer(X, mode="regression", discretize_continuous=False, random_state=0)
    exp = explainer.explain_instance(
        X[0], linear_regressor, num_features=N_FEATURES, num_samples=1500, fidelity_samples=500
    )
    held, fitted = exp.diagnostics["fidelity"][0], exp.diagnostics["fidelity_in_sample"][0]
    assert held["r2"] > 0.999 and fitted["r2"] > 0.999
    assert held["auc"] is None and held["accuracy"] is None  # a regressor has no labels
    assert held["n_samples"] == 500 and fitted["n_samples"] == 1500
    assert fitted["r2"] == pytest.approx(exp.score)
    weak = explainer.explain_instance(X[0], linear_regressor, num_features=1, num_samples=1500, fidelity_samples=500)
    assert weak.diagnostics["fidelity"][0]["r2"] < held["r2"] - 0.2

    explainer = TabularExplainer(X, discretize_continuous=False, random_state=0)
    strong = explainer.explain_instance(
        X[0],
        logistic_proba,
        num_features=N_FEATURES,
        num_samples=1500,
        surrogate_task="classification",
        fidelity_samples=500,
    )
    weak = explainer.explain_instance(
        X[0], logistic_proba, num_features=1, num_samples=1500, surrogate_task="classification", fidelity_samples=500
    )
    strong_fid, weak_fid = strong.diagnostics["fidelity"][1], weak.diagnostics["fidelity"][1]
    # the classifier models the black box's label, so its probability is sharper than the black box's
    assert strong_fid["auc"] > 0.99 and strong_fid["accuracy"] > 0.95 and strong_fid["r2"] > 0.8
    assert 0.5 < weak_fid["auc"] < strong_fid["auc"] - 0.05
    assert weak_fid["accuracy"] < strong_fid["accuracy"]
    for key in ("auc", "accuracy", "auc_unweighted", "accuracy_unweighted"):
        assert 0.0 <= strong_fid[key] <= 1.0


def test_held_out_sample_is_fresh_and_predicted_in_batches():
    X = _train()
    model = Recorder(logistic_proba)
    exp = TabularExplainer(X, discretize_continuous=False, random_state=0, batch_size=256).explain_instance(
        X[0], model, num_samples=800, fidelity_samples=300
    )
    rows = np.vstack(model.batches)
    assert rows.shape[0] == 1 + 799 + 300 and max(len(b) for b in model.batches) <= 256
    fitting, held_out = rows[:800], rows[800:]
    assert not np.any((held_out[:, None, :] == fitting[None, :, :]).all(axis=2))
    assert not np.any((held_out == X[0]).all(axis=1))  # the instance itself is not in the held-out sample
    assert exp.diagnostics["fidelity"][1]["n_samples"] == 300
    assert exp.diagnostics["fidelity"][1] != exp.diagnostics["fidelity_in_sample"][1]


def test_same_seed_same_fidelity_and_zero_skips():
    X = _train()
    runs = [
        TabularExplainer(X, random_state=5)
        .explain_instance(X[1], logistic_proba, num_samples=600, fidelity_samples=200)
        .diagnostics
        for _ in range(2)
    ]
    assert runs[0]["fidelity"] == runs[1]["fidelity"]
    assert runs[0]["fidelity_in_sample"] == runs[1]["fidelity_in_sample"]

    model = Recorder(logistic_proba)
    exp = TabularExplainer(X, random_state=5).explain_instance(
        X[1], model, num_samples=600, fidelity_samples=0, surrogate_task="classification"
    )
    assert exp.diagnostics["fidelity"] is None and exp.diagnostics["fidelity_samples"] == 0
    assert sum(len(b) for b in model.batches) == 600
    assert exp.diagnostics["fidelity_in_sample"][1]["auc"] > 0.5


def test_auto_keeps_limes_call_count_for_limes_configuration():
    X = _train()
    model = Recorder(logistic_proba)
    exp = TabularExplainer(X, random_state=0).explain_instance(X[0], model, num_samples=500)
    assert sum(len(b) for b in model.batches) == 500 and exp.diagnostics["fidelity"] is None
    model = Recorder(logistic_proba)
    exp = TabularExplainer(X, random_state=0, surrogate_task="classification").explain_instance(
        X[0], model, num_samples=500
    )
    assert sum(len(b) for b in model.batches) == 600 and exp.diagnostics["fidelity"][1]["n_samples"] == 100
    assert resolve_fidelity_samples("auto", 5000) == 1000 and resolve_fidelity_samples("auto", 20000) == 1000
    assert resolve_fidelity_samples(7, 5000) == 7
    for bad in (-1, 1.5, "all", True):
        with pytest.raises((LimekitValueError, TypeError)) as error:
            resolve_fidelity_samples(bad, 100)
        assert error.value.argument == "fidelity_samples"


def test_weighted_auc_matches_scikit_learn():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    y = rng.random(500) < 0.3
    score = np.round(rng.normal(size=500) + y, 1)  # with ties
    w = rng.random(500)
    assert weighted_auc(y, score, w) == pytest.approx(roc_auc_score(y, score, sample_weight=w), abs=1e-12)
    assert weighted_auc(y, score) == pytest.approx(roc_auc_score(y, score), abs=1e-12)
    assert weighted_auc(np.ones(5, bool), np.arange(5.0)) is None


def test_core_is_modality_free():
    """What a text or image frontend does: binary Z, its own sampler, the core's fidelity."""
    rng = np.random.default_rng(1)
    beta = np.array([0.4, -0.3, 0.2, 0, 0, 0, 0, 0])

    def draw(n):
        Z = (rng.random((n, 8)) < 0.5).astype(float)
        p = np.clip(0.3 + Z @ beta, 0, 1)
        weights = np.exp(-0.5 * ((1 - Z.mean(1)) / 0.5) ** 2)
        return Neighbourhood(Z, None, 1 - Z.mean(1), weights=weights, outputs=np.column_stack([1 - p, p]))

    sample = draw(1000)
    sample.Z[0] = 1
    fits = fit_local_models(sample, [1], fit_spec(8))
    in_sample = evaluate_fidelity(fits, sample)[1]
    held = evaluate_fidelity(fits, draw(401).without_instance())[1]
    assert in_sample["r2"] > 0.99 and held["r2"] > 0.99 and held["n_samples"] == 400
