"""Fit time and accuracy of limekit's GAMI-Net (limekit.surrogates.gaminet) on CPU.

Synthetic regression, 5000 rows x 12 features uniform on [-2, 2]:

    y = x1^2 + x2^3 + sin(x3) + N(0, 0.1^2)      (x1, x2, x3 = the first three columns)

fitted unweighted, with random positive weights (LIME-like kernel weights) and
with ``interactions=2``.  Prints the median fit time over ``--repeats`` runs
(after one warm-up fit, whose time is printed apart: it includes torch's
first-call costs), the weighted R^2 on the fitting data and the R^2 of the
noise-free function on fresh rows, with weighted ridge as the linear baseline.

    python benchmarks/bench_gaminet.py [--repeats 3] [--threads 1]

Reference points from the task brief (not measured here): the GPL TensorFlow
``gaminet`` package takes 34.5 s and a naive torch port 8 s on this problem.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np


def make_data(n=5000, p=12, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, (n, p))
    clean = X[:, 0] ** 2 + X[:, 1] ** 3 + np.sin(X[:, 2])
    y = clean + 0.1 * rng.normal(size=n)
    weights = np.exp(-rng.uniform(0, 3, n))  # kernel-like weights in (0.05, 1]
    X_test = rng.uniform(-2, 2, (n, p))
    y_test = X_test[:, 0] ** 2 + X_test[:, 1] ** 3 + np.sin(X_test[:, 2])
    return X, y, weights, X_test, y_test


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="GAMINet n_threads")
    args = parser.parse_args()

    import torch
    from sklearn.linear_model import Ridge

    from limekit.surrogates.base import weighted_r2
    from limekit.surrogates.gaminet import GAMINet

    X, y, weights, X_test, y_test = make_data()
    ones = np.ones(len(y))
    print(
        f"python {platform.python_version()}, torch {torch.__version__}, {os.cpu_count()} CPU cores "
        f"(shared machine: timings are indicative), n_threads={args.threads}"
    )
    print(f"data: {X.shape[0]} x {X.shape[1]}, y = x1^2 + x2^3 + sin(x3) + noise")

    start = time.perf_counter()
    GAMINet(random_state=0, n_threads=args.threads).fit(X, y)
    print(f"warm-up fit (first in process): {time.perf_counter() - start:.2f} s")

    cases = [
        ("unweighted, interactions=0", None, dict()),
        ("weighted,   interactions=0", weights, dict()),
        ("weighted,   interactions=2", weights, dict(interactions=2)),
    ]
    print(
        f"{'case':30s} {'median s':>9s} {'min s':>7s} {'max s':>7s} {'fit R2':>8s} {'test R2':>8s} "
        f"{'ridge R2':>8s}  epochs (last run)"
    )
    for name, w, params in cases:
        w_eval = ones if w is None else w
        times, fit_r2, test_r2 = [], [], []
        for seed in range(args.repeats):
            model = GAMINet(random_state=seed, n_threads=args.threads, **params)
            start = time.perf_counter()
            model.fit(X, y, w)
            times.append(time.perf_counter() - start)
            fit_r2.append(weighted_r2(y, model.predict(X), w_eval))
            test_r2.append(weighted_r2(y_test, model.predict(X_test), ones))
        ridge = Ridge(alpha=1.0).fit(X, y, sample_weight=w)
        ridge_r2 = weighted_r2(y, ridge.predict(X), w_eval)
        print(
            f"{name:30s} {statistics.median(times):9.2f} {min(times):7.2f} {max(times):7.2f} "
            f"{statistics.median(fit_r2):8.4f} {statistics.median(test_r2):8.4f} {ridge_r2:8.4f}  "
            f"{model.n_epochs_}" + (f" pairs {model.interactions_}" if params.get("interactions") else "")
        )


if __name__ == "__main__":
    main()
