"""Golden explanations: fixed seeds, every frontend, linear and GAM surrogates.

``python tests/golden/make_golden.py`` rewrites ``tests/golden/*.json`` (``--check``
prints how much of each tolerance today's code uses instead);
``tests/test_golden.py`` checks that today's code gives the same JSON, floats
within the tolerances of ``tests/golden/compare.py``.  Models are plain numpy
functions, so their outputs do not depend on how the perturbations are batched.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
N_FEATURES = 6


def tabular_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, N_FEATURES))
    X[:, 4] = rng.integers(0, 3, size=400)  # a categorical column (codes)
    return X


def tabular_proba(X):
    X = np.asarray(X, dtype=float)
    logit = 2.0 * X[:, 0] - 1.5 * X[:, 1] + 0.8 * X[:, 2] * X[:, 3] + 0.5 * (X[:, 4] == 2)
    p = 1.0 / (1.0 + np.exp(-logit))
    return np.column_stack([1 - p, p])


def tabular_value(X):
    X = np.asarray(X, dtype=float)
    return 3.0 * X[:, 0] - 2.0 * X[:, 1] + np.sin(X[:, 2]) + 0.3 * X[:, 4]


WORDS = {"great": 2.0, "good": 1.0, "bad": -1.5, "awful": -2.5}


def text_proba(texts):
    score = np.array([sum(WORDS.get(w, 0.0) for w in t.lower().split()) for t in texts])
    p = 1.0 / (1.0 + np.exp(-score))
    return np.column_stack([1 - p, p])


def text_value(texts):
    return np.array([sum(WORDS.get(w, 0.0) for w in t.lower().split()) for t in texts])


TEXT = "the food was great and the service good but the room was bad and the view awful"


def image():
    rng = np.random.default_rng(1)
    img = np.zeros((24, 24, 3))
    img[:12, :12] = [0.9, 0.1, 0.1]
    img[12:, 12:] = [0.1, 0.8, 0.2]
    img[:12, 12:] = [0.2, 0.2, 0.9]
    return np.clip(img + rng.normal(scale=0.02, size=img.shape), 0, 1)


def image_proba(batch):
    batch = np.asarray(batch, dtype=float)
    red = batch[:, :12, :12, 0].mean(axis=(1, 2))
    green = batch[:, 12:, 12:, 1].mean(axis=(1, 2))
    logits = np.column_stack([2 * red, 2 * green, 0.5 + 0 * red])
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def blocks_image():
    """A 64 x 64 image of 16 coloured blocks: quickshift finds about 16 superpixels."""
    rng = np.random.default_rng(1)
    img = np.zeros((64, 64, 3))
    for i in range(4):
        for j in range(4):
            img[i * 16 : (i + 1) * 16, j * 16 : (j + 1) * 16] = rng.random(3)
    return np.clip(img + rng.normal(scale=0.03, size=img.shape), 0, 1)


def blocks_proba(batch):
    batch = np.asarray(batch, dtype=float)
    left = batch[:, :, :32, 0].mean(axis=(1, 2))
    top = batch[:, :32, :, 2].mean(axis=(1, 2))
    p = 1.0 / (1.0 + np.exp(-(4 * left - 3 * top)))
    return np.column_stack([1 - p, p])


def grid_segments(img):
    rows, cols = np.indices(img.shape[:2])
    return (rows // 6) * 4 + cols // 6


def cases():
    """name -> callable returning an Explanation."""
    from limekit import ImageExplainer, TabularExplainer, TextExplainer

    X = tabular_data()
    row = X[3]
    out = {}
    for surrogate, task in [
        ("ridge", "regression"),
        ("lasso", "regression"),
        ("ridge", "classification"),
        ("ebm", "classification"),
        ("gaminet", "classification"),
    ]:
        n = 300 if surrogate in ("ebm", "gaminet") else 800

        def tab(surrogate=surrogate, task=task, n=n):
            explainer = TabularExplainer(
                X,
                categorical_features=[4],
                random_state=7,
                surrogate=surrogate,
                surrogate_task=task,
                stability_samples=3 if surrogate == "ridge" else 0,
            )
            return explainer.explain_instance(row, tabular_proba, num_features=4, num_samples=n)

        out[f"tabular_{surrogate}_{task}"] = tab
    out["tabular_regression_continuous"] = lambda: TabularExplainer(
        X,
        mode="regression",
        discretize_continuous=False,
        random_state=3,
        fidelity_samples=50,
    ).explain_instance(row, tabular_value, num_features=3, num_samples=600)
    out["tabular_ebm_regression"] = lambda: TabularExplainer(
        X,
        mode="regression",
        random_state=3,
        surrogate="ebm",
    ).explain_instance(row, tabular_value, num_features=3, num_samples=300)
    out["text_ridge"] = lambda: TextExplainer(random_state=11, stability_samples=3).explain_instance(
        TEXT, text_proba, num_features=5, num_samples=500
    )
    out["text_classification_task"] = lambda: TextExplainer(
        random_state=11, surrogate_task="classification"
    ).explain_instance(TEXT, text_proba, num_features=5, num_samples=500)
    # four features: the words with an effect.  A fifth place would go to one of the words with none,
    # an exact tie that rounding decides differently on different CPUs.
    out["text_regression"] = lambda: TextExplainer(random_state=2, mode="regression").explain_instance(
        TEXT, text_value, num_features=4, num_samples=400, fidelity_samples=40
    )
    out["image_ridge"] = lambda: ImageExplainer(random_state=5).explain_instance(
        image(), image_proba, top_labels=2, num_samples=200, segmentation_fn=grid_segments, progress_bar=False
    )
    out["image_quickshift"] = lambda: ImageExplainer(random_state=5, fidelity_samples=30).explain_instance(
        blocks_image(), blocks_proba, top_labels=1, num_samples=150, progress_bar=False
    )
    return out


def record(explanation):
    return json.loads(json.dumps(explanation.to_dict()))


def check(names=None):
    """Print, per case, the largest share of its tolerance each quantity uses against the golden files."""
    from compare import compare_records

    for name, make in cases().items():
        if names and name not in names:
            continue
        usage = {}
        problems = compare_records(json.loads((HERE / f"{name}.json").read_text()), record(make()), usage=usage)
        shares = "  ".join(f"{kind} {share:.1e}" for kind, share in sorted(usage.items()))
        print(f"{name:32s} {'FAIL' if problems else 'ok  '}  {shares}")


def main(names=None):
    for name, make in cases().items():
        if names and name not in names:
            continue
        (HERE / f"{name}.json").write_text(json.dumps(record(make()), indent=1, sort_keys=True) + "\n")
        print("wrote", name)


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent.parent))
    sys.path.insert(0, str(HERE))
    if sys.argv[1:2] == ["--check"]:
        check(sys.argv[2:])
    else:
        main(sys.argv[1:])
