"""Many rows: limekit's explain_many against a lime loop, and on 1 and 2 workers (joblib, Dask, Ray).

(a) Per-row time, same process: lime 0.2.0.1 explaining rows one at a time
    against ``explain_many`` (the perturbations of many rows predicted
    together), for tabular (Adult, gradient-boosted trees), text (synthetic
    documents, a word-score model) and images (quickshift superpixels, a
    numpy model).
(b) Rows per second on the bundled Adult data with a
    HistGradientBoostingClassifier: a lime loop, then each engine with 1 and
    with 2 workers: joblib (``n_jobs=1``, the serial run, and ``n_jobs=2``),
    Dask (a LocalCluster of 1 and 2 worker processes), Ray (1 and 2 actors,
    kept with ``RayActors``); the speed-up from 1 to 2 workers and the peak
    memory of each worker process.  Start-up (worker processes, cluster,
    actors, imports, a first small task) is timed apart, in its own column;
    rows/s is the steady state.

The model is timed inside every run (in whichever process calls it), so the
library's own time is reported apart from the model's.  Every process uses
one BLAS/OpenMP thread (OMP_NUM_THREADS=1), so one worker is one core.

    python benchmarks/bench_many.py [--rows 400] [--lime-rows 40] [--skip-a] [--skip-b] [--ray-per-call]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before numpy/sklearn: one thread per process
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import platform
import shutil
import tempfile
import time
import warnings

import numpy as np

from limekit.core.budget import peak_rss_kib


class TimedModel:
    """Wraps a model; every call appends ``seconds peak_rss_kib`` to ``folder/<pid>`` (the worker's own file)."""

    def __init__(self, fn, folder):
        self.fn, self.folder = fn, folder

    def __call__(self, X):
        cpu_before = time.process_time()
        start = time.perf_counter()
        out = self.fn(X)
        elapsed = time.perf_counter() - start
        with open(os.path.join(self.folder, str(os.getpid())), "a") as handle:
            handle.write(f"{elapsed} {peak_rss_kib()} {cpu_before} {time.process_time()}\n")
        return out


def read_timings(folder):
    """(model seconds summed over processes, {pid: peak RSS MiB}, CPU seconds of the calling processes).

    A process's CPU is counted from its first model call to its last: it leaves out the
    sampling before the first call and the fit after the last (one task per process).
    """
    seconds, peaks, cpu = 0.0, {}, 0.0
    for name in os.listdir(folder):
        first, last = None, None
        with open(os.path.join(folder, name)) as handle:
            for line in handle:
                elapsed, rss, cpu_before, cpu_after = line.split()
                seconds += float(elapsed)
                peaks[name] = max(peaks.get(name, 0.0), int(rss) / 1024)
                first = float(cpu_before) if first is None else min(first, float(cpu_before))
                last = float(cpu_after) if last is None else max(last, float(cpu_after))
        cpu += last - first
    return seconds, peaks, cpu


def timed(run, fn):
    """``run(model)`` with a fresh TimedModel: (wall s, model s, {pid: peak MiB}, result)."""
    folder = tempfile.mkdtemp(prefix="limekit-bench-")
    try:
        model = TimedModel(fn, folder)
        start = time.perf_counter()
        result = run(model)
        wall = time.perf_counter() - start
        seconds, peaks, cpu = read_timings(folder)
        return wall, seconds, peaks, result, cpu
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# ---------------------------------------------------------------------------- tasks
def adult():
    from sklearn.ensemble import HistGradientBoostingClassifier

    from limekit.datasets import load_adult

    frame, y = load_adult("train", drop_missing=True)
    categorical = [i for i, c in enumerate(frame.columns) if str(frame[c].dtype) == "category"]
    names = {i: [str(v) for v in frame.iloc[:, i].cat.categories] for i in categorical}
    X = np.column_stack(
        [
            frame.iloc[:, i].cat.codes.to_numpy() if i in categorical else frame.iloc[:, i].to_numpy()
            for i in range(frame.shape[1])
        ]
    ).astype(float)
    mask = np.zeros(X.shape[1], bool)
    mask[categorical] = True
    model = HistGradientBoostingClassifier(categorical_features=mask, random_state=0).fit(X, y)
    kwargs = dict(
        feature_names=list(frame.columns),
        categorical_features=categorical,
        categorical_names=names,
        training_labels=y,
        random_state=0,
    )
    return X, model, kwargs


VOCABULARY = [f"w{i}" for i in range(2000)]
WEIGHTS = dict(zip(VOCABULARY, np.random.default_rng(0).normal(scale=0.3, size=len(VOCABULARY))))


def text_model(texts):
    scores = np.array([sum(WEIGHTS.get(word, 0.0) for word in text.split()) for text in texts])
    p = 1 / (1 + np.exp(-scores))
    return np.column_stack([1 - p, p])


def image_model(batch):
    batch = np.asarray(batch, dtype=float)
    p = batch[:, 16:48, 16:48].mean(axis=(1, 2, 3)) / 255
    return np.column_stack([1 - p, p])


# ---------------------------------------------------------------------------- (a) per row, same process
def per_row(args):
    from lime.lime_image import LimeImageExplainer
    from lime.lime_tabular import LimeTabularExplainer
    from lime.lime_text import LimeTextExplainer

    from limekit import ImageExplainer, TabularExplainer, TextExplainer

    rng = np.random.default_rng(1)
    X, model, kwargs = adult()
    rows = X[rng.choice(len(X), args.lime_rows, replace=False)]
    documents = [" ".join(rng.choice(VOCABULARY, 100)) for _ in range(args.lime_rows // 2)]
    from skimage import data, transform

    base = transform.resize(data.astronaut(), (64, 64), anti_aliasing=True)
    images = [
        np.clip(np.round(np.roll(base, 7 * i, axis=1) * 255), 1, 255).astype(np.uint8)
        for i in range(max(2, args.lime_rows // 10))
    ]
    cases = [
        (
            "tabular (Adult, HGB, 5000 samples)",
            rows,
            model.predict_proba,
            lambda: LimeTabularExplainer(X, **kwargs),
            lambda: TabularExplainer(X, **kwargs),
            dict(num_samples=5000),
        ),
        (
            "text (100 words, 5000 samples)",
            documents,
            text_model,
            lambda: LimeTextExplainer(random_state=0),
            lambda: TextExplainer(random_state=0),
            dict(num_samples=5000),
        ),
        (
            "image (64x64 quickshift, 1000 samples)",
            images,
            image_model,
            lambda: LimeImageExplainer(random_state=0),
            lambda: ImageExplainer(random_state=0),
            dict(num_samples=1000, top_labels=None, labels=(1,), batch_size=100, hide_color=0),
        ),
    ]
    table = []
    for name, instances, fn, make_lime, make_ours, options in cases:
        lime_explainer, ours = make_lime(), make_ours()
        lime_options = dict(options)
        ours_options = dict(options, progress_bar=False) if "image" in name else options
        ours.explain_many(instances[:1], fn, **ours_options)  # warm-up
        lime_wall, lime_model, _, _, _ = timed(
            lambda m: [lime_explainer.explain_instance(x, m, **lime_options) for x in instances], fn
        )
        our_wall, our_model, _, _, _ = timed(lambda m: ours.explain_many(instances, m, **ours_options), fn)
        n = len(instances)
        table.append(
            (
                name,
                n,
                lime_wall / n * 1e3,
                (lime_wall - lime_model) / n * 1e3,
                our_wall / n * 1e3,
                (our_wall - our_model) / n * 1e3,
            )
        )
    print("\n(a) per row, same process (ms per explanation; 'library' = total minus the model's time)")
    print(
        "| task | rows | lime total | lime library | explain_many total | explain_many library "
        "| total ratio | library ratio |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, n, lt, ll, ot, ol in table:
        print(f"| {name} | {n} | {lt:.1f} | {ll:.1f} | {ot:.1f} | {ol:.1f} | {lt / ot:.1f}x | {ll / ol:.1f}x |")


# ---------------------------------------------------------------------------- (b) rows per second, workers
def throughput(args):
    from lime.lime_tabular import LimeTabularExplainer

    from limekit import TabularExplainer

    X, model, kwargs = adult()
    rng = np.random.default_rng(2)
    rows = X[rng.choice(len(X), args.rows, replace=False)]
    explainer = TabularExplainer(X, **kwargs)
    options = dict(num_samples=args.num_samples, rows_per_task=args.rows_per_task)
    warm = dict(rows_per_task=1, num_samples=200)  # a small task per worker: imports, model load
    explainer.explain_many(rows[:2], model.predict_proba, num_samples=args.num_samples)  # warm-up
    results = []
    reference = []

    def record(engine, workers, startup, n, run, check=True):
        wall, model_s, peaks, out, cpu = timed(run, model.predict_proba)
        results.append((engine, workers, startup, n, wall, model_s, peaks, cpu))
        if check:
            out = [e.to_json() for e in out]
            if reference:
                assert out == reference, f"{engine}, {workers}: results differ from the serial run"
            else:
                reference.extend(out)

    def clock(start_up):
        start = time.perf_counter()
        value = start_up()
        return time.perf_counter() - start, value

    lime_explainer = LimeTabularExplainer(X, **kwargs)
    record(
        "lime, a loop",
        1,
        0.0,
        args.lime_rows,
        lambda m: [lime_explainer.explain_instance(r, m, num_samples=args.num_samples) for r in rows[: args.lime_rows]],
        check=False,
    )
    record("joblib (limekit n_jobs)", 1, 0.0, len(rows), lambda m: explainer.explain_many(rows, m, **options))
    startup, _ = clock(lambda: explainer.explain_many(rows[:4], model.predict_proba, n_jobs=2, **warm))
    record(
        "joblib (limekit n_jobs)", 2, startup, len(rows), lambda m: explainer.explain_many(rows, m, n_jobs=2, **options)
    )

    from distributed import Client, LocalCluster

    for workers in (1, 2):

        def start_dask():
            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50
            )
            client = Client(cluster)
            explainer.explain_many(rows[: 2 * workers], model.predict_proba, backend="dask", **warm)
            return cluster, client

        startup, (cluster, client) = clock(start_dask)
        try:
            record(
                "Dask",
                workers,
                startup,
                len(rows),
                lambda m: list(explainer.explain_many(rows, m, backend="dask", stream=True, **options)),
            )
        finally:
            client.close()
            cluster.close()

    import ray

    from limekit.distributed import RayActors

    ray_init, _ = clock(
        lambda: ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    )
    try:
        for workers in (1, 2):

            def start_ray():
                actors = RayActors(workers)
                actors.wait_ready()
                explainer.explain_many(rows[: 2 * workers], model.predict_proba, backend="ray", client=actors, **warm)
                return actors

            startup, actors = clock(start_ray)
            with actors:
                record(
                    "Ray",
                    workers,
                    startup + (ray_init if workers == 1 else 0.0),
                    len(rows),
                    lambda m: list(
                        explainer.explain_many(rows, m, backend="ray", client=actors, stream=True, **options)
                    ),
                )
        if args.ray_per_call:  # the default: actors started by the call, inside the timed region
            record(
                "Ray, actors per call",
                2,
                0.0,
                len(rows),
                lambda m: list(explainer.explain_many(rows, m, backend="ray", stream=True, **options)),
            )
    finally:
        ray.shutdown()

    print(
        f"\n(b) Adult, HistGradientBoostingClassifier, num_samples={args.num_samples}, "
        f"rows_per_task={args.rows_per_task}; results identical to the serial run"
    )
    print(
        "| engine | workers | start-up s | rows | wall s | rows/s | model s (all processes) | library ms/row "
        "(wall x workers - model) | CPU ms/row in the workers | peak RSS per worker MiB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    rate, cpu_per_row = {}, {}
    for engine, workers, startup, n, wall, model_s, peaks, cpu in results:
        rate[engine, workers] = n / wall
        cpu_per_row[engine, workers] = cpu / n * 1e3
        library = (wall * workers - model_s) / n * 1e3
        peak = max(peaks.values()) if peaks else float("nan")
        print(
            f"| {engine} | {workers} | {startup:.1f} | {n} | {wall:.1f} | {n / wall:.1f} | {model_s:.1f} "
            f"| {library:.1f} | {cpu / n * 1e3:.1f} | {peak:.0f} |"
        )
    print(
        "\nstart-up: apart from the timed rows (joblib: loky's worker processes; Dask: the LocalCluster, the "
        "client and a first small task; Ray: ray.init (counted on the 1-actor row), the actors "
        "(RayActors) and a first small task). rows/s: the steady state, one explain_many call after start-up."
    )
    print(
        "CPU ms/row: the CPU time of the processes that call the model (from each one's first call to its "
        "last), per row."
    )
    engines = [e for e in ("joblib (limekit n_jobs)", "Dask", "Ray") if (e, 1) in rate and (e, 2) in rate]
    print(
        "speed-up 1 -> 2 workers: "
        + ", ".join(f"{e} {rate[e, 2] / rate[e, 1]:.2f}x" for e in engines)
        + "; CPU per row 2 workers / 1: "
        + ", ".join(f"{e} {cpu_per_row[e, 2] / cpu_per_row[e, 1]:.2f}" for e in engines)
        + f"; limekit serial / lime loop {rate['joblib (limekit n_jobs)', 1] / rate['lime, a loop', 1]:.1f}x"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=400, help="rows for (b)")
    parser.add_argument("--lime-rows", type=int, default=40, help="rows for the lime loops")
    parser.add_argument("--num-samples", type=int, default=5000)
    parser.add_argument("--rows-per-task", type=int, default=10)
    parser.add_argument("--skip-a", action="store_true")
    parser.add_argument("--skip-b", action="store_true")
    parser.add_argument(
        "--ray-per-call",
        action="store_true",
        help="also time Ray with the actors started inside the call (explain_many's default)",
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    import sklearn

    print(
        f"Python {platform.python_version()}, numpy {np.__version__}, scikit-learn {sklearn.__version__}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}, OMP_NUM_THREADS="
        f"{os.environ['OMP_NUM_THREADS']}"
    )
    if not args.skip_a:
        per_row(args)
    if not args.skip_b:
        throughput(args)
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
