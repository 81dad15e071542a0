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

The package: :mod:`limekit.core.engines` holds the engine interface (the
explainer as an :class:`~limekit.core.engines.EngineExplainer` Protocol, the
option checks, the tasks, the pickled :class:`~limekit.core.engines.Job`, this
process's and joblib's runners); here live the Dask engine
(:mod:`.dask_engine`), the Ray engine (:mod:`.ray_engine`), the window of
tasks in flight (:mod:`.scheduling`) and :class:`LimeBatchUDF` (:mod:`.udf`).
Importing this package registers the Dask and Ray engines with
:func:`limekit.core.engines.register_engine` (``explain_many`` imports it by
name when ``backend=`` first asks for one); the worker thread limits are
:func:`limekit._threads.limited_threads`.  Nothing here imports the template
(:mod:`limekit.core.frontend`): explainers are checked against the Protocol.
"""

from __future__ import annotations

# besides __all__, names that stay importable from limekit.distributed (F401: re-exported)
from .._threads import limited_threads, worker_cores  # noqa: F401
from ..core.engines import (  # noqa: F401
    BACKENDS,
    ERRORS,
    BuiltOnWorker,
    Job,
    LazyTasks,
    ManyOptions,
    UncheckedInstance,
    bind_model,
    check_options,
    register_engine,
    run_many,
    run_rows,
    split_tasks,
)
from ..frame import FailedRow
from .dask_engine import DaskEngine, _dask_thread_limit, dask_slots  # noqa: F401
from .ray_engine import RayActors, RayEngine, ray_actor_count  # noqa: F401
from .scheduling import TASKS_PER_WORKER  # noqa: F401
from .udf import LimeBatchUDF

__all__ = ["LimeBatchUDF", "RayActors", "FailedRow", "BACKENDS", "ERRORS"]

register_engine("dask", DaskEngine())
register_engine("ray", RayEngine())
