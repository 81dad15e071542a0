"""The window of tasks a remote engine keeps in flight, yielded in input order.

Contract: :func:`ordered` yields the results of tasks ``0..n-1`` in order,
with at most ``window`` tasks in flight or finished and waiting for their turn
(``TASKS_PER_WORKER`` per worker), so the driver never holds more than a
window of results; tasks still in flight when the caller stops are cancelled.
"""

from __future__ import annotations

__all__ = ["TASKS_PER_WORKER", "ordered"]

TASKS_PER_WORKER = 2  # tasks in flight (or finished, waiting for their turn) per worker


def ordered(n_tasks, window, submit, wait_any, fetch, cancel):
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
