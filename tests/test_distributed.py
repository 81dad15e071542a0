"""explain_many on Dask and Ray, LimeBatchUDF on Dask DataFrames and Ray Data, and the frame of results.

A real LocalCluster (2 worker processes) and a real local Ray runtime (2 CPUs),
each started and stopped here.  Every result is compared with the serial run.
"""
import json
import os
import resource
import threading

import numpy as np
import pytest

from limekit import ImageExplainer, LimekitTypeError, LimekitValueError, TabularExplainer, TextExplainer
from limekit.core.importance import global_importance
from limekit.distributed import LimeBatchUDF
from limekit.frame import FailedRow, explanations_to_frame

pd = pytest.importorskip("pandas")
HERE = os.path.dirname(os.path.abspath(__file__))
N_FEATURES = 6


# ---------------------------------------------------------------------------- models (module level: they pickle)
def tabular_proba(X):
    X = np.asarray(X, dtype=float)
    p = 1 / (1 + np.exp(-(3 * X[:, 0] + 2 * X[:, 1] - 2.5 * X[:, 2])))
    return np.column_stack([1 - p, p])


def text_proba(texts):
    scores = [0.2 + 0.3 * (" good " in f" {t} ") + 0.4 * (" great " in f" {t} ") - 0.15 * (" bad " in f" {t} ")
              for t in texts]
    p = np.clip(np.array(scores), 0, 1)
    return np.column_stack([1 - p, p])


def image_proba(batch):
    batch = np.asarray(batch, dtype=float)
    p = batch[:, 4:12, 4:12].mean(axis=(1, 2, 3)) / 255
    return np.column_stack([1 - p, p])


def grid(image):
    rows, cols = np.indices(image.shape[:2])
    return (rows // 8) * (image.shape[1] // 8) + cols // 8


def peak_rss_kib():
    """This process's peak resident memory (VmHWM; ru_maxrss would count the parent's, kept across fork+exec)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


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
        with open(os.path.join(self.folder, f"unpickled-{os.getpid()}-{threading.get_ident()}-"
                               f"{len(os.listdir(self.folder))}"), "w"):
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
    """The tabular model; the first process to call it dies (os._exit) mid-task, once."""

    def __init__(self, marker):
        self.marker = marker

    def __call__(self, X):
        try:
            os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return tabular_proba(X)
        os._exit(1)


class Locked:
    """A model that does not pickle."""

    def __init__(self):
        self.lock = threading.Lock()

    def __call__(self, X):
        raise AssertionError("never called")


# ---------------------------------------------------------------------------- data
def tabular_case(n=12):
    X = np.random.default_rng(0).normal(size=(600, N_FEATURES))
    explainer = TabularExplainer(X, feature_names=[f"f{i}" for i in range(N_FEATURES)], random_state=3,
                                 stability_samples=3)
    return explainer, X[:n], tabular_proba, dict(num_samples=400, num_features=4)


WORDS = "good great bad plot film acting music ending cast story".split()


def text_case(n=9):
    rng = np.random.default_rng(1)
    texts = [" ".join(rng.choice(WORDS, size=8)) for _ in range(n)]
    return TextExplainer(random_state=4), texts, text_proba, dict(num_samples=300, num_features=4)


def image_case(n=6):
    rng = np.random.default_rng(2)
    images = [rng.integers(1, 255, size=(24, 24, 3)).astype(np.uint8) for _ in range(n)]
    return (ImageExplainer(random_state=5), images, image_proba,
            dict(num_samples=200, segmentation_fn=grid, top_labels=None, labels=(1,), progress_bar=False,
                 batch_size=1000))


CASES = {"tabular": tabular_case, "text": text_case, "image": image_case}


def dumps(results):
    return [json.dumps(r.to_dict(), sort_keys=True) for r in results]


@pytest.fixture(scope="module", autouse=True)
def worker_path():
    """Workers import this module (its models) and use one BLAS/OpenMP thread."""
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "OMP_NUM_THREADS")}
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (HERE, saved["PYTHONPATH"]) if p)
    os.environ["OMP_NUM_THREADS"] = "1"
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def dask_client(worker_path):
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                       silence_logs=40)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def ray_runtime(worker_path):
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False,
             runtime_env={"env_vars": {"PYTHONPATH": os.environ["PYTHONPATH"], "OMP_NUM_THREADS": "1"}})
    yield ray
    ray.shutdown()


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


@pytest.mark.parametrize("kwargs, argument, kind", [
    (dict(backend="spark"), "backend", LimekitValueError),
    (dict(backend="dask", client="tcp://x"), "client", LimekitTypeError),
    (dict(client=object()), "client", LimekitValueError),
    (dict(errors="ignore"), "errors", LimekitValueError),
    (dict(predict_factory=3), "predict_factory", LimekitTypeError),
    (dict(predict_factory=Factory("/nonexistent"), predict_fn=tabular_proba), "predict_fn", LimekitValueError),
    (dict(predict_fn=None), "predict_fn", LimekitTypeError),
])
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
@pytest.mark.parametrize("case", list(CASES))
def test_dask_equals_serial(dask_client, case):
    explainer, rows, model, kwargs = CASES[case]()
    # the same tasks: diagnostics['sampling']['model_calls'] counts a task's model calls (with a batch_size)
    serial = explainer.explain_many(rows, model, rows_per_task=2, **kwargs)
    ours = explainer.explain_many(rows, model, backend="dask", rows_per_task=2, **kwargs)
    assert dumps(ours) == dumps(serial)
    streamed = explainer.explain_many(rows, model, backend="dask", client=dask_client, rows_per_task=2, stream=True,
                                      **kwargs)
    assert not isinstance(streamed, list) and dumps(streamed) == dumps(serial)


def test_dask_ships_the_model_once_per_worker(dask_client, tmp_path):
    explainer, rows, _, kwargs = tabular_case()
    serial = explainer.explain_many(rows, tabular_proba, **kwargs)
    ours = explainer.explain_many(rows, Unpickled(str(tmp_path)), backend="dask", rows_per_task=1, **kwargs)
    assert dumps(ours) == dumps(serial)
    pids = {name.split("-")[1] for name in os.listdir(tmp_path)}
    assert len(os.listdir(tmp_path)) == len(pids) <= 2  # once per worker process, 12 tasks
    factory_dir = tmp_path / "factory"
    factory_dir.mkdir()
    built = explainer.explain_many(rows, predict_factory=Factory(str(factory_dir)), backend="dask", rows_per_task=1,
                                   **kwargs)
    assert dumps(built) == dumps(serial)
    assert 1 <= len(os.listdir(factory_dir)) <= 2


def test_dask_errors_skip_and_lost_worker(dask_client, tmp_path):
    explainer, rows, _, kwargs = tabular_case()
    serial = explainer.explain_many(rows, tabular_proba, **kwargs)
    results = explainer.explain_many(rows, Poisoned(rows[[2]]), backend="dask", rows_per_task=4, errors="skip",
                                     **kwargs)
    assert isinstance(results[2], FailedRow) and "poisoned" in results[2].error
    assert dumps(results[:2] + results[3:]) == dumps(serial[:2] + serial[3:])
    again = explainer.explain_many(rows, DiesOnce(str(tmp_path / "died")), backend="dask", rows_per_task=3,
                                   **kwargs)
    assert (tmp_path / "died").exists() and dumps(again) == dumps(serial)


def test_dask_non_picklable_model_fails_before_any_task(dask_client):
    explainer, rows, _, kwargs = tabular_case()
    with pytest.raises(LimekitTypeError, match="predict_fn: expected a model that pickles") as error:
        explainer.explain_many(rows, Locked(), backend="dask", **kwargs)
    assert "predict_factory" in str(error.value)


def test_dask_dataframe_map_partitions(dask_client):
    dd = pytest.importorskip("dask.dataframe")
    explainer, rows, model, kwargs = tabular_case(n=20)
    frame = pd.DataFrame(rows, columns=[f"f{i}" for i in range(N_FEATURES)])
    expected = explanations_to_frame(explainer.explain_many(rows, model, **kwargs))
    udf = LimeBatchUDF(explainer, predict_fn=model, **kwargs)
    ddf = dd.from_pandas(frame, npartitions=3)
    result = ddf.map_partitions(udf, meta=udf.meta(frame.head(2))).compute()
    pd.testing.assert_frame_equal(result.sort_values("row").reset_index(drop=True), expected)


@pytest.mark.parametrize("backend, runtime", [("dask", "dask_client"), ("ray", "ray_runtime")])
def test_memory_per_worker_is_flat(backend, runtime, request, tmp_path):
    request.getfixturevalue(runtime)  # the engine, started by the test module
    explainer, _, _, kwargs = tabular_case()
    peaks = {}
    for rows_count in (200, 400, 800):
        folder = tmp_path / str(rows_count)
        folder.mkdir()
        rows = np.random.default_rng(rows_count).normal(size=(rows_count, N_FEATURES))
        stream = explainer.explain_many(rows, PeakMemory(str(folder)), backend=backend, rows_per_task=10,
                                        stream=True, num_samples=500, num_features=4)
        assert sum(1 for _ in stream) == rows_count
        peaks[rows_count] = max(int(open(folder / name).read()) for name in os.listdir(folder)) / 1024
    print(f"{backend} worker peak RSS (MiB) by rows: {peaks}")
    assert peaks[800] - peaks[200] < 40, peaks


# ---------------------------------------------------------------------------- Ray
@pytest.mark.parametrize("case", list(CASES))
def test_ray_equals_serial(ray_runtime, case):
    explainer, rows, model, kwargs = CASES[case]()
    serial = explainer.explain_many(rows, model, rows_per_task=2, **kwargs)
    ours = explainer.explain_many(rows, model, backend="ray", rows_per_task=2, **kwargs)
    assert dumps(ours) == dumps(serial)


def test_ray_factory_errors_and_lost_actor(ray_runtime, tmp_path):
    explainer, rows, _, kwargs = tabular_case()
    serial = explainer.explain_many(rows, tabular_proba, **kwargs)
    factory = PoisonedFactory(str(tmp_path), rows[[0, 11]])  # builds Poisoned(rows 0 and 11) on each actor
    results = list(explainer.explain_many(rows, predict_factory=factory, backend="ray", rows_per_task=1, stream=True,
                                          errors="skip", **kwargs))
    assert 1 <= len(os.listdir(tmp_path)) <= 2  # one build per actor, 12 tasks
    assert [i for i, r in enumerate(results) if isinstance(r, FailedRow)] == [0, 11]
    assert results[11] == FailedRow(11, "ValueError: poisoned row")
    assert dumps(results[1:11]) == dumps(serial[1:11])
    again = explainer.explain_many(rows, DiesOnce(str(tmp_path / "died")), backend="ray", rows_per_task=3, **kwargs)
    assert (tmp_path / "died").exists() and dumps(again) == dumps(serial)


def test_ray_data_map_batches(ray_runtime):
    explainer, rows, model, kwargs = tabular_case(n=20)
    frame = pd.DataFrame(rows, columns=[f"f{i}" for i in range(N_FEATURES)]).assign(id=np.arange(20) * 10)
    expected = explanations_to_frame(explainer.explain_many(rows, model, **kwargs))
    dataset = ray_runtime.data.from_pandas(frame)
    result = dataset.map_batches(LimeBatchUDF, fn_constructor_kwargs=dict(explainer=explainer, predict_fn=model,
                                                                          id_column="id", **kwargs),
                                 batch_format="pandas", batch_size=6,
                                 compute=ray_runtime.data.ActorPoolStrategy(size=2)).to_pandas()
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
    batch = pd.DataFrame({column: pd.Series(list(instances), dtype=object), "key": list("abcdefghi"[:len(instances)])})
    udf = LimeBatchUDF(explainer, predict_factory=ModelFactory(model), layout="long", id_column="key", **kwargs)
    import pickle

    udf = pickle.loads(pickle.dumps(udf))  # as an engine ships it
    frame = udf(batch)
    assert list(frame["key"].unique()) == list(batch["key"])
    pd.testing.assert_frame_equal(frame.drop(columns="key"), expected)
    parts = list(udf(iter([batch.iloc[:2], batch.iloc[2:]])))  # Spark's mapInPandas: an iterator of batches
    assert sum(len(p) for p in parts) == len(frame)
