"""explain_many on Dask and Ray, LimeBatchUDF on Dask DataFrames and Ray Data, and the frame of results.

A real LocalCluster (2 worker processes) and a real local Ray runtime (2 CPUs),
each started and stopped here.  Every result is compared with the serial run.
"""

import json
import os
import threading
import time

import numpy as np
import pytest
from cases_distributed import N_FEATURES, image_case, tabular_case, tabular_proba, text_case

from limekit import LimekitTypeError, LimekitValueError
from limekit.core.budget import peak_rss_kib
from limekit.core.importance import global_importance
from limekit.distributed import LimeBatchUDF
from limekit.frame import FailedRow, explanations_to_frame

pd = pytest.importorskip("pandas")
# A test that starts (or uses) the Dask cluster or the Ray runtime: seconds each, so out of `make test-fast`.
CLUSTER = pytest.mark.slow
HERE = os.path.dirname(os.path.abspath(__file__))


# ---------------------------------------------------------------------------- models (module level: they pickle)
class PeakMemory:
    """The tabular model, writing its process's peak RSS to ``folder/<pid>`` at every call."""

    def __init__(self, folder):
        self.folder = folder

    def __call__(self, X):
        with open(os.path.join(self.folder, str(os.getpid())), "w") as handle:
            handle.write(str(peak_rss_kib()))
        return tabular_proba(X)


class Poisoned:
    """The tabular model, failing on any batch that holds one of the ``poison`` rows (an instance)."""

    def __init__(self, poison):
        self.poison = np.asarray(poison, dtype=float)

    def __call__(self, X):
        X = np.asarray(X, dtype=float)
        for row in self.poison:
            if np.any(np.all(X == row, axis=1)):
                raise ValueError("poisoned row")
        return tabular_proba(X)


class Unpickled:
    """The tabular model, recording every unpickling (``folder/<pid>-<n>``)."""

    def __init__(self, folder):
        self.folder = folder

    def __setstate__(self, state):
        self.__dict__.update(state)
        with open(
            os.path.join(
                self.folder, f"unpickled-{os.getpid()}-{threading.get_ident()}-{len(os.listdir(self.folder))}"
            ),
            "w",
        ):
            pass

    def __call__(self, X):
        return tabular_proba(X)


class Factory:
    """Builds the tabular model, recording every build (``folder/built-<pid>-<n>``)."""

    def __init__(self, folder):
        self.folder = folder

    def __call__(self):
        with open(os.path.join(self.folder, f"built-{os.getpid()}-{len(os.listdir(self.folder))}"), "w"):
            pass
        return tabular_proba


class ModelFactory:
    """Returns ``model`` (a factory that pickles)."""

    def __init__(self, model):
        self.model = model

    def __call__(self):
        return self.model


class PoisonedFactory(Factory):
    """Builds Poisoned(poison), recording every build."""

    def __init__(self, folder, poison):
        super().__init__(folder)
        self.poison = poison

    def __call__(self):
        super().__call__()
        return Poisoned(self.poison)


class DiesOnce:
    """The tabular model; the first process to call it dies (os._exit) mid-task, ``delay`` seconds in, once."""

    def __init__(self, marker, delay=0.0):
        self.marker = marker
        self.delay = delay

    def __call__(self, X):
        try:
            os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return tabular_proba(X)
        time.sleep(self.delay)
        os._exit(1)


class Locked:
    """A model that does not pickle."""

    def __init__(self):
        self.lock = threading.Lock()

    def __call__(self, X):
        raise AssertionError("never called")


# ---------------------------------------------------------------------------- data
def tabular_shared_case(n=8):
    """share_samples=True with num_samples='auto': the tasks' pools travel with the tasks."""
    explainer, rows, model, _ = tabular_case(n)
    return explainer, rows, model, dict(num_samples="auto", max_samples=4000, num_features=3, share_samples=True)


CASES = {"tabular": tabular_case, "text": text_case, "image": image_case, "tabular_shared": tabular_shared_case}


def dumps(results):
    return [json.dumps(r.to_dict(), sort_keys=True) for r in results]


# the workers import this module and cases_distributed and use one thread (the fixtures are in conftest.py)
pytestmark = pytest.mark.usefixtures("worker_path")


# ---------------------------------------------------------------------------- the frame (no engine)
def test_frame_columns_and_global_importance(tmp_path):
    explainer, rows, model, kwargs = tabular_case()
    exps = explainer.explain_many(rows, model, **kwargs)
    frame = explanations_to_frame(exps)
    assert list(frame["row"]) == list(range(len(rows))) and list(frame["label"]) == [1] * len(rows)
    assert [c for c in frame.columns if c.startswith("w:")] == [f"w:f{i}" for i in range(N_FEATURES)]
    for column in ("intercept", "score", "local_pred", "model_pred", "r2", "stability_jaccard", "error"):
        assert column in frame.columns
    np.testing.assert_allclose(frame["intercept"], [e.intercept[1] for e in exps])
    np.testing.assert_allclose(frame["local_gap"], [e.local_gap(1) for e in exps], rtol=1e-12, atol=1e-15)
    first = dict(exps[0].as_list(1))
    assert sum(frame.loc[0, [c for c in frame.columns if c.startswith("w:")]].notna()) == len(first) == 4
    ours = global_importance(frame)
    theirs = global_importance(exps)
    assert [k for k, _ in ours] == [k for k, _ in theirs]
    np.testing.assert_allclose([v for _, v in ours], [v for _, v in theirs])
    long = explanations_to_frame(exps, layout="long")
    assert len(long) == 4 * len(rows) and global_importance(long)[0][0] == theirs[0][0]
    frame.to_parquet(tmp_path / "x.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "x.parquet"), frame, check_dtype=False)
    as_frame = explainer.explain_many(rows, model, rows_per_task=5, as_frame=True, **kwargs)
    pd.testing.assert_frame_equal(as_frame, frame)
    chunks = list(explainer.explain_many(rows, model, rows_per_task=5, as_frame=True, stream=True, **kwargs))
    assert [len(c) for c in chunks] == [5, 5, 2]


def test_errors_skip_serial_and_stream():
    explainer, rows, _, kwargs = tabular_case()
    serial = explainer.explain_many(rows, tabular_proba, **kwargs)
    model = Poisoned(rows[[4, 7]])
    with pytest.raises(ValueError, match="poisoned"):
        explainer.explain_many(rows, model, **kwargs)
    results = list(explainer.explain_many(rows, model, rows_per_task=3, errors="skip", stream=True, **kwargs))
    assert [type(r) for r in results].count(FailedRow) == 2
    assert results[4] == FailedRow(4, "ValueError: poisoned row") and results[7].position == 7
    keep = [i for i in range(len(rows)) if i not in (4, 7)]
    assert dumps([results[i] for i in keep]) == dumps([serial[i] for i in keep])
    frame = explanations_to_frame(results)
    assert frame.loc[4, "error"] == "ValueError: poisoned row" and frame.loc[4, ["w:f0"]].isna().all()
    assert frame["error"].notna().sum() == 2


@pytest.mark.parametrize(
    "kwargs, argument, kind",
    [
        (dict(backend="spark"), "backend", LimekitValueError),
        (dict(backend="dask", client="tcp://x"), "client", LimekitTypeError),
        (dict(client=object()), "client", LimekitValueError),
        (dict(errors="ignore"), "errors", LimekitValueError),
        (dict(predict_factory=3), "predict_factory", LimekitTypeError),
        (dict(predict_factory=Factory("/nonexistent"), predict_fn=tabular_proba), "predict_fn", LimekitValueError),
        (dict(predict_fn=None), "predict_fn", LimekitTypeError),
    ],
)
def test_bad_engine_arguments_fail_at_once(kwargs, argument, kind):
    explainer, rows, _, explain_kwargs = tabular_case()
    kwargs.setdefault("predict_fn", PeakMemory("/nonexistent"))  # would fail if it were called
    with pytest.raises(kind) as error:
        explainer.explain_many(rows, **kwargs, **explain_kwargs)
    assert error.value.argument == argument and argument in str(error.value)


def test_no_client_and_no_runtime(monkeypatch):
    distributed = pytest.importorskip("distributed")
    ray = pytest.importorskip("ray")
    explainer, rows, model, kwargs = tabular_case()

    def none_active():
        raise ValueError("No clients found")

    monkeypatch.setattr(distributed, "get_client", none_active)
    with pytest.raises(LimekitValueError, match="client: expected a dask.distributed.Client"):
        explainer.explain_many(rows, model, backend="dask", **kwargs)
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    with pytest.raises(LimekitValueError, match=r"ray.init\(\)"):
        explainer.explain_many(rows, model, backend="ray", **kwargs)


# ---------------------------------------------------------------------------- Dask
@CLUSTER
@pytest.mark.parametrize("case", list(CASES))
def test_dask_equals_serial(dask_client, case):
    explainer, rows, model, kwargs = CASES[case]()
    # the same tasks: diagnostics['sampling']['model_calls'] counts a task's model calls (with a batch_size)
    serial = explainer.explain_many(rows, model, rows_per_task=2, **kwargs)
    ours = explainer.explain_many(rows, model, backend="dask", rows_per_task=2, **kwargs)
    assert dumps(ours) == dumps(serial)
    streamed = explainer.explain_many(
        rows, model, backend="dask", client=dask_client, rows_per_task=2, stream=True, **kwargs
    )
    assert not isinstance(streamed, list) and dumps(streamed) == dumps(serial)


@CLUSTER
def test_dask_ships_the_model_once_per_worker(dask_client, tmp_path):
    explainer, rows, _, kwargs = tabular_case()
    serial = explainer.explain_many(rows, tabular_proba, **kwargs)
    ours = explainer.explain_many(rows, Unpickled(str(tmp_path)), backend="dask", rows_per_task=1, **kwargs)
    assert dumps(ours) == dumps(serial)
    pids = {name.split("-")[1] for name in os.listdir(tmp_path)}
    assert len(os.listdir(tmp_path)) == len(pids) <= 2  # once per worker process, 12 tasks
    factory_dir = tmp_path / "factory"
    factory_dir.mkdir()
    built = explainer.explain_many(
        rows, predict_factory=Factory(str(factory_dir)), backend="dask", rows_per_task=1, **kwargs
    )
    assert dumps(built) == dumps(serial)
    assert 1 <= len(os.listdir(factory_dir)) <= 2


@CLUSTER
def test_dask_errors_skip_and_lost_worker(dask_client, tmp_path):
    explainer, rows, _, kwargs = tabular_case()
    serial = explainer.explain_many(rows, tabular_proba, **kwargs)
    results = explainer.explain_many(
        rows, Poisoned(rows[[2]]), backend="dask", rows_per_task=4, errors="skip", **kwargs
    )
    assert isinstance(results[2], FailedRow) and "poisoned" in results[2].error
    assert dumps(results[:2] + results[3:]) == dumps(serial[:2] + serial[3:])
    # The worker that calls the model first dies 2 s into its task; meanwhile the other one finishes its tasks,
    # so the memory manager drops its copy of the job (the model): the job's one copy dies with the worker.
    # The call must go on: the job computed again, the dead worker's tasks run again (it once ended in
    # FuturesCancelledError, 'lost scattered data', when that timing came by chance: a scattered job).
    model = DiesOnce(str(tmp_path / "died"), delay=2.0)
    again = explainer.explain_many(rows, model, backend="dask", rows_per_task=3, **kwargs)
    assert (tmp_path / "died").exists() and dumps(again) == dumps(serial)
    dask_client.wait_for_workers(2, timeout=60)  # the nanny's new worker registered: the next tests count on two


@CLUSTER
def test_dask_non_picklable_model_fails_before_any_task(dask_client):
    explainer, rows, _, kwargs = tabular_case()
    with pytest.raises(LimekitTypeError, match="predict_fn: expected a model that pickles") as error:
        explainer.explain_many(rows, Locked(), backend="dask", **kwargs)
    assert "predict_factory" in str(error.value)


@CLUSTER
def test_dask_dataframe_map_partitions(dask_client):
    dd = pytest.importorskip("dask.dataframe")
    explainer, rows, model, kwargs = tabular_case(n=20)
    frame = pd.DataFrame(rows, columns=[f"f{i}" for i in range(N_FEATURES)])
    expected = explanations_to_frame(explainer.explain_many(rows, model, **kwargs))
    udf = LimeBatchUDF(explainer, predict_fn=model, **kwargs)
    ddf = dd.from_pandas(frame, npartitions=3)
    result = ddf.map_partitions(udf, meta=udf.meta(frame.head(2))).compute()
    pd.testing.assert_frame_equal(result.sort_values("row").reset_index(drop=True), expected)


@CLUSTER
@pytest.mark.parametrize("backend, runtime", [("dask", "dask_client"), ("ray", "ray_runtime")])
def test_memory_per_worker_is_flat(backend, runtime, request, tmp_path):
    request.getfixturevalue(runtime)  # the engine, started by the test module
    explainer, _, _, _kwargs = tabular_case()
    peaks = {}
    for rows_count in (200, 400, 800):
        folder = tmp_path / str(rows_count)
        folder.mkdir()
        rows = np.random.default_rng(rows_count).normal(size=(rows_count, N_FEATURES))
        stream = explainer.explain_many(
            rows,
            PeakMemory(str(folder)),
            backend=backend,
            rows_per_task=10,
            stream=True,
            num_samples=500,
            num_features=4,
        )
        assert sum(1 for _ in stream) == rows_count
        peaks[rows_count] = max(int(open(folder / name).read()) for name in os.listdir(folder)) / 1024
    print(f"{backend} worker peak RSS (MiB) by rows: {peaks}")
    assert peaks[800] - peaks[200] < 40, peaks


# ---------------------------------------------------------------------------- Ray
@CLUSTER
@pytest.mark.parametrize("case", list(CASES))
def test_ray_equals_serial(ray_runtime, case):
    explainer, rows, model, kwargs = CASES[case]()
    serial = explainer.explain_many(rows, model, rows_per_task=2, **kwargs)
    ours = explainer.explain_many(rows, model, backend="ray", rows_per_task=2, **kwargs)
    assert dumps(ours) == dumps(serial)


@CLUSTER
def test_ray_factory_errors_and_lost_actor(ray_runtime, tmp_path):
    explainer, rows, _, kwargs = tabular_case()
    serial = explainer.explain_many(rows, tabular_proba, **kwargs)
    factory = PoisonedFactory(str(tmp_path), rows[[0, 11]])  # builds Poisoned(rows 0 and 11) on each actor
    results = list(
        explainer.explain_many(
            rows, predict_factory=factory, backend="ray", rows_per_task=1, stream=True, errors="skip", **kwargs
        )
    )
    assert 1 <= len(os.listdir(tmp_path)) <= 2  # one build per actor, 12 tasks
    assert [i for i, r in enumerate(results) if isinstance(r, FailedRow)] == [0, 11]
    assert results[11] == FailedRow(11, "ValueError: poisoned row")
    assert dumps(results[1:11]) == dumps(serial[1:11])
    again = explainer.explain_many(rows, DiesOnce(str(tmp_path / "died")), backend="ray", rows_per_task=3, **kwargs)
    assert (tmp_path / "died").exists() and dumps(again) == dumps(serial)


@CLUSTER
def test_ray_data_map_batches(ray_runtime):
    explainer, rows, model, kwargs = tabular_case(n=20)
    frame = pd.DataFrame(rows, columns=[f"f{i}" for i in range(N_FEATURES)]).assign(id=np.arange(20) * 10)
    expected = explanations_to_frame(explainer.explain_many(rows, model, **kwargs))
    dataset = ray_runtime.data.from_pandas(frame)
    result = dataset.map_batches(
        LimeBatchUDF,
        fn_constructor_kwargs=dict(explainer=explainer, predict_fn=model, id_column="id", **kwargs),
        batch_format="pandas",
        batch_size=6,
        compute=ray_runtime.data.ActorPoolStrategy(size=2),
    ).to_pandas()
    result = result.sort_values("id").reset_index(drop=True)
    assert list(result["id"]) == list(frame["id"])
    result["row"] = result.pop("id") // 10
    result = result[expected.columns].astype(expected.dtypes.to_dict())  # Arrow's nullable floats back to float64
    pd.testing.assert_frame_equal(result, expected)


# ---------------------------------------------------------------------------- LimeBatchUDF here (no engine)
@pytest.mark.parametrize("case", ["text", "image"])
def test_batch_udf_on_text_and_image_batches(case):
    explainer, instances, model, kwargs = CASES[case]()
    kwargs = dict(kwargs, rows_per_task=2)
    expected = explanations_to_frame(explainer.explain_many(instances, model, **kwargs), layout="long")
    column = "text" if case == "text" else "image"
    batch = pd.DataFrame({column: pd.Series(list(instances), dtype=object), "key": list("abcdefghi"[: len(instances)])})
    udf = LimeBatchUDF(explainer, predict_factory=ModelFactory(model), layout="long", id_column="key", **kwargs)
    import pickle

    udf = pickle.loads(pickle.dumps(udf))  # as an engine ships it
    frame = udf(batch)
    assert list(frame["key"].unique()) == list(batch["key"])
    pd.testing.assert_frame_equal(frame.drop(columns="key"), expected)
    parts = list(udf(iter([batch.iloc[:2], batch.iloc[2:]])))  # Spark's mapInPandas: an iterator of batches
    assert sum(len(p) for p in parts) == len(frame)


# ---------------------------------------------------------------------------- recurrent series, every backend
def series_proba(batch):
    batch = np.asarray(batch, dtype=float)
    assert batch.ndim == 3, batch.shape  # the model of series always receives (n, timesteps, features)
    p = 1 / (1 + np.exp(-3 * batch[:, -1, 0] + batch[:, 0, 1]))
    return np.column_stack([1 - p, p])


@pytest.mark.parametrize(
    "engine", ["serial", *(pytest.param(e, marks=pytest.mark.slow) for e in ("joblib", "dask", "ray"))]
)
def test_recurrent_explain_many_with_predict_factory(engine, request):
    from limekit import RecurrentTabularExplainer

    series = np.random.default_rng(4).normal(size=(150, 3, 2))
    explainer = RecurrentTabularExplainer(series, feature_names=["u", "v"], random_state=1)
    kwargs = dict(num_samples=300, num_features=3, rows_per_task=2)
    engine_kwargs = {"serial": {}, "joblib": dict(n_jobs=2)}.get(engine, dict(backend=engine))
    if engine in ("dask", "ray"):
        request.getfixturevalue("dask_client" if engine == "dask" else "ray_runtime")
    one_by_one = [explainer.explain_instance(s, series_proba, num_samples=300, num_features=3) for s in series[:5]]
    with_model = explainer.explain_many(series[:5], series_proba, **engine_kwargs, **kwargs)
    built = explainer.explain_many(series[:5], predict_factory=ModelFactory(series_proba), **engine_kwargs, **kwargs)
    assert dumps(with_model) == dumps(built) == dumps(one_by_one)
    flat = np.transpose(series[:5], (0, 2, 1)).reshape(5, -1)  # columns in feature_names' order
    assert dumps(explainer.explain_many(flat, predict_factory=ModelFactory(series_proba), **kwargs)) == dumps(built)
    with pytest.raises(LimekitValueError, match="instances: expected shape"):
        explainer.explain_many(series[:5, :2], predict_factory=ModelFactory(series_proba), **kwargs)


# ---------------------------------------------------------------------------- stream: instances checked per task
class Recorded(list):
    """A list of instances that records which positions were read."""

    def __init__(self, items):
        super().__init__(items)
        self.read = set()

    def __getitem__(self, index):
        positions = range(len(self))[index] if isinstance(index, slice) else [index]
        self.read.update(positions)
        return super().__getitem__(index)


@pytest.mark.parametrize("engine", ["serial", pytest.param("dask", marks=pytest.mark.slow)])
def test_stream_checks_instances_task_by_task(engine, request):
    engine_kwargs = {}
    if engine == "dask":
        request.getfixturevalue("dask_client")
        engine_kwargs = dict(backend="dask")
    explainer, texts, model, kwargs = text_case(n=9)
    serial = explainer.explain_many(texts, model, rows_per_task=2, **kwargs)
    recorded = Recorded(texts)
    stream = explainer.explain_many(recorded, model, rows_per_task=2, stream=True, **engine_kwargs, **kwargs)
    assert recorded.read == {0, 1}  # the first task checked at once, the others not yet
    first = next(stream)
    assert recorded.read < set(range(9))  # no more than a window of tasks ahead
    assert dumps([first] + list(stream)) == dumps(serial)
    # a wrong type or a bad first task still fails at once, before any model call
    for bad, argument in ((texts[0], "instances"), ([3] + texts[1:], "text_instance"), ([], "instances")):
        with pytest.raises((LimekitTypeError, LimekitValueError)) as error:
            explainer.explain_many(
                bad, PeakMemory("/nonexistent"), rows_per_task=2, stream=True, **engine_kwargs, **kwargs
            )
        assert error.value.argument == argument
    # a bad instance further on: raised when its task is reached, or a FailedRow with errors='skip'
    broken = texts[:7] + [""] + texts[8:]
    stream = explainer.explain_many(broken, model, rows_per_task=2, stream=True, **engine_kwargs, **kwargs)
    with pytest.raises(LimekitValueError, match="text_instance"):
        list(stream)
    skipped = list(
        explainer.explain_many(broken, model, rows_per_task=2, stream=True, errors="skip", **engine_kwargs, **kwargs)
    )
    assert isinstance(skipped[7], FailedRow) and skipped[7].position == 7 and "text_instance" in skipped[7].error
    assert dumps(skipped[:7] + skipped[8:]) == dumps(serial[:7] + serial[8:])
    # without stream every instance is checked up front: one that fails is a FailedRow all the same
    eager = explainer.explain_many(broken, model, rows_per_task=2, errors="skip", **engine_kwargs, **kwargs)
    assert [i for i, r in enumerate(eager) if isinstance(r, FailedRow)] == [7] and "text_instance" in eager[7].error
    assert dumps(eager[:7] + eager[8:]) == dumps(serial[:7] + serial[8:])
    with pytest.raises(LimekitValueError, match="text_instance"):  # errors='raise': before any model call
        explainer.explain_many(broken, PeakMemory("/nonexistent"), rows_per_task=2, **kwargs)
    with pytest.raises(LimekitValueError, match="text_instance"):  # nothing to explain: the first error
        explainer.explain_many(["", ""], PeakMemory("/nonexistent"), errors="skip", **kwargs)


def test_stream_checks_tabular_frames_per_task():
    explainer, rows, model, kwargs = tabular_case(n=12)
    frame = pd.DataFrame(rows)
    serial = explainer.explain_many(rows, model, rows_per_task=5, **kwargs)
    assert dumps(explainer.explain_many(frame, model, rows_per_task=5, stream=True, **kwargs)) == dumps(serial)
    with pytest.raises(LimekitValueError, match="data_rows: expected a 2-D array"):
        explainer.explain_many(rows[:, :3], model, stream=True, **kwargs)
    bad = rows.copy()
    bad[8, 0] = np.inf
    for stream in (True, False):
        results = list(explainer.explain_many(bad, model, rows_per_task=5, stream=stream, errors="skip", **kwargs))
        assert [i for i, r in enumerate(results) if isinstance(r, FailedRow)] == [8]
        assert "data_row" in results[8].error
        assert dumps(results[:8] + results[9:]) == dumps(serial[:8] + serial[9:])


# ---------------------------------------------------------------------------- threads on the workers
def blas_threads(_=None):
    from threadpoolctl import threadpool_info

    return max(info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas")


def openmp_threads():
    from threadpoolctl import threadpool_info

    return max([info["num_threads"] for info in threadpool_info() if info["user_api"] == "openmp"] or [1])


class ThreadsSeen:
    """The tabular model, recording the OpenMP threads of its thread at every call (``folder/<pid>``)."""

    def __init__(self, folder):
        self.folder = folder

    def __call__(self, X):
        with open(os.path.join(self.folder, str(os.getpid())), "a") as handle:
            handle.write(f"{openmp_threads()}\n")
        return tabular_proba(X)


def test_thread_limit_lowers_and_restores():
    import sklearn.ensemble  # noqa: F401  (its OpenMP runtime loaded)
    from threadpoolctl import threadpool_limits

    from limekit.distributed import limited_threads

    with threadpool_limits(2):
        before = (blas_threads(), openmp_threads())
        with limited_threads(1, "a"):
            assert (blas_threads(), openmp_threads()) == (1, 1)
            with limited_threads(1, "a"):  # nested (another task of the process): restored by the last one out
                pass
            assert blas_threads() == 1
        assert (blas_threads(), openmp_threads()) == before
        with limited_threads(8, "b"):  # never raised
            assert (blas_threads(), openmp_threads()) == before


@CLUSTER
def test_dask_tasks_use_cores_over_slots_threads(dask_client):
    from limekit.distributed import _dask_thread_limit, dask_slots, worker_cores

    slots = dask_slots(dask_client)
    assert sorted(slots.values()) == [2, 2]  # two one-thread workers on this machine
    limits = dask_client.run(_dask_thread_limit, slots)
    assert set(limits.values()) == {max(1, worker_cores() // 2)}


# ---------------------------------------------------------------------------- Ray actors kept between calls
@CLUSTER
def test_ray_actors_kept_between_calls(ray_runtime, tmp_path):
    from limekit.distributed import RayActors

    explainer, rows, model, kwargs = tabular_case()
    serial = explainer.explain_many(rows, model, rows_per_task=3, **kwargs)
    with RayActors(2) as actors:
        pids = set(actors.wait_ready())
        assert len(pids) == 2
        for _ in range(2):
            ours = explainer.explain_many(
                rows, ThreadsSeen(str(tmp_path)), backend="ray", client=actors, rows_per_task=3, **kwargs
            )
            assert dumps(ours) == dumps(serial)
        assert {int(name) for name in os.listdir(tmp_path)} <= pids  # the same processes for both calls
        assert {int(line) for name in os.listdir(tmp_path) for line in open(tmp_path / name)} == {1}  # num_cpus
        assert set(actors.wait_ready()) == pids
    assert actors.closed
    with pytest.raises(LimekitValueError, match="client: expected open RayActors"):
        explainer.explain_many(rows, model, backend="ray", client=actors, **kwargs)
    with pytest.raises(LimekitTypeError, match="client: expected a dask.distributed.Client"):
        explainer.explain_many(rows, model, backend="dask", client=actors, **kwargs)
    with pytest.raises(LimekitValueError, match="num_cpus"):
        RayActors(1, num_cpus=0)
