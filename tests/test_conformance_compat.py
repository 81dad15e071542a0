"""Offline checks of the limekit.compat behaviours that lime's own test suite exercises.

``scripts/lime_conformance.py`` (``make conformance``) runs lime 0.2.0.1's
tests against limekit.compat, which needs the package registry; these tests
pin the same behaviours without it, plus the script's import rewriting.
"""

import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

from limekit.compat import lime_tabular
from limekit.compat.discretize import QuartileDiscretizer
from limekit.compat.wrappers.scikit_image import BaseWrapper, SegmentationAlgorithm

# --------------------------------------------------------------------------- BaseWrapper (lime's semantics)


def add(a, b, c=True):
    return a + b if c else a


class Echo:
    def __call__(self, message):
        return message


def test_base_wrapper_stores_what_it_is_given_unchecked():
    assert BaseWrapper().target_fn is None and BaseWrapper().target_params == {}
    wrapper = BaseWrapper(add, a=1, not_an_argument=2)
    assert wrapper.target_fn is add
    assert wrapper.target_params == {"a": 1, "not_an_argument": 2}


def test_base_wrapper_set_params_checks_names_and_replaces():
    wrapper = BaseWrapper(Echo(), stale=1)
    wrapper.set_params(message="OK")  # an object: its __call__'s arguments
    assert wrapper.target_params == {"message": "OK"}
    assert wrapper.target_fn(**wrapper.target_params) == "OK"
    with pytest.raises(ValueError, match="invalid"):
        wrapper.set_params(invalid="KO")
    assert wrapper.target_params == {"message": "OK"}  # unchanged after the error
    function = BaseWrapper(add)
    function._check_params(["a", "c"])
    with pytest.raises(ValueError):
        function._check_params({"d": 1})


def test_base_wrapper_check_params_errors():
    with pytest.raises(TypeError):
        BaseWrapper(add)._check_params("a")  # a string, not a list or dict of names
    with pytest.raises(TypeError):
        BaseWrapper(add)._check_params(None)
    with pytest.raises(AttributeError):
        BaseWrapper([1, 2, 3])._check_params(["a"])  # target is not callable
    with pytest.raises(TypeError):
        BaseWrapper()._check_params(["a"])  # no target and the wrapper is not callable


def test_base_wrapper_without_target_checks_its_own_call():
    class Wrapper(BaseWrapper):
        def __call__(self, image, sigma=1.0):
            return image

    wrapper = Wrapper()
    wrapper.set_params(sigma=2.0)
    assert wrapper.target_params == {"sigma": 2.0}
    with pytest.raises(ValueError):
        wrapper.set_params(size=3)


def test_base_wrapper_filter_params():
    wrapper = BaseWrapper(add, a=10, b=100, d=1000)
    assert wrapper.filter_params(add) == {"a": 10, "b": 100}
    assert wrapper.filter_params(add, override={"c": False}) == {"a": 10, "b": 100, "c": False}

    def only_kwargs(**kwargs):
        return kwargs

    assert wrapper.filter_params(only_kwargs) == {}  # **kwargs does not count, as in lime's has_arg


def test_segmentation_algorithm_is_a_base_wrapper():
    segmenter = SegmentationAlgorithm("slic", n_segments=10, compactness=5, start_label=0)
    assert isinstance(segmenter, BaseWrapper)
    assert segmenter.filter_params(segmenter.target_fn, override={"sigma": 1}) == {
        "n_segments": 10,
        "compactness": 5,
        "start_label": 0,
        "sigma": 1,
    }
    segmenter._check_params(["n_segments"])
    with pytest.raises(ValueError):
        segmenter._check_params(["kernel_size"])  # quickshift's, not slic's
    image = np.random.default_rng(0).random((24, 24, 3))
    assert segmenter(image).shape == (24, 24)


# --------------------------------------------------------------------------- LimeTabularExplainer


def planted_proba(X):
    p = 1.0 / (1.0 + np.exp(-3.0 * (X[:, 0] - X[:, 1])))
    return np.column_stack([1 - p, p])


@pytest.fixture(scope="module")
def train():
    return np.random.default_rng(0).normal(size=(200, 4))


def stats_of(train):
    """training_data_stats as lime's test builds them, from a quartile discretizer."""
    disc = QuartileDiscretizer(train, [], ["a", "b", "c", "d"], random_state=0)
    binned = disc.discretize(train)
    values, frequencies = {}, {}
    for feature in range(train.shape[1]):
        v, f = np.unique(binned[:, feature], return_counts=True)
        values[feature], frequencies[feature] = v.tolist(), f.tolist()
    return {
        "means": disc.means,
        "stds": disc.stds,
        "mins": disc.mins,
        "maxs": disc.maxs,
        "bins": {f: b.tolist() for f, b in enumerate(disc.bins(train, None))},
        "feature_values": values,
        "feature_frequencies": frequencies,
    }


@pytest.mark.parametrize("discretizer", ["quartile", "entropy"])
def test_training_labels_ignored_with_training_data_stats(train, discretizer):
    """lime builds a StatsDiscretizer from the statistics and never reads the labels."""
    placeholder = np.zeros((2, 4))  # lime's idiom: the statistics stand in for the data
    explainer = lime_tabular.LimeTabularExplainer(
        placeholder,
        feature_names=["a", "b", "c", "d"],
        random_state=0,
        training_data_stats=stats_of(train),
        discretizer=discretizer,
        training_labels=["x", "y", "z"],
    )
    assert isinstance(explainer.discretizer, lime_tabular.StatsDiscretizer)
    exp = explainer.explain_instance(train[0], planted_proba, num_features=2, num_samples=300)
    assert {re.search(r"\b([abcd])\b", name).group(1) for name, _ in exp.as_list()} == {"a", "b"}


def test_lime_tabular_explainer_takes_lime_positional_order(train):
    labels = (train[:, 0] > 0).astype(int)
    explainer = lime_tabular.LimeTabularExplainer(
        train,
        "classification",
        labels,
        ["a", "b", "c", "d"],
        None,
        None,
        None,
        None,
        False,
        ["no", "yes"],
        "auto",
        True,
        "entropy",
        False,
        0,
    )
    assert explainer.feature_names == ["a", "b", "c", "d"] and explainer.class_names == ["no", "yes"]
    assert type(explainer.discretizer).__name__ == "EntropyDiscretizer"
    with pytest.raises(ValueError):  # without statistics, the labels still have to match the rows
        lime_tabular.LimeTabularExplainer(train, training_labels=labels[:-1], discretizer="entropy")


def test_recurrent_explainer_is_a_lime_tabular_explainer():
    series = np.random.default_rng(1).normal(size=(30, 3, 2))
    explainer = lime_tabular.RecurrentTabularExplainer(series, feature_names=["u", "v"], random_state=0)
    assert isinstance(explainer, lime_tabular.LimeTabularExplainer)
    assert explainer.feature_names[:3] == ["u_t-2", "u_t-1", "u_t-0"]


def explain_with(train, discretizer_seed, explainer_seed):
    discretizer = QuartileDiscretizer(train, [], ["a", "b", "c", "d"], random_state=discretizer_seed)
    explainer = lime_tabular.LimeTabularExplainer(train, discretizer=discretizer, random_state=explainer_seed)
    return explainer.explain_instance(train[3], planted_proba, num_samples=200).as_map()


def test_passed_discretizer_random_state_drives_the_values_within_bins(train):
    """lime samples bins with the explainer's random_state and the values within them with the discretizer's."""
    assert explain_with(train, 1, 0) == explain_with(train, 1, 0)
    assert explain_with(train, 1, 0) != explain_with(train, 2, 0)


# --------------------------------------------------------------------------- scripts/lime_conformance.py


@pytest.fixture(scope="module")
def conformance():
    path = Path(__file__).resolve().parents[1] / "scripts" / "lime_conformance.py"
    spec = importlib.util.spec_from_file_location("lime_conformance", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_conformance_rewrites_only_lime_imports(conformance):
    source = (
        "import numpy as np\n"
        "from lime.lime_tabular import LimeTabularExplainer\n"
        "from lime import lime_text\n"
        "import lime.wrappers.scikit_image\n"
        "import lime.lime_image as li\n"
        "seg = lime.wrappers.scikit_image.SegmentationAlgorithm('slic')\n"
        "name = 'sublime.lime_tabular'\n"
    )
    new, changed = conformance.rewrite_imports(source)
    assert new == (
        "import numpy as np\n"
        "from limekit.compat.lime_tabular import LimeTabularExplainer\n"
        "from limekit.compat import lime_text\n"
        "import limekit.compat.wrappers.scikit_image\n"
        "import limekit.compat.lime_image as li\n"
        "seg = limekit.compat.wrappers.scikit_image.SegmentationAlgorithm('slic')\n"
        "name = 'sublime.lime_tabular'\n"
    )
    assert [line for line, _, _ in changed] == [2, 3, 4, 5, 6]


def test_conformance_skips_when_registry_unreachable(conformance, monkeypatch, capsys):
    monkeypatch.setattr(conformance, "download_sdist", lambda dest: None)
    assert conformance.main([]) == 0
    assert "lime conformance: skipped, registry unreachable" in capsys.readouterr().out


def test_conformance_reads_junit_outcomes(conformance, tmp_path):
    tests = {
        "test_a.py": ["test_a.py::TestA::test_one", "test_a.py::TestA::test_two"],
        "test_b.py": ["test_b.py::TestB::test_three"],
        "test_c.py": ["test_c.py::test_four"],
    }
    (tmp_path / "r.xml").write_text(
        "<testsuites><testsuite>"
        '<testcase classname="lime.tests.test_a.TestA" name="test_one" file="lime/tests/test_a.py"/>'
        '<testcase classname="lime.tests.test_a.TestA" name="test_two" file="lime/tests/test_a.py">'
        '<failure message="AssertionError: no">trace</failure></testcase>'
        '<testcase classname="" name="lime_tests.test_b"><error message="collection failure">x</error></testcase>'
        '<testcase classname="lime.tests.test_c" name="test_four" file="lime/tests/test_c.py"/>'
        "</testsuite></testsuites>"
    )
    result = conformance.outcomes(tmp_path / "r.xml", tests)
    assert result["test_a.py::TestA::test_one"] == ("passed", "")
    assert result["test_a.py::TestA::test_two"] == ("failed", "AssertionError: no")
    assert result["test_b.py::TestB::test_three"][0] == "error"
    assert result["test_c.py::test_four"] == ("passed", "")
