"""Process-wide thread limits, taken and restored safely from several threads.

Small surrogate fits (thousands of rows, tens of columns) run faster with BLAS
on one thread than with BLAS's default threads, which cost more in
synchronisation than they save (``benchmarks/bench_tabular.py`` measures it).
A thread limit is process-wide state: if two threads each saved and restored it
around their own fit, the one leaving last would restore the other's limit and
leave BLAS on one thread for good.  So the limit is reference counted: the
first thread to enter saves the original setting, the last to leave restores
it exactly.
"""

from __future__ import annotations

import contextlib
import threading

__all__ = ["limited_blas_threads", "limited_torch_threads", "WIDE_DESIGN"]

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


_controller = []  # the BLAS libraries' controllers, found on first use (finding them costs milliseconds)


def _blas_libraries():
    """threadpoolctl's controllers of the BLAS libraries loaded when first asked (found once)."""
    if not _controller:
        from threadpoolctl import ThreadpoolController

        _controller.append([lib for lib in ThreadpoolController().lib_controllers if lib.user_api == "blas"])
    return _controller[0]


def _blas_to_one_thread():
    """Set every BLAS library to one thread; return what to restore (each library's own count)."""
    saved = [(lib, lib.get_num_threads()) for lib in _blas_libraries()]
    for lib, _ in saved:  # straight to the libraries: threadpoolctl's limit() object costs ~30 us a call
        lib.set_num_threads(1)
    return saved


def _blas_restore(saved):
    for lib, n_threads in saved:
        lib.set_num_threads(n_threads)


_single_blas_thread = _SharedLimit(_blas_to_one_thread, _blas_restore)


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
