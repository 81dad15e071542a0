import os

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")

from hypothesis import settings

# The property tests search the same examples on every run, so CI is reproducible;
# HYPOTHESIS_PROFILE=explore searches fresh ones (as the default profile does).
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


HERE = os.path.dirname(os.path.abspath(__file__))


# ---------------------------------------------------------------------------- clusters (test_distributed, test_shapley)
@pytest.fixture(scope="module")
def worker_path():
    """Workers import the test modules and cases_distributed (the models) and use one BLAS/OpenMP thread."""
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
    import dask

    # Dask's active memory manager drops the extra copies of data every 2 s by default; every 0.1 s here, so
    # that a copy held by a worker with nothing waiting for it is surely gone (test_dask_errors_skip_and_lost_worker)
    with dask.config.set({"distributed.scheduler.active-memory-manager.interval": "100ms"}):
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=40
        )
    client = distributed.Client(cluster)
    client.wait_for_workers(2, timeout=60)  # both registered before the first test counts them
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def ray_runtime(worker_path):
    ray = pytest.importorskip("ray")
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
        runtime_env={"env_vars": {"PYTHONPATH": os.environ["PYTHONPATH"], "OMP_NUM_THREADS": "1"}},
    )
    yield ray
    ray.shutdown()
