"""A/B of whole checkouts on bench_many's part (a): end-to-end time per explanation, model included.

Each checkout (a git worktree: HEAD, and one with a speed-only path replaced by its plain
formulation) runs limekit's ``explain_many`` on part (a)'s three tasks (tabular: Adult with
gradient-boosted trees, 5000 samples; text: 100-word documents, a word-score model, 5000
samples; image: 64x64 quickshift, 1000 samples) in its own process, one thread
(OMP_NUM_THREADS=1), the same seeds and rows.  Rounds interleave the checkouts (A B C, B C A,
...); each process warms up, then times ``--repeat`` runs per task.  Printed per task and
checkout: the median ms per explanation (wall, the model's time included) over all runs, its
spread (min-max of the per-process medians), the library's median (wall less the model's
time) and what the first checkout saves against this one, in % of this one's end-to-end
time: from the totals, and from the library times alone (the model's time is the same work
in every checkout, so this second figure leaves out its noise).

    python benchmarks/bench_ab.py A=/tmp/head B=/tmp/plain [--rounds 5] [--rows 40] [--repeat 3]

``--rows`` sets the Adult rows; the text task takes half as many documents and the image
task a quarter as many images.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import json
import subprocess
import sys
import warnings

import numpy as np

TASKS = ("tabular", "text", "image")


def worker(args):
    """Time the tasks in this process (the checkout is the working directory); print one JSON line."""
    sys.path.insert(0, os.getcwd())
    warnings.filterwarnings("ignore")
    import limekit
    from benchmarks.bench_many import VOCABULARY, adult, image_model, text_model, timed
    from limekit import ImageExplainer, TabularExplainer, TextExplainer

    if os.path.dirname(os.path.dirname(os.path.abspath(limekit.__file__))) != os.getcwd():
        raise SystemExit(f"limekit imported from {limekit.__file__}, not from {os.getcwd()}")
    rng = np.random.default_rng(1)
    X, model, kwargs = adult()
    rows = X[rng.choice(len(X), args.rows, replace=False)]
    documents = [" ".join(rng.choice(VOCABULARY, 100)) for _ in range(max(2, args.rows // 2))]
    from skimage import data, transform

    base = transform.resize(data.astronaut(), (64, 64), anti_aliasing=True)
    images = [
        np.clip(np.round(np.roll(base, 7 * i, axis=1) * 255), 1, 255).astype(np.uint8)
        for i in range(max(2, args.rows // 4))
    ]
    image_options = dict(num_samples=1000, top_labels=None, labels=(1,), batch_size=100, hide_color=0)
    cases = {
        "tabular": (rows, model.predict_proba, lambda: TabularExplainer(X, **kwargs), dict(num_samples=5000)),
        "text": (documents, text_model, lambda: TextExplainer(random_state=0), dict(num_samples=5000)),
        "image": (images, image_model, lambda: ImageExplainer(random_state=0), dict(image_options, progress_bar=False)),
    }
    out = {}
    for name in args.tasks.split(","):
        instances, fn, make, options = cases[name]
        explainer = make()
        explainer.explain_many(instances[:1], fn, **options)  # warm-up
        runs = []
        for _ in range(args.repeat):
            wall, model_s, _, _, _ = timed(lambda m: explainer.explain_many(instances, m, **options), fn)
            runs.append((wall / len(instances) * 1e3, model_s / len(instances) * 1e3))
        out[name] = runs
    print("RESULT " + json.dumps(out), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkouts", nargs="*", help="NAME=PATH, the first one the reference")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rows", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--log", help="append every process's result to this file (JSON lines)")
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    checkouts = [c.split("=", 1) for c in args.checkouts]
    results = {name: {task: [] for task in args.tasks.split(",")} for name, _ in checkouts}
    for r in range(args.rounds):
        for i in range(len(checkouts)):
            name, path = checkouts[(i + r) % len(checkouts)]
            command = [sys.executable, os.path.abspath(__file__), "--worker", "--rows", str(args.rows)]
            command += ["--repeat", str(args.repeat), "--tasks", args.tasks]
            done = subprocess.run(
                command, cwd=path, env=dict(os.environ, PYTHONPATH=path), capture_output=True, text=True
            )
            lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
            if done.returncode or not lines:
                raise SystemExit(f"{name} failed:\n{done.stderr[-3000:]}")
            figures = json.loads(lines[-1][7:])
            if args.log:
                with open(args.log, "a") as handle:
                    handle.write(
                        json.dumps({"round": r, "checkout": name, "load": os.getloadavg()[0], **figures}) + "\n"
                    )
            for task, runs in figures.items():
                results[name][task].append(runs)
    print(
        "| task | checkout | ms per explanation (median) | spread of process medians | model ms | library ms "
        "| first saves, % of this (total) | first saves, % of this (library) |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for task in args.tasks.split(","):
        first = None
        for name, _ in checkouts:
            processes = results[name][task]
            medians = [np.median([w for w, _ in runs]) for runs in processes]
            total = float(np.median([w for runs in processes for w, _ in runs]))
            library = float(np.median([w - m for runs in processes for w, m in runs]))
            model = total - library
            first = (total, library) if first is None else first
            saved_total, saved_library = 100 * (total - first[0]) / total, 100 * (library - first[1]) / total
            print(
                f"| {task} | {name} | {total:.1f} | {min(medians):.1f}-{max(medians):.1f} | {model:.1f} "
                f"| {library:.1f} | {saved_total:+.1f}% | {saved_library:+.1f}% |"
            )


if __name__ == "__main__":
    main()
