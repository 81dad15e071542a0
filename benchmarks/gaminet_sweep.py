"""GAMI-Net against EBM on one fixed set of neighbourhoods: which GAMI-Net settings close the gap (issue 15).

Draws, once, the perturbations of a few Adult test rows with the explainer's
GAM sampler (and as many held-out ones), labels them with an XGBoost black
box (200 trees, ``--depth``), and then fits EBM and GAMI-Net under each
setting of ``--grid`` on exactly those rows with the kernel weights, printing
mean AUC in sample / held out and the median fit time.

    python benchmarks/gaminet_sweep.py [--depth 6] [--instances 3] [--seeds 2] [--samples 5000]
        [--sampler default|CENTRE:SPREAD:KEEP] [--grid "default;learning_rate=0.02;subnet_size=(40, 40)"]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gam_realistic import INSTANCE_SEED, XGB_TREES
from reproduce_paper import black_boxes, parse_params


def neighbourhoods(X, rows, predict_proba, seeds, n, sampler_name):
    """[(X_fit, y_fit, w_fit, X_held, y_held, categorical)] for every row x seed."""
    from limekit import TabularExplainer
    from limekit.core.distances import distances_to_first

    gam_sampling = None
    if sampler_name != "default":  # CENTRE:SPREAD:KEEP, as gam_realistic.py's gam:... samplers
        centre, spread, keep = sampler_name.split(":")
        gam_sampling = dict(sample_around_instance=centre == "around", spread=float(spread), keep_category=float(keep))

    out = []
    for seed in range(seeds):
        explainer = TabularExplainer(X, random_state=seed, gam_sampling=gam_sampling)
        sampler = explainer.gam_sampler
        for row in rows:
            checked = explainer._check_instance(row)
            sets = []
            rng = np.random.default_rng([seed, 1])
            for size in (n, n + 1):
                Z, inverse, ids = sampler.sample(checked, size, rng)
                space = sampler.original_space(Z, inverse, ids, explainer.categorical_names)
                y = (predict_proba(explainer._model_input(inverse)).argmax(1) == 1).astype(int)
                w = explainer.kernel_fn(distances_to_first(Z, "euclidean"))
                sets.append((space.X, y, w))
            (Xf, yf, wf), (Xh, yh, _) = sets
            out.append((Xf, yf, wf, Xh[1:], yh[1:], space.categorical_features))
    return out


def evaluate(make, cases):
    from sklearn.metrics import roc_auc_score

    ins, helds, times = [], [], []
    for Xf, yf, wf, Xh, yh, categorical in cases:
        surrogate = make()
        surrogate.set_categorical_features(categorical)
        start = time.perf_counter()
        surrogate.fit(Xf, yf, wf)
        times.append(time.perf_counter() - start)
        if len(set(yf)) > 1:
            ins.append(roc_auc_score(yf, surrogate.decision_function(Xf)))
        if len(set(yh)) > 1:
            helds.append(roc_auc_score(yh, surrogate.decision_function(Xh)))
    return statistics.fmean(ins), statistics.fmean(helds), statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--depth", type=int, default=6, help="XGBoost depth; 0: the MLP")
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--samples", type=int, default=5000)
    parser.add_argument(
        "--sampler",
        default="default",
        help="the GAM sampler: 'default' (the explainer's) or CENTRE:SPREAD:KEEP, e.g. around:1:0.5",
    )
    parser.add_argument("--grid", default="default", help="GAMI-Net settings separated by ';'")
    parser.add_argument("--ebm", default="default", help="EBM settings separated by ';' ('' skips)")
    args = parser.parse_args()

    from limekit.datasets import load_adult
    from limekit.surrogates import make_surrogate

    X, y = load_adult("train", drop_missing=True)
    X_test, y_test = load_adult("test", drop_missing=True)
    rows = np.random.default_rng(INSTANCE_SEED).choice(len(X_test), args.instances, replace=False)
    if args.depth:
        predict_proba, test_auc, description = black_boxes(
            X, y, X_test, y_test, ["xgboost"], 2, dict(max_depth=args.depth, n_estimators=XGB_TREES)
        )["xgboost"]
    else:  # the MLP
        predict_proba, test_auc, description = black_boxes(X, y, X_test, y_test, ["mlp"], 2)["mlp"]
    cases = neighbourhoods(X, [X_test.iloc[r] for r in rows], predict_proba, args.seeds, args.samples, args.sampler)
    print(
        f"{description}, test AUC {test_auc:.3f}; rows {rows.tolist()} x {args.seeds} seeds, "
        f"{args.samples} perturbations (GAM sampler {args.sampler}); AUC in / held out, median fit s",
        flush=True,
    )
    for name, grid in (("ebm", args.ebm), ("gaminet", args.grid)):
        for setting in filter(None, (g.strip() for g in grid.split(";"))):
            params = {} if setting == "default" else parse_params(setting)
            auc_in, auc_held, seconds = evaluate(
                lambda: make_surrogate(name, surrogate_task="classification", **params), cases
            )
            print(f"{name:<8}{setting:<60}{auc_in:7.3f}{auc_held:7.3f}{seconds:7.2f}", flush=True)


if __name__ == "__main__":
    main()
