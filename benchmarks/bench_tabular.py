"""limekit against lime 0.2.0.1 on tabular explanations, in the same process.

Two tasks, lime's default settings (quartile discretizer, num_features=10,
num_samples=5000, ridge surrogate, 'auto' feature selection):

* synthetic: 20-feature classification, a 100-tree random forest;
* adult: the bundled UCI Adult data (label-encoded), gradient-boosted trees.

Runs alternate between the libraries, explaining the same rows.  The model's
predict_proba is timed inside each run, so "overhead" is the library's own
time (total minus predict).  Prints medians and ratios.  Then ``--many`` rows
are explained with lime in a loop, limekit in a loop, and limekit's
``explain_instances`` (the perturbations of many rows predicted together).

    python benchmarks/bench_tabular.py [--repeats 15] [--many 20]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
import warnings

import numpy as np


class TimedModel:
    """Wraps predict_proba and accumulates the time spent in it."""

    def __init__(self, fn):
        self.fn = fn
        self.seconds = 0.0

    def __call__(self, X):
        start = time.perf_counter()
        out = self.fn(X)
        self.seconds += time.perf_counter() - start
        return out


def synthetic_task():
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    X, y = make_classification(n_samples=5000, n_features=20, n_informative=6, random_state=0)
    model = RandomForestClassifier(n_estimators=100, random_state=0).fit(X, y)
    return dict(
        name="synthetic 20 features, random forest (100 trees)",
        X=X,
        y=y,
        model=model,
        categorical_features=None,
        categorical_names=None,
        feature_names=None,
    )


def adult_task():
    from sklearn.ensemble import HistGradientBoostingClassifier

    from limekit.datasets import load_adult

    frame, y = load_adult("train", drop_missing=True)
    categorical = [i for i, c in enumerate(frame.columns) if str(frame[c].dtype) == "category"]
    names = {i: list(frame.iloc[:, i].cat.categories) for i in categorical}
    X = np.column_stack(
        [
            frame.iloc[:, i].cat.codes.to_numpy() if i in categorical else frame.iloc[:, i].to_numpy()
            for i in range(frame.shape[1])
        ]
    ).astype(float)
    mask = np.zeros(X.shape[1], bool)
    mask[categorical] = True
    model = HistGradientBoostingClassifier(categorical_features=mask, random_state=0).fit(X, y)
    return dict(
        name="adult (bundled), gradient-boosted trees",
        X=X,
        y=y,
        model=model,
        categorical_features=categorical,
        categorical_names=names,
        feature_names=list(frame.columns),
    )


def run(task, repeats, num_samples):
    from lime.lime_tabular import LimeTabularExplainer

    from limekit import TabularExplainer

    kwargs = dict(
        feature_names=task["feature_names"],
        categorical_features=task["categorical_features"],
        categorical_names=task["categorical_names"],
        training_labels=task["y"],
        random_state=0,
    )
    explainers = {"lime": LimeTabularExplainer(task["X"], **kwargs), "limekit": TabularExplainer(task["X"], **kwargs)}
    rows = task["X"][np.random.default_rng(1).choice(len(task["X"]), repeats + 1, replace=False)]
    times = {name: [] for name in explainers}
    predict = {name: [] for name in explainers}
    for i, row in enumerate(rows):
        for name, explainer in explainers.items():
            model = TimedModel(task["model"].predict_proba)
            start = time.perf_counter()
            explainer.explain_instance(row, model, num_samples=num_samples)
            elapsed = time.perf_counter() - start
            if i:  # the first round warms caches up
                times[name].append(elapsed)
                predict[name].append(model.seconds)
    med = {name: statistics.median(v) * 1000 for name, v in times.items()}
    med_predict = {name: statistics.median(v) * 1000 for name, v in predict.items()}
    overhead = {name: statistics.median(np.subtract(times[name], predict[name])) * 1000 for name in times}
    print(f"\n{task['name']}: {num_samples} samples, median of {repeats} explanations")
    print(f"  {'':8s} {'total ms':>9s} {'predict ms':>11s} {'overhead ms':>12s}")
    for name in explainers:
        print(f"  {name:8s} {med[name]:9.1f} {med_predict[name]:11.1f} {overhead[name]:12.1f}")
    ratio = med["limekit"] / med["lime"]
    print(f"  limekit/lime total: {ratio:.3f}   limekit/lime overhead: {overhead['limekit'] / overhead['lime']:.3f}")
    return ratio, overhead["limekit"]


def run_many(task, n_rows, num_samples):
    """Many rows: lime one row at a time, limekit one row at a time and with explain_instances."""
    from lime.lime_tabular import LimeTabularExplainer

    from limekit import TabularExplainer

    kwargs = dict(
        feature_names=task["feature_names"],
        categorical_features=task["categorical_features"],
        categorical_names=task["categorical_names"],
        training_labels=task["y"],
        random_state=0,
    )
    rows = task["X"][np.random.default_rng(2).choice(len(task["X"]), n_rows, replace=False)]
    lime_explainer, limekit_explainer = LimeTabularExplainer(task["X"], **kwargs), TabularExplainer(task["X"], **kwargs)
    limekit_explainer.explain_instance(rows[0], task["model"].predict_proba, num_samples=num_samples)  # warm-up
    runs = {
        "lime, a loop": lambda: [
            lime_explainer.explain_instance(r, task["model"].predict_proba, num_samples=num_samples) for r in rows
        ],
        "limekit, a loop": lambda: [
            limekit_explainer.explain_instance(r, task["model"].predict_proba, num_samples=num_samples) for r in rows
        ],
        "limekit, explain_instances": lambda: limekit_explainer.explain_instances(
            rows, task["model"].predict_proba, num_samples=num_samples
        ),
    }
    per_row = {}
    for name, run_all in runs.items():
        start = time.perf_counter()
        run_all()
        per_row[name] = (time.perf_counter() - start) / n_rows * 1000
    print(
        f"  {n_rows} rows, ms per explanation: "
        + ", ".join(f"{k} {v:.1f}" for k, v in per_row.items())
        + f"; explain_instances/lime {per_row['limekit, explain_instances'] / per_row['lime, a loop']:.3f}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--num-samples", type=int, default=5000)
    parser.add_argument("--many", type=int, default=20, help="rows for the many-rows comparison (0 skips)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    import lime
    import sklearn

    import limekit

    print(
        f"python {platform.python_version()}, numpy {np.__version__}, scikit-learn {sklearn.__version__}, "
        f"lime {getattr(lime, '__version__', '0.2.0.1')}, limekit {limekit.__version__}"
    )
    for task in (synthetic_task(), adult_task()):
        run(task, args.repeats, args.num_samples)
        if args.many:
            run_many(task, args.many, args.num_samples)


if __name__ == "__main__":
    main()
