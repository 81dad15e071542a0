"""Cases shared by test_tabular.py and test_many_rows.py: normal data and models that use features 0, 1 and 2 only."""

import numpy as np

N_FEATURES = 10


def planted_data(n=1500, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, N_FEATURES))


def planted_proba(X):
    """A classifier that uses features 0, 1 and 2 only."""
    X = np.asarray(X)
    logit = 3 * X[:, 0] + 2.5 * X[:, 1] - 3 * X[:, 2]
    p = 1 / (1 + np.exp(-logit))
    return np.column_stack([1 - p, p])


def planted_regression(X):
    X = np.asarray(X)
    return 3 * X[:, 0] + 2.5 * X[:, 1] - 3 * X[:, 2]
