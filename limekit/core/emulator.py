"""Fewer model rows for the same stability: an emulator of the black box as a control variate.

LIME's linear explanation is the weighted least-squares fit of the model's
output ``f`` on the interpretable rows ``Z``.  Its sampling error comes from
the part of ``f`` the linear fit leaves over, and on tabular data most of it
is noise to the estimate: the values drawn inside each bin vary between
perturbations with the same interpretable row (``benchmarks/bench_stability.py
--tasks variance`` measures the share of the weighted residual they carry).
A cheap model of the black box (the emulator ``g``, a gradient-boosted
regression tree ensemble fitted on the perturbations already predicted)
follows much of that variation, and its own linear fit can be taken from as
many cheap perturbations as wanted: only the emulator is asked about them.

``variance_reduction='emulator'`` fits the explanation on the adjusted target

    y~ = y - g(x) + (a + Z b),    (a, b) = the weighted linear fit of g on N cheap perturbations,

that is, the model's output less the part of the emulator a linear fit
cannot follow.  Because ``g(x) - (a + Z b)`` is, over the sampling
distribution, orthogonal to every column of ``Z`` and to the constant, the fit
of ``y~`` on any subset of the columns has the expectation of the fit of
``y`` on it (lime's estimand, feature selection included); only its variance
is smaller.  Cross-fitting keeps it so: the rows are split in ``FOLDS`` folds
and each fold's ``g`` is fitted on the other folds' rows only.  The sampling
test and its sandwich covariance then read the adjusted target's residuals,
plus the cheap fit's own sampling error.  ``benchmarks/bench_stability.py``
measures how much of the coefficients' variance it removes (``--tasks
variance``) and how many more explanations ``num_samples='auto'`` then
converges (docs/benchmarks.md gives the figures).

It costs ``FOLDS`` tree-ensemble fits per round and label and the emulator's
predictions on ``N`` cheap rows: worth it when the black box is slow (a
transformer, a large ensemble), not for a model that answers 5,000 rows in a
few milliseconds.  With ``explain_many(..., share_samples=True)`` the
instances of a task read one pool of perturbations, so one set of emulators
(:func:`fit_emulators`, on the pool) and one set of cheap rows serve them
all; each instance takes its own linear fit of them
(:func:`adjusted_targets`), its own row predicted by the mean of the folds'
emulators, none of which was fitted on it.

The emulator sees the model's own input rows where the frontend has them
(tabular data: standardised values and category codes) and the binary
interpretable rows otherwise (text, images), where the model's input is a
function of them.  scikit-learn's ``HistGradientBoostingRegressor`` is the
emulator: no code of our own where the field's estimator fits.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import scipy.sparse as sp

from .._threads import limited_openmp_threads
from .._validation import bad_value
from ..weighted import WeightedDesign, weighted_r2

if TYPE_CHECKING:
    from .neighbourhood import Neighbourhood

__all__ = [
    "VARIANCE_REDUCTIONS",
    "EMULATOR_FLOOR_SECONDS",
    "check_variance_reduction",
    "VarianceChoice",
    "choose_emulator",
    "emulator_targets",
    "cheap_sample_size",
    "EmulatorFit",
    "fit_emulators",
    "adjusted_targets",
    "pool_targets",
    "EmulatedTargets",
]

VARIANCE_REDUCTIONS = (None, "emulator", "auto")
EMULATOR_FLOOR_SECONDS = 0.05  # 'auto': an emulator round (2 folds of 100 iterations, 20,000 cheap rows) costs more
FOLDS = 2  # cross-fitting folds: each fold's emulator is fitted on the others
EMULATOR_ITERATIONS = 100  # boosting iterations of each emulator
CHEAP_PER_ROW = 20  # cheap perturbations per predicted one ...
CHEAP_MIN, CHEAP_MAX = 20_000, 200_000  # ... within these bounds ...
CHEAP_MAX_CELLS = 20_000_000  # ... and of at most this many values (wide text rows get fewer)


class EmulatedTargets(NamedTuple):
    """What the emulators give one instance (see :func:`emulator_targets` for each field)."""

    targets: np.ndarray
    r2: dict
    covariance: dict


def check_variance_reduction(value: object) -> str | None:
    """Validate ``variance_reduction``: None, 'emulator' or 'auto'."""
    if value is None or (isinstance(value, str) and value in ("emulator", "auto")):
        return value
    raise bad_value("variance_reduction", "None, 'emulator' or 'auto'", repr(value))


@dataclass(frozen=True)
class VarianceChoice:
    """What ``variance_reduction='auto'`` measured and chose for one explanation (``diagnostics['sampling']``).

    Attributes
    ----------
    model_seconds_per_row : float
        The model's measured time per row (the first round's calls over its rows).
    emulator_seconds : float or None
        The measured time of one emulator round (None: not tried, the model is too fast for any emulator).
    emulator_r2 : float or None
        The emulators' out-of-fold R^2 on the model's outputs (the worst label's).
    chosen : 'emulator' or None
    """

    model_seconds_per_row: float
    emulator_seconds: float | None = None
    emulator_r2: float | None = None
    chosen: str | None = None

    def record(self) -> dict[str, Any]:
        """The choice and why, without the timings (so that a fast model's record depends on the seed alone)."""
        if self.emulator_seconds is None:
            reason = "the model is faster than any emulator round"
        elif self.chosen:
            reason = "an emulator round costs less than the model rows it saves"
        else:
            reason = "an emulator round costs more than the model rows it saves"
        return {"chosen": self.chosen, "reason": reason}


def choose_emulator(
    model_seconds_per_row: float, n_rows: int, fit: Callable[[], EmulatedTargets]
) -> tuple[EmulatedTargets | None, VarianceChoice]:
    """``variance_reduction='auto'``: the emulator when it pays, from measured cost.

    A model whose ``n_rows`` take less than ``EMULATOR_FLOOR_SECONDS`` (an
    emulator round never costs less) gets none, untried.  Otherwise one
    emulator round is fitted (``fit()``) and timed: it is kept when it costs
    less than the model rows it saves, estimated as its out-of-fold R^2 times
    the ``n_rows`` of a round (the share of the output's variance it takes
    out of the target), and the explanation goes on without it otherwise.

    Returns
    -------
    emulated : EmulatedTargets or None
        The round's adjusted targets when the emulator is kept.
    choice : VarianceChoice
    """
    if model_seconds_per_row * n_rows < EMULATOR_FLOOR_SECONDS:
        return None, VarianceChoice(model_seconds_per_row)
    start = time.perf_counter()
    emulated = fit()
    seconds = time.perf_counter() - start
    r2 = min(emulated.r2.values(), default=0.0)
    pays = seconds < model_seconds_per_row * n_rows * max(r2, 0.0)
    return (emulated if pays else None), VarianceChoice(
        model_seconds_per_row, seconds, float(r2), "emulator" if pays else None
    )


def cheap_sample_size(n_samples: int, n_columns: int) -> int:
    """Cheap perturbations (emulator only) that go with ``n_samples`` predicted ones of ``n_columns`` columns.

    The emulator's linear fit on them has a sampling error of its own, about
    ``n_samples / cheap`` of lime's variance; the test counts it.
    """
    wanted = min(CHEAP_MAX, max(CHEAP_MIN, CHEAP_PER_ROW * n_samples))
    return int(max(min(wanted, CHEAP_MAX_CELLS // max(n_columns, 1)), n_samples))


def emulator_rows(neighbourhood: Neighbourhood) -> np.ndarray:
    """What the emulator reads: the model-space rows when the frontend has them, else the interpretable rows."""
    rows: Any = neighbourhood.Z if neighbourhood.original is None else neighbourhood.original.X
    return rows.toarray() if sp.issparse(rows) else np.asarray(rows, dtype=float)


def emulator_targets(
    neighbourhood: Neighbourhood, labels: list[int], cheap: Neighbourhood, rng: np.random.Generator
) -> EmulatedTargets:
    """The adjusted regression targets of ``labels`` (see the module), and the emulators' fidelity.

    Parameters
    ----------
    neighbourhood : Neighbourhood
        The predicted perturbations, with weights and outputs.
    labels : list of int
        Output columns to adjust.
    cheap : Neighbourhood
        Fresh perturbations of the same instance, with weights and no outputs.
    rng : numpy.random.Generator
        Draws the folds and seeds the emulators.

    Returns
    -------
    targets : ndarray of shape (n_samples, n_outputs)
        A copy of the outputs with the columns of ``labels`` adjusted.
    r2 : dict of int -> float
        Per label, the weighted out-of-fold R^2 of the emulator on the model's outputs.
    covariance : dict of int -> ndarray of shape (n_features, n_features)
        Per label, the sampling covariance of the emulator's linear fit on
        the cheap rows (sandwich form): the sampling test adds it, since the
        adjusted target carries that fit's error into every row.
    """
    assert neighbourhood.weights is not None  # the template weights the sample before any verdict
    outputs = np.asarray(neighbourhood.outputs, dtype=float)
    fitted = fit_emulators(emulator_rows(neighbourhood), outputs, labels, emulator_rows(cheap), rng)
    assert cheap.weights is not None  # weighted when scored
    return adjusted_targets(
        neighbourhood.Z,
        neighbourhood.weights,
        outputs,
        labels,
        fitted.fold,
        fitted.emulated,
        fitted.on_cheap,
        WeightedDesign(cheap.Z, cheap.weights),
    )


@dataclass
class EmulatorFit:
    """Cross-fitted emulators' predictions (see :func:`fit_emulators`).

    Attributes
    ----------
    fold : ndarray of int, shape (n_rows,)
        The fold of each row they were fitted on (its emulator was fitted on the others).
    emulated : dict of int -> ndarray of shape (n_rows,)
        Per label, each row's out-of-fold prediction.
    on_cheap : dict of int -> ndarray of shape (FOLDS, n_cheap)
        Per label, every fold's emulator on the cheap rows.
    on_extra : dict of int -> ndarray of shape (FOLDS, n_extra)
        Per label, every fold's emulator on rows none of them was fitted on.
    """

    fold: np.ndarray
    emulated: dict
    on_cheap: dict
    on_extra: dict


def fit_emulators(
    X: np.ndarray,
    outputs: np.ndarray,
    labels: list[int],
    X_cheap: np.ndarray,
    rng: np.random.Generator,
    X_extra: np.ndarray | None = None,
) -> EmulatorFit:
    """Fit ``FOLDS`` cross-fitted emulators per label on ``X``; predict the rows, the cheap rows and ``X_extra``.

    Fits and predictions run under :func:`~limekit._threads.limited_openmp_threads`
    (one OpenMP thread unless ``LIMEKIT_OMP_THREADS`` says otherwise).
    """
    from sklearn.ensemble import HistGradientBoostingRegressor

    n = X.shape[0]
    fold = rng.permutation(np.arange(n) % FOLDS)
    seeds = rng.integers(0, 2**31 - 1, size=(len(labels), FOLDS))
    emulated, on_cheap, on_extra = {}, {}, {}
    with limited_openmp_threads():  # its OpenMP threads would oversubscribe a machine running several processes
        for i, label in enumerate(labels):
            y = outputs[:, label]
            emulated[label] = np.empty(n)
            on_cheap[label] = np.empty((FOLDS, X_cheap.shape[0]))
            on_extra[label] = np.empty((FOLDS, 0 if X_extra is None else X_extra.shape[0]))
            for k in range(FOLDS):
                held = fold == k
                emulator = HistGradientBoostingRegressor(
                    max_iter=EMULATOR_ITERATIONS, early_stopping=False, random_state=int(seeds[i, k])
                )
                emulator.fit(X[~held], y[~held])
                emulated[label][held] = emulator.predict(X[held])
                on_cheap[label][k] = emulator.predict(X_cheap)
                if X_extra is not None:
                    on_extra[label][k] = emulator.predict(X_extra)
    return EmulatorFit(fold, emulated, on_cheap, on_extra)


def adjusted_targets(
    Z: Any,
    weights: np.ndarray,
    outputs: np.ndarray,
    labels: list[int],
    fold: np.ndarray,
    emulated: dict[int, np.ndarray],
    on_cheap: dict[int, np.ndarray],
    cheap_design: WeightedDesign,
) -> EmulatedTargets:
    """:func:`emulator_targets`'s result from the emulators' predictions.

    Rows of ``fold`` -1 were predicted by the mean of every fold's emulator
    (no emulator was fitted on them) and take the mean of their linear fits.
    ``cheap_design`` is the :class:`~limekit.weighted.WeightedDesign` of the
    cheap rows, weighted for this instance.
    """
    outputs = np.asarray(outputs, dtype=float)
    targets = outputs.copy()
    pseudo_inverse = np.linalg.pinv(cheap_design.gram, hermitian=True)  # minimum norm: collinear columns are fine
    fitted_rows = np.count_nonzero(fold >= 0)
    unfitted = fold < 0
    r2, covariance = {}, {}
    for label in labels:
        y = outputs[:, label]
        pooled: Any = 0.0
        pooled_coef: Any = 0.0  # the folds' emulators on the cheap rows and their fits, by fold share
        mean_linear = np.zeros(np.count_nonzero(unfitted))
        for k in range(FOLDS):
            held = fold == k
            cheap_mean, cross = cheap_design.label_stats(on_cheap[label][k])
            coef = pseudo_inverse @ cross
            offset = cheap_mean - cheap_design.mean @ coef
            linear = np.asarray(Z[held] @ coef).ravel() + offset
            targets[held, label] = y[held] - emulated[label][held] + linear
            if unfitted.any():
                mean_linear += (np.asarray(Z[unfitted] @ coef).ravel() + offset) / FOLDS
            share = np.count_nonzero(held) / fitted_rows
            pooled, pooled_coef = pooled + share * on_cheap[label][k], pooled_coef + share * coef
        if unfitted.any():
            targets[unfitted, label] = y[unfitted] - emulated[label][unfitted] + mean_linear
        pooled_mean, _ = cheap_design.label_stats(pooled)
        covariance[int(label)] = (
            pseudo_inverse @ cheap_design.sandwich_meat(pooled - pooled_mean, pooled_coef) @ pseudo_inverse
        )
        r2[int(label)] = float(weighted_r2(y, emulated[label], weights))
    return EmulatedTargets(targets, r2, covariance)


def pool_targets(
    fitted: EmulatorFit, index: int, neighbourhood: Neighbourhood, labels: list[int], cheap_design: WeightedDesign
) -> EmulatedTargets:
    """One instance's adjusted targets from emulators fitted on a shared pool (``share_samples``).

    ``neighbourhood`` is the instance's view of the pool (its own row first,
    then the pool's rows, on which ``fitted`` was fitted); ``fitted.on_extra``
    holds the folds' predictions of the task's own rows, this instance's at
    column ``index``: its row, on which no emulator was fitted, takes their mean.
    ``cheap_design`` is the cheap rows' design weighted for this instance.
    """
    assert neighbourhood.weights is not None and neighbourhood.outputs is not None  # weighted and scored
    fold = np.concatenate([[-1], fitted.fold])
    emulated = {
        label: np.concatenate([[fitted.on_extra[label][:, index].mean()], fitted.emulated[label]]) for label in labels
    }
    return adjusted_targets(
        neighbourhood.Z,
        neighbourhood.weights,
        neighbourhood.outputs,
        labels,
        fold,
        emulated,
        fitted.on_cheap,
        cheap_design,
    )
