"""The modality-free core: weights -> feature selection -> surrogate fit.

:func:`fit_local_models` is what every frontend calls once it has the
interpretable data ``Z``, the model outputs and the distances.
:class:`LimeBase` keeps lime's class of the same name (and captum's split of
similarity, representation and interpretable model) for code written against it.
"""
from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from threadpoolctl import ThreadpoolController

from .._validation import bad_value, check_int
from ..surrogates import BaseSurrogate, ConstantSurrogate, make_surrogate
from .design import WeightedDesign
from .kernels import check_weights
from .selection import resolve_method, select_features

__all__ = ["LocalFit", "OriginalSpace", "fit_local_models", "LimeBase", "limited_blas_threads"]

_THREADPOOLS = None


WIDE_DESIGN = 256


def limited_blas_threads(n_features=0):
    """Context manager that runs BLAS on one thread for narrow designs.

    The surrogate fits are usually small (thousands of rows, tens of columns):
    there, BLAS threads cost more in synchronisation than they save (24 ms
    with the default OpenBLAS threads against 1.4 ms with one for a 5000 x 20
    fit).  From ``WIDE_DESIGN`` columns on (a long text's words) the Gram
    matrix is real work and BLAS keeps its threads.
    """
    if n_features >= WIDE_DESIGN:
        return contextlib.nullcontext()
    global _THREADPOOLS
    if _THREADPOOLS is None:
        _THREADPOOLS = ThreadpoolController()
    return _THREADPOOLS.limit(limits=1, user_api="blas")


@dataclass
class OriginalSpace:
    """The perturbations in the frontend's original feature space, for GAM surrogates.

    Surrogates with ``feature_space='original'`` (EBM, GAMI-Net) are fitted
    on these rows instead of the interpretable ``Z`` when a frontend provides
    them (tabular data: continuous features standardised, categorical
    features as integer codes).

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features)
        Row 0 is the instance.
    categorical_features : list of int
        Columns of ``X`` holding category codes (declared to the surrogate).
    feature_ids : ndarray of int or None
        Feature id of each column of ``X`` (identity when None).
    display : callable or None
        ``display(column, grid) -> values``: the grid of a shape function in
        the user's units (undoing the scaling, naming categories).
    """

    X: np.ndarray
    categorical_features: list = field(default_factory=list)
    feature_ids: object = None
    display: object = None


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
    feature_ids: np.ndarray = None
    importance: dict = field(default=None, repr=False)
    shape_functions: dict = field(default=None, repr=False)


def fit_local_models(Z, outputs, weights, labels, num_features, feature_selection="auto", surrogate="ridge",
                     model_regressor=None, feature_ids=None, verbose=False, *, surrogate_task="regression",
                     original=None, shape_points=50, terms_only=False):
    """Fit one surrogate per label on shared perturbations and weights.

    Parameters
    ----------
    Z : ndarray or sparse matrix of shape (n_samples, n_features)
        Interpretable representation; row 0 is the explained instance.
    outputs : ndarray of shape (n_samples, n_outputs)
        The black box's output for every perturbation.
    weights : ndarray of shape (n_samples,)
        Kernel weights.
    labels : iterable of int
        Output columns to explain.
    num_features : int
        Maximum number of features in each explanation.
    feature_selection : str
        See :mod:`limekit.core.selection`.  Linear surrogates only: additive
        surrogates are fitted on every feature and list the ``num_features``
        largest ``|f_j(x_j)|``.
    surrogate : str or BaseSurrogate
        See :func:`limekit.surrogates.make_surrogate`.
    model_regressor : scikit-learn regressor or None
        lime's argument; wins over ``surrogate``.
    feature_ids : ndarray of int or None
        Feature id reported for each column of ``Z`` (identity when None).
    verbose : bool
        Print the intercept, the surrogate's and the model's prediction (as lime).
    surrogate_task : {'regression', 'classification'}, default='regression'
        Fit ``outputs[:, label]`` (lime) or classify the black box's label,
        ``argmax(outputs) == label`` (needs class probabilities); linear
        feature selection then runs on that 0/1 target.  When every
        positively weighted perturbation has the same label the surrogate is
        a constant (:class:`~limekit.surrogates.ConstantSurrogate`, all weights 0).
    original : OriginalSpace or None
        Original-space rows for surrogates with ``feature_space='original'``;
        without it they are fitted on ``Z``.
    shape_points : int, default=50
        Grid size of the shape functions of additive surrogates on continuous
        columns (columns with fewer distinct values use those values).
    terms_only : bool, default=False
        Skip the importances and shape functions (left None): the refits of
        :func:`limekit.core.stability.bootstrap_stability` need the terms only.

    Returns
    -------
    dict of int -> LocalFit
    """
    num_features = check_int(num_features, "num_features", minimum=1)
    resolve_method(feature_selection, num_features)
    template = make_surrogate(surrogate, model_regressor, surrogate_task)
    weights = check_weights(weights, Z.shape[0])
    outputs = np.asarray(outputs, dtype=float)
    if surrogate_task == "classification" and (outputs.ndim != 2 or outputs.shape[1] < 2):
        raise bad_value("surrogate_task", "'regression' for a model with one output (regression mode)",
                        repr(surrogate_task), "Classification surrogates fit the black box's argmax label.")
    in_original = template.feature_space == "original" and original is not None
    if in_original:
        data = original.X
        ids = np.arange(data.shape[1]) if original.feature_ids is None else np.asarray(original.feature_ids)
        categorical = list(original.categorical_features)
        template = copy.deepcopy(template)  # leave the caller's surrogate object as it was
        template.set_categorical_features(categorical)
    else:
        data = Z
        ids = np.arange(Z.shape[1]) if feature_ids is None else np.asarray(feature_ids)
        categorical = []
    space = "original" if in_original else "interpretable"
    fits = {}
    with limited_blas_threads(data.shape[1]):
        design = None if template.additive else WeightedDesign(data, weights)
        first_row = data[0:1]
        grids = _shape_grids(data, categorical, shape_points) if template.additive and not terms_only else None
        black_box_labels = np.argmax(outputs, axis=1) if surrogate_task == "classification" else None
        for label in labels:
            if surrogate_task == "classification":
                y = (black_box_labels == label).astype(float)
            else:
                y = outputs[:, label]
            model = copy.deepcopy(template)
            if template.additive:
                used = np.arange(data.shape[1])
            else:
                used = select_features(design, y, num_features, feature_selection)
            rows = data if template.additive else data[:, used]
            if surrogate_task == "classification" and _single_class(y, weights):
                model = ConstantSurrogate(y[weights > 0][0], template)
                model.fit(rows, y, weights)
                score = model.score(rows, y, weights)
            elif template.additive:
                model.fit(rows, y, weights)
                score = model.score(rows, y, weights)
            else:
                score = model.fit_design(design, y, used)
            first = first_row[:, used]
            local_pred = np.atleast_1d(model.predict(first)).astype(float)
            local_decision = float(np.ravel(model.decision_function(first))[0])
            intercept, terms = model.local_weights(first)
            terms = np.asarray(terms, dtype=float)
            used_ids = ids[used]
            order = np.argsort(-np.abs(terms), kind="stable")
            if template.additive:
                order = order[:num_features]
            local_exp = [(int(used_ids[i]), float(terms[i])) for i in order]
            importance, shapes = None, None
            if not terms_only:
                importance = dict(zip(used_ids.tolist(), _importance(model.contributions(rows), weights).tolist()))
            if grids is not None and not isinstance(model, ConstantSurrogate):
                shapes = _shape_functions(model, grids, used_ids, original.display if in_original else None)
            if verbose:
                print("Intercept", intercept)
                print("Prediction_local", local_pred)
                print("Right:", outputs[0, label])
            fits[label] = LocalFit(int(label), float(intercept), local_exp, float(score), local_pred,
                                   np.asarray(used), model, local_decision, surrogate_task, space,
                                   used_ids, importance, shapes)
    return fits


def _single_class(y, weights):
    """True when every positively weighted row has the same 0/1 target."""
    y = y[weights > 0]
    return y.size == 0 or bool(np.all(y == y[0]))


def _importance(contributions, weights):
    """Kernel-weighted mean absolute deviation of each column of ``contributions`` from its weighted mean."""
    if sp.issparse(contributions):
        contributions = contributions.toarray()
    contributions = np.asarray(contributions, dtype=float)
    total = weights.sum()
    centred = contributions - (weights @ contributions) / total
    return (weights @ np.abs(centred)) / total


def _shape_grids(data, categorical, n_points):
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


def _shape_functions(model, grids, ids, display):
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
        shapes[int(ids[column])] = (shown, values[:len(grid), column].copy())
    return shapes


class LimeBase:
    """lime's ``LimeBase``: learns a locally weighted sparse linear model from perturbed data.

    Parameters
    ----------
    kernel_fn : callable
        ``kernel_fn(distances) -> weights``.
    verbose : bool, default=False
    random_state : int, RandomState, Generator or None
        Kept for lime compatibility (the linear fits are deterministic).
    """

    def __init__(self, kernel_fn, verbose=False, random_state=None):
        self.kernel_fn = kernel_fn
        self.verbose = verbose
        self.random_state = random_state

    @staticmethod
    def generate_lars_path(weighted_data, weighted_labels):
        """Lasso path of already weighted data: ``(alphas, coefs)`` as lime."""
        from sklearn.linear_model import lars_path

        alphas, _, coefs = lars_path(weighted_data, weighted_labels, method="lasso", verbose=False)
        return alphas, coefs

    def forward_selection(self, data, labels, weights, num_features):
        """Greedy forward selection (see :mod:`limekit.core.selection`)."""
        return self.feature_selection(data, labels, weights, num_features, "forward_selection")

    def feature_selection(self, data, labels, weights, num_features, method):
        """Select features; ``method`` as in :mod:`limekit.core.selection`."""
        with limited_blas_threads(data.shape[1]):
            design = WeightedDesign(data, check_weights(weights, data.shape[0], "weights"))
            return select_features(design, np.asarray(labels, dtype=float), num_features, method)

    def explain_instance_with_data(self, neighborhood_data, neighborhood_labels, distances, label, num_features,
                                   feature_selection="auto", model_regressor=None):
        """lime's entry point: returns ``(intercept, local_exp, score, local_pred)``.

        Parameters
        ----------
        neighborhood_data : ndarray of shape (n_samples, n_features)
            Interpretable perturbations; row 0 is the instance.
        neighborhood_labels : ndarray of shape (n_samples, n_outputs)
        distances : ndarray of shape (n_samples,)
        label : int
        num_features : int
        feature_selection : str
        model_regressor : scikit-learn regressor or None

        Returns
        -------
        tuple
            ``(intercept, [(feature, weight), ...], score, local_pred)``.
        """
        labels_array = np.asarray(neighborhood_labels, dtype=float)
        if labels_array.ndim == 1:
            labels_array = labels_array[:, None]
        if not sp.issparse(neighborhood_data):
            neighborhood_data = np.asarray(neighborhood_data, dtype=float)
        if labels_array.shape[0] != neighborhood_data.shape[0]:
            raise bad_value("neighborhood_labels", f"{neighborhood_data.shape[0]} rows", labels_array.shape[0])
        weights = self.kernel_fn(np.asarray(distances, dtype=float))
        fit = fit_local_models(neighborhood_data, labels_array, weights, [label], num_features,
                               feature_selection, model_regressor=model_regressor, verbose=self.verbose)[label]
        return fit.intercept, fit.local_exp, fit.score, fit.local_pred
