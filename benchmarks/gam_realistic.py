"""GAM surrogates on realistic black boxes: which sampler, which surrogate (issue 15).

``reproduce_paper.py`` reproduces the paper's table on a shallow XGBoost
(depth 2).  Deployed tree ensembles are deeper; this script measures, on UCI
Adult with ``surrogate_task='classification'``, how well each surrogate
follows

* XGBoost with 200 trees at depth 4, 6 and 8 (learning rate 0.3, the
  library's default; test AUC printed), and
* the fully connected network of ``reproduce_paper.py``,

for each sampler x surrogate, over several test instances and seeds: AUC
against the black box's label on the fitting perturbations (``in``, as the
paper reports it) and on as many fresh ones drawn the same way (``held``),
and the surrogate's median fit time (wall clock, and process CPU time, which
is what it costs on an unloaded core).

Samplers (``--samplers``):

``lime``
    lime's default: quartile-discretised sampling from the training
    marginals (``discretize_continuous=True``).
``gaussian``
    lime's undiscretised sampler: continuous features from a normal with the
    training standard deviation centred on the training mean.
``around``
    the same normal centred on the instance (``sample_around_instance=True``).
``default``
    no sampler argument at all: the explainer's per-surrogate default
    (lime's for the linear surrogate, the GAM sampler for EBM and GAMI-Net).
``gam``
    the GAM sampler (``GAM_SAMPLER``) for every surrogate, the linear one too.
``gam:CENTRE:SPREAD:KEEP[:clip]``
    the GAM sampler with other settings (exploration): continuous features
    centred on the training ``mean`` or ``around`` the instance, their
    spread scaled by SPREAD, each category kept with probability KEEP,
    continuous draws clipped to the training range with ``:clip``.

    python benchmarks/gam_realistic.py [--black-boxes xgb4,xgb6,xgb8,mlp] [--seeds 10]
        [--instances 8] [--samplers lime,gam] [--surrogates linear,ebm,gaminet]
        [--samples 5000] [--ebm ...] [--gaminet ...] [--json results.json]

It reuses ``reproduce_paper.py``'s black boxes and timing; that script never imports this one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reproduce_paper import REGISTRY_NAME, black_boxes, parse_params, timed

LABELS = {"linear": "Linear", "ebm": "EBM", "gaminet": "GAMI-Net"}
XGB_TREES = 200
INSTANCE_SEED = 15  # the test rows explained: a seeded draw, the same for every black box


def sampler_arguments(name):
    """Explainer keyword arguments of a sampler name."""
    if name == "default":
        return {}
    if name == "lime":
        return dict(discretize_continuous=True, sample_around_instance=False)
    if name == "gaussian":
        return dict(discretize_continuous=False, sample_around_instance=False)
    if name == "around":
        return dict(discretize_continuous=False, sample_around_instance=True)
    if name == "gam":  # the GAMs' default sampler (GAM_SAMPLER), for every surrogate (linear too)
        from limekit.tabular.explainer import GAM_SAMPLER

        return {"_gam": dict(GAM_SAMPLER)}
    if name.startswith("gam:"):  # the GAM sampler with other settings, for every surrogate (exploration)
        centre, spread, keep, *clip = name[4:].split(":")
        return {
            "_gam": dict(
                discretize_continuous=False,
                sample_around_instance=centre == "around",
                spread=float(spread),
                keep_category=float(keep),
                clip=clip == ["clip"],
            )
        }
    raise SystemExit(f"--samplers: unknown sampler {name!r}")


def explain(X, row, predict_proba, surrogate_name, sampler, seed, args):
    from limekit import TabularExplainer
    from limekit.surrogates import make_surrogate

    params = dict(args.params[surrogate_name])
    if surrogate_name != "linear":
        params.setdefault("random_state", seed)
    surrogate = timed(make_surrogate(REGISTRY_NAME[surrogate_name], surrogate_task="classification", **params))
    from limekit.tabular.explainer import GAM_SAMPLING_KEYS

    arguments = sampler_arguments(sampler)
    gam = arguments.pop("_gam", None)
    if gam is not None:  # the GAM sampler's settings (it is always undiscretised)
        arguments["gam_sampling"] = {key: gam[key] for key in GAM_SAMPLING_KEYS if key in gam}
    explainer = TabularExplainer(X, random_state=seed, class_names=["<=50K", ">50K"], **arguments)
    if gam is not None:
        explainer.sampler = explainer.gam_sampler  # the linear surrogate on the same perturbations
    exp = explainer.explain_instance(
        row,
        predict_proba,
        labels=(1,),
        num_features=X.shape[1],
        num_samples=args.samples,
        surrogate=surrogate,
        surrogate_task="classification",
        fidelity_samples=args.samples,
    )
    held = exp.diagnostics["fidelity"][1]
    return {
        "in": exp.diagnostics["fidelity_in_sample"][1]["auc_unweighted"],
        "held": held["auc_unweighted"],
        "seconds": exp.fits[1].surrogate.fit_seconds,
        "cpu_seconds": exp.fits[1].surrogate.fit_cpu_seconds,
        "sampler": exp.diagnostics.get("sampler"),
    }


def mean(values):
    values = [v for v in values if v is not None and not np.isnan(v)]
    return statistics.fmean(values) if values else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--black-boxes", default="xgb4,xgb6,xgb8,mlp")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--instances", type=int, default=8, help="test rows explained (a seeded draw)")
    parser.add_argument("--samplers", default="lime,gam")
    parser.add_argument("--surrogates", default="linear,ebm,gaminet")
    parser.add_argument("--samples", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--ebm", default="")
    parser.add_argument("--gaminet", default="")
    parser.add_argument("--json", default=None, help="write every result to this file")
    args = parser.parse_args()
    args.params = {"linear": {}, "ebm": parse_params(args.ebm), "gaminet": parse_params(args.gaminet)}
    surrogates = [s for s in args.surrogates.split(",") if s]
    samplers = [s for s in args.samplers.split(",") if s]
    for s in samplers:
        sampler_arguments(s)

    from limekit.datasets import load_adult

    X, y = load_adult("train", drop_missing=True)
    X_test, y_test = load_adult("test", drop_missing=True)
    rows = np.random.default_rng(INSTANCE_SEED).choice(len(X_test), args.instances, replace=False)
    print(
        f"limekit GAM samplers on {platform.processor() or platform.machine()}, python {platform.python_version()}; "
        f"UCI Adult, test rows {rows.tolist()}, {args.seeds} seeds x {args.samples} perturbations "
        f"(+ as many held out); surrogate_task='classification'; AUC unweighted against the black box's label; "
        + "".join(f"{s} params {args.params[s]}; " for s in surrogates if args.params[s]),
        flush=True,
    )
    results = []
    for box in [b for b in args.black_boxes.split(",") if b]:
        if box.startswith("xgb"):
            depth = int(box[3:])
            models = black_boxes(
                X, y, X_test, y_test, ["xgboost"], args.threads, dict(max_depth=depth, n_estimators=XGB_TREES)
            )
            predict_proba, test_auc, description = models["xgboost"]
        else:
            predict_proba, test_auc, description = black_boxes(X, y, X_test, y_test, ["mlp"], args.threads)["mlp"]
        p = predict_proba(X_test.iloc[rows])[:, 1]
        print(
            f"\n{box}: {description}; test AUC {test_auc:.3f}; P(>50K) at the rows: " + " ".join(f"{v:.2f}" for v in p),
            flush=True,
        )
        print(
            f"{'sampler':<11}{'surrogate':<10}{'in':>7}{'held':>7}{'min in':>8}{'min held':>9}{'fit s':>7}{'cpu s':>7}"
            "   per-instance held-out means",
            flush=True,
        )
        for sampler in samplers:
            for surrogate in surrogates:
                cell = []
                for _i, r in enumerate(rows):
                    for seed in range(args.seeds):
                        out = explain(X, X_test.iloc[r], predict_proba, surrogate, sampler, seed, args)
                        cell.append(dict(out, instance=int(r), seed=seed))
                per_instance = [
                    (
                        mean(c["in"] for c in cell if c["instance"] == r),
                        mean(c["held"] for c in cell if c["instance"] == r),
                    )
                    for r in rows
                ]
                row = dict(
                    black_box=box,
                    test_auc=test_auc,
                    sampler=sampler,
                    surrogate=surrogate,
                    resolved_sampler=cell[0]["sampler"],
                    auc_in=mean(c["in"] for c in cell),
                    auc_held=mean(c["held"] for c in cell),
                    min_in=min(v for v, _ in per_instance),
                    min_held=min(v for _, v in per_instance),
                    fit_seconds=statistics.median(c["seconds"] for c in cell),
                    fit_cpu_seconds=statistics.median(c["cpu_seconds"] for c in cell),
                    runs=cell,
                )
                results.append(row)
                print(
                    f"{sampler[:10]:<11}{surrogate:<10}{row['auc_in']:>7.3f}{row['auc_held']:>7.3f}"
                    f"{row['min_in']:>8.3f}{row['min_held']:>9.3f}"
                    f"{row['fit_seconds']:>7.2f}{row['fit_cpu_seconds']:>7.2f}   "
                    + " ".join(f"{h:.3f}" for _, h in per_instance),
                    flush=True,
                )
        if args.json:
            with open(args.json, "w") as handle:
                json.dump(results, handle, indent=1, default=float)


if __name__ == "__main__":
    main()
