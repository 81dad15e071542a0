"""How faithfully a fitted surrogate follows the black box: the modality-free part.

A surrogate is only worth reading if it reproduces the black box around the
instance.  :func:`evaluate_fidelity` scores fitted surrogates on a sample of
perturbations (rows, black-box outputs, kernel weights) with

``r2``
    Kernel-weighted R^2 of the surrogate's prediction (its probability for a
    classifier surrogate) against the black box's output for the label.
``auc``, ``accuracy``
    Against the black box's *label*: positive when ``argmax(outputs) ==
    label``.  The surrogate's score is its decision value; it says
    "positive" when its prediction exceeds 0.5 (regression surrogates, which
    predict the probability) or its logit exceeds 0 (classifier surrogates).
    Kernel-weighted, as the fit; ``auc_unweighted`` and
    ``accuracy_unweighted`` count every perturbation alike (the paper's
    tables).  None when the sample holds one class only, and for regression
    black boxes.

Scoring on the perturbations the surrogate was fitted on flatters it
(``fidelity_in_sample``); a fresh sample drawn the same way
(``fidelity``) does not.  The held-out sample is a second
:class:`~limekit.core.neighbourhood.Neighbourhood` of the same instance, drawn
by the same sampler with its own generator and predicted in the same model
calls as the fitting sample (see :mod:`limekit.core.frontend`).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from .._validation import bad_type, bad_value
from ..weighted import sorted_auc, weighted_auc, weighted_r2

if TYPE_CHECKING:
    from .fit import LocalFit
    from .neighbourhood import Neighbourhood

__all__ = [
    "resolve_fidelity_samples",
    "black_box_labels",
    "weighted_auc",
    "fidelity_scores",
    "evaluate_fidelity",
    "surrogate_rows",
]

FIDELITY_CAP = 1000


def resolve_fidelity_samples(fidelity_samples: Any, num_samples: int, default_on: bool = True) -> int:
    """Number of held-out perturbations for ``fidelity_samples``.

    Parameters
    ----------
    fidelity_samples : 'auto' or int >= 0
        ``'auto'``: 20% of ``num_samples``, at most 1000 (0 when
        ``default_on`` is False); an int is used as is; 0 skips.
    num_samples : int
    default_on : bool
        What ``'auto'`` does (a frontend may keep lime's exact model-call
        count for lime's own configuration).

    Returns
    -------
    int
    """
    if isinstance(fidelity_samples, str):
        if fidelity_samples != "auto":
            raise bad_value("fidelity_samples", "'auto' or an integer >= 0", repr(fidelity_samples))
        return min(FIDELITY_CAP, max(num_samples // 5, 1)) if default_on else 0
    if isinstance(fidelity_samples, bool) or not isinstance(fidelity_samples, numbers.Integral):
        raise bad_type("fidelity_samples", "'auto' or an integer >= 0", fidelity_samples)
    if fidelity_samples < 0:
        raise bad_value("fidelity_samples", "'auto' or an integer >= 0", fidelity_samples)
    return int(fidelity_samples)


def black_box_labels(outputs: np.ndarray, label: int) -> np.ndarray | None:
    """The black box's label indicator ``argmax(outputs, axis=1) == label``; None for one output column."""
    outputs = np.asarray(outputs)
    if outputs.ndim != 2 or outputs.shape[1] < 2:
        return None
    return np.argmax(outputs, axis=1) == label


def fidelity_scores(
    target: np.ndarray,
    positive: np.ndarray | None,
    prediction: np.ndarray,
    decision: np.ndarray,
    weights: np.ndarray,
    threshold: float,
    r2: float | None = None,
) -> dict[str, Any]:
    """Fidelity of one surrogate on one sample.

    Parameters
    ----------
    target : ndarray of shape (n,)
        Black-box output for the label.
    positive : ndarray of bool of shape (n,) or None
        Black-box label indicator (None: no AUC / accuracy).
    prediction : ndarray of shape (n,)
        Surrogate prediction on the output scale (probability for classifiers).
    decision : ndarray of shape (n,)
        Surrogate decision value (the ranking score).
    weights : ndarray of shape (n,)
    threshold : float
        ``decision > threshold`` means "positive" (0.5 for regression
        surrogates, 0 for classifier logits).
    r2 : float or None
        The weighted R^2, when the caller has it (the fit's own score on its
        fitting sample).

    Returns
    -------
    dict
        ``r2, auc, accuracy, auc_unweighted, accuracy_unweighted, n_samples,
        effective_sample_size``.
    """
    weights = np.asarray(weights, dtype=float)
    total = weights.sum()
    if r2 is None and total > 0:
        r2 = weighted_r2(target, prediction, weights)  # scale-free: outputs near 1e300 are scaled first
    out = {
        "r2": float(r2) if total > 0 and r2 is not None else None,
        "auc": None,
        "accuracy": None,
        "auc_unweighted": None,
        "accuracy_unweighted": None,
        "n_samples": int(weights.shape[0]),
        "effective_sample_size": float(total * total / (weights @ weights)) if total > 0 else 0.0,
    }
    if positive is not None:
        positive = np.asarray(positive, dtype=bool)
        decision = np.asarray(decision, dtype=float)
        correct = (decision > threshold) == positive
        order = np.argsort(decision)  # one sort for both AUCs
        sorted_positive, sorted_decision = positive[order], decision[order]
        out["auc"] = sorted_auc(sorted_positive, sorted_decision, weights[order]) if total > 0 else None
        out["auc_unweighted"] = sorted_auc(sorted_positive, sorted_decision, None)
        out["accuracy"] = float(weights @ correct / total) if total > 0 else None
        out["accuracy_unweighted"] = np.count_nonzero(correct) / correct.size  # the mean, without a float pass
    return out


def surrogate_rows(fit: LocalFit, sample: Neighbourhood) -> Any:
    """The rows of ``sample`` (a Neighbourhood) in the representation ``fit`` was trained on (its used columns)."""
    original = sample.original
    data = original.X if fit.feature_space == "original" and original is not None else sample.Z
    used = np.asarray(fit.used_features)
    if used.size == data.shape[1] and np.array_equal(used, np.arange(data.shape[1])):
        return data
    return data[:, used]


def evaluate_fidelity(
    fits: Mapping[int, LocalFit], sample: Neighbourhood, fitting_sample: bool = False
) -> dict[int, dict[str, Any]]:
    """Fidelity of every fitted label's surrogate on ``sample``.

    Parameters
    ----------
    fits : dict of int -> LocalFit
        From :func:`~limekit.core.fit.fit_local_models`.
    sample : Neighbourhood
        Perturbations with their outputs and weights: the fitting sample or
        a held-out one.
    fitting_sample : bool, default=False
        ``sample`` is the one the surrogates were fitted on: a fit's
        ``fitted_decision``, when it has one, is its decision there.

    Returns
    -------
    dict of int -> dict
        Per label, the dictionary of :func:`fidelity_scores`.
    """
    outputs, weights = sample.outputs, sample.weights
    assert outputs is not None and weights is not None  # a scored, weighted sample
    report = {}
    for label, fit in fits.items():
        model = fit.surrogate
        r2 = None
        if fitting_sample and fit.fitted_decision is not None:
            decision = fit.fitted_decision
            r2 = fit.score if fit.task == "regression" else None  # the fit's weighted R^2 on these rows
        else:
            rows = surrogate_rows(fit, sample)
            if sp.issparse(rows) and fit.feature_space == "original":
                rows = rows.toarray()
            decision = np.asarray(model.decision_function(rows), dtype=float).ravel()
        if fit.task == "classification":
            prediction = 1.0 / (1.0 + np.exp(-decision))
            threshold = 0.0
        else:
            prediction = decision
            threshold = 0.5
        report[int(label)] = fidelity_scores(
            outputs[:, label],
            black_box_labels(outputs, label),
            prediction,
            decision,
            weights,
            threshold,
            r2=r2,
        )
    return report
