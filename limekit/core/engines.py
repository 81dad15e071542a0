"""The engine interface ``explain_many`` runs on: below both the template and the engines.

``BaseExplainer.explain_many`` (:mod:`limekit.core.frontend`) checks its
engine arguments (:func:`check_options`), splits the instances into tasks of
checked instances (:func:`split_tasks`) and runs them (:func:`run_many`): in
this process, with joblib (``n_jobs``), or on an engine registered by name
(``backend='dask' | 'ray'``: :mod:`limekit.distributed`).

Contracts:

* An engine sees the explainer only through :class:`EngineExplainer` (the
  "engine interface" of ``BaseExplainer``: ``prepare_call``,
  ``check_instances``, ``explain_checked``, ``adapt_model``), and the call
  only as the picklable result of ``prepare_call``.  This module imports
  neither the template nor the engines.
* A remote engine (:class:`Engine`) registers itself with
  :func:`register_engine` when its package is imported;
  ``backend='dask'`` or ``'ray'`` imports :mod:`limekit.distributed` (by name,
  through :func:`engine`) when no engine of that name is registered yet, so
  users need not import it first.  Its ``check_client`` runs before the
  call's arguments are checked; its ``results`` yields each task's results
  in input order, at most a window of tasks per worker in flight, from a
  :class:`Job` shipped (pickled) once per worker.
* A task is a list of checked instances; :func:`run_rows` is its work
  wherever it runs.  Every instance's randomness comes from ``random_state``
  and the instance, so a task retried elsewhere gives the same result, and the
  results do not depend on the engine, the workers or ``rows_per_task``.
"""

from __future__ import annotations

import collections
import dataclasses
import importlib
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, TypeAlias, runtime_checkable

from .._threads import limited_threads
from .._validation import LimekitTypeError, bad_type, bad_value, check_choice, describe
from ..frame import FailedRow, explanations_to_frame

if TYPE_CHECKING:
    import pandas as pd

    from .call import ExplainCall
    from .explanation import Explanation

    #: One task's results: its explanations (or FailedRow), or their DataFrame with ``as_frame``.
    TaskResults: TypeAlias = "list[Explanation | FailedRow] | pd.DataFrame"

__all__ = [
    "EngineExplainer",
    "Engine",
    "register_engine",
    "engine",
    "BACKENDS",
    "ERRORS",
    "ManyOptions",
    "check_options",
    "split_tasks",
    "run_many",
]

BACKENDS = ("dask", "ray")
ERRORS = ("raise", "skip")
ENGINES_PACKAGE = "limekit.distributed"  # registers the engines of BACKENDS when imported
JOB_CACHE_SIZE = 4  # loaded jobs kept per worker process


# --------------------------------------------------------------------------- the interface
@runtime_checkable
class EngineExplainer(Protocol):
    """What an engine needs of an explainer: ``BaseExplainer``'s engine interface."""

    #: name of the model parameter of ``explain_instance`` (for error messages)
    model_argument: str
    #: name of the instance parameter of ``explain_instance``
    instance_argument: str

    def prepare_call(self, predict_fn: Callable[..., Any], **kwargs: Any) -> ExplainCall:
        """Validate ``explain_instance``'s keywords for ``predict_fn`` once: the call the tasks take."""

    def check_instances(self, instances: Any) -> list[Any]:
        """Every instance checked (and indexed), before any model call; what the tasks take."""

    def explain_checked(self, checked: list[Any], call: ExplainCall) -> list[Explanation]:
        """perturb -> score -> fit for checked instances sharing model calls: one task's explanations."""

    def adapt_model(self, model: Callable[..., Any]) -> tuple[Callable[..., Any], list[str] | None]:
        """``(callable the scoring stage calls, the model's class names or None)`` for ``model``."""


class Engine(Protocol):
    """What :func:`check_options` and :func:`run_many` need of a remote engine (``backend=``)."""

    def check_client(self, client: Any) -> Any:
        """The checked ``client`` (or the engine's default one) to run on; raise if the engine cannot run."""

    def results(
        self, job: Job, tasks: list[list[Any]] | LazyTasks, starts: Sequence[int], options: ManyOptions
    ) -> Iterable[TaskResults]:
        """Each task's results, in input order: ``job.run(starts[i], tasks[i])`` wherever the engine runs it."""


_ENGINES: dict[str, Engine] = {}


def register_engine(name: str, implementation: Engine) -> None:
    """Make ``implementation`` (an :class:`Engine`) the one ``backend=name`` runs on."""
    _ENGINES[name] = implementation


def engine(name: str) -> Engine:
    """The :class:`Engine` registered as ``name``; imports :mod:`limekit.distributed` (which registers them) first."""
    if name not in _ENGINES:
        importlib.import_module(ENGINES_PACKAGE)  # by name: that package imports this module, not the reverse
    return _ENGINES[name]


def _cloudpickle() -> ModuleType:
    try:
        import cloudpickle
    except ImportError:  # joblib's copy
        from joblib.externals import cloudpickle
    return cloudpickle


def check_pickles(value: object, argument: str, expected: str) -> None:
    """Raise a LimekitTypeError naming ``argument`` unless ``value`` pickles with cloudpickle."""
    cloudpickle = _cloudpickle()

    try:
        cloudpickle.dumps(value)
    except Exception as exc:
        raise LimekitTypeError(
            f"{argument}: expected {expected}; got {describe(value)} ({type(exc).__name__}: {exc})", argument
        ) from exc


# --------------------------------------------------------------------------- the model built where it runs
class BuiltOnWorker:
    """Stands for the model that ``predict_factory`` builds where the tasks run (never called)."""

    def __call__(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise RuntimeError("limekit: this model is built by predict_factory where the tasks run")

    def __repr__(self) -> str:
        return "<model built by predict_factory>"


def bind_model(explainer: EngineExplainer, call: ExplainCall, model: Callable[..., Any]) -> ExplainCall:
    """``call`` with ``model`` as its model (adapted as ``explain_instance`` adapts it)."""
    if not callable(model):
        raise bad_type("predict_factory", "a callable returning the model (a callable)", model)
    predict, class_names = explainer.adapt_model(model)
    return dataclasses.replace(call, model=model, predict=predict, model_class_names=class_names)


# --------------------------------------------------------------------------- arguments
@dataclasses.dataclass
class ManyOptions:
    """``explain_many``'s engine arguments, checked."""

    backend: str | None = None
    client: Any = None
    predict_factory: Callable[[], Any] | None = None
    errors: str = "raise"
    stream: bool = False
    as_frame: bool = False
    n_jobs: int = 1


def check_options(
    explainer: EngineExplainer,
    predict_fn: Callable[..., Any] | None,
    n_jobs: int,
    backend: str | None,
    client: Any,
    predict_factory: Callable[[], Any] | None,
    errors: str,
    stream: bool,
    as_frame: bool,
) -> tuple[ManyOptions, Callable[..., Any]]:
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
    if backend is not None:
        client = engine(backend).check_client(client)
    options = ManyOptions(backend, client, predict_factory, errors, bool(stream), bool(as_frame), n_jobs)
    return options, predict_fn


# --------------------------------------------------------------------------- the tasks
class UncheckedInstance:
    """An instance of a streamed task that failed its check (``errors='skip'``): explained as a FailedRow."""

    def __init__(self, error: Exception) -> None:
        self.error = error


def split_tasks(
    explainer: EngineExplainer, instances: Any, rows_per_task: int, lazy: bool = False, errors: str = "raise"
) -> list[list[Any]] | LazyTasks:
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
        try:
            checked = explainer.check_instances(instances)
        except Exception:
            if errors == "raise":
                raise
            checked = _checked_one_by_one(explainer, instances)
        return [checked[start : start + rows_per_task] for start in range(0, len(checked), rows_per_task)]
    return LazyTasks(explainer, instances, rows_per_task, errors)


def _rows(instances: Any, start: int, stop: int) -> Any:
    """Instances ``start:stop`` of a sequence, an array or a DataFrame (by position)."""
    if hasattr(instances, "iloc"):  # pandas: by position
        return instances.iloc[start:stop]
    try:
        return instances[start:stop]
    except (TypeError, KeyError):  # a sequence without slices
        return [instances[j] for j in range(start, stop)]


def _checked_one_by_one(explainer: EngineExplainer, instances: Any, start: int = 0, stop: int | None = None) -> list:
    """``errors='skip'``: each instance checked alone; one that fails becomes an :class:`UncheckedInstance`.

    Raises the first error when every instance of a whole batch fails (its
    type or shape is wrong: there is nothing to explain).
    """
    if isinstance(instances, (str, bytes)) or not hasattr(instances, "__len__"):
        return explainer.check_instances(instances)  # raises naming the argument
    whole = stop is None
    stop = len(instances) if stop is None else stop
    checked: list[Any] = []
    for j in range(start, stop):
        try:
            checked.extend(explainer.check_instances(_rows(instances, j, j + 1)))
        except Exception as exc:
            checked.append(UncheckedInstance(exc))
    if whole and checked and all(isinstance(item, UncheckedInstance) for item in checked):
        raise checked[0].error
    return checked


class LazyTasks:
    """Tasks whose instances are checked when the task is taken (``tasks[i]``); see :func:`split_tasks`."""

    def __init__(self, explainer: EngineExplainer, instances: Any, rows_per_task: int, errors: str = "raise") -> None:
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
        self._first: list[Any] | None = explainer.check_instances(self._slice(0))  # a wrong type or shape fails now

    def __len__(self) -> int:
        return len(self.starts)

    def _slice(self, i: int) -> Any:
        start = self.starts[i]
        return _rows(self.instances, start, min(start + self.rows_per_task, self.n))

    def __getitem__(self, i: int) -> list[Any]:
        if i == 0 and self._first is not None:
            first, self._first = self._first, None
            return first
        try:
            return self.explainer.check_instances(self._slice(i))
        except Exception:
            if self.errors == "raise":
                raise
        start = self.starts[i]  # one by one: an instance that fails its check becomes a FailedRow
        return _checked_one_by_one(self.explainer, self.instances, start, min(start + self.rows_per_task, self.n))

    def __iter__(self) -> Iterator[list[Any]]:
        return (self[i] for i in range(len(self)))


# --------------------------------------------------------------------------- the work of one task
def run_rows(
    explainer: EngineExplainer,
    call: ExplainCall,
    start: int,
    rows: Sequence[Any],
    errors: str = "raise",
    as_frame: bool = False,
) -> TaskResults:
    """Explain ``rows`` (checked instances at positions ``start, start + 1, ...``): a list, or a frame.

    With ``errors='skip'`` a failing task is run again row by row; a row that
    fails alone becomes a :class:`~limekit.frame.FailedRow`, the others are
    kept (the same explanations: each row's randomness is its own).
    """
    positions = [start + offset for offset, row in enumerate(rows) if not isinstance(row, UncheckedInstance)]
    good = [row for row in rows if not isinstance(row, UncheckedInstance)]
    explained: dict[int, Explanation | FailedRow] = {}
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


# --------------------------------------------------------------------------- the job shipped once per worker
_LOADED: collections.OrderedDict[str, tuple[EngineExplainer, ExplainCall]] = collections.OrderedDict()
_LOADED_LOCK = threading.Lock()


class Job:
    """The explainer, the validated call and the model (or its factory), pickled once; loaded once per process."""

    def __init__(
        self,
        explainer: EngineExplainer,
        call: ExplainCall,
        predict_factory: Callable[[], Any] | None,
        errors: str,
        as_frame: bool,
    ) -> None:
        cloudpickle = _cloudpickle()

        self.token = uuid.uuid4().hex
        self.errors, self.as_frame = errors, as_frame
        # an engine's thread limit for a task on its worker: a picklable zero-argument callable run there
        # (Dask: the machine's cores over its task slots), None: as the process has them
        self.worker_threads: Callable[[], int | None] | None = None
        try:
            self.payload = cloudpickle.dumps((explainer, call, predict_factory))
        except Exception as exc:  # name the part that does not pickle
            if predict_factory is None:
                check_pickles(
                    call.model,
                    explainer.model_argument,
                    "a model that pickles (cloudpickle), or predict_factory= to build it on each worker",
                )
            else:
                check_pickles(predict_factory, "predict_factory", "a factory that pickles (cloudpickle)")
            raise LimekitTypeError(
                f"explainer: expected an explainer that pickles (cloudpickle) to ship to the "
                f"workers; got {type(explainer).__name__} ({type(exc).__name__}: {exc})",
                "explainer",
            ) from exc

    def load(self) -> tuple[EngineExplainer, ExplainCall]:
        """``(explainer, call)`` with the model, from this process's cache (the factory runs once per process)."""
        with _LOADED_LOCK:
            loaded = _LOADED.get(self.token)
            if loaded is None:
                cloudpickle = _cloudpickle()

                explainer, call, factory = cloudpickle.loads(self.payload)
                if factory is not None:
                    call = bind_model(explainer, call, factory())
                loaded = _LOADED[self.token] = (explainer, call)
                while len(_LOADED) > JOB_CACHE_SIZE:
                    _LOADED.popitem(last=False)
            else:
                _LOADED.move_to_end(self.token)
            return loaded

    def run(self, start: int, rows: Sequence[Any], threads: int | None = None) -> TaskResults:
        """One task's results, with at most ``threads`` OpenMP/BLAS threads (None: the engine's worker limit)."""
        explainer, call = self.load()
        if threads is None and self.worker_threads is not None:
            threads = self.worker_threads()
        with limited_threads(threads, self.token):
            return run_rows(explainer, call, start, rows, self.errors, self.as_frame)


def run_job(job: Job, start: int, rows: Sequence[Any]) -> TaskResults:  # a Dask or joblib task
    return job.run(start, rows)


def forget_job(token: str) -> None:
    """Drop a finished job (its model) from this process's cache."""
    with _LOADED_LOCK:
        _LOADED.pop(token, None)


# --------------------------------------------------------------------------- this process and joblib
def _local_results(
    explainer: EngineExplainer,
    call: ExplainCall,
    tasks: list[list[Any]] | LazyTasks,
    starts: Sequence[int],
    options: ManyOptions,
) -> Iterator[TaskResults]:
    if options.predict_factory is not None:
        call = bind_model(explainer, call, options.predict_factory())
    for start, task in zip(starts, tasks):
        yield run_rows(explainer, call, start, task, options.errors, options.as_frame)


def _joblib_results(
    explainer: EngineExplainer,
    call: ExplainCall,
    tasks: list[list[Any]] | LazyTasks,
    starts: Sequence[int],
    options: ManyOptions,
) -> Iterator[TaskResults]:
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
    work = (delayed(run_job)(job, start, task) for start, task in zip(starts, tasks))
    try:
        yield from Parallel(n_jobs=options.n_jobs, return_as="generator")(work)
    finally:
        forget_job(job.token)  # a threading backend loaded it here


def run_many(
    explainer: EngineExplainer, call: ExplainCall, tasks: list[list[Any]] | LazyTasks, options: ManyOptions
) -> list[Explanation | FailedRow] | pd.DataFrame | Iterator[Any]:
    """Run the checked ``tasks`` (lists of checked instances, in input order) as ``options`` say.

    ``tasks`` is a list, or :class:`LazyTasks` (checked as they are taken).
    Returns a list of Explanation/FailedRow, one DataFrame (``as_frame``), or
    with ``stream`` an iterator of results (of per-task DataFrames with
    ``as_frame``) in input order.  Everything that can be checked is checked
    before the first task is sent.
    """
    starts: Sequence[int]
    if isinstance(tasks, LazyTasks):
        starts = tasks.starts
    else:
        starts, position = [], 0
        for task in tasks:
            starts.append(position)
            position += len(task)
    if options.backend is not None:  # pickles now: a model that does not pickle fails before any task
        job = Job(explainer, call, options.predict_factory, options.errors, options.as_frame)
        per_task = engine(options.backend).results(job, tasks, starts, options)
    elif options.n_jobs == 1 or len(tasks) <= 1:
        per_task = _local_results(explainer, call, tasks, starts, options)
    else:
        per_task = _joblib_results(explainer, call, tasks, starts, options)
    if options.stream:
        return per_task if options.as_frame else (result for results in per_task for result in results)
    if options.as_frame:
        from ..frame import concat_frames

        return concat_frames(list(per_task))
    return [result for results in per_task for result in results]
