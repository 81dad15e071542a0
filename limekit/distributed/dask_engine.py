"""``explain_many(..., backend="dask")``: the tasks on a ``dask.distributed`` cluster.

Contract (an :class:`~limekit.core.engines.Engine`): runs on the active
``dask.distributed.Client`` (or ``client=``).  The job (the explainer, the
validated call and the model) travels once per worker, as a task of its own
that every task of the call depends on, unpickled once per worker process;
each task carries only its instances.  A worker lost mid-call costs its
tasks, which run again elsewhere, not the call.  At most
``TASKS_PER_WORKER`` tasks per worker thread are in flight.  A task runs with
at most ``cores / task slots on its machine`` OpenMP and BLAS threads.  The
model leaves the workers' memory with the call.
"""

from __future__ import annotations

import collections
import functools

from .._threads import worker_cores
from .._validation import bad_type, bad_value
from ..core.engines import forget_job, run_job
from .scheduling import TASKS_PER_WORKER, ordered

__all__ = ["DaskEngine", "dask_slots"]


def _dask_client(client):
    try:
        from distributed import Client, get_client
    except ImportError as exc:
        raise bad_value(
            "backend", "'dask' with dask.distributed installed (pip install 'limekit[distributed]')", "'dask'", str(exc)
        ) from exc
    if client is None:
        try:
            return get_client()
        except ValueError as exc:
            raise bad_value(
                "client", "a dask.distributed.Client, passed or active (Client(...) before explain_many)", "none active"
            ) from exc
    if not isinstance(client, Client):
        raise bad_type("client", "a dask.distributed.Client", client)
    if client.status not in ("running", "connecting", "newly-created"):
        raise bad_value("client", "a running dask.distributed.Client", f"one whose status is {client.status!r}")
    return client


def _dask_thread_limit(slots_by_worker, dask_worker=None):
    """Threads per task on this Dask worker: its machine's cores over the task slots (threads) of its workers."""
    worker = dask_worker
    if worker is None:
        try:
            from distributed import get_worker

            worker = get_worker()
        except Exception:  # not on a worker (a synchronous scheduler): no limit
            return None
    slots = slots_by_worker.get(worker.address) or getattr(getattr(worker, "state", None), "nthreads", 1) or 1
    return max(1, worker_cores() // slots)


def dask_slots(client):
    """Task slots (worker threads) on each worker's machine, by worker address."""
    workers = (
        client.scheduler_info(n_workers=-1)["workers"]
        if _takes_n_workers(client)
        else client.scheduler_info()["workers"]
    )
    by_host = collections.Counter()
    for info in workers.values():
        by_host[info.get("host")] += int(info.get("nthreads", 1))
    return {address: by_host[info.get("host")] for address, info in workers.items()}


def _takes_n_workers(client):
    import inspect

    try:
        return "n_workers" in inspect.signature(client.scheduler_info).parameters
    except (TypeError, ValueError):
        return False


def _the_job(job):  # a Dask task
    return job


def _dask_job(client, job):
    """The job as a Dask task of its own, which every task of the call takes as its argument.

    Not ``client.scatter(job, broadcast=True)``: Dask's active memory manager
    drops the extra copies of scattered data within seconds (a worker with no
    task waiting for it keeps none), and scattered data cannot be computed
    again, so when the one worker still holding the job died, every task of
    the call was cancelled (``FuturesCancelledError``).  A task is computed
    again from the graph, on another worker.  The job travels to the
    scheduler in the graph (kept there while the call runs), to one worker,
    and from there to the others: once per worker, as before.
    """
    import dask

    # the job holds the model, large by design: not the accidental "large graph" Dask warns about
    with dask.config.set({"distributed.admin.large-graph-warning-threshold": 2**62}):
        return client.submit(_the_job, job, pure=False, key=f"limekit-job-{job.token}")


def _dask_results(job, tasks, starts, client):
    from distributed import wait

    job.worker_threads = functools.partial(_dask_thread_limit, dask_slots(client))
    job_future = _dask_job(client, job)
    window = max(2, TASKS_PER_WORKER * sum(client.nthreads().values()))

    def submit(i):
        return client.submit(
            run_job, job_future, starts[i], tasks[i], pure=False, key=f"limekit-explain-{job.token}-{i}"
        )

    def fetch(future):
        result = future.result()
        future.release()
        return result

    try:
        yield from ordered(
            len(tasks),
            window,
            submit,
            lambda futures: wait(futures, return_when="FIRST_COMPLETED").done,
            fetch,
            client.cancel,
        )
    finally:
        job_future.release()
        try:
            client.run(forget_job, job.token)  # the model leaves the workers' memory with the call
        except Exception:  # a closing cluster: nothing to free
            pass


class DaskEngine:
    """``backend='dask'``: see the module's docstring."""

    def check_client(self, client):
        return _dask_client(client)

    def results(self, job, tasks, starts, options):
        return _dask_results(job, tasks, starts, options.client)
