"""Long documents: more distinct words than samples are solved in the dual, never forming the d x d Gram matrix."""

import tracemalloc

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from limekit import TextExplainer
from limekit.core.selection import select_features
from limekit.weighted import WeightedDesign


def wide_problem(n=30, d=80, seed=0):
    rng = np.random.default_rng(seed)
    Z = (rng.random((n, d)) < 0.5).astype(float)
    Z[0] = 1.0  # the instance
    w = rng.random(n) + 0.1
    y = Z[:, :3] @ np.array([1.0, -0.8, 0.5]) + 0.01 * rng.normal(size=n)
    return Z, w, y


def test_dual_solve_equals_sklearn_ridge():
    Z, w, y = wide_problem()
    design = WeightedDesign(Z, w)
    assert design.wide and design._gram is None
    _, cross = design.label_stats(y)
    coef = design.solve(np.arange(Z.shape[1]), cross, alpha=0.01)
    reference = Ridge(alpha=0.01).fit(Z, y, sample_weight=w).coef_
    np.testing.assert_allclose(coef, reference, atol=1e-8)
    assert design._gram is None  # never formed


@pytest.mark.parametrize("method", ["forward_selection", "highest_weights", "lasso_path"])
def test_selection_on_a_wide_design_matches_the_gram_matrix_path(method):
    Z, w, y = wide_problem()
    wide = WeightedDesign(Z, w)
    narrow = WeightedDesign(Z, w)
    narrow._gram = narrow.gram  # the same design, with its Gram matrix formed
    picked = select_features(wide, y, 3, method)
    assert wide._gram is None
    assert picked.tolist() == select_features(narrow, y, 3, method).tolist()
    assert {0, 1} <= set(picked.tolist())  # the two strong features, with 80 columns and 30 rows


def test_a_long_document_never_forms_the_word_by_word_matrix():
    words = [f"w{i}" for i in range(3000)] + ["superb", "awful"]
    text = " ".join(words)

    def classifier(texts):
        score = np.array([("superb" in t.split()) - ("awful" in t.split()) for t in texts], dtype=float)
        p = 1 / (1 + np.exp(-2 * score))
        return np.column_stack([1 - p, p])

    tracemalloc.start()
    exp = TextExplainer(random_state=0).explain_instance(text, classifier, num_features=2, num_samples=100)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert {word for word, _ in exp.as_list()} == {"superb", "awful"}
    assert peak < 3002**2 * 8 / 2  # a 3002 x 3002 float matrix alone would take 72 MB
    assert exp.diagnostics["sampling"]["converged"] is None  # no gap test with more words than samples
