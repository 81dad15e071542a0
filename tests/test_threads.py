"""OpenMP limit around limekit's own fits (``limited_openmp_threads``): taken inside, restored exactly after."""

import contextlib
import threading

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_info, threadpool_limits

from limekit import LimekitValueError, TabularExplainer
from limekit._threads import OMP_THREADS, limited_openmp_threads


def openmp_threads():
    """This thread's OpenMP thread count, as threadpoolctl reports it (every runtime loaded)."""
    counts = {info["num_threads"] for info in threadpool_info() if info["user_api"] == "openmp"}
    assert len(counts) == 1, counts
    return counts.pop()


@pytest.fixture
def seen_in_fits(monkeypatch):
    """The OpenMP thread count inside every emulator fit (HistGradientBoostingRegressor.fit patched)."""
    seen = []
    original = HistGradientBoostingRegressor.fit

    def fit(self, *args, **kwargs):
        seen.append(openmp_threads())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(HistGradientBoostingRegressor, "fit", fit)
    monkeypatch.delenv("LIMEKIT_OMP_THREADS", raising=False)
    return seen


def explain_with_emulator():
    X = np.random.default_rng(0).normal(size=(500, 4))

    def model(rows):
        p = 1 / (1 + np.exp(-(rows[:, 0] + rows[:, 1] * rows[:, 2])))
        return np.column_stack([1 - p, p])

    return TabularExplainer(X, random_state=0).explain_instance(
        X[0], model, num_features=4, num_samples=400, variance_reduction="emulator"
    )


@pytest.mark.parametrize("original", [3, 5])  # non-default counts set first (this machine's default is its cores)
def test_emulator_fits_take_the_limit_and_restore_the_original(seen_in_fits, original):
    with threadpool_limits(limits=original, user_api="openmp"):
        assert openmp_threads() == original
        explain_with_emulator()
        assert openmp_threads() == original
    assert seen_in_fits and set(seen_in_fits) == {OMP_THREADS}


@pytest.mark.slow  # the emulator's fits at 2 to 4 OpenMP threads: 1 s to minutes on a busy 2-core machine
@pytest.mark.parametrize(("setting", "original", "inside"), [("2", 4, 2), ("", 4, 1), ("0", 4, 4), ("3", 2, 2)])
def test_the_environment_sets_the_limit_which_never_raises(seen_in_fits, monkeypatch, setting, original, inside):
    monkeypatch.setenv("LIMEKIT_OMP_THREADS", setting)
    with threadpool_limits(limits=original, user_api="openmp"):
        explain_with_emulator()
        assert openmp_threads() == original
    assert set(seen_in_fits) == {inside}


@pytest.mark.parametrize("setting", ["-1", "two", "1.5"])
def test_a_bad_setting_is_refused(monkeypatch, setting):
    monkeypatch.setenv("LIMEKIT_OMP_THREADS", setting)
    with pytest.raises(LimekitValueError, match="LIMEKIT_OMP_THREADS"):
        with limited_openmp_threads():
            pass


def test_an_exception_inside_restores(seen_in_fits, monkeypatch):
    def failing_fit(self, *args, **kwargs):
        seen_in_fits.append(openmp_threads())
        raise RuntimeError("fit failed")

    monkeypatch.setattr(HistGradientBoostingRegressor, "fit", failing_fit)
    with threadpool_limits(limits=3, user_api="openmp"):
        with pytest.raises(RuntimeError, match="fit failed"):
            explain_with_emulator()
        assert openmp_threads() == 3
    assert seen_in_fits == [OMP_THREADS]


def test_nested_and_out_of_order_exits_in_one_thread_restore_once():
    with threadpool_limits(limits=3, user_api="openmp"):
        outer, inner = limited_openmp_threads(2), limited_openmp_threads(1)
        with contextlib.ExitStack() as stack:
            outer.__enter__()
            assert openmp_threads() == 2
            stack.callback(inner.__exit__, None, None, None)
            inner.__enter__()  # the first one in sets the count: the thread's reference count only grows
            assert openmp_threads() == 2
            outer.__exit__(None, None, None)  # not last out: the limit stays
            assert openmp_threads() == 2
        assert openmp_threads() == 3


def test_threads_entering_and_leaving_interleaved_each_keep_and_restore_their_own():
    """OpenMP's count is per thread: each thread is limited inside and gets its own count back.

    Order: A enters, B enters, A leaves (B still limited), B leaves.  A
    process-wide reference count would leave B unlimited (its count is its
    own, not A's) and restore A's original into B.
    """
    steps = [threading.Event() for _ in range(4)]
    seen = {}

    def worker(name, original, enter_after, entered, leave_after, left):
        with threadpool_limits(limits=original, user_api="openmp"):
            steps[enter_after].wait(10) if enter_after is not None else None
            with limited_openmp_threads(1):
                seen[name, "inside"] = openmp_threads()
                steps[entered].set()
                steps[leave_after].wait(10)
                seen[name, "still inside"] = openmp_threads()
            seen[name, "after"] = openmp_threads()
            steps[left].set()

    a = threading.Thread(target=worker, args=("a", 3, None, 0, 1, 2))
    b = threading.Thread(target=worker, args=("b", 4, 0, 1, 2, 3))
    a.start(), b.start()
    a.join(20), b.join(20)
    assert seen == {
        ("a", "inside"): 1,
        ("a", "still inside"): 1,
        ("a", "after"): 3,
        ("b", "inside"): 1,
        ("b", "still inside"): 1,  # after A left
        ("b", "after"): 4,
    }


def test_many_threads_explaining_at_once_restore_every_count(seen_in_fits):
    """Eight threads, each with its own original count, fit emulators at once; all are limited, all restored."""
    barrier = threading.Barrier(8)
    after = {}

    def worker(i):
        with threadpool_limits(limits=2 + i, user_api="openmp"):
            barrier.wait(20)
            explain_with_emulator()
            after[i] = openmp_threads()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert after == {i: 2 + i for i in range(8)}
    assert set(seen_in_fits) == {OMP_THREADS}


def test_libraries_loaded_after_the_first_limit_are_found(monkeypatch):
    """A BLAS library loaded later (an import of torch, xgboost) is limited too: the lookup follows imports."""
    import sys
    import types

    from limekit import _threads

    monkeypatch.setattr(_threads, "_found", dict(_threads._found))  # the fakes below must not outlive the test
    found = _threads._libraries("blas")
    lookups = []

    class Controller:  # stands for threadpoolctl's, counting lookups
        def __init__(self):
            lookups.append(1)
            self.lib_controllers = []

    monkeypatch.setattr("threadpoolctl.ThreadpoolController", Controller)
    assert _threads._libraries("blas") is found and lookups == []  # nothing imported since: no lookup
    monkeypatch.setitem(sys.modules, "limekit_test_extension", types.ModuleType("limekit_test_extension"))
    assert _threads._libraries("blas") == [] and lookups == [1]  # an import: looked up again
