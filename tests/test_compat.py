"""Code written against lime 0.2.0.1's API runs unchanged on ``limekit.compat``.

Every flow below is written once, against lime's module layout, and run twice:
with ``lime``'s modules and with ``limekit.compat``'s.  The tests check that it
runs on both and that the results agree where they must (feature-name format,
the top features of planted models, LimeBase's numbers).
"""

import functools
import importlib
import importlib.util
import inspect
import re
from types import SimpleNamespace

import numpy as np
import pytest

SUBMODULES = ("lime_tabular", "lime_base", "discretize", "explanation", "submodular_pick", "utils.generic_utils")


@functools.cache
def load(name):
    """lime's modules (``name='lime'``) or limekit.compat's (``name='limekit'``), by the same paths."""
    root = "lime" if name == "lime" else "limekit.compat"
    if name == "lime":
        pytest.importorskip("lime")
    modules = {sub.split(".")[-1]: importlib.import_module(f"{root}.{sub}") for sub in SUBMODULES}
    return SimpleNamespace(name=name, **modules)


@pytest.fixture(params=["lime", "limekit"])
def m(request):
    return load(request.param)


def both():
    return load("lime"), load("limekit")


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def planted_proba(X):
    """Classifier that uses only features 0 and 1."""
    p = sigmoid(3.0 * X[:, 0] - 3.0 * X[:, 1])
    return np.column_stack([1 - p, p])


@functools.cache
def gaussian_train():
    return np.random.default_rng(0).normal(size=(500, 6))


PLANTED_ROW = np.array([1.0, -1.0, 0.3, -0.2, 0.5, 0.0])
NAME = r"-?\d+\.\d{2}"


def bin_name_pattern(feature):
    f = re.escape(feature)
    return re.compile(rf"^({f} <= {NAME}|{NAME} < {f} <= {NAME}|{f} > {NAME})$")


# --------------------------------------------------------------------------- imports


def test_import_paths():
    import limekit
    import limekit.compat.lime_tabular
    from limekit.compat import discretize, explanation, lime_base, lime_tabular, submodular_pick  # noqa: F401
    from limekit.compat.utils import generic_utils  # noqa: F401

    assert issubclass(limekit.compat.lime_tabular.LimeTabularExplainer, limekit.TabularExplainer)
    assert issubclass(lime_tabular.RecurrentTabularExplainer, limekit.RecurrentTabularExplainer)
    assert issubclass(lime_tabular.RecurrentTabularExplainer, lime_tabular.LimeTabularExplainer)  # as in lime
    assert lime_base.LimeBase is limekit.LimeBase
    assert explanation.Explanation is limekit.Explanation
    # lime_tabular's namespace as in lime
    for name in (
        "QuartileDiscretizer",
        "DecileDiscretizer",
        "EntropyDiscretizer",
        "BaseDiscretizer",
        "StatsDiscretizer",
    ):
        assert getattr(lime_tabular, name) is getattr(discretize, name)
    assert issubclass(lime_tabular.TableDomainMapper, explanation.DomainMapper)
    assert lime_tabular.lime_base is lime_base and lime_tabular.explanation is explanation


# --------------------------------------------------------------------------- tabular flows


@functools.cache
def iris_flow(name):
    """lime's tabular tutorial: iris, a random forest, discretized explanations."""
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier

    m = load(name)
    iris = load_iris()
    train, labels_train = iris.data, iris.target
    rf = RandomForestClassifier(n_estimators=30, random_state=0).fit(train, labels_train)
    explainer = m.lime_tabular.LimeTabularExplainer(
        train,
        feature_names=iris.feature_names,
        class_names=iris.target_names,
        discretize_continuous=True,
        random_state=0,
    )
    row = train[0]
    exp = explainer.explain_instance(row, rf.predict_proba, num_features=2, top_labels=1, num_samples=1000)
    full = explainer.explain_instance(row, rf.predict_proba, num_features=4, labels=(0, 1, 2), num_samples=1000)
    return SimpleNamespace(
        exp=exp, full=full, proba=rf.predict_proba(row[None, :])[0], feature_names=list(iris.feature_names)
    )


def test_iris_tutorial_runs(m):
    r = iris_flow(m.name)
    exp = r.exp
    labels = exp.available_labels()
    assert labels == [int(np.argmax(r.proba))]
    label = labels[0]
    as_list = exp.as_list(label=label)
    assert len(as_list) == 2
    assert all(isinstance(n, str) and isinstance(w, float) for n, w in as_list)
    assert list(exp.as_map()) == [label] and exp.as_map() is exp.local_exp
    assert all(0 <= int(f) < 4 for f, _ in exp.local_exp[label])
    assert set(exp.intercept) == {label}
    assert np.isfinite(exp.score)
    assert np.shape(exp.local_pred) == (1,)
    np.testing.assert_allclose(exp.predict_proba, r.proba)
    assert list(exp.class_names) == ["setosa", "versicolor", "virginica"]
    # every name is one of lime's bin names of its feature
    for feature_id, (name, _) in zip([f for f, _ in exp.local_exp[label]], as_list):
        assert bin_name_pattern(r.feature_names[int(feature_id)]).match(name), name
    # labels given explicitly: no top_labels, all three explained
    assert sorted(r.full.available_labels()) == [0, 1, 2]
    assert sorted(r.full.as_map()) == [0, 1, 2]


def test_iris_agrees_with_lime():
    lime_r, kit_r = (iris_flow(x) for x in ("lime", "limekit"))
    # same bins -> same names, for every feature and every label
    for label in (0, 1, 2):
        assert sorted(n for n, _ in lime_r.full.as_list(label=label)) == sorted(
            n for n, _ in kit_r.full.as_list(label=label)
        )
    # setosa is told by its petals, in both
    top = [{n for n, _ in r.exp.as_list(label=0)} for r in (lime_r, kit_r)]
    assert top[0] == top[1]
    assert all("petal" in n for n in top[0])


@functools.cache
def planted_flow(name, discretize_continuous):
    m = load(name)
    train = gaussian_train()
    names = [f"x{i}" for i in range(6)]
    explainer = m.lime_tabular.LimeTabularExplainer(
        train,
        feature_names=names,
        class_names=["neg", "pos"],
        discretize_continuous=discretize_continuous,
        random_state=1,
    )
    return explainer.explain_instance(PLANTED_ROW, planted_proba, num_features=2, num_samples=1000)


@pytest.mark.parametrize("discretize_continuous", [True, False])
def test_planted_model_top_features(m, discretize_continuous):
    exp = planted_flow(m.name, discretize_continuous)
    assert {int(f) for f, _ in exp.as_map()[1]} == {0, 1}
    names = [n for n, _ in exp.as_list()]  # label=1 by default
    if discretize_continuous:
        assert any(bin_name_pattern("x0").match(n) for n in names)
        assert any(bin_name_pattern("x1").match(n) for n in names)
    else:
        assert sorted(names) == ["x0", "x1"]


@pytest.mark.parametrize("discretize_continuous", [True, False])
def test_planted_model_agrees_with_lime(discretize_continuous):
    lime_exp, kit_exp = (planted_flow(x, discretize_continuous) for x in ("lime", "limekit"))
    assert dict(lime_exp.as_list()).keys() == dict(kit_exp.as_list()).keys()
    signs = [{int(f): np.sign(w) for f, w in e.as_map()[1]} for e in (lime_exp, kit_exp)]
    assert signs[0] == signs[1]
    # the model raises p(pos) with x0 and lowers it with x1
    if not discretize_continuous:
        assert signs[1] == {0: 1.0, 1: -1.0}


@functools.cache
def categorical_flow(name, discretize_continuous):
    """lime's categorical tutorial: label-encoded columns with categorical_names."""
    m = load(name)
    rng = np.random.default_rng(1)
    n = 600
    color = rng.integers(0, 3, n)
    size = rng.integers(0, 2, n)
    train = np.column_stack([color, size, rng.normal(size=n), rng.normal(size=n)]).astype(float)
    feature_names = ["color", "size", "weight", "height"]
    categorical_names = {0: ["red", "green", "blue"], 1: ["small", "large"]}

    def predict_fn(X):  # the model: blue things are positive
        p = np.where(X[:, 0] == 2, 0.9, 0.1) + 0.05 * np.tanh(X[:, 2])
        return np.column_stack([1 - p, p])

    explainer = m.lime_tabular.LimeTabularExplainer(
        train,
        feature_names=feature_names,
        class_names=["no", "yes"],
        categorical_features=[0, 1],
        categorical_names=categorical_names,
        kernel_width=3,
        discretize_continuous=discretize_continuous,
        random_state=0,
    )
    row = np.array([2.0, 1.0, 0.1, -0.3])
    return explainer.explain_instance(row, predict_fn, num_features=4, num_samples=1000)


@pytest.mark.parametrize("discretize_continuous", [True, False])
def test_categorical_names(m, discretize_continuous):
    exp = categorical_flow(m.name, discretize_continuous)
    names = [n for n, _ in exp.as_list()]
    assert "color=blue" in names and "size=large" in names
    assert names[0] == "color=blue"
    assert exp.as_list()[0][1] > 0
    if discretize_continuous:
        assert any(bin_name_pattern("weight").match(n) for n in names)
    else:
        assert {"weight", "height"} <= set(names)


@pytest.mark.parametrize("discretize_continuous", [True, False])
def test_categorical_agrees_with_lime(discretize_continuous):
    lime_exp, kit_exp = (categorical_flow(x, discretize_continuous) for x in ("lime", "limekit"))
    assert sorted(n for n, _ in lime_exp.as_list()) == sorted(n for n, _ in kit_exp.as_list())
    assert lime_exp.as_list()[0][0] == kit_exp.as_list()[0][0] == "color=blue"


@functools.cache
def regression_flow(name):
    m = load(name)
    train = gaussian_train()[:, :5]

    def predict(X):
        return 2.0 * X[:, 0] - 3.0 * X[:, 1] + 0.1 * X[:, 2]

    explainer = m.lime_tabular.LimeTabularExplainer(
        train, mode="regression", feature_names=list("abcde"), discretize_continuous=True, random_state=0
    )
    row = PLANTED_ROW[:5]
    exp = explainer.explain_instance(row, predict, num_features=2, num_samples=1000)
    full = explainer.explain_instance(row, predict, num_features=5, num_samples=1000)
    return SimpleNamespace(exp=exp, full=full, prediction=float(predict(row[None, :])[0]))


def test_regression_mode(m):
    r = regression_flow(m.name)
    exp = r.exp
    names = [n for n, _ in exp.as_list()]
    assert len(names) == 2
    assert any(bin_name_pattern("a").match(n) for n in names)
    assert any(bin_name_pattern("b").match(n) for n in names)
    assert exp.predicted_value == pytest.approx(r.prediction)
    assert exp.min_value <= exp.predicted_value <= exp.max_value
    assert sorted(exp.local_exp) == [0, 1] and sorted(exp.intercept) == [0, 1]
    assert exp.local_exp[0] == [(f, -w) for f, w in exp.local_exp[1]]
    assert exp.as_list(label=0) == exp.as_list()  # the label is ignored in regression
    if m.name == "lime":
        with pytest.raises(NotImplementedError):
            exp.available_labels()
    else:  # limekit answers it (the one explained output, label 1): a deliberate difference
        assert exp.available_labels() == [1]


def test_regression_agrees_with_lime():
    lime_r, kit_r = (regression_flow(x) for x in ("lime", "limekit"))
    assert sorted(n for n, _ in lime_r.full.as_list()) == sorted(n for n, _ in kit_r.full.as_list())
    assert {n for n, _ in lime_r.exp.as_list()} == {n for n, _ in kit_r.exp.as_list()}
    for r in (lime_r, kit_r):  # x1 (b) weighs more than x0 (a); b's bin is low, so its weight is positive
        (first, w_first), (_second, _) = r.exp.as_list()
        assert bin_name_pattern("b").match(first) and w_first > 0


@functools.cache
def recurrent_flow(name):
    m = load(name)
    rng = np.random.default_rng(2)
    train = rng.normal(size=(200, 4, 2))  # (n, timesteps, features)
    shapes = []

    def classifier_fn(X):
        shapes.append(X.shape)
        p = sigmoid(3.0 * X[:, -1, 0])  # only the last step of f0 matters
        return np.column_stack([1 - p, p])

    explainer = m.lime_tabular.RecurrentTabularExplainer(
        train, feature_names=["f0", "f1"], class_names=["no", "yes"], discretize_continuous=True, random_state=0
    )
    row = train[0].copy()
    row[-1, 0] = 1.5
    exp = explainer.explain_instance(row, classifier_fn, num_features=3, num_samples=500)
    return SimpleNamespace(exp=exp, feature_names=list(explainer.feature_names), shapes=shapes)


def test_recurrent_explainer(m):
    r = recurrent_flow(m.name)
    assert r.feature_names[:4] == ["f0_t-3", "f0_t-2", "f0_t-1", "f0_t-0"]
    assert all(len(s) == 3 and s[1:] == (4, 2) for s in r.shapes)
    top_name, top_weight = r.exp.as_list()[0]
    assert bin_name_pattern("f0_t-0").match(top_name) and top_weight > 0


def test_recurrent_agrees_with_lime():
    lime_r, kit_r = (recurrent_flow(x) for x in ("lime", "limekit"))
    assert lime_r.feature_names == kit_r.feature_names
    assert lime_r.exp.as_list()[0][0] == kit_r.exp.as_list()[0][0]


@pytest.mark.parametrize("discretizer", ["quartile", "decile", "entropy"])
def test_explainer_discretizer_names_agree(discretizer):
    train = gaussian_train()
    labels = (planted_proba(train)[:, 1] > 0.5).astype(int)
    names = [f"x{i}" for i in range(6)]
    out = []
    for m in both():
        explainer = m.lime_tabular.LimeTabularExplainer(
            train, training_labels=labels, feature_names=names, discretizer=discretizer, random_state=0
        )
        exp = explainer.explain_instance(PLANTED_ROW, planted_proba, num_features=6, num_samples=500)
        out.append(sorted(n for n, _ in exp.as_list()))
    assert out[0] == out[1]


def test_explainer_takes_a_lime_style_discretizer_instance(m):
    class ZeroSplit(m.discretize.BaseDiscretizer):
        def bins(self, data, labels):
            return [np.array([0.0]) for _ in self.to_discretize]

    train = gaussian_train()
    names = [f"x{i}" for i in range(6)]
    disc = ZeroSplit(train, [], names, random_state=0)
    explainer = m.lime_tabular.LimeTabularExplainer(train, feature_names=names, discretizer=disc, random_state=0)
    exp = explainer.explain_instance(PLANTED_ROW, planted_proba, num_features=6, num_samples=500)
    assert {n for n, _ in exp.as_list()} == {
        "x0 > 0.00",
        "x1 <= 0.00",
        "x2 > 0.00",
        "x3 <= 0.00",
        "x4 > 0.00",
        "x5 <= 0.00",
    }
    assert {int(f) for f, _ in exp.as_map()[1][:2]} == {0, 1}


# --------------------------------------------------------------------------- LimeBase


def limebase_data(kind):
    rng = np.random.default_rng(0)
    n, d = 600, 8
    if kind == "binary":
        Z = (rng.random((n, d)) < 0.6).astype(float)
        Z[0] = 1.0
    else:
        Z = rng.normal(size=(n, d))
    beta = np.array([2.0, -1.5, 0.8, 0.0, 0.1, 0.0, -0.3, 0.0])
    p = sigmoid(Z @ beta - 1.0) + 0.01 * rng.normal(size=n)
    labels = np.column_stack([1 - p, p])
    distances = np.sqrt(((Z - Z[0]) ** 2).sum(axis=1))
    return Z, labels, distances


def kernel_fn(d):
    return np.sqrt(np.exp(-(d**2) / 2.0**2))


def test_limebase_runs(m):
    Z, labels, distances = limebase_data("binary")
    base = m.lime_base.LimeBase(kernel_fn, verbose=False, random_state=0)
    intercept, local_exp, score, local_pred = base.explain_instance_with_data(Z, labels, distances, 1, 3)
    assert [int(f) for f, _ in local_exp] == [0, 1, 2]
    assert np.isfinite(intercept) and 0 < score <= 1 and np.shape(local_pred) == (1,)
    used = base.feature_selection(Z, labels[:, 1], kernel_fn(distances), 3, "forward_selection")
    assert sorted(int(f) for f in used) == [0, 1, 2]


@pytest.mark.parametrize("kind", ["binary", "continuous"])
@pytest.mark.parametrize(
    "feature_selection,num_features",
    [
        ("forward_selection", 3),
        ("highest_weights", 3),
        ("lasso_path", 3),
        ("none", 3),
        ("auto", 3),
        ("auto", 7),
        ("lasso_path", 6),
    ],
)
def test_limebase_equals_lime(kind, feature_selection, num_features):
    Z, labels, distances = limebase_data(kind)
    results = [
        m.lime_base.LimeBase(kernel_fn, random_state=0).explain_instance_with_data(
            Z, labels, distances, 1, num_features, feature_selection=feature_selection
        )
        for m in both()
    ]
    (i_a, exp_a, s_a, p_a), (i_b, exp_b, s_b, p_b) = results
    assert [int(f) for f, _ in exp_a] == [int(f) for f, _ in exp_b]
    np.testing.assert_allclose([w for _, w in exp_b], [w for _, w in exp_a], rtol=0, atol=1e-8)
    assert i_b == pytest.approx(i_a, abs=1e-8)
    assert s_b == pytest.approx(s_a, abs=1e-8)
    np.testing.assert_allclose(p_b, p_a, rtol=0, atol=1e-8)


def test_limebase_model_regressor_equals_lime():
    from sklearn.linear_model import Ridge

    Z, labels, distances = limebase_data("continuous")
    results = [
        m.lime_base.LimeBase(kernel_fn).explain_instance_with_data(
            Z, labels, distances, 0, 4, model_regressor=Ridge(alpha=0.3)
        )
        for m in both()
    ]
    (i_a, exp_a, s_a, _p_a), (i_b, exp_b, s_b, _p_b) = results
    assert [int(f) for f, _ in exp_a] == [int(f) for f, _ in exp_b]
    np.testing.assert_allclose([w for _, w in exp_b], [w for _, w in exp_a], rtol=0, atol=1e-8)
    assert (i_b, s_b) == pytest.approx((i_a, s_a), abs=1e-8)


# --------------------------------------------------------------------------- discretizers


@functools.cache
def discretizers(name):
    m = load(name)
    train = gaussian_train()[:, :4]
    names = ["a", "b", "c", "d"]
    labels = (train[:, 0] + train[:, 1] > 0).astype(int)
    quartile = m.discretize.QuartileDiscretizer(train, [3], names, labels=None, random_state=0)
    decile = m.discretize.DecileDiscretizer(train, [], names, labels=None, random_state=0)
    entropy = m.discretize.EntropyDiscretizer(train, [], names, labels=labels, random_state=0)
    stats = {
        "means": quartile.means,
        "stds": quartile.stds,
        "mins": quartile.mins,
        "maxs": quartile.maxs,
        "bins": {f: [float(v) for v in np.percentile(train[:, f], [25, 50, 75])] for f in (0, 1, 2)},
    }
    from_stats = m.discretize.StatsDiscretizer(train, [3], names, labels=None, random_state=0, data_stats=stats)
    return train, {"quartile": quartile, "decile": decile, "entropy": entropy, "stats": from_stats}


@pytest.mark.parametrize("kind", ["quartile", "decile", "entropy", "stats"])
def test_discretizers_run(m, kind):
    train, discs = discretizers(m.name)
    disc = discs[kind]
    binned = disc.discretize(train)
    assert binned.shape == train.shape
    back = disc.undiscretize(binned)
    assert back.shape == train.shape
    np.testing.assert_array_equal(disc.discretize(back), binned)
    one = disc.discretize(train[0])
    assert one.shape == (4,)
    if kind in ("quartile", "stats"):
        assert disc.to_discretize == [0, 1, 2]
        np.testing.assert_array_equal(back[:, 3], train[:, 3])


@pytest.mark.parametrize("kind", ["quartile", "decile", "entropy", "stats"])
def test_discretizers_agree_with_lime(kind):
    (train, lime_d), (_, kit_d) = discretizers("lime"), discretizers("limekit")
    a, b = lime_d[kind], kit_d[kind]
    assert a.to_discretize == b.to_discretize
    assert {f: list(v) for f, v in a.names.items()} == {f: list(v) for f, v in b.names.items()}
    np.testing.assert_array_equal(a.discretize(train), b.discretize(train))
    for stat in ("means", "stds", "mins", "maxs"):
        for f in a.names:
            np.testing.assert_allclose(getattr(b, stat)[f], getattr(a, stat)[f], rtol=1e-12)


# --------------------------------------------------------------------------- explanation, has_arg


def test_hand_built_explanation(m):
    exp = m.explanation.Explanation(m.explanation.DomainMapper(), mode="classification", class_names=["a", "b"])
    exp.local_exp[1] = [(0, 0.5), (3, -0.25)]
    exp.intercept[1] = 0.1
    assert exp.available_labels() == [1]
    assert exp.as_list(1) == [(0, 0.5), (3, -0.25)]
    assert exp.as_map() == {1: [(0, 0.5), (3, -0.25)]}
    reg = m.explanation.Explanation(m.explanation.DomainMapper(), mode="regression")
    assert reg.class_names == ["negative", "positive"] and reg.dummy_label == 1
    reg.local_exp[1] = [(2, 1.0)]
    assert reg.as_list(label=0) == [(2, 1.0)]


class _Callable:
    def __call__(self, x, alpha=1.0, *, beta=None):
        return x


def _fn(a, b=1, *args, c=2, **kwargs):
    return a


def _positional_only(a, /, b):
    return a


HAS_ARG_CASES = [
    (_fn, "a", True),
    (_fn, "b", True),
    (_fn, "c", True),
    (_fn, "args", False),
    (_fn, "kwargs", False),
    (_fn, "d", False),
    (_Callable(), "alpha", True),
    (_Callable(), "beta", True),
    (_Callable(), "x", True),
    (_Callable(), "self", False),
    (lambda x, y=0: x, "y", True),
    (functools.partial(_fn, 1), "b", True),
    (_positional_only, "a", False),
    (_positional_only, "b", True),
    (_Callable, "alpha", False),
    (max, "key", False),
    (sorted, "key", True),
    (np.sum, "axis", True),
]


@pytest.mark.parametrize("fn,arg,expected", HAS_ARG_CASES)
def test_has_arg(m, fn, arg, expected):
    assert m.generic_utils.has_arg(fn, arg) is expected


def test_has_arg_on_sklearn_fit(m):
    from sklearn.linear_model import Ridge

    assert m.generic_utils.has_arg(Ridge().fit, "sample_weight")
    assert not m.generic_utils.has_arg(Ridge().fit, "weights")


# --------------------------------------------------------------------------- signatures


def _lime_names():
    lime, kit = both()
    pairs = [
        (lime.lime_tabular.LimeTabularExplainer.__init__, kit.lime_tabular.LimeTabularExplainer.__init__),
        (
            lime.lime_tabular.LimeTabularExplainer.explain_instance,
            kit.lime_tabular.LimeTabularExplainer.explain_instance,
        ),
        (lime.lime_tabular.RecurrentTabularExplainer.__init__, kit.lime_tabular.RecurrentTabularExplainer.__init__),
        (
            lime.lime_tabular.RecurrentTabularExplainer.explain_instance,
            kit.lime_tabular.RecurrentTabularExplainer.explain_instance,
        ),
        (lime.lime_tabular.TableDomainMapper.__init__, kit.lime_tabular.TableDomainMapper.__init__),
        (lime.lime_base.LimeBase.__init__, kit.lime_base.LimeBase.__init__),
        (lime.lime_base.LimeBase.explain_instance_with_data, kit.lime_base.LimeBase.explain_instance_with_data),
        (lime.lime_base.LimeBase.feature_selection, kit.lime_base.LimeBase.feature_selection),
        (lime.explanation.Explanation.__init__, kit.explanation.Explanation.__init__),
        (lime.explanation.Explanation.as_list, kit.explanation.Explanation.as_list),
        (lime.submodular_pick.SubmodularPick.__init__, kit.submodular_pick.SubmodularPick.__init__),
        (lime.generic_utils.has_arg, kit.generic_utils.has_arg),
    ]
    for cls in (
        "BaseDiscretizer",
        "QuartileDiscretizer",
        "DecileDiscretizer",
        "EntropyDiscretizer",
        "StatsDiscretizer",
    ):
        pairs.append((getattr(lime.discretize, cls).__init__, getattr(kit.discretize, cls).__init__))
    return pairs


@pytest.mark.parametrize(
    "lime_fn,kit_fn", _lime_names() if importlib.util.find_spec("lime") else [], ids=lambda f: f.__qualname__
)
def test_signatures_accept_lime_arguments(lime_fn, kit_fn):
    lime_params = inspect.signature(lime_fn).parameters
    kit_params = inspect.signature(kit_fn).parameters
    missing = [name for name in lime_params if name not in kit_params]
    assert not missing, f"{kit_fn.__qualname__} lacks lime's {missing}"
    # the positional order is lime's, so positional calls keep working
    positional = [p.name for p in kit_params.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    assert positional[: len(lime_params)] == [
        name for name, p in lime_params.items() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    # and the defaults are lime's, but for the output methods' label=None: the explanation's own label,
    # which is lime's 1 on the explanations of limekit.compat's explainers (tests/test_labels_keywords.py)
    for name, p in lime_params.items():
        if p.default is not p.empty:
            if (kit_fn.__qualname__, name) == ("Explanation.as_list", "label"):
                assert kit_params[name].default is None
                continue
            assert kit_params[name].default == p.default, name


# --------------------------------------------------------------------------- submodular pick


def test_submodular_pick_runs(m):
    train = gaussian_train()
    explainer = m.lime_tabular.LimeTabularExplainer(
        train, feature_names=[f"x{i}" for i in range(6)], class_names=["neg", "pos"], random_state=0
    )
    sp = m.submodular_pick.SubmodularPick(
        explainer, train[:20], planted_proba, sample_size=6, num_exps_desired=2, num_features=2, num_samples=300
    )
    assert len(sp.explanations) == 6
    assert len(sp.V) == 2 and len(set(sp.V)) == 2 and all(0 <= i < 6 for i in sp.V)
    assert sp.sp_explanations == [sp.explanations[i] for i in sp.V]
    for exp in sp.sp_explanations:
        label = exp.available_labels()[0]
        assert len(exp.as_list(label=label)) == 2
    full = m.submodular_pick.SubmodularPick(
        explainer, train[:4], planted_proba, method="full", num_exps_desired=1, num_features=2, num_samples=300
    )
    assert len(full.explanations) == 4 and len(full.sp_explanations) == 1


def test_lime_error_catches_limekit_errors():
    from limekit.compat.exceptions import LimeError
    from limekit.compat.lime_tabular import LimeTabularExplainer

    with pytest.raises(LimeError):
        LimeTabularExplainer(np.zeros((5, 2)), mode="clustering")


def test_tabular_explainer_has_lime_base():
    from limekit.compat.lime_base import LimeBase
    from limekit.compat.lime_tabular import LimeTabularExplainer

    explainer = LimeTabularExplainer(np.random.default_rng(0).normal(size=(20, 3)), kernel_width=2.0)
    assert isinstance(explainer.base, LimeBase)
    assert explainer.base.kernel_fn(np.array([0.0]))[0] == 1.0


# --------------------------------------------------------------------------- random_state=None, as lime


def _noisy_proba(X):
    X = np.asarray(X, dtype=float)
    p = sigmoid(X[:, 0] - X[:, 1] + 0.5 * X[:, 2] * X[:, 3])
    return np.column_stack([1 - p, p])


def _compat_explanations(kind):
    """Three explanations by compat explainers built without random_state: seed 3, seed 3 again, seed 4."""
    from limekit.compat import lime_image, lime_tabular, lime_text

    train = gaussian_train()
    labels = (train[:, 0] > 0).astype(int)
    words = "the food was good but the service was slow and the room was cold".split()

    def text_proba(texts):
        p = np.array([0.2 + 0.6 * ("good" in t.split()) + 0.1 * ("slow" in t.split()) for t in texts])
        return np.column_stack([1 - p, p])

    image = np.zeros((16, 16, 3))
    image[:8, :8] = 1.0

    def image_proba(batch):
        p = 0.1 + 0.8 * np.asarray(batch)[:, :8, :8, 0].mean(axis=(1, 2))
        return np.column_stack([1 - p, p])

    def explain():
        if kind == "tabular":  # lime's own failing case: the entropy discretizer's tree draws from random_state
            explainer = lime_tabular.LimeTabularExplainer(train, training_labels=labels, discretizer="entropy")
            return explainer.explain_instance(PLANTED_ROW, _noisy_proba, num_features=3, num_samples=300).as_list()
        if kind == "text":
            exp = lime_text.LimeTextExplainer().explain_instance(
                " ".join(words), text_proba, num_features=4, num_samples=200
            )
            return exp.as_list()
        segments = np.indices((16, 16)) // 4
        exp = lime_image.LimeImageExplainer().explain_instance(
            image,
            image_proba,
            top_labels=None,
            num_samples=100,
            progress_bar=False,
            segmentation_fn=lambda img: segments[0] * 4 + segments[1],
        )
        return exp.local_exp[1]

    runs = []
    for seed in (3, 3, 4):
        np.random.seed(seed)
        runs.append(explain())
    return runs


@pytest.mark.parametrize("kind", ["tabular", "text", "image"])
def test_compat_random_state_none_follows_numpy_global_seed_as_lime(kind):
    first, again, other = _compat_explanations(kind)
    assert first == again
    assert first != other


def test_limekit_random_state_none_takes_fresh_entropy():
    from limekit import TabularExplainer

    runs = []
    for _ in range(2):
        np.random.seed(3)  # has no effect on limekit's own explainers
        runs.append(
            TabularExplainer(gaussian_train(), random_state=None)
            .explain_instance(PLANTED_ROW, _noisy_proba, num_features=3, num_samples=300)
            .as_list()
        )
    assert runs[0] != runs[1]
