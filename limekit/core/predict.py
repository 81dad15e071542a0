"""The black box's outputs checked, batches laid out, and the labels to explain resolved."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .._validation import bad_type, bad_value

__all__ = ["check_model_output", "iter_batches", "resolve_labels"]


def check_model_output(
    output: Any, n_rows: int, mode: str, argument: str = "predict_fn", n_outputs: int | None = None
) -> np.ndarray:
    """Check what the black box returned and give it back as a 2-D float array.

    Parameters
    ----------
    output : array-like
        What the model returned for ``n_rows`` inputs.
    n_rows : int
        How many inputs it was given.
    mode : {'classification', 'regression'}
        Classification needs one probability column per class (at least two);
        regression needs one value per row, as (n,) or (n, 1).
    argument : str
        The user-facing name of the model function, for error messages.
    n_outputs : int or None
        The number of columns seen on an earlier batch, which every batch must match.

    Returns
    -------
    output : ndarray of shape (n_rows, n_outputs)
    """
    try:
        array = np.asarray(output, dtype=float)
    except (TypeError, ValueError) as exc:
        raise bad_type(argument, "a function returning a numeric array", output) from exc
    if mode == "classification":
        if array.ndim != 2 or array.shape[0] != n_rows:
            raise bad_value(
                argument,
                f"class probabilities of shape ({n_rows}, n_classes)",
                f"shape {array.shape}",
                "Pass a predict_proba-like function, not predict (labels) or decision_function.",
            )
        if array.shape[1] < 2:
            raise bad_value(
                argument,
                "one probability column per class (at least 2 columns) in classification mode",
                f"shape {array.shape}",
                "For a model with one sigmoid output, return np.column_stack([1 - p, p]); "
                "for a regressor use mode='regression'.",
            )
    else:
        if array.ndim == 2 and array.shape[1] == 1:
            array = array[:, 0]
        if array.ndim != 1 or array.shape[0] != n_rows:
            raise bad_value(argument, f"one value per row, shape ({n_rows},)", f"shape {array.shape}")
        array = array[:, None]
    if not np.isfinite(array).all():
        raise bad_value(argument, "finite outputs", f"{int((~np.isfinite(array)).sum())} NaN or infinite value(s)")
    if n_outputs is not None and array.shape[1] != n_outputs:
        raise bad_value(argument, f"{n_outputs} output columns on every batch", f"{array.shape[1]}")
    if mode == "classification":
        if array.min() < -1e-6 or array.max() > 1 + 1e-6:
            raise bad_value(
                argument,
                "probabilities in [0, 1] in classification mode",
                f"values in [{array.min():.4g}, {array.max():.4g}]",
                "Apply a softmax, or use predict_proba instead of decision_function.",
            )
        sums = array @ np.ones(array.shape[1])  # a matrix-vector product: numpy's row sums are slow on few columns
        if not np.abs(sums - 1.0).max(initial=0.0) <= 1e-4:
            warnings.warn(
                f"{argument}: the prediction probabilities do not sum to 1 "
                f"(row sums in [{sums.min():.4g}, {sums.max():.4g}]); each column is explained on its own.",
                UserWarning,
                stacklevel=3,
            )
    return array


def iter_batches(n_rows: int, batch_size: int | None) -> Iterator[slice]:
    """Yield ``slice`` objects covering ``range(n_rows)`` in chunks of ``batch_size``."""
    step = n_rows if not batch_size else int(batch_size)
    for start in range(0, n_rows, max(step, 1)):
        yield slice(start, min(start + step, n_rows))


def resolve_labels(
    instance_output: np.ndarray,
    mode: str,
    labels: Any,
    top_labels: int | None,
    class_names: Sequence[str] | None = None,
    cap_top_labels: bool = False,
) -> Any:
    """The labels to explain, checked against the model's output for the instance.

    Parameters
    ----------
    instance_output : ndarray of shape (1, n_outputs)
    mode : {'classification', 'regression'}
    labels : list of int or None
        Requested labels (ignored with ``top_labels`` or in regression).
        None: the predicted class (``argmax`` of the instance's output) when
        the model has more than two classes, ``[1]`` for a binary model.
    top_labels : int or None
        Explain the ``top_labels`` most probable classes instead.
    class_names : list or None
        Must name every class when given.
    cap_top_labels : bool, default=False
        Take all classes when ``top_labels`` exceeds them (lime's image
        default of 5 on a binary model) instead of raising.

    Returns
    -------
    labels : list of int
        Most probable first when ``top_labels`` is used.
    """
    if mode != "classification":
        return labels
    n_outputs = instance_output.shape[1]
    if top_labels is not None:
        if top_labels > n_outputs and not cap_top_labels:
            raise bad_value("top_labels", f"at most the model's {n_outputs} classes", top_labels)
        return [int(x) for x in np.argsort(instance_output[0], kind="stable")[::-1][:top_labels]]
    if labels is None:
        labels = [int(np.argmax(instance_output[0]))] if n_outputs > 2 else [1]
    bad = [label for label in labels if not 0 <= label < n_outputs]
    if bad:
        raise bad_value("labels", f"class indices in [0, {n_outputs - 1}] (the model outputs {n_outputs} classes)", bad)
    if class_names is not None and len(class_names) != n_outputs:
        raise bad_value("class_names", f"{n_outputs} names (the model's classes)", len(class_names))
    return labels
