"""OpenMP oversubscription: one process explaining with the emulator, then two such processes at once.

``variance_reduction='emulator'`` fits scikit-learn's HistGradientBoosting
emulators, which run on OpenMP threads (as many as the machine has cores).
Two processes doing so on one machine oversubscribe it, and OpenMP's
busy-waiting barriers make that far worse than twice as slow.  limekit
lowers OpenMP to ``LIMEKIT_OMP_THREADS`` threads (default 1) around its own
fits (``limekit._threads.limited_openmp_threads``); ``LIMEKIT_OMP_THREADS=0``
leaves OpenMP as it is, for contrast.

For each setting: one child process alone, then two children at once.  Each
child imports, explains one warm-up row, says it is ready and waits; the
parent starts the timed part of both together, so start-up is never timed.
A child times ``--rows`` explanations (tabular, a numpy model, ``num_samples``
5000, the emulator).  The ratio is the slower of the two concurrent children
over the lone child: 1 is perfect sharing of idle cores (two processes of one
thread each on 2 cores), 2 is two processes taking turns.  Target: <= 2.5
with limekit's limit.

    python benchmarks/bench_openmp.py [--rows 3] [--repeat 1] [--settings default,0] [--timeout 300]

Settings are values of LIMEKIT_OMP_THREADS ("default": unset).  A pair that
runs past ``--timeout`` seconds is stopped and reported as such.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time


def black_box(X):
    """A numpy model with an interaction (cheap: the emulator's fits are the work)."""
    import numpy as np

    X = np.asarray(X, dtype=float)
    p = 1 / (1 + np.exp(-(2 * X[:, 0] + 2 * X[:, 1] * X[:, 2] + X[:, 3] - X[:, 4] * X[:, 5])))
    return np.column_stack([1 - p, p])


def child(rows, samples):
    import numpy as np
    from threadpoolctl import threadpool_info

    from limekit import TabularExplainer

    X = np.random.default_rng(0).normal(size=(2000, 8))
    explainer = TabularExplainer(X, random_state=0)

    def explain(row):
        explainer.explain_instance(
            X[row], black_box, num_features=8, num_samples=samples, variance_reduction="emulator"
        )

    explain(0)  # warm-up: imports, first fits
    openmp = [info["num_threads"] for info in threadpool_info() if info["user_api"] == "openmp"]
    print(json.dumps({"ready": True, "openmp": openmp}), flush=True)
    sys.stdin.readline()  # the parent's go
    start = time.perf_counter()
    for row in range(1, rows + 1):
        explain(row)
    print(json.dumps({"seconds": time.perf_counter() - start}), flush=True)


def run_children(count, setting, args):
    """Wall seconds of each of ``count`` children started together (None: past the timeout), and their OpenMP."""
    env = dict(os.environ)
    env.pop("LIMEKIT_OMP_THREADS", None)
    if setting != "default":
        env["LIMEKIT_OMP_THREADS"] = setting
    command = [sys.executable, __file__, "--child", "--rows", str(args.rows), "--samples", str(args.samples)]
    children = [
        subprocess.Popen(command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(count)
    ]
    try:
        ready = [json.loads(c.stdout.readline()) for c in children]
        deadline = time.monotonic() + args.timeout
        for c in children:
            c.stdin.write("go\n")
            c.stdin.flush()
        seconds = []
        for c in children:
            try:
                c.wait(timeout=max(1.0, deadline - time.monotonic()))
                seconds.append(json.loads(c.stdout.readline())["seconds"])
            except subprocess.TimeoutExpired:
                seconds.append(None)
        return seconds, ready[0]["openmp"]
    finally:
        for c in children:
            if c.poll() is None:
                c.kill()
                c.wait()


def _median(values):
    """Median (the lower of an even count), a timed-out run (None) counting as the slowest."""
    ordered = sorted(values, key=lambda t: float("inf") if t is None else t)
    return ordered[(len(ordered) - 1) // 2]


def _shown(seconds):
    return "timeout" if seconds is None else f"{seconds:.2f}"


def _runs(values):
    return " ".join(_shown(t) for t in values)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3, help="explanations timed per child")
    parser.add_argument("--samples", type=int, default=5000, help="num_samples of each explanation")
    parser.add_argument("--settings", default="default,0", help="LIMEKIT_OMP_THREADS values, comma separated")
    parser.add_argument("--repeat", type=int, default=1, help="measurements per setting (medians reported)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds before a pair is stopped")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.rows, args.samples)
        return
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load average {load:.2f}; "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}; "
        f"{args.rows} explanations of {args.samples} samples per child, variance_reduction='emulator'"
    )
    print(f"{'LIMEKIT_OMP_THREADS':>20} {'one (s)':>9} {'two (s)':>9} {'two/one':>8}   (medians; two: the slower)")
    for setting in args.settings.split(","):
        ones, twos = [], []
        for _ in range(args.repeat):  # alternated, so that the machine's load falls on both alike
            (one,), openmp = run_children(1, setting.strip(), args)
            two, _ = run_children(2, setting.strip(), args)
            ones.append(one)
            twos.append(None if None in two else max(two))
        one, two = _median(ones), _median(twos)
        if one is None:
            ratio = "n/a"
        elif two is None:
            ratio = f">{args.timeout / one:.0f}"
        else:
            ratio = f"{two / one:.2f}"
        print(f"{setting:>20} {_shown(one):>9} {_shown(two):>9} {ratio:>8}   runs: {_runs(ones)} | {_runs(twos)}")
    print(f"(OpenMP threads of a child outside limekit's fits: {openmp})")
    print(f"load average at the end {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "")


if __name__ == "__main__":
    main()
