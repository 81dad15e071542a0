"""Memory budget of a neighbourhood: refuse a sample that cannot fit before allocating it.

A frontend holds its perturbations as dense ``(num_samples, n_columns)``
matrices (the interpretable rows, and for tabular data the model-space rows
too), so a ``num_samples`` of ten billion is a numpy ``MemoryError`` for
terabytes, or worse, minutes of swapping.  :func:`check_perturbation_memory`
estimates the bytes from the shape and compares them with the memory the
machine has available, and raises an error that names the argument and says
how much was asked for, before anything is allocated.
"""

from __future__ import annotations

import os
import resource

from .._validation import bad_value

__all__ = ["check_perturbation_memory", "available_memory", "format_bytes", "peak_rss_kib"]

#: Matrices of ``(num_samples, n_columns)`` float64 a neighbourhood holds at once
#: (interpretable rows, model-space rows or masks, and a working copy).
DEFAULT_COPIES = 3
#: Samples of at most this many bytes are not checked against the machine (they fit anywhere limekit runs).
ALWAYS_FITS = 64 * 2**20


def peak_rss_kib() -> int:
    """This process's peak resident memory in KiB (the benchmarks' and tests' per-worker figure).

    ``VmHWM`` of ``/proc/self/status``; ``ru_maxrss`` (the fallback off Linux)
    would count the parent's, kept across fork and exec.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation, or None when unknown.

    ``MemAvailable`` of ``/proc/meminfo`` (Linux), else the physical memory
    (``os.sysconf``), else None.
    """
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
    if pages > 0 and page_size > 0:
        return int(pages) * int(page_size)
    return None


def format_bytes(n: float) -> str:
    """``n`` bytes in binary units: ``'29.1 TiB'``."""
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"  # pragma: no cover


def check_perturbation_memory(
    num_samples: int,
    n_columns: int,
    argument: str = "num_samples",
    itemsize: int = 8,
    limit: int | None = None,
    copies: int = DEFAULT_COPIES,
    extra_bytes: int = 0,
) -> int:
    """Raise if ``num_samples`` perturbations of ``n_columns`` columns cannot fit in memory.

    Parameters
    ----------
    num_samples : int
        Rows of the neighbourhood.
    n_columns : int
        Its width: features, words or superpixels.
    argument : str, default='num_samples'
        The argument named in the error.
    itemsize : int, default=8
        Bytes per cell (float64).
    limit : int or None
        Bytes allowed; None: the memory available now (:func:`available_memory`);
        when that is unknown, nothing is checked.
    copies : int, default=DEFAULT_COPIES
        Matrices of that shape alive at once.
    extra_bytes : int, default=0
        Further bytes the sample needs (an image batch).

    Returns
    -------
    int
        The estimate, in bytes.

    Raises
    ------
    LimekitValueError
        The estimate exceeds the limit; the message gives both.
    """
    needed = int(num_samples) * max(int(n_columns), 1) * int(itemsize) * int(copies) + int(extra_bytes)
    if limit is None:
        if needed <= ALWAYS_FITS:  # not worth reading /proc/meminfo on every explanation
            return needed
        limit = available_memory()
    if limit is not None and needed > limit:
        raise bad_value(
            argument,
            f"a size whose perturbations fit in memory ({format_bytes(limit)} available)",
            f"{num_samples} rows of {n_columns} value(s), about {format_bytes(needed)}",
            f"Lower {argument}.",
        )
    return needed
