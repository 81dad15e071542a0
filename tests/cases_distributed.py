"""The models and cases of test_distributed.py (test_spark_udf.py uses them too).

The models are module-level functions, so that they pickle by reference: the
Dask, Ray and Spark workers import them from this module (tests/ on their PYTHONPATH).
"""

import numpy as np

from limekit import ImageExplainer, TabularExplainer, TextExplainer

N_FEATURES = 6


def tabular_proba(X):
    X = np.asarray(X, dtype=float)
    p = 1 / (1 + np.exp(-(3 * X[:, 0] + 2 * X[:, 1] - 2.5 * X[:, 2])))
    return np.column_stack([1 - p, p])


def text_proba(texts):
    scores = [
        0.2 + 0.3 * (" good " in f" {t} ") + 0.4 * (" great " in f" {t} ") - 0.15 * (" bad " in f" {t} ") for t in texts
    ]
    p = np.clip(np.array(scores), 0, 1)
    return np.column_stack([1 - p, p])


def image_proba(batch):
    batch = np.asarray(batch, dtype=float)
    p = batch[:, 4:12, 4:12].mean(axis=(1, 2, 3)) / 255
    return np.column_stack([1 - p, p])


def grid(image):
    rows, cols = np.indices(image.shape[:2])
    return (rows // 8) * (image.shape[1] // 8) + cols // 8


def tabular_case(n=12):
    X = np.random.default_rng(0).normal(size=(600, N_FEATURES))
    explainer = TabularExplainer(
        X, feature_names=[f"f{i}" for i in range(N_FEATURES)], random_state=3, stability_samples=3
    )
    return explainer, X[:n], tabular_proba, dict(num_samples=400, num_features=4)


WORDS = "good great bad plot film acting music ending cast story".split()


def text_case(n=9):
    rng = np.random.default_rng(1)
    texts = [" ".join(rng.choice(WORDS, size=8)) for _ in range(n)]
    return TextExplainer(random_state=4), texts, text_proba, dict(num_samples=300, num_features=4)


def image_case(n=6):
    rng = np.random.default_rng(2)
    images = [rng.integers(1, 255, size=(24, 24, 3)).astype(np.uint8) for _ in range(n)]
    return (
        ImageExplainer(random_state=5),
        images,
        image_proba,
        dict(num_samples=200, segmentation_fn=grid, top_labels=None, labels=(1,), progress_bar=False, batch_size=1000),
    )
