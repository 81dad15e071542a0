"""Command line: ``limekit demo`` (also ``python -m limekit demo``)."""
from __future__ import annotations

import argparse
import sys
import time

__all__ = ["main", "run_tabular_demo", "format_table"]


def format_table(explanation, label=1, values=None):
    """Plain-text table of an explanation: feature, the instance's value, weight."""
    rows = explanation.to_dict()["explanations"][str(label)]["features"]
    header = ("feature", "value", "weight")
    cells = [(r["name"], "" if r["value"] is None else _short(r["value"]), f"{r['weight']:+.4f}") for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join((c[0].ljust(widths[0]), c[1].ljust(widths[1]), c[2].rjust(widths[2]))) for c in cells]
    return "\n".join(lines)


def _short(value):
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def run_tabular_demo(row=0, num_samples=5000, num_features=8, random_state=0, out=None):
    """Train a gradient-boosted model on the bundled Adult data and explain one person's prediction."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from .datasets import ADULT_CLASS_NAMES, load_adult
    from .tabular import TabularExplainer

    out = sys.stdout if out is None else out
    started = time.perf_counter()
    X_train, y_train = load_adult("train", drop_missing=True)
    X_test, y_test = load_adult("test", drop_missing=True)
    model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=random_state)
    model.fit(X_train, y_train)
    accuracy = model.score(X_test, y_test)
    print(f"Adult census income (UCI, CC BY 4.0): {len(X_train)} training rows; gradient-boosted trees, "
          f"test accuracy {accuracy:.3f}", file=out)

    explainer = TabularExplainer(X_train, class_names=ADULT_CLASS_NAMES, training_labels=y_train,
                                 random_state=random_state)
    person = X_test.iloc[row]
    t0 = time.perf_counter()
    exp = explainer.explain_instance(person, model.predict_proba, num_features=num_features,
                                     num_samples=num_samples)
    elapsed = time.perf_counter() - t0
    proba = exp.predict_proba[1]
    print(f"\nPerson #{row} of the test set (actual income: {ADULT_CLASS_NAMES[y_test[row]]})", file=out)
    print(f"Model: P(income {ADULT_CLASS_NAMES[1]}) = {proba:.3f}\n", file=out)
    print(f"Why (weights toward {ADULT_CLASS_NAMES[1]}, local surrogate: ridge on {num_samples} perturbations):",
          file=out)
    print(format_table(exp, label=1), file=out)
    diagnostics = exp.diagnostics
    print(f"\nintercept {exp.intercept[1]:.4f}  surrogate prediction {exp.local_preds[1][0]:.4f}  "
          f"model prediction {proba:.4f}", file=out)
    print(f"surrogate score (weighted R^2) {exp.scores[1]:.3f}  effective sample size "
          f"{diagnostics['effective_sample_size']:.0f} of {diagnostics['num_samples']}", file=out)
    print(f"explained in {elapsed * 1000:.0f} ms (total {time.perf_counter() - started:.1f} s)", file=out)
    return exp


def main(argv=None):
    """Entry point of the ``limekit`` console script."""
    parser = argparse.ArgumentParser(prog="limekit", description="Fast LIME explanations that say how far "
                                                                 "they can be trusted.")
    commands = parser.add_subparsers(dest="command")
    demo = commands.add_parser("demo", help="explain a model's prediction on bundled data")
    demo.add_argument("modality", nargs="?", default="tabular", choices=["tabular"],
                      help="which demo to run (default: tabular, the Adult census data)")
    demo.add_argument("--row", type=int, default=0, help="test-set row to explain (default 0)")
    demo.add_argument("--num-samples", type=int, default=5000, help="perturbations (default 5000)")
    demo.add_argument("--num-features", type=int, default=8, help="features shown (default 8)")
    demo.add_argument("--random-state", type=int, default=0, help="seed (default 0)")
    args = parser.parse_args(argv)
    if args.command != "demo":
        parser.print_help()
        return 2
    try:
        run_tabular_demo(args.row, args.num_samples, args.num_features, args.random_state)
    except (ValueError, TypeError, IndexError) as exc:
        print(f"limekit: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
