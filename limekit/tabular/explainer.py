"""LIME for tabular data: lime's ``LimeTabularExplainer``, vectorised.

Perturbations are drawn per feature from training statistics (lime's scheme):
with a discretizer every feature is sampled as a bin (or category) from its
training frequencies and continuous bins are turned back into values by a
truncated normal; without one, continuous features are drawn from a normal
with the training standard deviation.  The interpretable row says, per
feature, whether the perturbation falls in the instance's bin/category (or,
undiscretised, holds the standardised value).  All of it is done on whole
``(num_samples, n_features)`` matrices.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.special import ndtri
from sklearn.preprocessing import StandardScaler

from .._validation import (bad_type, bad_value, check_choice, check_finite, check_int, check_labels,
                           check_random_state,
                           seed_from)
from ..core.base import LimeBase, OriginalSpace
from ..core.distances import check_distance_metric, distances_to_first
from ..core.explanation import Explanation
from ..core.explain import complete_explanation, plan_surrogate
from ..core.fidelity import PerturbationSample, resolve_fidelity_samples
from ..core.kernels import check_weights, make_kernel_fn
from ..core.predict import check_model_output, predict_in_batches, predict_instance_first, resolve_labels
from ..core.selection import resolve_method
from ..core.stability import resolve_stability_samples
from ..surrogates import check_surrogate_task, make_surrogate
from ._frame import FrameEncoder, is_dataframe, is_series
from .discretize import make_discretizer
from .domain import TableDomainMapper

__all__ = ["TabularExplainer", "RecurrentTabularExplainer"]

MODES = ("classification", "regression")
SAMPLING_METHODS = ("gaussian", "lhs")
GROUP_PERTURBATIONS = 50_000  # explain_instances: perturbations predicted together (memory ~ this x features)


class TabularExplainer:
    """Explains predictions on tabular data (lime's ``LimeTabularExplainer``).

    Parameters
    ----------
    training_data : ndarray, sparse matrix or pandas.DataFrame of shape (n_samples, n_features)
        Used for the sampling statistics.  A DataFrame gives the feature names,
        and its object, string, category and bool columns become categorical
        features with their own values (no label encoding needed); the model
        then receives DataFrames with the same columns and dtypes.
    mode : {'classification', 'regression'}, default='classification'
    training_labels : array-like or None
        Needed by the entropy discretizer.
    feature_names : list of str or None
    categorical_features : list of int (or column names for a DataFrame) or None
        Columns holding integer category codes.
    categorical_names : dict of int -> list of str or None
        ``categorical_names[j][v]`` names value ``v`` of column ``j``.
    kernel_width : float or None
        Defaults to ``0.75 * sqrt(n_features)``.
    kernel : callable or None
        ``kernel(distances, kernel_width) -> weights``; default
        ``sqrt(exp(-d**2 / kernel_width**2))`` as lime.
    verbose : bool, default=False
    class_names : list of str or None
    feature_selection : {'auto', 'none', 'forward_selection', 'highest_weights', 'lasso_path'}
    discretize_continuous : bool, default=True
    discretizer : {'quartile', 'decile', 'entropy'} or BaseDiscretizer, default='quartile'
    sample_around_instance : bool, default=False
        Undiscretised sampling centred on the instance instead of the training mean.
    random_state : int, RandomState, Generator or None
        Drives every random choice; the same seed gives the same explanations.
    training_data_stats : dict or None
        lime's precomputed statistics (``means``, ``mins``, ``maxs``, ``stds``,
        ``feature_values``, ``feature_frequencies``, ``bins``).
    surrogate : str or BaseSurrogate, default='ridge'
        Interpretable model (keyword only; also per call): ``'ridge'``
        (lime's), ``'lasso'``, ``'ebm'`` (interpret's Explainable Boosting
        Machine), ``'gaminet'`` (needs torch) or a
        :class:`~limekit.surrogates.BaseSurrogate`.  GAM surrogates (EBM,
        GAMI-Net) are fitted in the original feature space (continuous
        features standardised, categorical features as categories) on every
        feature, whatever ``discretize_continuous`` says (which still shapes
        the sampling); the explanation lists ``f_j(x_j)``, the centred
        contribution of each feature at the instance, named like
        ``"age = 39"`` or ``"sex=Male"``, and exposes the shape functions
        (:attr:`Explanation.shape_functions`).  ``feature_selection`` applies
        to linear surrogates only; ``num_features`` limits the listed
        contributions of a GAM to the largest ``|f_j(x_j)|``.
    surrogate_task : {'regression', 'classification'}, default='regression'
        Keyword only, also per call.  ``'regression'`` fits the black box's
        probability for the label (lime's way); ``'classification'`` fits a
        classifier of the black box's label (``argmax == label``): logistic
        regression for ``'ridge'`` / ``'lasso'``, the classifier form of the
        GAMs.  Its weights and contributions are on the logit scale.
        Classification mode only.
    fidelity_samples : 'auto' or int >= 0, default='auto'
        Keyword only, also per call.  Size of a fresh perturbation sample,
        drawn and predicted like the fitting one, on which the surrogate's
        fidelity is measured (``diagnostics['fidelity']``).  ``'auto'``: 20%
        of ``num_samples`` (at most 1000), except for lime's own
        configuration (ridge, regression task, or ``model_regressor``), which
        keeps lime's exact model-call count and gets in-sample fidelity only
        unless asked; 0 skips.
    stability_samples : int >= 0, default=0
        Keyword only, also per call.  Bootstrap refits of the surrogate on the
        perturbations already predicted (no model call), from which
        ``diagnostics['stability'][label]`` reports how often the same
        features come out on top and how much their weights move (see
        :mod:`limekit.core.stability`); 0 skips.
    batch_size : int or None, default=None
        Perturbations per model call; None sends them all at once.
    progress_bar : bool, default=False
        Show a progress bar over the model calls.
    """

    def __init__(self, training_data, mode="classification", training_labels=None, feature_names=None,
                 categorical_features=None, categorical_names=None, kernel_width=None, kernel=None,
                 verbose=False, class_names=None, feature_selection="auto", discretize_continuous=True,
                 discretizer="quartile", sample_around_instance=False, random_state=None,
                 training_data_stats=None, *, surrogate="ridge", surrogate_task="regression",
                 fidelity_samples="auto", stability_samples=0, batch_size=None, progress_bar=False):
        self.mode = check_choice(mode, "mode", MODES)
        check_choice(feature_selection, "feature_selection",
                     ("auto", "none", "forward_selection", "highest_weights", "lasso_path"))
        self.feature_selection = feature_selection
        self.random_state = random_state
        self._rng = check_random_state(random_state)
        self.verbose = verbose
        self.class_names = None if class_names is None else list(class_names)
        self.sample_around_instance = bool(sample_around_instance)
        self.surrogate = surrogate
        self.surrogate_task = check_surrogate_task(surrogate_task)
        if self.mode == "regression" and surrogate_task == "classification":
            raise bad_value("surrogate_task", "'regression' with mode='regression'", repr(surrogate_task))
        make_surrogate(surrogate, None, surrogate_task)  # validate now
        resolve_fidelity_samples(fidelity_samples, 1)
        self.fidelity_samples = fidelity_samples
        self.stability_samples = resolve_stability_samples(stability_samples)
        self.batch_size = None if batch_size is None else check_int(batch_size, "batch_size", minimum=1)
        self.progress_bar = bool(progress_bar)
        self.training_data_stats = training_data_stats
        if training_data_stats is not None:
            _check_training_data_stats(training_data_stats)

        self.encoder = None
        self.is_sparse = sp.issparse(training_data)
        if is_dataframe(training_data):
            declared = _resolve_columns(categorical_features, list(training_data.columns), "categorical_features")
            self.encoder = FrameEncoder(training_data, declared)
            if feature_names is None:
                feature_names = self.encoder.feature_names
            categorical_features = self.encoder.categorical_features
            names = self.encoder.categorical_names()
            names.update(categorical_names or {})
            categorical_names = names
            data = self.encoder.encode(training_data, "training_data")
        elif self.is_sparse:
            data = sp.csr_matrix(training_data, dtype=float)
            check_finite(data.data, "training_data")
        else:
            data = _as_float_matrix(training_data, "training_data")
        if data.ndim != 2 or data.shape[0] < 1 or data.shape[1] < 1:
            raise bad_value("training_data", "a 2-D array with at least one row and one column",
                            f"shape {data.shape}")
        n_features = data.shape[1]
        self.n_features = n_features
        if feature_names is None:
            feature_names = [str(i) for i in range(n_features)]
        feature_names = [str(n) for n in feature_names]
        if len(feature_names) != n_features:
            raise bad_value("feature_names", f"{n_features} names (one per column)", f"{len(feature_names)}")
        self.feature_names = feature_names
        self.categorical_features = _resolve_columns(categorical_features, feature_names, "categorical_features")
        if self.is_sparse and self.categorical_features:
            raise bad_value("categorical_features", "none with sparse training data",
                            f"{self.categorical_features}", "Use a dense array or a DataFrame.")
        self.categorical_names = {int(k): list(v) for k, v in (categorical_names or {}).items()}
        for column in self.categorical_features:
            if not self.is_sparse and not np.all(data[:, column] == np.round(data[:, column])):
                raise bad_value("categorical_features", f"integer codes in column {feature_names[column]!r}",
                                "non-integer values", "Label-encode it, or pass a DataFrame.")
        if training_labels is not None:
            training_labels = np.asarray(training_labels)
            if training_labels.shape[0] != data.shape[0]:
                raise bad_value("training_labels", f"{data.shape[0]} labels (one per training row)",
                                f"{training_labels.shape[0]}")

        self.declared_categorical = list(self.categorical_features)
        self.discretizer = None
        if discretize_continuous and not self.is_sparse:
            self.discretizer = make_discretizer(
                discretizer,
                data, self.categorical_features, self.feature_names, training_labels,
                seed_from(self._rng), data_stats=training_data_stats)
            self.categorical_features = list(range(n_features))

        if kernel_width is None:
            kernel_width = np.sqrt(n_features) * 0.75
        self.kernel_width = float(kernel_width)
        self.kernel_fn = make_kernel_fn(kernel, kernel_width)
        self.base = LimeBase(self.kernel_fn, verbose, random_state=random_state)

        self.scaler = StandardScaler(with_mean=False)
        self.scaler.fit(data)
        if self.scaler.mean_ is None:  # sparse input on old scikit-learn
            self.scaler.mean_ = np.asarray(data.mean(axis=0)).ravel()
        # standardisation of the original space (GAM surrogates): categorical codes stay as they are
        self.standard_mean_ = np.array(self.scaler.mean_, dtype=float)
        self.standard_scale_ = np.array(self.scaler.scale_, dtype=float)
        self.standard_mean_[self.declared_categorical] = 0.0
        self.standard_scale_[self.declared_categorical] = 1.0
        self.feature_values = {}
        self.feature_frequencies = {}
        binned = None
        if self.discretizer is not None and training_data_stats is None:
            binned = self.discretizer.discretize(data)
        for feature in self.categorical_features:
            if training_data_stats is not None:
                values = np.asarray(training_data_stats["feature_values"][feature], dtype=float)
                counts = np.asarray(training_data_stats["feature_frequencies"][feature], dtype=float)
            else:
                column = (binned if binned is not None else data)[:, feature]
                values, counts = np.unique(column, return_counts=True)
            self.feature_values[feature] = values
            self.feature_frequencies[feature] = counts / counts.sum()
            self.scaler.mean_[feature] = 0
            self.scaler.scale_[feature] = 1
        self._cumulative = {f: np.cumsum(p) for f, p in self.feature_frequencies.items()}

    # ------------------------------------------------------------------ lime API
    @staticmethod
    def convert_and_round(values):
        return ["%.2f" % v for v in values]

    @staticmethod
    def validate_training_data_stats(training_data_stats):
        _check_training_data_stats(training_data_stats)

    def explain_instance(self, data_row, predict_fn, labels=(1,), top_labels=None, num_features=10,
                         num_samples=5000, distance_metric="euclidean", model_regressor=None,
                         sampling_method="gaussian", *, surrogate=None, surrogate_task=None, fidelity_samples=None,
                         stability_samples=None, batch_size=None):
        """Explain the model's prediction for one row.

        Parameters
        ----------
        data_row : 1-D array, pandas Series, one-row DataFrame or 1 x n sparse matrix
        predict_fn : callable
            Classification: returns class probabilities of shape (n, n_classes)
            (``predict_proba``).  Regression: returns one value per row.
        labels : iterable of int, default=(1,)
            Classes to explain (ignored in regression).
        top_labels : int or None
            Explain the ``top_labels`` most probable classes instead of ``labels``.
        num_features : int, default=10
            Maximum number of features in the explanation.
        num_samples : int, default=5000
            Size of the neighbourhood.
        distance_metric : str or callable, default='euclidean'
        model_regressor : scikit-learn regressor or None
            Surrogate with ``sample_weight`` and ``coef_`` (lime's argument).
        sampling_method : {'gaussian', 'lhs'}, default='gaussian'
            Undiscretised sampling: normal draws or a Latin hypercube.
        surrogate : str or BaseSurrogate or None
            Overrides the explainer's surrogate for this call.
        surrogate_task : {'regression', 'classification'} or None
            Overrides the explainer's surrogate task for this call.
        fidelity_samples : 'auto', int or None
            Overrides the explainer's held-out sample size for this call.
        stability_samples : int or None
            Overrides the explainer's number of stability refits for this call.
        batch_size : int or None
            Overrides the explainer's batch size for this call.

        Returns
        -------
        Explanation
            With ``diagnostics['fidelity'][label]`` (held-out; None when
            skipped) and ``diagnostics['fidelity_in_sample'][label]``: the
            weighted R^2 against the black box's output, AUC and accuracy
            against its label (see :mod:`limekit.core.fidelity`).
        """
        call = self._settings(predict_fn, labels, top_labels, num_features, num_samples, distance_metric,
                              model_regressor, sampling_method, surrogate, surrogate_task, fidelity_samples,
                              stability_samples, batch_size)
        row = self._check_row(data_row)
        Z, inverse, feature_ids = self._perturb(row, call.num_samples, call.sampling_method)
        weights = self._weights(Z, call)
        # the instance is predicted first and checked (shape, labels) before the perturbations
        outputs, labels = predict_instance_first(predict_fn, self._batch_maker(inverse), call.num_samples, self.mode,
                                                 call.labels, call.top_labels, self.class_names, call.batch_size,
                                                 "predict_fn", self.progress_bar)
        return self._explain_predicted(call, predict_fn, row, Z, inverse, feature_ids, weights, outputs, labels)

    def explain_instances(self, data_rows, predict_fn, labels=(1,), top_labels=None, num_features=10,
                          num_samples=5000, distance_metric="euclidean", model_regressor=None,
                          sampling_method="gaussian", *, surrogate=None, surrogate_task=None, fidelity_samples=None,
                          stability_samples=None, batch_size=None):
        """Explain many rows, predicting the perturbations of several rows in one model call.

        The same as ``[explain_instance(row, ...) for row in data_rows]``, and
        with lime's configuration (no held-out fidelity, no stability refits)
        bit for bit the same explanations from the same ``random_state``, but
        the model is called far fewer times: once on all the instances (their
        outputs and labels are checked before any perturbation is predicted),
        then once per group of rows whose perturbations add up to about
        50,000 (fewer with ``batch_size``).  Models with a fixed cost per call
        (tree ensembles, models behind a service) gain the most.

        Parameters
        ----------
        data_rows : 2-D array, DataFrame or sparse matrix of shape (n_rows, n_features)
        predict_fn, labels, top_labels, num_features, num_samples, distance_metric, model_regressor, \
sampling_method, surrogate, surrogate_task, fidelity_samples, stability_samples
            As in :meth:`explain_instance`, for every row (``labels`` and
            ``top_labels`` are resolved per row).
        batch_size : int or None
            Most rows per model call; None uses the explainer's, and when that
            is None too, one call per group of rows.

        Returns
        -------
        list of Explanation
            One per row, in order.
        """
        call = self._settings(predict_fn, labels, top_labels, num_features, num_samples, distance_metric,
                              model_regressor, sampling_method, surrogate, surrogate_task, fidelity_samples,
                              stability_samples, batch_size)
        rows = self._check_rows(data_rows)
        if self.is_sparse:  # per-row sparse perturbations do not stack: one row after the other
            return [self.explain_instance(row, predict_fn, labels, top_labels, num_features, num_samples,
                                          distance_metric, model_regressor, sampling_method, surrogate=surrogate,
                                          surrogate_task=surrogate_task, fidelity_samples=fidelity_samples,
                                          stability_samples=stability_samples, batch_size=batch_size)
                    for row in rows]
        instances = np.vstack(rows) if rows else np.empty((0, self.n_features))
        first = check_model_output(predict_fn(self._batch_maker(instances)(slice(0, len(rows)))), len(rows),
                                   self.mode, "predict_fn")
        row_labels = [resolve_labels(first[i:i + 1], self.mode, call.labels, call.top_labels, self.class_names)
                      for i in range(len(rows))]
        explanations = []
        per_group = max(1, GROUP_PERTURBATIONS // call.num_samples)
        for start in range(0, len(rows), per_group):
            group = range(start, min(start + per_group, len(rows)))
            perturbed = [self._perturb(rows[i], call.num_samples, call.sampling_method) for i in group]
            stacked = np.concatenate([inverse[1:] for _, inverse, _ in perturbed])  # the instances are predicted
            rest = predict_in_batches(predict_fn, self._batch_maker(stacked), len(stacked), self.mode,
                                      call.batch_size, "predict_fn", first.shape[1], self.progress_bar)
            for k, (i, (Z, inverse, feature_ids)) in enumerate(zip(group, perturbed)):
                outputs = np.concatenate([first[i:i + 1], rest[k * (call.num_samples - 1):
                                                                (k + 1) * (call.num_samples - 1)]])
                explanations.append(self._explain_predicted(call, predict_fn, rows[i], Z, inverse, feature_ids,
                                                            self._weights(Z, call), outputs, row_labels[i]))
        return explanations

    # ------------------------------------------------------------------ internals
    def _settings(self, predict_fn, labels, top_labels, num_features, num_samples, distance_metric,
                  model_regressor, sampling_method, surrogate, surrogate_task, fidelity_samples, stability_samples,
                  batch_size):
        """Validate a call's arguments (before any model call); return them resolved."""
        num_features = check_int(num_features, "num_features", minimum=1)
        num_samples = check_int(num_samples, "num_samples", minimum=2)
        resolve_method(self.feature_selection, num_features)
        check_distance_metric(distance_metric)
        check_choice(sampling_method, "sampling_method", SAMPLING_METHODS)
        if not callable(predict_fn):
            raise bad_type("predict_fn", "a callable returning predictions", predict_fn)
        if top_labels is not None:
            top_labels = check_int(top_labels, "top_labels", minimum=1)
        labels = check_labels(labels) if self.mode == "classification" and top_labels is None else labels
        plan = plan_surrogate(self.mode, self.surrogate if surrogate is None else surrogate, model_regressor,
                              self.surrogate_task if surrogate_task is None else surrogate_task,
                              self.fidelity_samples if fidelity_samples is None else fidelity_samples, num_samples,
                              self.stability_samples if stability_samples is None else stability_samples)
        batch_size = self.batch_size if batch_size is None else check_int(batch_size, "batch_size", minimum=1)
        return _Call(num_features, num_samples, labels, top_labels, distance_metric, sampling_method, plan,
                     batch_size)

    def _weights(self, Z, call):
        return check_weights(self.kernel_fn(distances_to_first(Z, call.distance_metric)), call.num_samples)

    def _explain_predicted(self, call, predict_fn, row, Z, inverse, feature_ids, weights, outputs, labels):
        """Everything after the model has answered on the perturbations of ``row``."""
        in_original = call.plan.template.feature_space == "original"
        n_outputs = outputs.shape[1]
        explanation = Explanation(self._domain_mapper(row, Z, feature_ids, in_original), mode=self.mode,
                                  class_names=self._class_names(n_outputs))
        original = self._original_space(Z, inverse, feature_ids) if in_original else None

        def draw_sample(n):
            """n fresh perturbations of the row, predicted like the fitting ones (the instance left out)."""
            Z_new, inverse_new, ids_new = self._perturb(row, n + 1, call.sampling_method)
            weights_new = self.kernel_fn(distances_to_first(Z_new, call.distance_metric))
            make_new = self._batch_maker(inverse_new)
            outputs_new = predict_in_batches(predict_fn, lambda rows: make_new(slice(rows.start + 1, rows.stop + 1)),
                                             n, self.mode, call.batch_size, "predict_fn", n_outputs,
                                             self.progress_bar)
            X_new = self._original_space(Z_new, inverse_new, ids_new).X[1:] if in_original else None
            return PerturbationSample(Z_new[1:], outputs_new, np.asarray(weights_new, dtype=float)[1:], X_new)

        complete_explanation(explanation, call.plan, Z, outputs, weights, labels, call.top_labels,
                             call.num_features, self.feature_selection, draw_sample, self.kernel_width,
                             call.distance_metric, self.verbose, feature_ids, original, rng=self._rng)
        return explanation

    def _check_rows(self, data_rows):
        """The rows of ``data_rows`` (2-D array, DataFrame or sparse matrix), each checked like a data_row."""
        if self.encoder is not None and is_dataframe(data_rows):
            matrix = self.encoder.encode(data_rows, "data_rows")
        elif sp.issparse(data_rows):
            matrix = sp.csr_matrix(data_rows, dtype=float)
        else:
            matrix = _as_float_matrix(data_rows.to_numpy() if is_dataframe(data_rows) else data_rows, "data_rows")
        if matrix.ndim != 2 or matrix.shape[0] < 1 or matrix.shape[1] != self.n_features:
            raise bad_value("data_rows", f"a 2-D array of one or more rows of {self.n_features} values",
                            f"shape {matrix.shape}")
        if not sp.issparse(matrix):
            check_finite(matrix, "data_rows")
            for feature in self.declared_categorical:
                if not np.all(matrix[:, feature] == np.round(matrix[:, feature])):
                    raise bad_value("data_rows", f"integer codes for categorical feature "
                                                 f"{self.feature_names[feature]!r}", "non-integer values")
        if sp.issparse(matrix) or self.is_sparse:  # dense <-> sparse conversions, as for one row
            return [self._check_row(matrix[i]) for i in range(matrix.shape[0])]
        return list(matrix)

    def _class_names(self, n_outputs):
        if self.mode != "classification":
            return None
        return self.class_names if self.class_names is not None else [str(i) for i in range(n_outputs)]

    def _check_row(self, data_row):
        if self.encoder is not None and (is_series(data_row) or is_dataframe(data_row)):
            if is_dataframe(data_row) and data_row.shape[0] != 1:
                raise bad_value("data_row", "one row", f"a DataFrame with {data_row.shape[0]} rows")
            row = self.encoder.encode(data_row, "data_row")[0]
        elif sp.issparse(data_row):
            if not self.is_sparse:
                data_row = np.asarray(data_row.todense()).ravel()
                return self._check_row(data_row)
            row = sp.csr_matrix(data_row, dtype=float)
            if row.shape != (1, self.n_features):
                raise bad_value("data_row", f"a sparse row of shape (1, {self.n_features})", f"shape {row.shape}")
            check_finite(row.data, "data_row")
            return row
        else:
            if is_series(data_row) or is_dataframe(data_row):
                data_row = data_row.to_numpy()
            row = _as_float_matrix(data_row, "data_row")
            if row.ndim == 2 and row.shape[0] == 1:
                row = row[0]
        if row.ndim != 1 or row.shape[0] != self.n_features:
            raise bad_value("data_row", f"one row of {self.n_features} values", f"shape {np.shape(row)}")
        if self.is_sparse:
            return sp.csr_matrix(row[None, :])
        for feature in self.declared_categorical:
            if row[feature] != np.round(row[feature]):
                raise bad_value("data_row", f"an integer code for categorical feature {self.feature_names[feature]!r}",
                                row[feature])
        return row

    def _sample_categories(self, num_samples, columns):
        """Draw each listed column's values from its training frequencies (one uniform draw for all)."""
        uniforms = self._rng.random((num_samples, len(columns)))
        samples = np.empty((num_samples, len(columns)))
        for j, feature in enumerate(columns):
            index = np.searchsorted(self._cumulative[feature], uniforms[:, j], side="right")
            samples[:, j] = self.feature_values[feature][np.minimum(index, len(self.feature_values[feature]) - 1)]
        return samples

    def _standard_normal(self, num_samples, n_columns, sampling_method):
        if sampling_method == "lhs":
            from scipy.stats import qmc

            hypercube = qmc.LatinHypercube(d=n_columns, rng=self._rng).random(num_samples)
            return ndtri(np.clip(hypercube, 1e-12, 1 - 1e-12))
        return self._rng.standard_normal((num_samples, n_columns))

    def _perturb(self, row, num_samples, sampling_method):
        """Return ``(Z, inverse, feature_ids)``: interpretable rows, model-space rows, column ids of ``Z``."""
        if self.is_sparse:
            return self._perturb_sparse(row, num_samples, sampling_method)
        columns = self.categorical_features
        if self.discretizer is not None:
            first_row = self.discretizer.discretize(row)
            bins = self._sample_categories(num_samples, columns)
            bins[0] = first_row  # row 0 is the instance itself
            Z = (bins == first_row).astype(float)
            inverse = self.discretizer.undiscretize_bins(bins, self._rng)
            inverse[0] = row
        else:
            scale, mean = self.scaler.scale_, self.scaler.mean_
            inverse = self._standard_normal(num_samples, self.n_features, sampling_method) * scale
            inverse += row if self.sample_around_instance else mean
            if columns:
                inverse[:, columns] = self._sample_categories(num_samples, columns)
            inverse[0] = row  # row 0 is the instance itself
            Z = (inverse - mean) / scale
            if columns:
                Z[:, columns] = (inverse[:, columns] == row[columns]).astype(float)
        return Z, inverse, None

    def _perturb_sparse(self, row, num_samples, sampling_method):
        """Sparse rows: only the instance's non-zero features vary (lime's scheme)."""
        active = row.indices.copy()
        scale, mean = self.scaler.scale_[active], self.scaler.mean_[active]
        values = row.data.copy()
        draws = self._standard_normal(num_samples, active.size, sampling_method) * scale
        draws += values if self.sample_around_instance else mean
        draws[0] = values
        inverse = _SparseRows(draws, active, self.n_features)
        Z = (draws - mean) / scale
        return Z, inverse, active

    def _original_space(self, Z, inverse, feature_ids):
        """The perturbations as GAM surrogates see them: standardised continuous columns, category codes."""
        if isinstance(inverse, _SparseRows):  # Z already holds the standardised varying features
            mean, scale = self.standard_mean_[feature_ids], self.standard_scale_[feature_ids]
            return OriginalSpace(Z, [], feature_ids, lambda column, grid: grid * scale[column] + mean[column])
        X = (inverse - self.standard_mean_) / self.standard_scale_
        return OriginalSpace(X, list(self.declared_categorical), None, self._display_grid)

    def _display_grid(self, column, grid):
        """A shape-function grid in the user's units: unscaled values, or category names."""
        if column in self.declared_categorical:
            codes = np.asarray(grid).astype(int)
            names = self.categorical_names.get(column)
            if names is None:
                return codes
            return np.array([names[c] if 0 <= c < len(names) else str(c) for c in codes], dtype=object)
        return np.asarray(grid) * self.standard_scale_[column] + self.standard_mean_[column]

    def _batch_maker(self, inverse):
        if isinstance(inverse, _SparseRows):
            return inverse.rows
        if self.encoder is not None:
            return lambda rows: self.encoder.decode(inverse[rows])
        return lambda rows: inverse[rows]

    def _domain_mapper(self, row, Z, feature_ids, original_space=False):
        names = list(self.feature_names)
        if self.is_sparse:
            dense_row = np.asarray(row.todense()).ravel()
        else:
            dense_row = row
        values = self.convert_and_round(dense_row)
        instance_values = [float(v) for v in dense_row]
        for feature in self.declared_categorical:
            code = int(dense_row[feature])
            if feature in self.categorical_names and 0 <= code < len(self.categorical_names[feature]):
                display = self.categorical_names[feature][code]
            else:
                display = code
            names[feature] = f"{self.feature_names[feature]}={display}"
            values[feature] = "True"
            instance_values[feature] = display
        discretized_names = None
        if original_space:  # GAM contributions f_j(x_j): "age = 39", "sex=Male"
            for feature in range(self.n_features):
                if feature not in self.declared_categorical:
                    names[feature] = f"{self.feature_names[feature]} = {_format_value(dense_row[feature])}"
        elif self.discretizer is not None:
            discretized_names = list(names)
            bins = self.discretizer.discretize(dense_row)
            for feature, bin_names in self.discretizer.names.items():
                discretized_names[feature] = bin_names[int(bins[feature])]
        return TableDomainMapper(names, values, Z[0], self.categorical_features, discretized_names,
                                 feature_ids, instance_values, list(self.feature_names))


@dataclass
class _Call:
    """One call's validated arguments."""

    num_features: int
    num_samples: int
    labels: object
    top_labels: object
    distance_metric: object
    sampling_method: str
    plan: object
    batch_size: object


class _SparseRows:
    """Perturbations of a sparse row, handed to the model as CSR batches."""

    def __init__(self, values, columns, n_features):
        self.values = values
        self.columns = columns
        self.n_features = n_features

    def rows(self, rows):
        block = self.values[rows]
        n_rows, n_active = block.shape
        indptr = np.arange(0, n_active * (n_rows + 1), n_active) if n_active else np.zeros(n_rows + 1, int)
        return sp.csr_matrix((block.ravel(), np.tile(self.columns, n_rows), indptr),
                             shape=(n_rows, self.n_features))


class RecurrentTabularExplainer(TabularExplainer):
    """lime's ``RecurrentTabularExplainer`` for ``(n_samples, n_timesteps, n_features)`` data.

    The series are flattened to ``n_timesteps * n_features`` columns named
    ``"{feature}_t-{lag}"``; the model still receives 3-D arrays.
    """

    def __init__(self, training_data, mode="classification", training_labels=None, feature_names=None,
                 categorical_features=None, categorical_names=None, kernel_width=None, kernel=None,
                 verbose=False, class_names=None, feature_selection="auto", discretize_continuous=True,
                 discretizer="quartile", random_state=None, **kwargs):
        training_data = np.asarray(training_data, dtype=float)
        if training_data.ndim != 3:
            raise bad_value("training_data", "a 3-D array (n_samples, n_timesteps, n_features)",
                            f"shape {training_data.shape}")
        n_samples, n_timesteps, n_features = training_data.shape
        self.n_timesteps = n_timesteps
        self.n_features_per_step = n_features
        flat = np.transpose(training_data, axes=(0, 2, 1)).reshape(n_samples, n_timesteps * n_features)
        if feature_names is None:
            feature_names = [str(i) for i in range(n_features)]
        if len(feature_names) != n_features:
            raise bad_value("feature_names", f"{n_features} names (one per feature)", len(feature_names))
        feature_names = [f"{name}_t-{n_timesteps - (i + 1)}" for name in feature_names for i in range(n_timesteps)]
        super().__init__(flat, mode=mode, training_labels=training_labels, feature_names=feature_names,
                         categorical_features=categorical_features, categorical_names=categorical_names,
                         kernel_width=kernel_width, kernel=kernel, verbose=verbose, class_names=class_names,
                         feature_selection=feature_selection, discretize_continuous=discretize_continuous,
                         discretizer=discretizer, random_state=random_state, **kwargs)

    def _make_predict_proba(self, func):
        def predict_proba(X):
            n_rows = X.shape[0]
            series = X.reshape(n_rows, self.n_features_per_step, self.n_timesteps)
            return func(np.transpose(series, axes=(0, 2, 1)))

        return predict_proba

    def explain_instance(self, data_row, classifier_fn, labels=(1,), top_labels=None, num_features=10,
                         num_samples=5000, distance_metric="euclidean", model_regressor=None, **kwargs):
        """Explain one series of shape ``(n_timesteps, n_features)``; see :meth:`TabularExplainer.explain_instance`."""
        data_row = np.asarray(data_row, dtype=float)
        if data_row.shape != (self.n_timesteps, self.n_features_per_step):
            raise bad_value("data_row", f"shape ({self.n_timesteps}, {self.n_features_per_step})",
                            f"shape {data_row.shape}")
        if not callable(classifier_fn):
            raise bad_type("classifier_fn", "a callable", classifier_fn)
        return super().explain_instance(data_row.T.reshape(-1), self._make_predict_proba(classifier_fn),
                                        labels=labels, top_labels=top_labels, num_features=num_features,
                                        num_samples=num_samples, distance_metric=distance_metric,
                                        model_regressor=model_regressor, **kwargs)

    def explain_instances(self, data_rows, classifier_fn, labels=(1,), top_labels=None, num_features=10,
                          num_samples=5000, distance_metric="euclidean", model_regressor=None, **kwargs):
        """Explain series of shape ``(n_rows, n_timesteps, n_features)``; see ``TabularExplainer.explain_instances``."""
        data_rows = np.asarray(data_rows, dtype=float)
        if data_rows.ndim != 3 or data_rows.shape[1:] != (self.n_timesteps, self.n_features_per_step):
            raise bad_value("data_rows", f"shape (n_rows, {self.n_timesteps}, {self.n_features_per_step})",
                            f"shape {data_rows.shape}")
        if not callable(classifier_fn):
            raise bad_type("classifier_fn", "a callable", classifier_fn)
        flat = np.transpose(data_rows, axes=(0, 2, 1)).reshape(len(data_rows), -1)
        return super().explain_instances(flat, self._make_predict_proba(classifier_fn), labels=labels,
                                         top_labels=top_labels, num_features=num_features, num_samples=num_samples,
                                         distance_metric=distance_metric, model_regressor=model_regressor, **kwargs)


def _format_value(value):
    """Short readable number: integers without decimals, others to 4 significant digits."""
    value = float(value)
    if value == round(value) and abs(value) < 1e15:
        return str(int(round(value)))
    return np.format_float_positional(value, precision=4, unique=False, fractional=False, trim="-")


def _as_float_matrix(data, argument):
    """Numeric ndarray from array-like input, with a clear error for strings."""
    array = np.asarray(data)
    if array.dtype.kind not in "biuf":
        try:
            array = array.astype(float)
        except (TypeError, ValueError) as exc:
            raise bad_type(argument, "numeric data (pass a pandas DataFrame for string categories)", data) from exc
    array = array.astype(float, copy=False)
    return check_finite(array, argument)


def _resolve_columns(columns, names, argument):
    """Column indices from indices or names."""
    if columns is None:
        return []
    resolved = []
    n = len(names)
    for column in columns:
        if isinstance(column, numbers.Integral) and not isinstance(column, bool):
            if not -n <= column < n:
                raise bad_value(argument, f"column indices in [0, {n - 1}]", column)
            resolved.append(int(column) % n)
        elif column in names:
            resolved.append(list(names).index(column))
        else:
            raise bad_value(argument, "column indices or names of the training data", repr(column))
    return sorted(set(resolved))


def _check_training_data_stats(stats):
    required = ("means", "mins", "maxs", "stds", "feature_values", "feature_frequencies")
    if not isinstance(stats, dict):
        raise bad_type("training_data_stats", "a dict", stats)
    missing = [key for key in required if key not in stats]
    if missing:
        raise bad_value("training_data_stats", f"the keys {list(required)}", f"missing {missing}")
