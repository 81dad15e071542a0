"""Checks of GAMINet's parameters and inputs.

Contract: each function returns its argument normalised (a tuple of sizes,
sorted column indices, three epoch limits, a float, a ``torch.device``, a float
array) or raises limekit's ``bad_type`` / ``bad_value`` errors, which name the
argument, what was expected and what came.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp

from ..._validation import bad_type, bad_value, check_int
from ._torch import torch


def _as_dense(X, argument):
    if sp.issparse(X):
        X = X.toarray()
    try:
        X = np.asarray(X, dtype=float)
    except (TypeError, ValueError):
        raise bad_type(argument, "a numeric array-like", X) from None
    return X


def _check_sizes(value, argument):
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise bad_type(argument, "a sequence of positive layer sizes such as (20, 20)", value)
    sizes = tuple(check_int(v, argument, minimum=1) for v in value)
    if not sizes:
        raise bad_value(argument, "at least one hidden layer size", "an empty sequence")
    return sizes


def _check_indices(value, argument):
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise bad_type(argument, "None or a sequence of column indices", value)
    values = list(value)
    if values and all(isinstance(v, (bool, np.bool_)) for v in values):  # boolean mask
        return [i for i, flag in enumerate(values) if flag]
    indices = [check_int(v, argument, minimum=0) for v in values]
    if len(set(indices)) != len(indices):
        raise bad_value(argument, "distinct column indices", values)
    return sorted(indices)


def _check_epochs(value):
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,) * 3
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise bad_type("max_epochs", "an int or a sequence of 3 ints (main, interaction, tuning)", value)
    value = tuple(value)
    if len(value) != 3:
        raise bad_value("max_epochs", "an int or 3 ints (main, interaction, tuning)", f"{len(value)} values")
    return tuple(check_int(v, "max_epochs", minimum=0) for v in value)


def _check_nonnegative(value, argument):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise bad_type(argument, "a non-negative number", value)
    if not (np.isfinite(value) and value >= 0):
        raise bad_value(argument, "a finite number >= 0", value)
    return float(value)


def _check_device(value):
    if isinstance(value, torch.device):
        device = value
    elif isinstance(value, str):
        try:
            device = torch.device(value)
        except RuntimeError:
            raise bad_value("device", "'cpu', 'cuda', 'cuda:N' or a torch.device", repr(value)) from None
    else:
        raise bad_type("device", "'cpu', 'cuda' or a torch.device", value)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise bad_value("device", "an available device", repr(value), "CUDA is not available")
    if device.type not in ("cpu", "cuda"):
        raise bad_value("device", "a 'cpu' or 'cuda' device", repr(value))
    return device
