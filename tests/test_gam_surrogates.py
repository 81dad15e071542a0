"""GAM surrogates (EBM, GAMI-Net): fit, additivity, determinism, tabular wiring, surrogate_task."""

import importlib.util
import pickle

import numpy as np
import pytest

from limekit import LimekitValueError, TabularExplainer
from limekit.core.fit import fit_local_models, fit_spec
from limekit.core.importance import global_importance
from limekit.core.neighbourhood import Neighbourhood
from limekit.surrogates import SURROGATES, make_surrogate, weighted_r2
from limekit.surrogates.ebm import EBMSurrogate

pytest.importorskip("interpret")
HAS_TORCH = importlib.util.find_spec("torch") is not None
GAMS = ["ebm"] + (["gaminet"] if HAS_TORCH else [])
N_FEATURES = 10


def nonlinear(n, seed):
    """y = x1^2 + x2^3 + sin(x3) (0-based columns 0-2) plus two unused columns, kernel-weighted."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    y = X[:, 0] ** 2 + X[:, 1] ** 3 + np.sin(X[:, 2])
    w = np.exp(-0.5 * (np.linalg.norm(X, axis=1) / 3.0) ** 2)
    return X, y, w


def planted_proba(X):
    """A classifier that uses features 0, 1 and 2 only."""
    X = np.asarray(X)
    p = 1 / (1 + np.exp(-(3 * X[:, 0] + 2.5 * X[:, 1] - 3 * X[:, 2])))
    return np.column_stack([1 - p, p])


def _train(n=1500, seed=0):
    return np.random.default_rng(seed).normal(size=(n, N_FEATURES))


def _planted_row(X):
    row = X[0].copy()
    row[:3] = [1.2, 1.2, -1.2]
    return row


@pytest.mark.parametrize("name", GAMS)
def test_gam_fits_a_nonlinear_black_box_where_ridge_cannot(name):
    X, y, w = nonlinear(2000, 0)
    X_new, y_new, w_new = nonlinear(2000, 1)
    ridge = make_surrogate("ridge").fit(X, y, w)
    gam = make_surrogate(name).fit(X, y, w)
    assert gam.additive and gam.feature_space == "original"
    assert weighted_r2(y_new, ridge.predict(X_new), w_new) <= 0.8
    assert weighted_r2(y_new, gam.predict(X_new), w_new) >= 0.95
    assert gam.score(X, y, w) >= 0.95


@pytest.mark.parametrize("name", GAMS)
def test_zero_weight_rows_do_not_change_the_fit(name):
    X, y, w = nonlinear(800, 2)
    rng = np.random.default_rng(3)
    extra = rng.normal(size=(200, 5)) * 3
    X_more = np.vstack([X, extra])
    y_more = np.concatenate([y, rng.normal(size=200) * 100])
    w_more = np.concatenate([w, np.zeros(200)])
    a = make_surrogate(name).fit(X, y, w)
    b = make_surrogate(name).fit(X_more, y_more, w_more)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))


@pytest.mark.parametrize("name", GAMS)
def test_same_seed_identical_surrogate(name):
    X, y, w = nonlinear(800, 4)
    a = make_surrogate(name, random_state=7).fit(X, y, w)
    b = make_surrogate(name, random_state=7).fit(X, y, w)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    np.testing.assert_array_equal(a.contributions(X), b.contributions(X))


@pytest.mark.parametrize("name", GAMS)
def test_binary_features_rank_planted_features_like_ridge(name):
    """Text-like data: binary Z, a planted linear model; the GAM is fitted on Z as is."""
    rng = np.random.default_rng(5)
    Z = (rng.random((1500, 12)) < 0.5).astype(float)
    Z[0] = 1.0
    beta = np.zeros(12)
    beta[[2, 5, 9]] = [0.5, -0.4, 0.3]
    y = Z @ beta + 0.02 * rng.normal(size=1500)
    w = np.exp(-0.5 * ((1 - Z.mean(1)) * 100 / 25) ** 2)
    outputs = np.column_stack([1 - y, y])
    sample = Neighbourhood(Z, None, 1 - Z.mean(1), weights=w, outputs=outputs)
    ridge = fit_local_models(sample, [1], fit_spec(3, surrogate="ridge"))[1]
    gam = fit_local_models(sample, [1], fit_spec(3, surrogate=name))[1]
    assert gam.feature_space == "interpretable"  # no original space given: Z as is
    assert {f for f, _ in gam.local_exp} == {f for f, _ in ridge.local_exp} == {2, 5, 9}
    # on a binary feature f_j(1) - f_j(0) is the linear coefficient
    for feature, coef in zip([2, 5, 9], beta[[2, 5, 9]]):
        grid, values = gam.shape_functions[feature]
        np.testing.assert_array_equal(grid, [0.0, 1.0])
        assert values[1] - values[0] == pytest.approx(coef, abs=0.05)


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_intercept_plus_contributions_is_the_prediction(task):
    X = _train()
    explainer = TabularExplainer(X, random_state=0, surrogate="ebm", surrogate_task=task)
    exp = explainer.explain_instance(_planted_row(X), planted_proba, num_features=N_FEATURES, num_samples=1500)
    fit = exp.fits[1]
    total = exp.intercept[1] + sum(w for _, w in exp.local_exp[1])
    assert total == pytest.approx(exp.local_decisions[1], abs=1e-6)
    X_fit = (_planted_row(X) - explainer.standard_mean_) / explainer.standard_scale_
    assert exp.local_decisions[1] == pytest.approx(fit.surrogate.decision_function(X_fit[None])[0], abs=1e-6)
    if task == "regression":
        assert total == pytest.approx(exp.local_pred[0], abs=1e-6)
    else:  # on the logit scale
        assert 1 / (1 + np.exp(-total)) == pytest.approx(exp.local_pred[0], abs=1e-6)
    assert fit.task == task and fit.feature_space == "original"


def test_ebm_through_tabular_puts_planted_features_on_top():
    X = _train()
    exp = TabularExplainer(X, random_state=1).explain_instance(
        _planted_row(X), planted_proba, num_features=5, num_samples=1500, surrogate="ebm"
    )
    assert {f for f, _ in exp.as_map()[1][:3]} == {0, 1, 2}
    assert len(exp.as_map()[1]) == 5  # num_features limits the listing; the GAM used all features
    assert len(exp.importance[1]) == N_FEATURES
    assert {name for name, _ in exp.global_importance(1)[:3]} == {n for n, _ in exp.as_list()[:3]}
    # names read "feature = value" at the instance, whatever the discretizer
    assert dict(exp.as_list())["0 = 1.2"] > 0
    grid, values = exp.shape_function("0")
    assert grid.min() < 0 < 1.2 < grid.max() and values[-1] > values[0]  # 3 * x0: increasing
    assert exp.shape_function(0)[1] is values


def test_ebm_names_and_categorical_shape_functions_with_a_dataframe():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 80, 1200).astype(float),
            "sex": pd.Categorical(rng.choice(["Female", "Male"], 1200)),
            "hours": rng.normal(40, 10, 1200),
        }
    )

    def predict(df):
        logit = 0.08 * (df["age"].to_numpy() - 45) + 1.5 * (df["sex"] == "Male").to_numpy()
        p = 1 / (1 + np.exp(-logit))
        return np.column_stack([1 - p, p])

    explainer = TabularExplainer(frame, random_state=0, surrogate="ebm")
    exp = explainer.explain_instance(frame.iloc[0], predict, num_samples=1000)
    names = [n for n, _ in exp.as_list()]
    assert f"age = {int(frame['age'][0])}" in names and f"sex={frame['sex'][0]}" in names
    grid, values = exp.shape_function("sex")
    assert list(grid) == ["Female", "Male"] and values[1] > values[0]
    grid, values = exp.shape_function("age")
    assert 18 <= grid.min() < grid.max() <= 80 and values[-1] > values[0]  # grid in years, not standardised
    assert exp.fits[1].feature_space == "original"
    record = exp.to_dict()["explanations"]["1"]
    assert {s["name"] for s in record["shape_functions"]} >= {"sex=" + str(frame["sex"][0])}
    pickle.loads(pickle.dumps(exp.fits[1].surrogate))


@pytest.mark.parametrize("surrogate", ["ridge", "ebm"])
def test_classification_surrogate_task(surrogate):
    X = _train()
    exp = TabularExplainer(X, random_state=2).explain_instance(
        _planted_row(X),
        planted_proba,
        num_features=5,
        num_samples=1500,
        surrogate=surrogate,
        surrogate_task="classification",
    )
    fit = exp.fits[1]
    assert fit.task == "classification" and exp.diagnostics["surrogate_task"] == "classification"
    assert {f for f, _ in exp.as_map()[1][:3]} == {0, 1, 2}
    assert 0.0 <= exp.local_pred[0] <= 1.0
    if surrogate == "ridge":
        assert type(fit.surrogate).__name__ == "LogisticSurrogate"
    # held-out AUC against the black box's label (the binary representation limits the linear one)
    assert exp.diagnostics["fidelity"][1]["auc"] > (0.75 if surrogate == "ridge" else 0.9)


def test_classification_with_one_black_box_class_gives_a_constant_surrogate():
    X = _train()

    def always_one(rows):
        return np.tile([0.2, 0.8], (len(rows), 1))

    exp = TabularExplainer(X, random_state=0).explain_instance(
        X[0], always_one, num_samples=300, surrogate_task="classification"
    )
    assert all(w == 0 for _, w in exp.local_exp[1]) and exp.local_pred[0] > 0.99
    assert exp.diagnostics["fidelity"][1]["auc"] is None


def test_global_importance_over_explanations():
    X = _train()
    explainer = TabularExplainer(X, random_state=3, surrogate="ebm")
    exps = [
        explainer.explain_instance(X[i], planted_proba, num_features=4, num_samples=600, fidelity_samples=0)
        for i in range(3)
    ]
    ranked = global_importance(exps, label=1)
    assert {name for name, _ in ranked[:3]} == {"0", "1", "2"}
    assert [v for _, v in ranked] == sorted((v for _, v in ranked), reverse=True)
    ranked = global_importance(exps, label=1, source="perturbations")
    assert {name for name, _ in ranked[:3]} == {"0", "1", "2"} and len(ranked) == N_FEATURES


def test_ebm_boosts_with_the_requested_number_of_leaves():
    X = _train(400)
    y = X[:, 0] ** 2 + X[:, 1]
    weights = np.ones(len(X))
    assert EBMSurrogate().fit(X, y, weights).model_.max_leaves == 3  # limekit's default, interpret's is 2
    two = EBMSurrogate(max_leaves=2).fit(X, y, weights)
    assert two.model_.max_leaves == 2
    assert not np.allclose(two.predict(X), EBMSurrogate().fit(X, y, weights).predict(X))


def test_bad_surrogate_arguments_name_the_argument():
    X = _train(200)
    with pytest.raises(LimekitValueError) as error:
        TabularExplainer(X, surrogate="gam")
    assert error.value.argument == "surrogate" and "'ebm'" in str(error.value)
    with pytest.raises(LimekitValueError) as error:
        TabularExplainer(X, surrogate_task="probability")
    assert error.value.argument == "surrogate_task"
    with pytest.raises(LimekitValueError) as error:
        TabularExplainer(X, mode="regression", surrogate_task="classification")
    assert error.value.argument == "surrogate_task"
    explainer = TabularExplainer(X)
    with pytest.raises(LimekitValueError) as error:
        explainer.explain_instance(X[0], planted_proba, surrogate_task="logit")
    assert error.value.argument == "surrogate_task"
    with pytest.raises(LimekitValueError) as error:
        explainer.explain_instance(X[0], planted_proba, surrogate=EBMSurrogate(), surrogate_task="classification")
    assert error.value.argument == "surrogate"
    from sklearn.linear_model import Ridge

    with pytest.raises(LimekitValueError) as error:
        explainer.explain_instance(X[0], planted_proba, model_regressor=Ridge(), surrogate_task="classification")
    assert error.value.argument == "model_regressor"
    with pytest.raises(ValueError) as error:
        EBMSurrogate(task="ranking")
    assert error.value.argument == "task"
    with pytest.raises(ValueError) as error:
        EBMSurrogate(max_leaves=1)
    assert error.value.argument == "max_leaves"
    assert set(SURROGATES) >= {"ridge", "lasso", "ebm", "gaminet"}
