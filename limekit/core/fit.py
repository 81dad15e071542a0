"""The fit stage: kernel weights -> feature selection -> one surrogate per label.

:func:`fit_local_models` is what every frontend reaches once the model has
answered on a :class:`~limekit.core.neighbourhood.Neighbourhood`.  lime's
``LimeBase`` wrapper around it lives in :mod:`limekit.compat.lime_base`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import scipy.sparse as sp

from .._threads import limited_blas_threads
from .._validation import bad_value, check_int
from ..surrogates import BaseSurrogate, ConstantSurrogate, make_surrogate
from ..weighted import WeightedDesign, weighted_mean_abs_deviation
from .neighbourhood import Neighbourhood, OriginalSpace
from .selection import resolve_method, select_features

__all__ = ["FitSpec", "LocalFit", "fit_spec", "fit_local_models", "OriginalSpace", "Neighbourhood"]


@dataclass(frozen=True)
class FitSpec:
    """How to fit the surrogates of one explanation.

    Attributes
    ----------
    template : BaseSurrogate
        Unfitted surrogate, copied for every label.
    task : {'regression', 'classification'}
        Fit ``outputs[:, label]`` (lime) or classify the black box's label
        ``argmax(outputs) == label`` (needs class probabilities).
    num_features : int
        Most features in each explanation.
    feature_selection : str
        See :mod:`limekit.core.selection`.  Linear surrogates only: additive
        surrogates are fitted on every feature and list the ``num_features``
        largest ``|f_j(x_j)|``.
    verbose : bool
        Print the intercept, the surrogate's and the model's prediction (as lime).
    shape_points : int
        Grid size of the shape functions of additive surrogates on continuous
        columns (columns with fewer distinct values use those values).
    """

    template: BaseSurrogate
    task: str = "regression"
    num_features: int = 10
    feature_selection: str = "auto"
    verbose: bool = False
    shape_points: int = 50


def fit_spec(
    num_features: int,
    feature_selection: str = "auto",
    surrogate: str | BaseSurrogate | None = "ridge",
    model_regressor: Any = None,
    surrogate_task: str = "regression",
    verbose: bool = False,
    shape_points: int = 50,
) -> FitSpec:
    """Validate the fit arguments and return a :class:`FitSpec`.

    ``surrogate`` and ``model_regressor`` are resolved by
    :func:`limekit.surrogates.make_surrogate` (``model_regressor`` wins).
    """
    num_features = check_int(num_features, "num_features", minimum=1)
    resolve_method(feature_selection, num_features)
    template = make_surrogate(surrogate, model_regressor, surrogate_task)
    return FitSpec(
        template,
        surrogate_task,
        num_features,
        feature_selection,
        bool(verbose),
        check_int(shape_points, "shape_points", minimum=2),
    )


@dataclass
class LocalFit:
    """One label's local surrogate and its explanation terms.

    Attributes
    ----------
    label : int
    intercept : float
    local_exp : list of (int, float)
        ``(feature id, weight)`` sorted by decreasing ``|weight|``: linear
        surrogates give coefficients, additive ones the contribution
        ``f_j(x_j)`` at the instance (at most ``num_features`` of them).
    score : float
        Weighted R^2 of the surrogate on the data it was fitted on (lime's
        ``score``; for classifier surrogates, of its probability against the 0/1 target).
    local_pred : ndarray of shape (1,)
        The surrogate's prediction at the instance (row 0); its probability for classifiers.
    used_features : ndarray of int
        Columns of the fitting data the surrogate uses (all of them for additive surrogates).
    surrogate : BaseSurrogate
        The fitted surrogate.
    local_decision : float
        ``intercept + sum of every term`` at the instance: the prediction
        (regression) or the logit (classification).
    task : {'regression', 'classification'}
    feature_space : {'interpretable', 'original'}
        What the surrogate was fitted on.
    feature_ids : ndarray of int
        Feature id of each used column.
    importance : dict of int -> float
        Per feature id, the kernel-weighted mean over the fitting
        perturbations of ``|contribution - its weighted mean|``.
    shape_functions : dict of int -> (ndarray, ndarray) or None
        Additive surrogates: per feature id, ``(grid, f_j(grid))`` over the
        perturbations' range.
    """

    label: int
    intercept: float
    local_exp: list
    score: float
    local_pred: np.ndarray
    used_features: np.ndarray
    surrogate: BaseSurrogate = field(repr=False)
    local_decision: float = float("nan")
    task: str = "regression"
    feature_space: str = "interpretable"
    feature_ids: np.ndarray | None = None
    importance: dict | None = field(default=None, repr=False)
    shape_functions: dict | None = field(default=None, repr=False)
    fitted_decision: np.ndarray | None = field(default=None, repr=False)
    """The decision on the fitting rows, when the fit computed it (linear fits from a design);
    :func:`limekit.core.explain.fit_explanation` reads it for the in-sample fidelity and drops it."""


def fit_local_models(
    neighbourhood: Neighbourhood,
    labels: Iterable[int],
    spec: FitSpec,
    *,
    weights: np.ndarray | None = None,
    terms_only: bool = False,
    design: WeightedDesign | None = None,
    selected: dict[int, np.ndarray] | None = None,
) -> dict[int, LocalFit]:
    """Fit one surrogate per label on a neighbourhood's perturbations.

    Parameters
    ----------
    neighbourhood : Neighbourhood
        With its ``weights`` and ``outputs`` set; row 0 is the explained instance.
    labels : iterable of int
        Output columns to explain.
    spec : FitSpec
    weights : ndarray of shape (n_samples,) or None
        Weights to fit with instead of the neighbourhood's (the stability refits).
    design : WeightedDesign or None
        The weighted interpretable rows, when the caller has them already
        (linear surrogates; ignored with ``weights``).
    selected : dict of int -> ndarray or None
        Per label, the columns feature selection picks on ``design``, when
        already known (used with ``design`` only).
    terms_only : bool, default=False
        Skip the importances and shape functions (left None): the refits of
        :func:`limekit.core.stability.bootstrap_stability` need the terms only.
        When every positively weighted perturbation has the same label, a
        classification surrogate is a constant
        (:class:`~limekit.surrogates.ConstantSurrogate`, all weights 0).

    Returns
    -------
    dict of int -> LocalFit
    """
    weights = neighbourhood.weights if weights is None else np.asarray(weights, dtype=float)
    assert weights is not None, "the neighbourhood's kernel weights are set before the fit"
    outputs = np.asarray(neighbourhood.outputs, dtype=float)
    template = spec.template
    if spec.task == "classification" and (outputs.ndim != 2 or outputs.shape[1] < 2):
        raise bad_value(
            "surrogate_task",
            "'regression' for a model with one output (regression mode)",
            repr(spec.task),
            "Classification surrogates fit the black box's argmax label.",
        )
    original = neighbourhood.original
    in_original = template.feature_space == "original" and original is not None
    if in_original:
        assert original is not None  # in_original says so
        data = original.X
        ids = np.arange(data.shape[1]) if original.feature_ids is None else np.asarray(original.feature_ids)
        categorical = list(original.categorical_features)
        template = copy.deepcopy(template)  # leave the caller's surrogate object as it was
        template.set_categorical_features(categorical)
        # the shape functions' grids in the user's units (OriginalSpace types it object: a callable or None)
        display = cast("Callable[..., Any] | None", original.display)
    else:
        data = neighbourhood.Z
        ids = neighbourhood.column_ids()
        categorical = []
        display = None
    space = "original" if in_original else "interpretable"
    fits = {}
    with limited_blas_threads(data.shape[1]):
        if template.additive:
            design = None
        elif design is None or weights is not neighbourhood.weights or in_original:
            design, selected = WeightedDesign(data, weights), None
        first_row = data[0:1]
        grids = _shape_grids(data, categorical, spec.shape_points) if template.additive and not terms_only else None
        black_box_labels = np.argmax(outputs, axis=1) if spec.task == "classification" else None
        column_spread = None  # every column's weighted mean absolute deviation, for linear terms
        for label in labels:
            y = (black_box_labels == label).astype(float) if black_box_labels is not None else outputs[:, label]
            model = template.fresh_copy()
            if template.additive:
                used = np.arange(data.shape[1])
            else:
                assert design is not None  # made above for every linear surrogate
                used = (
                    selected[label]
                    if selected and label in selected
                    else select_features(design, y, spec.num_features, spec.feature_selection)
                )
            rows = data if template.additive else None  # the used columns, copied only when needed
            fitted_decision = None
            if spec.task == "classification" and _single_class(y, weights):
                rows = data[:, used]
                model = ConstantSurrogate(y[weights > 0][0], template)
                model.fit(rows, y, weights)
                score = model.score(rows, y, weights)
            elif template.additive:
                model.fit(rows, y, weights)
                score = model.score(rows, y, weights)
            else:
                score, fitted_decision = model.fit_design_decision(design, y, used)
            first = first_row[:, used]
            local_pred = np.atleast_1d(model.predict(first)).astype(float)
            local_decision = float(np.ravel(model.decision_function(first))[0])
            intercept, terms = model.local_weights(first)
            terms = np.asarray(terms, dtype=float)
            used_ids = ids[used]
            order = np.argsort(-np.abs(terms), kind="stable")
            if template.additive:
                order = order[: spec.num_features]
            importance, shapes = None, None
            if not terms_only:
                if _linear_terms(model) and not sp.issparse(data) and data.shape[1] <= max(64, 4 * len(used)):
                    # terms z_j * w_j: their spread is |w_j| times the column's, computed once for every label
                    if column_spread is None:
                        column_spread = weighted_mean_abs_deviation(
                            data, weights, binary=neighbourhood.binary and not in_original
                        )
                    spread = np.abs(terms) * column_spread[used]
                else:
                    rows = data[:, used] if rows is None else rows
                    spread = weighted_mean_abs_deviation(model.contributions(rows), weights)
                importance = dict(zip(used_ids.tolist(), spread.tolist()))
            if grids is not None and not isinstance(model, ConstantSurrogate):
                shapes = _shape_functions(model, grids, used_ids, display)
            if spec.verbose:
                print("Intercept", intercept)
                print("Prediction_local", local_pred)
                print("Right:", outputs[0, label])
            fits[label] = LocalFit(
                label=int(label),
                intercept=float(intercept),
                local_exp=[(int(used_ids[i]), float(terms[i])) for i in order],
                score=float(score),
                local_pred=local_pred,
                used_features=np.asarray(used),
                surrogate=model,
                local_decision=local_decision,
                task=spec.task,
                feature_space=space,
                feature_ids=used_ids,
                importance=importance,
                shape_functions=shapes,
                fitted_decision=fitted_decision,
            )
    return fits


def _linear_terms(model: BaseSurrogate) -> bool:
    """True when the model's terms are ``z_j * w_j`` (the base class's linear contributions)."""
    return not model.additive and type(model).contributions is BaseSurrogate.contributions


def _single_class(y: np.ndarray, weights: np.ndarray) -> bool:
    """True when every positively weighted row has the same 0/1 target."""
    y = y[weights > 0]
    return y.size == 0 or bool(np.all(y == y[0]))


def _shape_grids(data: Any, categorical: Iterable[int], n_points: int) -> list[np.ndarray]:  # dense or sparse
    """Per column: the sorted distinct values (categorical or few values) or ``n_points`` evenly spaced."""
    if sp.issparse(data):
        data = data.toarray()
    n_points = check_int(n_points, "shape_points", minimum=2)
    categorical = set(categorical)
    grids = []
    for column in range(data.shape[1]):
        values = data[:, column]
        distinct = np.unique(values)
        if column in categorical or distinct.size <= n_points:
            grids.append(distinct)
        else:
            grids.append(np.linspace(distinct[0], distinct[-1], n_points))
    return grids


def _shape_functions(
    model: BaseSurrogate, grids: list[np.ndarray], ids: np.ndarray, display: Callable[..., Any] | None
) -> dict[int, tuple[Any, np.ndarray]]:
    """Evaluate every shape function at once: one row per grid point, each column on its own grid.

    Valid for models without interactions (each column's contribution depends
    on that column only); shorter grids are padded with their last value.
    """
    length = max(len(g) for g in grids)
    X = np.column_stack([np.concatenate([g, np.full(length - len(g), g[-1])]) for g in grids])
    values = np.asarray(model.contributions(X), dtype=float)
    shapes = {}
    for column, grid in enumerate(grids):
        shown = display(column, grid) if display is not None else grid
        shapes[int(ids[column])] = (shown, values[: len(grid), column].copy())
    return shapes
