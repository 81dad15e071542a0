"""Many rows on Dask and Ray (and Spark): ``explain_many``'s engines and :class:`LimeBatchUDF`.

``explainer.explain_many(rows, predict_fn, backend="dask" | "ray")`` runs the
tasks of ``rows_per_task`` instances on a cluster:

* Dask: the active ``dask.distributed.Client`` (or ``client=``).  The
  explainer, the validated call and the model travel once per worker (a task
  of their own that every task of the call depends on, unpickled once per
  worker process); each task carries only its instances.  A worker lost
  mid-call costs its tasks, which run again elsewhere, not the call.
* Ray: the running Ray runtime (``ray.init()`` first).  One actor per CPU
  (``n_jobs > 1`` caps it) loads the explainer and the model once; tasks go to
  the least busy actor.  Actors restart and redo their tasks when their worker
  dies (``max_restarts``, ``max_task_retries``).  They live for the call,
  unless ``client=RayActors(...)`` keeps them for several calls (their
  start-up, seconds per actor, is then paid once).

On a worker, a task runs with at most ``cores / task slots on its machine``
OpenMP and BLAS threads (never more than it had; the original counts come
back after the task): two worker processes of a 2-core machine each calling a
model that uses every core (scikit-learn's HistGradientBoosting predicts with
OpenMP threads) would otherwise oversubscribe it.  Ray actors keep their
``num_cpus``; joblib's loky workers are limited by joblib itself.

``predict_factory`` (a zero-argument callable) builds the model where the
tasks run, once per worker process, for models that do not pickle or must live
on a worker's GPU; ``predict_fn`` may then be None.

Memory is bounded: a task holds ``rows_per_task * num_samples`` perturbations
on its worker and returns only Explanations (or rows of a frame), and at most
two tasks per worker are in flight or waiting to be handed out in order, so
the driver never holds perturbations nor more than a window of results.  With
``stream=True`` the instances are checked task by task as the tasks are sent
(the first task's at once, so a wrong type or shape fails before any task).
Every instance's randomness comes from ``random_state`` and the instance, so a
task retried after its worker died gives the same result, and the results do
not depend on the engine, the workers or ``rows_per_task``.

:class:`LimeBatchUDF` is the same work as a picklable callable class for the
engines' own batch APIs: Ray Data ``map_batches``, Dask DataFrame
``map_partitions`` and Spark ``mapInPandas``; it returns
:func:`limekit.frame.explanations_to_frame`'s columns for its batch.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import os
import threading
import uuid

from ._validation import LimekitTypeError, bad_type, bad_value, check_choice, check_int, describe
from .frame import LAYOUTS, FailedRow, conform, explanations_to_frame

__all__ = ["LimeBatchUDF", "RayActors", "FailedRow", "BACKENDS", "ERRORS"]

BACKENDS = ("dask", "ray")
ERRORS = ("raise", "skip")
TASKS_PER_WORKER = 2  # tasks in flight (or finished, waiting for their turn) per worker
_CACHE_SIZE = 4  # loaded jobs kept per worker process


def _cloudpickle():
    try:
        import cloudpickle
    except ImportError:  # joblib's copy
        from joblib.externals import cloudpickle
    return cloudpickle


# --------------------------------------------------------------------------- the model built where it runs
class BuiltOnWorker:
    """Stands for the model that ``predict_factory`` builds where the tasks run (never called)."""

    def __call__(self, *args, **kwargs):
        raise RuntimeError("limekit: this model is built by predict_factory where the tasks run")

    def __repr__(self):
        return "<model built by predict_factory>"


def bind_model(explainer, call, model):
    """``call`` with ``model`` as its model (adapted as ``explain_instance`` adapts it)."""
    if not callable(model):
        raise bad_type("predict_factory", "a callable returning the model (a callable)", model)
    predict, class_names = explainer.adapt_model(model)
    return dataclasses.replace(call, model=model, predict=predict, model_class_names=class_names)


# --------------------------------------------------------------------------- arguments
@dataclasses.dataclass
class ManyOptions:
    """``explain_many``'s engine arguments, checked."""

    backend: object = None
    client: object = None
    predict_factory: object = None
    errors: str = "raise"
    stream: bool = False
    as_frame: bool = False
    n_jobs: int = 1


def check_options(explainer, predict_fn, n_jobs, backend, client, predict_factory, errors, stream, as_frame):
    """Check the engine arguments (before the call's); returns ``(options, the model to validate the call with)``."""
    if backend is not None:
        check_choice(backend, "backend", BACKENDS)
    check_choice(errors, "errors", ERRORS)
    if client is not None and backend not in ("dask", "ray"):
        raise bad_value("client", "None unless backend='dask' (a Client) or 'ray' (RayActors)", describe(client))
    if predict_factory is not None:
        if not callable(predict_factory):
            raise bad_type("predict_factory", "a zero-argument callable that builds the model", predict_factory)
        if predict_fn is not None:
            raise bad_value(
                explainer.model_argument,
                "None when predict_factory builds the model",
                describe(predict_fn),
                "Pass one of them.",
            )
        predict_fn = BuiltOnWorker()
    elif predict_fn is None:
        raise bad_type(
            explainer.model_argument, "a callable returning the model's predictions (or predict_factory=...)", None
        )
    if backend == "dask":
        client = _dask_client(client)
    elif backend == "ray":
        _ray_runtime()
        if client is not None:
            if not isinstance(client, RayActors):
                raise bad_type("client", "None or limekit.distributed.RayActors with backend='ray'", client)
            if client.closed:
                raise bad_value("client", "open RayActors", "closed ones")
    options = ManyOptions(backend, client, predict_factory, errors, bool(stream), bool(as_frame), n_jobs)
    return options, predict_fn


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


def _ray_runtime():
    try:
        import ray
    except ImportError as exc:
        raise bad_value(
            "backend", "'ray' with ray installed (pip install 'limekit[distributed]')", "'ray'", str(exc)
        ) from exc
    if not ray.is_initialized():
        raise bad_value("backend", "'ray' with a running Ray runtime (call ray.init() first)", "'ray' and no runtime")


# --------------------------------------------------------------------------- the tasks
class UncheckedInstance:
    """An instance of a streamed task that failed its check (``errors='skip'``): explained as a FailedRow."""

    def __init__(self, error):
        self.error = error


def split_tasks(explainer, instances, rows_per_task, lazy=False, errors="raise"):
    """The tasks of ``rows_per_task`` checked instances each, in input order.

    Eager (the default): every instance is checked now, before any task.
    ``lazy`` (``stream=True``): a sequence of tasks checked when each is
    taken, so millions of instances are not checked (and held checked) up
    front; the type of ``instances`` and the first task are checked now, so
    a wrong type or shape fails before any task.  A later instance that fails
    its check raises when its task is taken (``errors='raise'``) or becomes a
    :class:`~limekit.frame.FailedRow` (``errors='skip'``).
    """
    if not lazy:
        checked = explainer.check_instances(instances)
        return [checked[start : start + rows_per_task] for start in range(0, len(checked), rows_per_task)]
    return LazyTasks(explainer, instances, rows_per_task, errors)


class LazyTasks:
    """Tasks whose instances are checked when the task is taken (``tasks[i]``); see :func:`split_tasks`."""

    def __init__(self, explainer, instances, rows_per_task, errors="raise"):
        if (
            isinstance(instances, (str, bytes))
            or not hasattr(instances, "__len__")
            or not hasattr(instances, "__getitem__")
        ):
            raise bad_type("instances", "a sequence of instances (a list, or an array of rows)", instances)
        self.n = len(instances)
        if self.n == 0:
            raise bad_value("instances", "at least one instance", "an empty sequence")
        self.explainer, self.instances, self.rows_per_task, self.errors = explainer, instances, rows_per_task, errors
        self.starts = range(0, self.n, rows_per_task)
        self._first = explainer.check_instances(self._slice(0))  # a wrong type or shape fails now

    def __len__(self):
        return len(self.starts)

    def _range(self, start, stop):
        if hasattr(self.instances, "iloc"):  # pandas: by position
            return self.instances.iloc[start:stop]
        try:
            return self.instances[start:stop]
        except (TypeError, KeyError):  # a sequence without slices
            return [self.instances[j] for j in range(start, stop)]

    def _slice(self, i):
        start = self.starts[i]
        return self._range(start, min(start + self.rows_per_task, self.n))

    def __getitem__(self, i):
        if i == 0 and self._first is not None:
            first, self._first = self._first, None
            return first
        try:
            return self.explainer.check_instances(self._slice(i))
        except Exception:
            if self.errors == "raise":
                raise
        checked = []  # one by one: an instance that fails its check becomes a FailedRow
        start = self.starts[i]
        for j in range(start, min(start + self.rows_per_task, self.n)):
            try:
                checked.extend(self.explainer.check_instances(self._range(j, j + 1)))
            except Exception as exc:
                checked.append(UncheckedInstance(exc))
        return checked

    def __iter__(self):
        return (self[i] for i in range(len(self)))


# --------------------------------------------------------------------------- the work of one task
def run_rows(explainer, call, start, rows, errors="raise", as_frame=False):
    """Explain ``rows`` (checked instances at positions ``start, start + 1, ...``): a list, or a frame.

    With ``errors='skip'`` a failing task is run again row by row; a row that
    fails alone becomes a :class:`~limekit.frame.FailedRow`, the others are
    kept (the same explanations: each row's randomness is its own).
    """
    positions = [start + offset for offset, row in enumerate(rows) if not isinstance(row, UncheckedInstance)]
    good = [row for row in rows if not isinstance(row, UncheckedInstance)]
    explained = {}
    try:
        if good:
            explained = dict(zip(positions, explainer.explain_checked(good, call)))
    except Exception:
        if errors == "raise":
            raise
        for position, row in zip(positions, good):
            try:
                explained[position] = explainer.explain_checked([row], call)[0]
            except Exception as exc:  # the model call or the explanation of this row
                explained[position] = FailedRow(position, exc)
    results = [
        explained[start + offset] if not isinstance(row, UncheckedInstance) else FailedRow(start + offset, row.error)
        for offset, row in enumerate(rows)
    ]
    if as_frame:
        return explanations_to_frame(results, positions=range(start, start + len(results)))
    return results


# --------------------------------------------------------------------------- threads on a worker
def worker_cores():
    """The cores this process may use (affinity and cgroup quota, as joblib counts them)."""
    try:
        from joblib import cpu_count

        return max(1, int(cpu_count()))
    except Exception:  # no joblib: the affinity mask
        return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


_CONTROLLER = [None, None]  # (key, ThreadpoolController): finding the loaded libraries costs ~10 ms


def _controller(key):
    """A ThreadpoolController of the libraries loaded now, found again when ``key`` (the job) changes."""
    if _CONTROLLER[0] is None or _CONTROLLER[0] != key:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER[:] = [key, ThreadpoolController()]
    return _CONTROLLER[1]


def _lower_threads(limit, user_api, key=None):
    controller = _controller(key)
    above = {
        lib.prefix: limit
        for lib in controller.lib_controllers
        if lib.user_api == user_api and lib.num_threads is not None and lib.num_threads > limit
    }
    return controller.limit(limits=above) if above else None


def _restore_threads(limiter):
    if limiter is not None:
        limiter.restore_original_limits()


_BLAS_LIMIT = []


@contextlib.contextmanager
def limited_threads(limit, key=None):
    """Context manager: OpenMP and BLAS libraries above ``limit`` threads lowered to it, restored exactly after.

    BLAS's thread count is process-wide: it is reference counted across the
    threads of a process (a Dask worker with several threads), the first task
    in lowers it and the last one out restores it.  OpenMP's is the calling
    thread's own: lowered and restored by each task.  None: no limit.
    ``key`` (a job's token): the libraries loaded are looked up again when it
    changes (a new model may load new ones), else kept.
    """
    if limit is None:
        yield
        return
    limit = max(1, int(limit))
    if not _BLAS_LIMIT:
        from ._threads import _SharedLimit

        _BLAS_LIMIT.append(_SharedLimit(lambda n, k: _lower_threads(n, "blas", k), _restore_threads))
    with _BLAS_LIMIT[0](limit, key):
        openmp = _lower_threads(limit, "openmp", key)
        try:
            yield
        finally:
            _restore_threads(openmp)


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


# --------------------------------------------------------------------------- the job shipped once per worker
_LOADED = collections.OrderedDict()
_LOADED_LOCK = threading.Lock()


class Job:
    """The explainer, the validated call and the model (or its factory), pickled once; loaded once per process."""

    def __init__(self, explainer, call, predict_factory, errors, as_frame):
        cloudpickle = _cloudpickle()

        self.token = uuid.uuid4().hex
        self.errors, self.as_frame = errors, as_frame
        self.slots_by_worker = None  # Dask: task slots on each worker's machine, by worker address
        try:
            self.payload = cloudpickle.dumps((explainer, call, predict_factory))
        except Exception as exc:  # name the part that does not pickle
            if predict_factory is None:
                _check_pickles(
                    call.model,
                    explainer.model_argument,
                    "a model that pickles (cloudpickle), or predict_factory= to build it on each worker",
                )
            else:
                _check_pickles(predict_factory, "predict_factory", "a factory that pickles (cloudpickle)")
            raise LimekitTypeError(
                f"explainer: expected an explainer that pickles (cloudpickle) to ship to the "
                f"workers; got {type(explainer).__name__} ({type(exc).__name__}: {exc})",
                "explainer",
            ) from exc

    def load(self):
        """``(explainer, call)`` with the model, from this process's cache (the factory runs once per process)."""
        with _LOADED_LOCK:
            loaded = _LOADED.get(self.token)
            if loaded is None:
                cloudpickle = _cloudpickle()

                explainer, call, factory = cloudpickle.loads(self.payload)
                if factory is not None:
                    call = bind_model(explainer, call, factory())
                loaded = _LOADED[self.token] = (explainer, call)
                while len(_LOADED) > _CACHE_SIZE:
                    _LOADED.popitem(last=False)
            else:
                _LOADED.move_to_end(self.token)
            return loaded

    def run(self, start, rows, threads=None):
        """One task's results, with at most ``threads`` OpenMP/BLAS threads (None: as the process has them)."""
        explainer, call = self.load()
        if threads is None and self.slots_by_worker is not None:
            threads = _dask_thread_limit(self.slots_by_worker)
        with limited_threads(threads, self.token):
            return run_rows(explainer, call, start, rows, self.errors, self.as_frame)


def _check_pickles(value, argument, expected):
    cloudpickle = _cloudpickle()

    try:
        cloudpickle.dumps(value)
    except Exception as exc:
        raise LimekitTypeError(
            f"{argument}: expected {expected}; got {describe(value)} ({type(exc).__name__}: {exc})", argument
        ) from exc


def _run_job(job, start, rows):  # a Dask or joblib task
    return job.run(start, rows)


def _forget(token):
    """Drop a finished job (its model) from this process's cache."""
    with _LOADED_LOCK:
        _LOADED.pop(token, None)


class _LimeActor:
    """A Ray actor: loads a job (the explainer, the call, the model) on its first task of the job and keeps it.

    The job comes as a reference in a list (so Ray does not copy it with every
    task); a restarted actor loads it again from there.  Its tasks run with at
    most ``threads`` (its ``num_cpus``) OpenMP/BLAS threads.
    """

    def __init__(self, threads=1):
        self.threads = threads
        self.jobs = collections.OrderedDict()

    def run(self, token, boxed, start, rows):
        job = self.jobs.get(token)
        if job is None:
            import ray

            job = boxed[0]
            job = ray.get(job) if isinstance(job, ray.ObjectRef) else job
            job.load()
            self.jobs[token] = job
            while len(self.jobs) > _CACHE_SIZE:
                self.jobs.popitem(last=False)
        return job.run(start, rows, self.threads)

    def forget(self, token):
        self.jobs.pop(token, None)
        _forget(token)

    def ready(self):
        """Imports limekit's modules a task needs (the actor's start-up, done once)."""
        from . import frame  # noqa: F401
        from .core import frontend  # noqa: F401

        return os.getpid()

    def pid(self):
        return os.getpid()


class RayActors:
    """Ray actors that run ``explain_many``'s tasks, kept for several calls.

    ``explain_many(..., backend="ray")`` starts its actors and ends them when
    it is done; pass ``client=RayActors(n)`` instead to start them once (a
    worker process and limekit's imports: seconds per actor) and keep them
    for every call until :meth:`close` (or the end of a ``with`` block).
    They hold their CPUs (``num_cpus`` each) while they live, also between
    calls.  Each call's model is loaded once per actor and dropped at the
    end of the call.

    Parameters
    ----------
    n_actors : int or None, default=None
        Number of actors; None: one per CPU of the cluster
        (``num_cpus=1``), at least one.
    num_cpus : float, default=1
        CPUs each actor reserves; its tasks use at most that many OpenMP/BLAS
        threads (at least one).
    num_gpus : float, default=0
        GPUs each actor reserves (build the model on it with
        ``predict_factory``).
    max_restarts : int, default=3
        Restarts of an actor whose process died; its tasks are retried as
        often.

    Examples
    --------
    >>> with RayActors(4) as actors:                            # doctest: +SKIP
    ...     for part in parts:
    ...         explainer.explain_many(part, model, backend="ray", client=actors)
    """

    def __init__(self, n_actors=None, *, num_cpus=1, num_gpus=0, max_restarts=3):
        import ray

        _ray_runtime()
        if not isinstance(num_cpus, (int, float)) or isinstance(num_cpus, bool) or num_cpus <= 0:
            raise bad_value("num_cpus", "a positive number of CPUs per actor", describe(num_cpus))
        if not isinstance(num_gpus, (int, float)) or isinstance(num_gpus, bool) or num_gpus < 0:
            raise bad_value("num_gpus", "a number of GPUs per actor, 0 or more", describe(num_gpus))
        max_restarts = check_int(max_restarts, "max_restarts", minimum=0)
        if n_actors is None:
            n_actors = max(1, int(ray.cluster_resources().get("CPU", 1) // num_cpus))
        n_actors = check_int(n_actors, "n_actors", minimum=1)
        actor_class = ray.remote(
            num_cpus=num_cpus, num_gpus=num_gpus, max_restarts=max_restarts, max_task_retries=max_restarts
        )(_LimeActor)
        self.actors = [actor_class.remote(max(1, int(num_cpus))) for _ in range(n_actors)]
        self.closed = False

    def __len__(self):
        return len(self.actors)

    def wait_ready(self):
        """Block until every actor has started and imported limekit; returns their process ids."""
        import ray

        return ray.get([actor.ready.remote() for actor in self.actors])

    def close(self):
        """End the actors (their CPUs go back to Ray)."""
        if not self.closed:
            import ray

            self.closed = True
            for actor in self.actors:
                try:
                    ray.kill(actor)
                except Exception:  # a runtime already shut down
                    pass
            self.actors = []

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        return f"RayActors({len(self.actors)}{', closed' if self.closed else ''})"


# --------------------------------------------------------------------------- scheduling
def _ordered(n_tasks, window, submit, wait_any, fetch, cancel):
    """Results of tasks ``0..n_tasks-1`` in order, at most ``window`` in flight or waiting for their turn."""
    in_flight, finished = {}, {}
    next_submit = next_yield = 0
    try:
        while next_yield < n_tasks:
            while next_submit < n_tasks and len(in_flight) + len(finished) < window:
                in_flight[submit(next_submit)] = next_submit
                next_submit += 1
            if next_yield in finished:
                result = finished.pop(next_yield)
                next_yield += 1
                yield result
                continue
            for handle in wait_any(list(in_flight)):
                finished[in_flight.pop(handle)] = fetch(handle)
    finally:
        if in_flight:
            cancel(list(in_flight))


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

    job.slots_by_worker = dask_slots(client)
    job_future = _dask_job(client, job)
    window = max(2, TASKS_PER_WORKER * sum(client.nthreads().values()))

    def submit(i):
        return client.submit(
            _run_job, job_future, starts[i], tasks[i], pure=False, key=f"limekit-explain-{job.token}-{i}"
        )

    def fetch(future):
        result = future.result()
        future.release()
        return result

    try:
        yield from _ordered(
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
            client.run(_forget, job.token)  # the model leaves the workers' memory with the call
        except Exception:  # a closing cluster: nothing to free
            pass


def ray_actor_count(n_jobs):
    import ray

    cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
    return min(n_jobs, cpus) if n_jobs > 1 else cpus


def _ray_results(job, tasks, starts, n_jobs, pool=None):
    import ray

    own = pool is None
    if own:
        pool = RayActors(max(1, min(ray_actor_count(n_jobs), len(tasks))))
    actors = pool.actors[: max(1, len(tasks))]
    n_actors = len(actors)
    job_ref = ray.put(job)
    busy = [0] * n_actors
    placed = {}

    def submit(i):
        actor = min(range(n_actors), key=busy.__getitem__)
        busy[actor] += 1
        ref = actors[actor].run.remote(job.token, [job_ref], starts[i], tasks[i])
        placed[ref] = actor
        return ref

    def wait_any(refs):
        done, _ = ray.wait(refs, num_returns=1)
        return done

    def fetch(ref):
        busy[placed.pop(ref)] -= 1
        return ray.get(ref)

    try:
        yield from _ordered(len(tasks), TASKS_PER_WORKER * n_actors, submit, wait_any, fetch, lambda refs: None)
    finally:
        if own:
            pool.close()
        else:  # the actors stay; the model goes (before the caller may close them)
            try:
                ray.get([actor.forget.remote(job.token) for actor in actors], timeout=30)
            except Exception:  # a dead actor: nothing to free
                pass
        job_ref = None


def _local_results(explainer, call, tasks, starts, options):
    if options.predict_factory is not None:
        call = bind_model(explainer, call, options.predict_factory())
    for start, task in zip(starts, tasks):
        yield run_rows(explainer, call, start, task, options.errors, options.as_frame)


def _joblib_results(explainer, call, tasks, starts, options):
    from joblib import Parallel, delayed

    # the job's bytes travel with every task but are unpickled (the model loaded) once per worker process
    try:
        job = Job(explainer, call, options.predict_factory, options.errors, options.as_frame)
    except LimekitTypeError:  # a model that does not pickle: joblib's threading backend can still run it
        if options.predict_factory is not None:
            call = bind_model(explainer, call, options.predict_factory())
        yield from Parallel(n_jobs=options.n_jobs, return_as="generator")(
            delayed(run_rows)(explainer, call, start, task, options.errors, options.as_frame)
            for start, task in zip(starts, tasks)
        )
        return
    work = (delayed(_run_job)(job, start, task) for start, task in zip(starts, tasks))
    try:
        yield from Parallel(n_jobs=options.n_jobs, return_as="generator")(work)
    finally:
        _forget(job.token)  # a threading backend loaded it here


def run_many(explainer, call, tasks, options):
    """Run the checked ``tasks`` (lists of checked instances, in input order) as ``options`` say.

    ``tasks`` is a list, or :class:`LazyTasks` (checked as they are taken).
    Returns a list of Explanation/FailedRow, one DataFrame (``as_frame``), or
    with ``stream`` an iterator of results (of per-task DataFrames with
    ``as_frame``) in input order.  Everything that can be checked is checked
    before the first task is sent.
    """
    if isinstance(tasks, LazyTasks):
        starts = tasks.starts
    else:
        starts, position = [], 0
        for task in tasks:
            starts.append(position)
            position += len(task)
    if options.backend is not None:  # pickles now: a model that does not pickle fails before any task
        job = Job(explainer, call, options.predict_factory, options.errors, options.as_frame)
        if options.backend == "dask":
            per_task = _dask_results(job, tasks, starts, options.client)
        else:
            per_task = _ray_results(job, tasks, starts, options.n_jobs, options.client)
    elif options.n_jobs == 1 or len(tasks) <= 1:
        per_task = _local_results(explainer, call, tasks, starts, options)
    else:
        per_task = _joblib_results(explainer, call, tasks, starts, options)
    if options.stream:
        return per_task if options.as_frame else (result for results in per_task for result in results)
    if options.as_frame:
        from .frame import concat_frames

        return concat_frames(list(per_task))
    return [result for results in per_task for result in results]


# --------------------------------------------------------------------------- the engines' batch APIs
class LimeBatchUDF:
    """Explain a batch of rows with an engine's batch API: a picklable callable class.

    One instance (Dask, Spark) or one per actor (Ray Data) builds the model
    once, on its worker, with ``predict_factory``, and turns each batch into
    :func:`limekit.frame.explanations_to_frame`'s columns.

    Parameters
    ----------
    explainer : TabularExplainer, TextExplainer or ImageExplainer
    predict_factory : callable, optional
        Zero-argument callable that builds the model (run once per process,
        where the batches are explained).
    predict_fn : callable, optional
        The model itself, instead of ``predict_factory`` (it must pickle).
    columns : list of str or None
        Tabular: the input columns (default: the explainer's feature names).
    text_column, image_column : str
        Text and image explainers: the column holding the instances.
    id_column : str or None
        A column copied to the output (the key to join back on).  ``row`` is
        the batch's index (Dask keeps the frame's index; Ray and Spark batches
        count from 0).
    layout : {'wide', 'long'}, default='wide'
        See :mod:`limekit.frame`.  Engines that need one schema for every
        batch (Spark) want ``features=`` (wide) or ``'long'`` for text and
        images, whose words and superpixels differ from row to row.
    features : list of str or None
        The ``w:`` columns of the wide layout (default: tabular, the
        explainer's features; otherwise those seen).
    errors : {'skip', 'raise'}, default='skip'
        ``'skip'``: a row that fails gets an ``error`` and the batch goes on.
    rows_per_task : int or None
        Instances whose perturbations share model calls within a batch.
    **explain_kwargs
        ``explain_instance``'s keywords (``num_samples``, ``num_features``,
        ``labels``, ...), checked now.

    Examples
    --------
    Ray Data (one actor per CPU, the model built once per actor)::

        ds.map_batches(LimeBatchUDF, fn_constructor_kwargs=dict(explainer=explainer,
                       predict_factory=load_model, num_samples=1000),
                       batch_format="pandas", batch_size=256,
                       compute=ray.data.ActorPoolStrategy(size=4))  # concurrency=4 before Ray 2.51

    Dask DataFrame and Spark::

        udf = LimeBatchUDF(explainer, load_model, num_samples=1000)
        ddf.map_partitions(udf, meta=udf.meta(ddf.head(2)))
        sdf.mapInPandas(udf, schema=udf.spark_schema(sdf.limit(2).toPandas()))
    """

    def __init__(
        self,
        explainer,
        predict_factory=None,
        predict_fn=None,
        *,
        columns=None,
        text_column="text",
        image_column="image",
        id_column=None,
        layout="wide",
        features=None,
        errors="skip",
        rows_per_task=None,
        **explain_kwargs,
    ):
        from .core.frontend import BaseExplainer

        if not isinstance(explainer, BaseExplainer):
            raise bad_type("explainer", "a limekit TabularExplainer, TextExplainer or ImageExplainer", explainer)
        if (predict_factory is None) == (predict_fn is None):
            raise bad_value(
                "predict_factory",
                "a zero-argument callable that builds the model, or predict_fn= (one of them)",
                "both" if predict_factory is not None else "neither",
            )
        for value, name in ((predict_factory, "predict_factory"), (predict_fn, "predict_fn")):
            if value is not None and not callable(value):
                raise bad_type(name, "a callable", value)
        check_choice(layout, "layout", LAYOUTS)
        check_choice(errors, "errors", ERRORS)
        self.explainer = explainer
        self.predict_factory, self.predict_fn = predict_factory, predict_fn
        self.kind = {"data_row": "tabular", "text_instance": "text", "image": "image"}.get(
            explainer.instance_argument, "tabular"
        )
        if columns is None and self.kind == "tabular" and getattr(explainer, "feature_names", None) is not None:
            columns = [str(c) for c in explainer.feature_names]
        self.columns = None if columns is None else list(columns)
        self.text_column, self.image_column, self.id_column = text_column, image_column, id_column
        self.layout, self.errors, self.rows_per_task = layout, errors, rows_per_task
        if features is None and layout == "wide" and self.kind == "tabular" and self.columns is not None:
            features = list(self.columns)
        self.features = None if features is None else [str(f) for f in features]
        self.explain_kwargs = dict(explain_kwargs)
        self.output_columns = None  # fixed by meta()
        # every keyword checked now, on the driver (the model stands in until it is built)
        explainer.prepare_call(BuiltOnWorker() if predict_fn is None else predict_fn, **explain_kwargs)
        self._model = None
        self._lock = threading.Lock()
        if predict_fn is not None:
            _check_pickles(predict_fn, "predict_fn", "a model that pickles (cloudpickle), or predict_factory=")
        else:
            _check_pickles(predict_factory, "predict_factory", "a factory that pickles (cloudpickle)")

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_model"] = None  # built again where it runs
        state.pop("_lock", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def model(self):
        """The model, built on first use in this process."""
        if self.predict_fn is not None:
            return self.predict_fn
        with self._lock:
            if self._model is None:
                self._model = self.predict_factory()
            return self._model

    def _instances(self, batch):
        import numpy as np
        import pandas as pd

        if self.kind == "tabular":
            if isinstance(batch, dict):
                batch = pd.DataFrame({k: np.asarray(v) for k, v in batch.items()})
            columns = self.columns or [c for c in batch.columns if c != self.id_column]
            missing = [c for c in columns if c not in batch.columns]
            if missing:
                raise bad_value(
                    "columns", f"columns of the batch ({list(batch.columns)[:10]})", f"missing {missing[:10]}"
                )
            return batch[columns]
        column = self.text_column if self.kind == "text" else self.image_column
        if column not in batch:
            raise bad_value(
                "text_column" if self.kind == "text" else "image_column",
                f"a column of the batch ({list(batch.keys())[:10]})",
                repr(column),
            )
        values = batch[column]
        if self.kind == "text":
            return [str(v) for v in values]
        return [np.asarray(v) for v in values]

    def explain(self, batch):
        """The frame of one pandas batch (or a dict of arrays, Ray's numpy format)."""
        import numpy as np
        import pandas as pd

        instances = self._instances(batch)
        n = len(instances)
        index = np.asarray(batch.index) if isinstance(batch, pd.DataFrame) else np.arange(n)
        results = (
            []
            if n == 0
            else self.explainer.explain_many(
                instances, self.model(), rows_per_task=self.rows_per_task, errors=self.errors, **self.explain_kwargs
            )
        )
        frame = explanations_to_frame(results, layout=self.layout, features=self.features)
        positions = frame["row"].to_numpy()  # within the batch
        if self.id_column is not None:
            frame.insert(0, self.id_column, np.asarray(batch[self.id_column])[positions])
        if np.issubdtype(index.dtype, np.integer):
            frame["row"] = index[positions].astype("int64")
        if self.output_columns is not None:
            frame = conform(frame, self.output_columns)
        return frame.reset_index(drop=True)

    def __call__(self, batch):
        import pandas as pd

        if isinstance(batch, (pd.DataFrame, dict)):
            return self.explain(batch)
        return (self.explain(part) for part in batch)  # Spark mapInPandas: an iterator of pandas batches

    def meta(self, sample):
        """Explain ``sample`` (a few rows) here, fix the output columns to its, and return the empty frame.

        For ``map_partitions(udf, meta=udf.meta(ddf.head(2)))``: every
        batch then has these columns and dtypes.
        """
        frame = self.explain(sample)
        self.output_columns = list(frame.columns)
        return frame.iloc[:0]

    def spark_schema(self, sample):
        """A Spark DDL schema string for ``mapInPandas`` (fixes the columns as :meth:`meta` does)."""
        frame = self.meta(sample)
        kinds = {"int64": "long", "Int64": "long", "float64": "double", "bool": "boolean", "int32": "int"}
        parts = []
        for column, dtype in frame.dtypes.items():
            name = str(column).replace("`", "``")
            parts.append(f"`{name}` {kinds.get(str(dtype), 'string')}")
        return ", ".join(parts)
