"""``explain_many(..., backend="ray")``: the tasks on Ray actors.

Contract (an :class:`~limekit.core.engines.Engine`): runs on the running Ray
runtime (``ray.init()`` first).  One actor per CPU (``n_jobs > 1`` caps it)
loads the job (the explainer, the call and the model) once; tasks go to the
least busy actor, at most ``TASKS_PER_WORKER`` per actor in flight.  Actors
restart and redo their tasks when their worker dies (``max_restarts``,
``max_task_retries``).  They live for the call, unless
``client=RayActors(...)`` keeps them for several calls (their start-up,
seconds per actor, is then paid once; each call's model is dropped at its
end).  An actor's tasks run with at most its ``num_cpus`` OpenMP/BLAS threads.
"""

from __future__ import annotations

import collections
import os

from .._validation import bad_type, bad_value, check_int, describe
from ..core.engines import JOB_CACHE_SIZE, forget_job
from .scheduling import TASKS_PER_WORKER, ordered

__all__ = ["RayActors", "RayEngine", "ray_actor_count"]


def _ray_runtime():
    try:
        import ray
    except ImportError as exc:
        raise bad_value(
            "backend", "'ray' with ray installed (pip install 'limekit[distributed]')", "'ray'", str(exc)
        ) from exc
    if not ray.is_initialized():
        raise bad_value("backend", "'ray' with a running Ray runtime (call ray.init() first)", "'ray' and no runtime")


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
            while len(self.jobs) > JOB_CACHE_SIZE:
                self.jobs.popitem(last=False)
        return job.run(start, rows, self.threads)

    def forget(self, token):
        self.jobs.pop(token, None)
        forget_job(token)

    def ready(self):
        """Imports limekit's modules a task needs (the actor's start-up, done once).

        This class's module is in the ``limekit`` package, whose import loads
        the explainers (the template included); the frames are loaded here.
        """
        from .. import frame  # noqa: F401

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
        yield from ordered(len(tasks), TASKS_PER_WORKER * n_actors, submit, wait_any, fetch, lambda refs: None)
    finally:
        if own:
            pool.close()
        else:  # the actors stay; the model goes (before the caller may close them)
            try:
                ray.get([actor.forget.remote(job.token) for actor in actors], timeout=30)
            except Exception:  # a dead actor: nothing to free
                pass
        job_ref = None


class RayEngine:
    """``backend='ray'``: see the module's docstring."""

    def check_client(self, client):
        _ray_runtime()
        if client is not None:
            if not isinstance(client, RayActors):
                raise bad_type("client", "None or limekit.distributed.RayActors with backend='ray'", client)
            if client.closed:
                raise bad_value("client", "open RayActors", "closed ones")
        return client

    def results(self, job, tasks, starts, options):
        return _ray_results(job, tasks, starts, options.n_jobs, options.client)
