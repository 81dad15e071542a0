"""Process-wide thread limits, taken and restored safely from several threads.

Small surrogate fits (thousands of rows, tens of columns) run faster with BLAS
on one thread than with BLAS's default threads, which cost more in
synchronisation than they save (``benchmarks/bench_tabular.py`` measures it).
A thread limit is process-wide state: if two threads each saved and restored it
around their own fit, the one leaving last would restore the other's limit and
leave BLAS on one thread for good.  So the limit is reference counted: the
first thread to enter saves the original setting, the last to leave restores
it exactly.

OpenMP's thread count (``omp_set_num_threads``) is the calling thread's own,
not the process's: :func:`limited_openmp_threads` keeps one such reference
count per thread.

An engine's worker (``limekit.distributed``) runs each task under
:func:`limited_threads`: OpenMP and BLAS lowered to the worker's share of its
machine's cores (:func:`worker_cores` over its task slots), BLAS's limit
shared by the tasks of a process as above, OpenMP's taken by each task.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading

from ._validation import bad_value

__all__ = [
    "limited_blas_threads",
    "limited_openmp_threads",
    "limited_torch_threads",
    "limited_threads",
    "worker_cores",
    "WIDE_DESIGN",
    "OMP_THREADS",
]

WIDE_DESIGN = 256  # from this many columns (a long text's words) the Gram matrix is real work: keep BLAS threads


class _SharedLimit:
    """A reference-counted process-wide setting: ``apply(*args)`` on first entry, ``restore(saved)`` on last exit."""

    def __init__(self, apply, restore):
        self._apply, self._restore = apply, restore
        self._lock = threading.Lock()
        self._holders = 0
        self._saved = None

    @contextlib.contextmanager
    def __call__(self, *args):
        with self._lock:
            if self._holders == 0:
                self._saved = self._apply(*args)
            self._holders += 1
        try:
            yield
        finally:
            with self._lock:
                self._holders -= 1
                if self._holders == 0:
                    saved, self._saved = self._saved, None
                    self._restore(saved)


_found: dict = {}  # per user_api ('blas', 'openmp'): (len(sys.modules) when found, the controllers)
_found_lock = threading.Lock()


def _libraries(user_api):
    """threadpoolctl's controllers of the ``user_api`` libraries loaded now.

    Finding them costs milliseconds, so they are looked up again only once
    more modules have been imported (a BLAS library or an OpenMP runtime comes
    with an extension module: torch, xgboost, scikit-learn), not at every limit.
    """
    with _found_lock:
        modules, libraries = _found.get(user_api, (None, []))
        if modules != len(sys.modules):
            from threadpoolctl import ThreadpoolController

            libraries = [lib for lib in ThreadpoolController().lib_controllers if lib.user_api == user_api]
            _found[user_api] = (len(sys.modules), libraries)
        return libraries


def _blas_to_one_thread():
    """Set every BLAS library to one thread; return what to restore (each library's own count)."""
    saved = [(lib, lib.get_num_threads()) for lib in _libraries("blas")]
    for lib, _ in saved:  # straight to the libraries: threadpoolctl's limit() object costs ~30 us a call
        lib.set_num_threads(1)
    return saved


def _restore_counts(saved):
    """Set each library of ``saved`` back to its saved thread count."""
    for lib, n_threads in saved:
        lib.set_num_threads(n_threads)


_single_blas_thread = _SharedLimit(_blas_to_one_thread, _restore_counts)


def limited_blas_threads(n_features=0):
    """Context manager that runs BLAS on one thread for designs narrower than ``WIDE_DESIGN`` columns.

    Thread safe: concurrent users share the limit, and the original thread
    counts come back when the last of them leaves.
    """
    if n_features >= WIDE_DESIGN:
        return contextlib.nullcontext()
    return _single_blas_thread()


def _torch_to(n_threads):
    import torch

    saved = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    return saved


def _torch_restore(saved):
    import torch

    torch.set_num_threads(saved)


_torch_threads = _SharedLimit(_torch_to, _torch_restore)


def limited_torch_threads(n_threads):
    """Context manager for ``torch.set_num_threads(n_threads)``, restored by the last concurrent user.

    ``n_threads`` None leaves torch as it is.  Concurrent users asking for
    different counts run with the count of the first one in.
    """
    if n_threads is None:
        return contextlib.nullcontext()
    return _torch_threads(int(n_threads))


OMP_THREADS = 1  # limekit's OpenMP fits' default thread limit (LIMEKIT_OMP_THREADS overrides it)
_openmp_per_thread = threading.local()  # each thread's own _SharedLimit


def _openmp_to(n_threads):
    """Lower every OpenMP runtime above ``n_threads`` to it, in this thread; return what to restore."""
    saved = [(lib, lib.get_num_threads()) for lib in _libraries("openmp")]
    saved = [(lib, count) for lib, count in saved if count is not None and count > n_threads]
    for lib, _ in saved:
        lib.set_num_threads(n_threads)
    return saved


def _openmp_setting():
    """``LIMEKIT_OMP_THREADS`` as a thread count: unset or empty is ``OMP_THREADS``, 0 is None (no limit)."""
    text = os.environ.get("LIMEKIT_OMP_THREADS", "").strip()
    if not text:
        return OMP_THREADS
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise bad_value("LIMEKIT_OMP_THREADS", "a whole number of threads >= 0 (0: no limit)", repr(text))
    return value or None


def limited_openmp_threads(n_threads=None):
    """Context manager: OpenMP runtimes above ``n_threads`` threads lowered to it around limekit's own fits.

    scikit-learn's gradient boosting (the emulator of
    ``variance_reduction='emulator'``) runs each fit and prediction on OpenMP
    threads, as many as the machine has cores.  Two such processes on one
    machine then oversubscribe it, and OpenMP's busy-waiting barriers make
    that ruinous (``benchmarks/bench_openmp.py`` times it; docs/benchmarks.md
    gives the figures).
    ``n_threads`` None reads ``LIMEKIT_OMP_THREADS``: unset, ``OMP_THREADS``
    (one thread: the emulator's fits are small, and one thread per process is
    the only count that is safe whatever else runs); a number raises the
    limit; 0 leaves OpenMP as it is.

    The count is only ever lowered, never raised (a Dask worker's lower limit
    stays).  OpenMP's count is the calling thread's own, and so is the limit:
    each thread keeps its own reference count (first entry saves the count,
    last exit restores it exactly, exceptions included); threads do not see
    each other's limits, and concurrent ones each restore their own count.
    """
    if n_threads is None:
        n_threads = _openmp_setting()
        if n_threads is None:
            return contextlib.nullcontext()
    limit = getattr(_openmp_per_thread, "limit", None)
    if limit is None:
        limit = _openmp_per_thread.limit = _SharedLimit(_openmp_to, _restore_counts)
    return limit(max(1, int(n_threads)))


# --------------------------------------------------------------------------- threads of an engine's worker
def worker_cores():
    """The cores this process may use (affinity and cgroup quota, as joblib counts them)."""
    try:
        from joblib import cpu_count

        return max(1, int(cpu_count()))
    except Exception:  # no joblib: the affinity mask
        return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


_WORKER_CONTROLLER = [None, None]  # (key, ThreadpoolController): finding the loaded libraries costs ~10 ms


def _worker_controller(key):
    """A ThreadpoolController of the libraries loaded now, found again when ``key`` (the job) changes."""
    if _WORKER_CONTROLLER[0] is None or _WORKER_CONTROLLER[0] != key:
        from threadpoolctl import ThreadpoolController

        _WORKER_CONTROLLER[:] = [key, ThreadpoolController()]
    return _WORKER_CONTROLLER[1]


def _lower_threads(limit, user_api, key=None):
    controller = _worker_controller(key)
    above = {
        lib.prefix: limit
        for lib in controller.lib_controllers
        if lib.user_api == user_api and lib.num_threads is not None and lib.num_threads > limit
    }
    return controller.limit(limits=above) if above else None


def _restore_threads(limiter):
    if limiter is not None:
        limiter.restore_original_limits()


_worker_blas = _SharedLimit(lambda n, k: _lower_threads(n, "blas", k), _restore_threads)


@contextlib.contextmanager
def limited_threads(limit, key=None):
    """Context manager: OpenMP and BLAS libraries above ``limit`` threads lowered to it, restored exactly after.

    What an engine's task runs under on a worker (``limekit.distributed``).
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
    with _worker_blas(limit, key):
        openmp = _lower_threads(limit, "openmp", key)
        try:
            yield
        finally:
            _restore_threads(openmp)
