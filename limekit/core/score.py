"""The score stage: the model answers on the perturbations of one or more instances.

The rows of several neighbourhoods go to the model in shared batches, so a
model with a fixed cost per call (a CNN, a transformer, a model behind a
service) sees full batches however the instances are grouped.  The instances
themselves come first: the first batch holds them (as many as fit), and its
output is checked (shape, finiteness, probabilities, the labels asked for)
before any further batch is predicted.  There is no separate call for the
instance alone.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from .._validation import bad_type, bad_value
from .predict import check_model_output, iter_batches

if TYPE_CHECKING:
    from .neighbourhood import Neighbourhood

__all__ = ["score_neighbourhoods", "join_batches", "DistinctRows", "check_progress_bar", "PROGRESS_DELAY"]

#: Seconds a ``progress_bar='auto'`` bar waits before it shows (tqdm's ``delay``): shorter runs show none.
PROGRESS_DELAY = 2.0


def check_progress_bar(progress_bar: object, argument: str = "progress_bar") -> bool | str:
    """``progress_bar`` checked: ``'auto'``, True or False.

    ``'auto'`` shows a tqdm bar over the model calls only when ``sys.stderr``
    is a terminal, and only once a run has lasted :data:`PROGRESS_DELAY`
    seconds; True always shows one (from the start), False never.
    """
    if isinstance(progress_bar, (bool, np.bool_)):
        return bool(progress_bar)
    if isinstance(progress_bar, str) and progress_bar == "auto":
        return "auto"
    raise bad_value(argument, "'auto', True or False", repr(progress_bar))


def _with_progress_bar(windows: list[slice], progress_bar: bool | str) -> Iterable[slice]:
    """``windows``, wrapped in a tqdm bar when ``progress_bar`` asks for one (see :func:`check_progress_bar`)."""
    if not progress_bar or len(windows) <= 1:
        return windows
    delay = 0.0
    if progress_bar == "auto":
        isatty = getattr(sys.stderr, "isatty", None)
        try:
            terminal = bool(isatty()) if callable(isatty) else False
        except (OSError, ValueError):  # a closed or detached stream
            terminal = False
        if not terminal:
            return windows
        delay = PROGRESS_DELAY
    from tqdm.auto import tqdm

    return tqdm(windows, desc="predicting", unit="batch", delay=delay)


@dataclass(frozen=True)
class DistinctRows:
    """Model inputs given as their distinct rows (``kernel='shap'``, tabular): each row goes to the model once.

    Attributes
    ----------
    rows : array-like of shape (n_rows, ...)
        The distinct model rows.
    inverse : ndarray of int, shape (n_inputs,)
        Input ``i`` is ``rows[inverse[i]]``.
    """

    rows: Any
    inverse: np.ndarray

    def __len__(self) -> int:
        return int(self.inverse.shape[0])


def join_batches(pieces: list[Any]) -> Any:
    """Concatenate model-input pieces of one kind: arrays, sparse matrices, lists, DataFrames, tensors or
    :class:`DistinctRows`."""
    if len(pieces) == 1:
        return pieces[0]
    first = pieces[0]
    if isinstance(first, DistinctRows):
        offsets = np.cumsum([0] + [len(piece.rows) for piece in pieces[:-1]])
        inverse = np.concatenate([piece.inverse + offset for piece, offset in zip(pieces, offsets)])
        return DistinctRows(join_batches([piece.rows for piece in pieces]), inverse)
    if isinstance(first, np.ndarray):
        return np.concatenate(pieces)
    if sp.issparse(first):
        return sp.vstack(pieces, format="csr")
    if isinstance(first, list):
        return [item for piece in pieces for item in piece]
    module = type(first).__module__
    if module.startswith("pandas"):
        import pandas as pd

        return pd.concat(pieces, ignore_index=True)
    if module.startswith("torch"):
        import torch

        return torch.cat(pieces)
    raise bad_type("inputs", "model inputs as arrays, sparse matrices, lists, DataFrames or tensors", first)


def _contiguous(pieces: list[tuple[Neighbourhood, int, int]]) -> list[tuple[Neighbourhood, int, int]]:
    """``pieces`` with adjacent row ranges of one neighbourhood merged, so its rows reach the model in one piece.

    A single instance's batch (its row 0, then its other rows) is then the
    sample's own rows, not a copy.  Nothing reads the model's inputs after
    the call (the surrogates' rows are Z or their own original-space copy),
    so a model that writes into its input cannot change the explanation.
    """
    merged: list[tuple[Neighbourhood, int, int]] = []
    for nb, a, b in pieces:
        if merged and merged[-1][0] is nb and merged[-1][2] == a:
            merged[-1] = (nb, merged[-1][1], b)
        else:
            merged.append((nb, a, b))
    return merged


def score_neighbourhoods(
    predict_fn: Callable[..., Any],
    neighbourhoods: Sequence[Neighbourhood],
    mode: str,
    batch_size: int | None = None,
    argument: str = "predict_fn",
    progress_bar: bool | str = False,
    to_model_input: Callable[[Any], Any] | None = None,
    check_first: Callable[[np.ndarray], Any] | None = None,
) -> int:
    """Fill in ``outputs`` of every neighbourhood, in shared batches, instances first.

    Parameters
    ----------
    predict_fn : callable
        The black box.
    neighbourhoods : list of Neighbourhood
        Their ``inputs(rows)`` give the model inputs; those that include
        their instance contribute row 0 to the front of the first batch.
    mode : {'classification', 'regression'}
    batch_size : int or None
        Rows per model call; None predicts everything in one call.
    argument : str
        The model's argument name, for error messages.
    progress_bar : bool or 'auto'
        A tqdm bar over the calls (when there is more than one): True always,
        ``'auto'`` on a terminal for runs over :data:`PROGRESS_DELAY` seconds
        (see :func:`check_progress_bar`), False never.
    to_model_input : callable or None
        Turns a joined batch into what the model takes (e.g. a DataFrame).
    check_first : callable or None
        ``check_first(outputs)`` on the first batch's outputs (row 0 is the
        first instance) before any other batch is predicted; it raises to stop.

    Returns
    -------
    n_calls : int
        Model calls made.
    """
    if not callable(predict_fn):
        raise bad_type(argument, "a callable", predict_fn)
    segments = [(nb, 0, 1) for nb in neighbourhoods if nb.includes_instance and nb.n_samples]
    for nb in neighbourhoods:
        start = 1 if nb.includes_instance else 0
        if nb.n_samples > start:
            segments.append((nb, start, nb.n_samples))
    total = sum(stop - start for _, start, stop in segments)
    windows = list(iter_batches(total, batch_size))
    n_outputs = None
    segment, offset = 0, 0  # position in segments: the next row to predict
    for window in _with_progress_bar(windows, progress_bar):
        pieces, n_rows = [], window.stop - window.start
        while n_rows:
            nb, start, stop = segments[segment]
            take = min(n_rows, stop - start - offset)
            pieces.append((nb, start + offset, start + offset + take))
            n_rows -= take
            offset += take
            if start + offset == stop:
                segment, offset = segment + 1, 0
        batch = join_batches([nb.inputs(slice(a, b)) for nb, a, b in _contiguous(pieces)])
        if to_model_input is not None:
            batch = to_model_input(batch)
        output = check_model_output(predict_fn(batch), window.stop - window.start, mode, argument, n_outputs)
        if n_outputs is None:
            n_outputs = output.shape[1]
            for nb in neighbourhoods:
                nb.outputs = np.empty((nb.n_samples, n_outputs))
            if check_first is not None:
                check_first(output)
        row = 0
        for nb, a, b in pieces:
            outputs = nb.outputs
            assert outputs is not None  # allocated on the first batch, above
            outputs[a:b] = output[row : row + b - a]
            row += b - a
    return len(windows)
