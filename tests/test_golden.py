"""Explanations for fixed seeds equal the recorded golden JSON, bit for bit.

The files in tests/golden/ were written by ``tests/golden/make_golden.py``;
a change that alters any explanation shows up here and must be explained
(and the files rewritten) in the same commit.
"""

import json
from pathlib import Path

import pytest
from golden import make_golden

GOLDEN = Path(__file__).resolve().parent / "golden"


@pytest.mark.parametrize("name", sorted(make_golden.cases()))
def test_explanation_equals_golden(name):
    expected = json.loads((GOLDEN / f"{name}.json").read_text())
    got = make_golden.record(make_golden.cases()[name]())
    assert got == expected
