"""The sampler per surrogate (issue 15): GAM surrogates get GAM_SAMPLER unless a sampler argument is given.

Linear surrogates keep lime's sampler bit for bit; an explicit
``discretize_continuous`` / ``sample_around_instance`` / ``discretizer``
serves every surrogate; the sampler is resolved per call from that call's
surrogate and recorded in ``diagnostics['sampler']`` for GAM explanations.
"""

import importlib.util

import numpy as np
import pytest

from limekit import TabularExplainer
from limekit._validation import LimekitTypeError, LimekitValueError
from limekit.tabular.explainer import GAM_SAMPLER

pytest.importorskip("interpret")
GAMS = ["ebm"] + (["gaminet"] if importlib.util.find_spec("torch") is not None else [])
FAST = {"ebm": {}, "gaminet": {"max_epochs": (3, 0, 1)}}


def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    X[:, 3] = rng.integers(0, 3, size=300)  # category codes
    return X


def proba(X):
    X = np.asarray(X, dtype=float)
    p = 1 / (1 + np.exp(-(2 * X[:, 0] - X[:, 1] * X[:, 2] + 0.5 * (X[:, 3] == 2))))
    return np.column_stack([1 - p, p])


def explain(explainer, surrogate, **kwargs):
    from limekit.surrogates import make_surrogate

    if surrogate in FAST:
        surrogate = make_surrogate(surrogate, surrogate_task="classification", **FAST[surrogate])
    return explainer.explain_instance(
        data()[5],
        proba,
        num_samples=200,
        num_features=4,
        surrogate=surrogate,
        surrogate_task="classification",
        fidelity_samples=20,
        **kwargs,
    )


def perturbations(explainer, surrogate):
    """The model rows of one explanation, captured from the model calls."""
    seen = []

    def model(X):
        seen.append(np.array(X, dtype=float))
        return proba(X)

    from limekit.surrogates import make_surrogate

    if surrogate in FAST:
        surrogate = make_surrogate(surrogate, surrogate_task="classification", **FAST[surrogate])
    explainer.explain_instance(
        data()[5], model, num_samples=200, surrogate=surrogate, fidelity_samples=0, surrogate_task="classification"
    )
    return np.vstack(seen)


@pytest.mark.parametrize("name", GAMS)
def test_gam_surrogates_get_the_gam_sampler_and_record_it(name):
    explainer = TabularExplainer(data(), categorical_features=[3], random_state=1)
    exp = explain(explainer, name)
    sampler = exp.diagnostics["sampler"]
    assert sampler["chosen_by"] == "surrogate"
    assert sampler["discretize_continuous"] is GAM_SAMPLER["discretize_continuous"]
    assert sampler["sample_around_instance"] is GAM_SAMPLER["sample_around_instance"]
    assert sampler["spread"] == GAM_SAMPLER.get("spread", 1.0)
    assert sampler["keep_category"] == GAM_SAMPLER.get("keep_category", 0.0)
    assert sampler["clip"] is bool(GAM_SAMPLER.get("clip"))
    rows = perturbations(explainer, name)
    if not GAM_SAMPLER["discretize_continuous"]:  # continuous values are drawn, not quartile bins
        assert len(np.unique(rows[:200, 0])) > 150
    # the same perturbations as the GAM sampler draws directly
    direct = explainer.gam_sampler.sample(data()[5], 200, explainer.randomness(data()[5]).perturbation)[1]
    np.testing.assert_array_equal(rows[:200], direct)


def test_gam_sampler_keeps_the_instance_category_as_often_as_configured():
    explainer = TabularExplainer(data(), categorical_features=[3], random_state=1)
    row = data()[5]
    _, inverse, _ = explainer.gam_sampler.sample(row, 4000, np.random.default_rng(0))
    share = np.mean(inverse[1:, 3] == row[3])
    keep = GAM_SAMPLER.get("keep_category", 0.0)
    frequency = np.mean(data()[:, 3] == row[3])
    assert abs(share - (keep + (1 - keep) * frequency)) < 0.03


def test_gam_sampler_draws_continuous_values_within_the_training_range():
    explainer = TabularExplainer(data(), categorical_features=[3], random_state=1)
    _, inverse, _ = explainer.gam_sampler.sample(data()[5], 4000, np.random.default_rng(0))
    if GAM_SAMPLER.get("clip"):
        assert (inverse[:, :3] >= data()[:, :3].min(0)).all() and (inverse[:, :3] <= data()[:, :3].max(0)).all()
    lime = TabularExplainer(data(), categorical_features=[3], random_state=1, discretize_continuous=False)
    assert lime.sampler.bounds is None  # lime's own undiscretised sampler is not clipped


@pytest.mark.parametrize("name", GAMS)
@pytest.mark.parametrize(
    "arguments",
    [
        dict(discretize_continuous=True),
        dict(sample_around_instance=False),
        dict(discretize_continuous=False, sample_around_instance=True),
        dict(discretizer="decile"),
    ],
)
def test_an_explicit_sampler_argument_overrides_the_gam_default(name, arguments):
    explainer = TabularExplainer(data(), categorical_features=[3], random_state=1, **arguments)
    assert explainer.gam_sampler is None
    exp = explain(explainer, name)
    sampler = exp.diagnostics["sampler"]
    assert sampler["chosen_by"] == "arguments"
    assert sampler["discretize_continuous"] == arguments.get("discretize_continuous", True)
    assert sampler["sample_around_instance"] == arguments.get("sample_around_instance", False)
    assert sampler["keep_category"] == 0.0 and sampler["spread"] == 1.0 and sampler["clip"] is False
    # lime's sampler: the rows the explainer's own (lime) sampler draws
    direct = explainer.sampler.sample(data()[5], 200, explainer.randomness(data()[5]).perturbation)[1]
    np.testing.assert_array_equal(perturbations(explainer, name)[:200], direct)


@pytest.mark.parametrize("surrogate", ["ridge", "lasso"])
@pytest.mark.parametrize("task", ["regression", "classification"])
def test_linear_surrogates_keep_limes_sampler_bit_for_bit(surrogate, task):
    default = TabularExplainer(data(), categorical_features=[3], random_state=4)
    lime = TabularExplainer(
        data(), categorical_features=[3], random_state=4, discretize_continuous=True, sample_around_instance=False
    )
    a = default.explain_instance(data()[5], proba, num_samples=300, surrogate=surrogate, surrogate_task=task)
    b = lime.explain_instance(data()[5], proba, num_samples=300, surrogate=surrogate, surrogate_task=task)
    assert a.to_dict() == b.to_dict()
    assert "sampler" not in a.diagnostics  # linear records are lime's, unchanged
    np.testing.assert_array_equal(perturbations(default, surrogate), perturbations(lime, surrogate))


@pytest.mark.parametrize("name", GAMS)
def test_the_sampler_follows_the_per_call_surrogate(name):
    explainer = TabularExplainer(
        data(), categorical_features=[3], random_state=2, surrogate=name, surrogate_task="classification"
    )
    lime = TabularExplainer(data(), categorical_features=[3], random_state=2, discretize_continuous=True)
    # a GAM explainer asked for a ridge explanation samples as lime
    np.testing.assert_array_equal(perturbations(explainer, "ridge"), perturbations(lime, "ridge"))
    # a ridge explainer asked for a GAM samples with the GAM sampler
    ridge = TabularExplainer(data(), categorical_features=[3], random_state=2)
    assert explain(ridge, name).diagnostics["sampler"]["chosen_by"] == "surrogate"
    np.testing.assert_array_equal(perturbations(ridge, name), perturbations(explainer, name))


def test_gam_default_equals_the_same_sampler_given_by_hand():
    """The GAM default with lime's own options is the explicit undiscretised sampler, bit for bit."""
    default = TabularExplainer(
        data(),
        categorical_features=[3],
        random_state=3,
        gam_sampling=dict(sample_around_instance=True, spread=1.0, keep_category=0.0, clip=False),
    )
    explicit = TabularExplainer(
        data(), categorical_features=[3], random_state=3, discretize_continuous=False, sample_around_instance=True
    )
    a, b = explain(default, "ebm").to_dict(), explain(explicit, "ebm").to_dict()
    assert a["diagnostics"].pop("sampler")["chosen_by"] == "surrogate"
    assert b["diagnostics"].pop("sampler")["chosen_by"] == "arguments"
    assert a == b


def test_gam_sampler_for_dataframes_and_explain_many():
    pd = pytest.importorskip("pandas")
    X = data()
    frame = pd.DataFrame(
        {
            "a": X[:, 0],
            "b": X[:, 1],
            "c": X[:, 2],
            "colour": pd.Categorical(np.array(["red", "green", "blue"])[X[:, 3].astype(int)]),
        }
    )

    def model(df):
        return proba(np.column_stack([df["a"], df["b"], df["c"], df["colour"].cat.codes]))

    explainer = TabularExplainer(frame, random_state=0, surrogate="ebm", surrogate_task="classification")
    many = explainer.explain_many(frame.iloc[:3], model, num_samples=200, fidelity_samples=0)
    one = explainer.explain_instance(frame.iloc[1], model, num_samples=200, fidelity_samples=0)
    assert many[1].to_dict() == one.to_dict()
    assert all(e.diagnostics["sampler"]["chosen_by"] == "surrogate" for e in many)


def test_kernel_sampling_keeps_limes_discretised_sampler_for_gams():
    explainer = TabularExplainer(data(), categorical_features=[3], random_state=1)
    exp = explain(explainer, "ebm", sampling="kernel")
    assert exp.diagnostics["sampler"]["discretize_continuous"] is True
    assert exp.diagnostics["sampler"]["chosen_by"] == "arguments"


def test_gam_sampling_settings_reach_the_gam_sampler_and_its_record():
    settings = dict(sample_around_instance=True, spread=0.5, keep_category=0.9, clip=False)
    explainer = TabularExplainer(data(), categorical_features=[3], random_state=1, gam_sampling=settings)
    sampler = explain(explainer, "ebm").diagnostics["sampler"]
    assert sampler["chosen_by"] == "surrogate"
    assert {key: sampler[key] for key in settings} == settings
    row = data()[5]
    _, inverse, _ = explainer.gam_sampler.sample(row, 4000, np.random.default_rng(0))
    frequency = np.mean(data()[:, 3] == row[3])
    assert abs(np.mean(inverse[1:, 3] == row[3]) - (0.9 + 0.1 * frequency)) < 0.03
    # centred on the instance, half the training spread
    spread = inverse[1:, :3].std(axis=0) / data()[:, :3].std(axis=0)
    np.testing.assert_allclose(spread, 0.5, rtol=0.08)
    np.testing.assert_allclose(inverse[1:, :3].mean(axis=0), row[:3], atol=0.1 * data()[:, :3].std(axis=0).max())
    # one setting given: the others keep GAM_SAMPLER's values
    partial = TabularExplainer(data(), categorical_features=[3], random_state=1, gam_sampling={"spread": 2.0})
    assert partial.gam_sampling == dict(GAM_SAMPLER, spread=2.0)
    assert GAM_SAMPLER["spread"] == 1.0  # the module default is untouched


@pytest.mark.parametrize(
    "gam_sampling, names",
    [
        ([("spread", 1.0)], "gam_sampling"),
        ({"discretize_continuous": True}, "gam_sampling"),
        ({"spreads": 1.0}, "gam_sampling"),
        ({"spread": 0.0}, "gam_sampling['spread']"),
        ({"spread": "wide"}, "gam_sampling['spread']"),
        ({"keep_category": 1.5}, "gam_sampling['keep_category']"),
        ({"keep_category": True}, "gam_sampling['keep_category']"),
        ({"clip": 1}, "gam_sampling['clip']"),
        ({"sample_around_instance": "yes"}, "gam_sampling['sample_around_instance']"),
    ],
)
def test_bad_gam_sampling_raises_naming_the_argument(gam_sampling, names):
    with pytest.raises((LimekitValueError, LimekitTypeError)) as error:
        TabularExplainer(data(), categorical_features=[3], gam_sampling=gam_sampling)
    assert str(error.value).startswith(names + ":")


def test_gam_sampling_with_a_sampler_argument_raises():
    with pytest.raises(LimekitValueError, match="gam_sampling: expected None when discretize_continuous"):
        TabularExplainer(data(), categorical_features=[3], discretize_continuous=False, gam_sampling={"spread": 2.0})
