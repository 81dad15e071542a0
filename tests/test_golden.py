"""Explanations for fixed seeds equal the recorded golden JSON, within per-quantity tolerances.

The files in tests/golden/ were written by ``tests/golden/make_golden.py``;
a change that alters any explanation beyond the tolerances of
``tests/golden/compare.py`` shows up here and must be explained (and the files
rewritten) in the same commit.  Structure, labels, feature ids and names are
compared exactly; floats within a tolerance per quantity, so that the files hold
on any CPU and BLAS kernel.
"""

import copy
import json
from pathlib import Path

import pytest
from golden import make_golden
from golden.compare import TOLERANCES, compare_records

GOLDEN = Path(__file__).resolve().parent / "golden"


def load(name):
    return json.loads((GOLDEN / f"{name}.json").read_text())


@pytest.mark.parametrize("name", sorted(make_golden.cases()))
def test_explanation_equals_golden(name):
    got = make_golden.record(make_golden.cases()[name]())
    problems = compare_records(load(name), got)
    assert not problems, "\n".join(problems)


# The tolerances must still catch a real change: each edit below is applied to a
# golden record, and the comparison must report it (or, within tolerance, not).

LINEAR, ITERATIVE = "tabular_ridge_classification", "tabular_ebm_classification"


def first_features(record):
    label = next(iter(record["explanations"]))
    return record["explanations"][label]["features"]


@pytest.mark.parametrize("name", [LINEAR, ITERATIVE])
def test_records_equal_themselves(name):
    assert compare_records(load(name), load(name)) == []


@pytest.mark.parametrize(("name", "family"), [(LINEAR, "linear"), (ITERATIVE, "iterative")])
def test_weight_changed_beyond_tolerance_fails(name, family):
    expected = load(name)
    tolerance = TOLERANCES[("weight", family)]
    for factor, caught in [(0.1, False), (10.0, True)]:
        got = copy.deepcopy(expected)
        feature = first_features(got)[-1]  # the smallest weight shown
        feature["weight"] += factor * (tolerance.rtol * abs(feature["weight"]) + tolerance.atol)
        assert bool(compare_records(expected, got)) == caught, (factor, compare_records(expected, got))


@pytest.mark.parametrize("name", [LINEAR, ITERATIVE])
def test_flipped_sign_fails(name):
    expected = load(name)
    got = copy.deepcopy(expected)
    feature = first_features(got)[0]
    feature["weight"] = -feature["weight"]
    problems = compare_records(expected, got)
    assert any("weight" in p for p in problems), problems


def test_shape_function_changed_beyond_tolerance_fails():
    expected = load(ITERATIVE)
    label = next(iter(expected["explanations"]))
    got = copy.deepcopy(expected)
    values = got["explanations"][label]["shape_functions"][0]["values"]
    values[len(values) // 2] += 0.01 * max(abs(v) for v in values)
    assert compare_records(expected, got)


def test_order_swaps_only_within_tolerance():
    expected = load(LINEAR)
    swapped = copy.deepcopy(expected)
    features = first_features(swapped)
    features[0], features[1] = features[1], features[0]  # weights far apart: a real change
    assert any("placed before" in p for p in compare_records(expected, swapped))

    tied = copy.deepcopy(expected)
    features = first_features(tied)
    features[1]["weight"] = features[0]["weight"] * (1 - 1e-9)  # a near tie, within tolerance
    expected_tied = copy.deepcopy(tied)
    features[0], features[1] = features[1], features[0]
    assert compare_records(expected_tied, tied) == []


@pytest.mark.parametrize(
    "edit",
    [
        lambda r: r["labels"].append(0),
        lambda r: first_features(r)[0].__setitem__("name", "another name"),
        lambda r: first_features(r)[0].__setitem__("id", 99),
        lambda r: r["diagnostics"].__setitem__("surrogate", "lasso"),
        lambda r: r["diagnostics"]["sampling"].__setitem__("num_samples", 801),
        lambda r: r["diagnostics"].pop("kernel_width"),
    ],
    ids=["label", "name", "feature id", "string", "integer", "missing key"],
)
def test_structure_is_compared_exactly(edit):
    expected = load(LINEAR)
    got = copy.deepcopy(expected)
    edit(got)
    assert compare_records(expected, got)


def test_tied_groups_compare_as_sets():
    expected = load("image_quickshift")
    tied = expected["diagnostics"]["sampling"]["tied_features"]
    assert len(tied) >= 2  # the case names a tie group
    reordered = copy.deepcopy(expected)
    reordered["diagnostics"]["sampling"]["tied_features"].reverse()
    reordered["diagnostics"]["sampling"]["tied_names"].reverse()
    assert compare_records(expected, reordered) == []
    replaced = copy.deepcopy(expected)
    replaced["diagnostics"]["sampling"]["tied_features"][0] = max(tied) + 1
    assert compare_records(expected, replaced)
