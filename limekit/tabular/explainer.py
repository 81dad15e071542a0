"""LIME for tabular data: lime's ``LimeTabularExplainer`` on limekit's shared pipeline.

The perturbations come from :class:`~limekit.tabular.sampler.TabularSampler`
(lime's per-feature sampling from training statistics, vectorised); this
module validates the data, builds the training statistics, checks the rows to
explain and names the features.  The perturb -> score -> fit template is
:class:`~limekit.core.frontend.BaseExplainer`'s.
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import StandardScaler

from .._validation import (
    LimekitTypeError,
    bad_type,
    bad_value,
    check_choice,
    check_finite,
    check_in_interval,
    check_positive_float,
    describe,
    seed_from,
)
from ..core.budget import check_perturbation_memory
from ..core.distances import distances_to_first
from ..core.explanation import Explanation
from ..core.faithfulness import TABULAR_DRAWS
from ..core.frontend import BaseExplainer, fill_docstrings
from ..core.kernel_sampling import distance_of_kept_count
from ..core.neighbourhood import Neighbourhood
from ..core.options import CALL_DEFAULTS, CallOptions
from ..core.score import DistinctRows
from ..core.seeding import base_entropy, instance_digest
from ..core.shapley_explain import stratum_rows
from ._frame import MISSING, FrameEncoder, is_dataframe, is_series
from .discretize import BaseDiscretizer, make_discretizer, missing_name
from .domain import TableDomainMapper
from .sampler import SAMPLING_METHODS, SparseRows, TabularSampler, check_training_magnitude
from .shared_pool import SharedPoolRounds

if TYPE_CHECKING:
    import numpy.typing as npt
    import pandas as pd

    from ..frame import FailedRow
    from ..surrogates import BaseSurrogate

__all__ = ["TabularExplainer", "RecurrentTabularExplainer"]

DISCRETIZER_SEED_KEY = 0x7AB  # the discretizer's seed: derived from random_state under this key
BACKGROUND_SEED_KEY = 0x5A9  # kernel='shap': the default background's rows, drawn under this key
BACKGROUND_ROWS = 100  # kernel='shap': rows of the default background (a random sample of the training data)
#: The sampler of surrogates fitted in the original space (EBM, GAMI-Net) when no sampler argument is given:
#: chosen from the measurements of benchmarks/gam_realistic.py (see docs/benchmarks.md, GAM surrogates).
#: Read only: ``gam_sampling=`` sets these per explainer.
GAM_SAMPLER = MappingProxyType(
    {
        "discretize_continuous": False,
        "sample_around_instance": False,
        "spread": 1.0,
        "keep_category": 0.5,
        "clip": True,
    }
)
GAM_SAMPLING_KEYS = ("sample_around_instance", "spread", "keep_category", "clip")  # what gam_sampling= may set


def _check_gam_sampling(gam_sampling):
    """``GAM_SAMPLER`` with the overrides of ``gam_sampling`` (a dict of :data:`GAM_SAMPLING_KEYS`), validated."""
    settings = dict(GAM_SAMPLER)
    if gam_sampling is None:
        return settings
    if not isinstance(gam_sampling, dict):
        raise bad_type("gam_sampling", "None or a dict with keys among " + ", ".join(GAM_SAMPLING_KEYS), gam_sampling)
    for key, value in gam_sampling.items():
        argument = f"gam_sampling[{key!r}]"
        if key not in GAM_SAMPLING_KEYS:
            raise bad_value("gam_sampling", "keys among " + ", ".join(repr(k) for k in GAM_SAMPLING_KEYS), repr(key))
        if key in ("sample_around_instance", "clip"):
            if not isinstance(value, (bool, np.bool_)):
                raise bad_type(argument, "True or False", value)
            settings[key] = bool(value)
        elif key == "spread":
            settings[key] = check_positive_float(value, argument)
        else:  # keep_category, a probability
            settings[key] = check_in_interval(value, argument, 0, 1)
    return settings


def _wants_original(call):
    """The rows in the original space: for GAM surrogates, and for the emulator of variance_reduction."""
    return call.plan.in_original_space or getattr(getattr(call, "sampling", None), "variance_reduction", None) in (
        "emulator",
        "auto",
    )


@dataclass(frozen=True)
class UnseenRow:
    """A checked DataFrame row holding categories unseen in training.

    Attributes
    ----------
    values : ndarray of shape (n_features,)
        The encoded row; an unseen category holds its column's unseen code
        (:meth:`FrameEncoder.unseen_code`), which the training frequencies
        never draw.
    unseen : dict of int -> object
        The unseen categories by column position, as the row holds them.
    """

    values: np.ndarray
    unseen: dict


def _row_parts(checked):
    """``(encoded row, {column position: unseen category})`` of a checked row."""
    if isinstance(checked, UnseenRow):
        return checked.values, checked.unseen
    return checked, {}


class TabularExplainer(BaseExplainer):
    """Explains predictions on tabular data (lime's ``LimeTabularExplainer``).

    Parameters
    ----------
    training_data : ndarray, sparse matrix or pandas.DataFrame of shape (n_samples, n_features)
        Used for the sampling statistics.  A DataFrame gives the feature names,
        and its object, string, category and bool columns become categorical
        features with their own values (no label encoding needed); the model
        then receives DataFrames with the same columns and dtypes.

        *Missing numbers.*  A numeric column (dense array or DataFrame) may
        hold NaN, and so may a row to explain: a missing value is a state of
        its own, the *missing bin* beside the discretizer's bins, drawn with
        its training frequency, named ``"income is missing"`` and handed to
        the model as NaN (what an imputing Pipeline or a NaN-aware model was
        trained on).  It needs the discretised sampler: with missing values,
        ``discretize_continuous=False`` and the GAM surrogates (fitted on the
        values themselves) raise an error naming the option to change.
        Infinite values are an error.  ``missing_features_`` lists the
        columns with missing training values.

        *Unseen categories.*  A DataFrame row may hold a category its column
        never had in training (``purpose="boat"``).  It is explained as its
        own value, named ``"purpose=boat"``.  Its training frequency is 0, so
        lime's draws would leave it to the instance's row alone (and ridge's
        shrinkage would halve a weight fitted on one row); instead the
        perturbations draw it as one more category, with probability
        ``1 / (K + 1)`` (``K``: the column's training categories; the training
        categories share the rest in their proportions), and its weight is the
        model's change between the unseen value and the training categories.
        The same holds for a missing number where the training column has
        none.  The model receives the value as it came (a pipeline's
        ``OneHotEncoder(handle_unknown="ignore")`` takes it), and the
        explanation notes it in ``diagnostics['unseen_categories']``
        (``{"purpose": "boat"}``).  ``explain_many(..., share_samples=True)``
        refuses such a row (the shared pool cannot draw its value).
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
    kernel : callable, 'shap' or None
        ``kernel(distances, kernel_width) -> weights``; default
        ``sqrt(exp(-d**2 / kernel_width**2))`` as lime.  ``'shap'``: Shapley
        values (KernelSHAP) of the model's output instead of LIME weights:
        an absent feature takes the values of every ``background`` row and
        the model's outputs are averaged, so the values sum to
        ``f(x) - E f(background)`` (the explanation's intercept is that base
        value); see :mod:`limekit.core.shapley_explain` and the user guide's
        *Shapley values*.  Dense training data only.
    verbose : bool, default=False
    class_names : list of str or None
    feature_selection : {'auto', 'none', 'forward_selection', 'highest_weights', 'lasso_path'}
    discretize_continuous : bool or None, default=None
        Sample continuous features as quartile (``discretizer``) bins, as
        lime.  None (not given): lime's ``True`` for linear surrogates; see
        *Sampler per surrogate* below.
    discretizer : {'quartile', 'decile', 'entropy'} or BaseDiscretizer, default='quartile'
    sample_around_instance : bool or None, default=None
        Undiscretised sampling centred on the instance instead of the training
        mean.  None (not given): lime's ``False`` for linear surrogates.
    training_data_stats : dict or None
        lime's precomputed statistics (``means``, ``mins``, ``maxs``, ``stds``,
        ``feature_values``, ``feature_frequencies``, ``bins``).
    %(common)s
        GAM surrogates (EBM, GAMI-Net) are fitted in the original feature
        space (continuous features standardised, categorical features as
        categories) on every feature, whatever ``discretize_continuous`` says
        (which still shapes the sampling); the explanation lists ``f_j(x_j)``,
        the centred contribution of each feature at the instance, named like
        ``"age = 39"`` or ``"sex=Male"``, and exposes the shape functions
        (:attr:`Explanation.shape_functions`).  ``feature_selection`` applies
        to linear surrogates only.

        *Sampler per surrogate.*  When none of ``discretize_continuous``,
        ``sample_around_instance`` and ``discretizer`` is given, the sampler is
        resolved per call from that call's surrogate (``surrogate=`` may be
        overridden per call): linear surrogates get lime's default
        (discretised, bit for bit as lime), surrogates fitted in the original
        space (EBM, GAMI-Net, any surrogate with ``feature_space='original'``)
        get :data:`GAM_SAMPLER`: undiscretised (continuous features from a
        normal with the training mean and standard deviation, as
        ``discretize_continuous=False``), and each categorical feature keeps
        the instance's category half the time (otherwise drawn from the
        training frequencies), so that a perturbation changes about half the
        categories instead of all of them; continuous draws are clipped to
        the training range (no negative ages; tree ensembles are flat beyond
        it anyway).  On tree ensembles EBM follows the black box more closely
        so, in sample and on fresh perturbations (``benchmarks/gam_realistic.py``,
        docs/benchmarks.md).  A call with ``sampling='kernel'`` keeps lime's
        discretised sampler.  When any of the three arguments is given, that
        sampler (lime's, from those arguments) serves every call, whatever the
        surrogate.  GAM explanations record the sampler used in
        ``diagnostics['sampler']``.
    batch_size : int or None, default=None
        Keyword only, also per call.  Perturbations per model call; None
        sends them all at once.
    background : array-like, DataFrame or None, default=None
        Keyword only, ``kernel='shap'`` only.  The rows an absent feature's
        value is taken from (their model outputs averaged, so memory and
        model rows grow with their number).  None: ``BACKGROUND_ROWS`` (100)
        training rows drawn without replacement with ``random_state`` (all of
        them when there are fewer).
    gam_sampling : dict or None, default=None
        Keyword only.  Settings of the GAM surrogates' own sampler that
        replace those of :data:`GAM_SAMPLER` (see *Sampler per surrogate*):
        ``sample_around_instance`` (bool), ``spread`` (the normal draws'
        standard deviation in units of the training one, > 0),
        ``keep_category`` (the probability that a categorical feature keeps
        the instance's category, in [0, 1]) and ``clip`` (bool: clip
        continuous draws to the training range).  Only when no sampler
        argument is given.
    """

    model_argument = "predict_fn"
    instance_argument = "data_row"

    def __init__(
        self,
        training_data: Any,  # ndarray, sparse matrix or DataFrame
        mode: str = "classification",
        training_labels: npt.ArrayLike | None = None,
        feature_names: Sequence[str] | None = None,
        categorical_features: Sequence[int | str] | None = None,
        categorical_names: dict[int, Sequence[str]] | None = None,
        kernel_width: float | None = None,
        kernel: Callable[..., Any] | str | None = None,
        verbose: bool = False,
        class_names: Sequence[str] | None = None,
        feature_selection: str = "auto",
        discretize_continuous: bool | None = None,
        discretizer: str | BaseDiscretizer = "quartile",
        sample_around_instance: bool | None = None,
        random_state: int | np.random.RandomState | np.random.Generator | None = None,
        training_data_stats: dict[str, Any] | None = None,
        *,
        surrogate: str | BaseSurrogate = "ridge",
        surrogate_task: str = "regression",
        fidelity_samples: str | int = "auto",
        stability_samples: int = 0,
        batch_size: int | None = None,
        progress_bar: bool | str = "auto",
        gam_sampling: dict[str, Any] | None = None,
        background: Any = None,
    ) -> None:
        self._init_common(
            mode=mode,
            verbose=verbose,
            class_names=class_names,
            feature_selection=feature_selection,
            random_state=random_state,
            surrogate=surrogate,
            surrogate_task=surrogate_task,
            fidelity_samples=fidelity_samples,
            stability_samples=stability_samples,
            batch_size=batch_size,
            progress_bar=progress_bar,
        )
        # None = not given: lime's sampler for linear surrogates, GAM_SAMPLER for the GAMs (see _sampler_for)
        self.sampler_given = (
            discretize_continuous is not None
            or sample_around_instance is not None
            or not (isinstance(discretizer, str) and discretizer == "quartile")
        )
        self.gam_sampling = _check_gam_sampling(gam_sampling)
        if gam_sampling is not None and self.sampler_given:
            raise bad_value(
                "gam_sampling",
                "None when discretize_continuous, sample_around_instance or discretizer "
                "is given (that sampler then serves every surrogate)",
                describe(gam_sampling),
            )
        discretize_continuous = True if discretize_continuous is None else discretize_continuous
        self.discretize_continuous = bool(discretize_continuous)
        self.sample_around_instance = bool(sample_around_instance)  # None -> False, lime's default
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
            check_finite(data.data, "training_data")  # sparse rows: no missing values (their zeros are values)
        else:
            data = _as_float_matrix(training_data, "training_data")
        if data.ndim != 2 or data.shape[0] < 1 or data.shape[1] < 1:
            raise bad_value("training_data", "a 2-D array with at least one row and one column", f"shape {data.shape}")
        n_features = data.shape[1]
        self.n_features = n_features
        if feature_names is None:
            feature_names = [str(i) for i in range(n_features)]
        feature_names = [str(n) for n in feature_names]
        if len(feature_names) != n_features:
            raise bad_value("feature_names", f"{n_features} names (one per column)", f"{len(feature_names)}")
        self.feature_names = feature_names
        check_training_magnitude(data, feature_names)
        self.categorical_features = _resolve_columns(categorical_features, feature_names, "categorical_features")
        if self.is_sparse and self.categorical_features:
            raise bad_value(
                "categorical_features",
                "none with sparse training data",
                f"{self.categorical_features}",
                "Use a dense array or a DataFrame.",
            )
        self.categorical_names = {int(k): list(v) for k, v in (categorical_names or {}).items()}
        for column in self.categorical_features:
            if not self.is_sparse and not np.all(data[:, column] == np.round(data[:, column])):
                raise bad_value(
                    "categorical_features",
                    f"integer codes in column {feature_names[column]!r}",
                    "missing values (NaN)" if np.isnan(data[:, column]).any() else "non-integer values",
                    "Label-encode it, or pass a DataFrame (where a missing category is a category of its own).",
                )
        #: numeric columns with missing values (NaN) in the training data
        self.missing_features_ = [] if self.is_sparse else [int(j) for j in np.flatnonzero(np.isnan(data).any(axis=0))]
        for column in self.missing_features_:
            if np.isnan(data[:, column]).all():
                raise bad_value(
                    "training_data",
                    f"some values in numeric column {feature_names[column]!r}",
                    "only missing values (NaN)",
                    "Drop the column.",
                )
        if self.missing_features_ and not discretize_continuous:
            raise bad_value(
                "discretize_continuous",
                "True when numeric columns hold missing values (the missing bin is one of the discretised "
                "sampler's bins; undiscretised draws have no missing state)",
                f"False, with missing values in column {feature_names[self.missing_features_[0]]!r}",
            )
        if training_labels is not None:
            training_labels = np.asarray(training_labels)
            if training_labels.shape[0] != data.shape[0]:
                raise bad_value(
                    "training_labels", f"{data.shape[0]} labels (one per training row)", f"{training_labels.shape[0]}"
                )
        self._set_kernel(kernel, np.sqrt(n_features) * 0.75 if kernel_width is None else kernel_width)
        self.background = self._check_background(background, data)

        self.declared_categorical = list(self.categorical_features)
        self.discretizer = None
        if discretize_continuous and not self.is_sparse:
            self.discretizer = make_discretizer(
                discretizer,
                data,
                self.categorical_features,
                self.feature_names,
                training_labels,
                seed_from(self.random_generator(DISCRETIZER_SEED_KEY)),
                data_stats=training_data_stats,
            )
            self.categorical_features = list(range(n_features))
        # lime draws the values within bins from a caller's discretizer's own random_state
        values_entropy = None
        if (
            isinstance(discretizer, BaseDiscretizer)
            and self.discretizer is discretizer
            and discretizer.random_state is not None
        ):
            values_entropy = base_entropy(discretizer.random_state)

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
        self.sampler = TabularSampler(
            n_features,
            self.is_sparse,
            self.discretizer,
            self.categorical_features,
            self.declared_categorical,
            self.feature_values,
            self.feature_frequencies,
            self.scaler.mean_,
            self.scaler.scale_,
            self.standard_mean_,
            self.standard_scale_,
            self.sample_around_instance,
            values_entropy,
        )
        self.gam_sampler = None  # the GAMs' own sampler, when no sampler argument was given
        if not self.sampler_given:
            declared = self.declared_categorical
            self.gam_sampler = TabularSampler(
                n_features,
                self.is_sparse,
                None,
                declared,
                declared,
                {f: self.feature_values[f] for f in declared},
                {f: self.feature_frequencies[f] for f in declared},
                self.standard_mean_,
                self.standard_scale_,
                self.standard_mean_,
                self.standard_scale_,
                self.gam_sampling["sample_around_instance"],
                spread=self.gam_sampling["spread"],
                keep_category=self.gam_sampling["keep_category"],
                bounds=(
                    (np.nanmin(data, axis=0), np.nanmax(data, axis=0))
                    if self.gam_sampling["clip"] and not self.is_sparse and training_data_stats is None
                    else None
                ),
            )

    # ------------------------------------------------------------------ lime API
    @staticmethod
    def convert_and_round(values: Iterable[float]) -> list[str]:
        return [f"{v:.2f}" for v in values]

    @staticmethod
    def validate_training_data_stats(training_data_stats: dict[str, Any]) -> None:
        _check_training_data_stats(training_data_stats)

    def explain_instance(
        self,
        data_row: Any,  # 1-D array, Series, one-row DataFrame or 1 x n sparse matrix
        predict_fn: Callable[..., Any],
        labels: int | str | Iterable[int | str] | None = None,
        top_labels: int | None = None,
        num_features: int = 10,
        num_samples: int | str = 5000,
        distance_metric: str | Callable[..., Any] = "euclidean",
        model_regressor: Any = None,
        sampling_method: str = "gaussian",
        *,
        surrogate: str | BaseSurrogate | None = CALL_DEFAULTS.surrogate,
        surrogate_task: str | None = CALL_DEFAULTS.surrogate_task,
        fidelity_samples: str | int | None = CALL_DEFAULTS.fidelity_samples,
        stability_samples: int | None = CALL_DEFAULTS.stability_samples,
        batch_size: int | None = None,
        progress_bar: bool | str | None = None,
        max_samples: int | None = CALL_DEFAULTS.max_samples,
        confidence: float = CALL_DEFAULTS.confidence,
        sampling: str = CALL_DEFAULTS.sampling,
        variance_reduction: str | None = CALL_DEFAULTS.variance_reduction,
        faithfulness: bool = CALL_DEFAULTS.faithfulness,
    ) -> Explanation:
        """Explain the model's prediction for one row.

        Parameters
        ----------
        data_row : 1-D array, pandas Series, one-row DataFrame or 1 x n sparse matrix
        predict_fn : callable
            Classification: returns class probabilities of shape (n, n_classes)
            (``predict_proba``).  Regression: returns one value per row.
        %(labels)s
        %(size)s
        distance_metric : str or callable, default='euclidean'
        sampling_method : {'gaussian', 'lhs'}, default='gaussian'
            Undiscretised sampling: normal draws or a Latin hypercube.
        %(call)s

        Returns
        -------
        Explanation
            With ``diagnostics['fidelity'][label]`` (held-out; None when
            skipped) and ``diagnostics['fidelity_in_sample'][label]``: the
            weighted R^2 against the black box's output, AUC and accuracy
            against its label (see :mod:`limekit.core.fidelity`).
        """
        call = self.make_call(
            predict_fn,
            labels=labels,
            top_labels=top_labels,
            num_features=num_features,
            num_samples=num_samples,
            distance_metric=distance_metric,
            model_regressor=model_regressor,
            batch_size=batch_size,
            progress_bar=progress_bar,
            frontend_options={"sampling_method": sampling_method},
            options=CallOptions(
                surrogate=surrogate,
                surrogate_task=surrogate_task,
                fidelity_samples=fidelity_samples,
                stability_samples=stability_samples,
                max_samples=max_samples,
                confidence=confidence,
                sampling=sampling,
                variance_reduction=variance_reduction,
                faithfulness=faithfulness,
            ),
        )
        return self._explain_one(data_row, call)

    def explain_instances(
        self, data_rows: Any, predict_fn: Callable[..., Any], **kwargs: Any
    ) -> list[Explanation | FailedRow] | pd.DataFrame | Iterator[Any]:
        """lime-style name of :meth:`explain_many` (kept from limekit 0.1)."""
        return self.explain_many(data_rows, predict_fn, **kwargs)

    # ------------------------------------------------------------------ kernel='shap'
    def _check_background(self, background, data):
        """The background rows (encoded) of ``kernel='shap'``; None without it."""
        if not self.shapley:
            if background is not None:
                raise bad_value("background", "None unless kernel='shap'", describe(background))
            return None
        if self.is_sparse:
            raise bad_value(
                "kernel", "a callable or None with sparse training data (no background rows to average)", repr("shap")
            )
        if background is None:
            rng = self.random_generator(BACKGROUND_SEED_KEY)
            n = min(BACKGROUND_ROWS, data.shape[0])
            return np.array(data[np.sort(rng.choice(data.shape[0], n, replace=False))], dtype=float)
        if self.encoder is not None and is_dataframe(background):
            rows = self.encoder.encode(background, "background")
        else:
            rows = _as_float_matrix(background.to_numpy() if is_dataframe(background) else background, "background")
        if rows.ndim != 2 or rows.shape[0] < 1 or rows.shape[1] != self.n_features:
            raise bad_value(
                "background", f"a 2-D array of one or more rows of {self.n_features} values", f"shape {rows.shape}"
            )
        check_finite(rows, "background", allow_nan=True)
        return np.array(rows, dtype=float)

    def _players(self, row):
        """The features that vary between ``row`` and the background: the others' Shapley value is 0 (as shap)."""
        row, unseen = _row_parts(row)
        background = self.background
        same = (background == row[None, :]) | (np.isnan(background) & np.isnan(row)[None, :])
        varying = np.flatnonzero(~same.all(axis=0) | np.isin(np.arange(self.n_features), list(unseen)))
        return varying if varying.size else np.array([0])

    def _coalition_width(self, row):
        return int(self._players(row).size)

    def _strata(self, row):
        """``(differs, rows)``: where each background row with players differs from ``row`` (over the players),
        and those background rows' indices."""
        players = self._players(row)
        values, _ = _row_parts(row)
        background = self.background[:, players]
        values = values[players]
        differs = ~((background == values[None, :]) | (np.isnan(background) & np.isnan(values)[None, :]))
        rows = np.flatnonzero(differs.any(axis=1))
        return differs[rows], rows

    def _coalition_strata(self, row):
        """One game per background row when there are several.

        See :class:`~limekit.core.shapley_strata.StratifiedDesign`.
        """
        if self.background is None or self.background.shape[0] < 2:
            return None
        differs, rows = self._strata(row)
        if rows.size == 0:  # the row equals every background row: one game, every value 0
            return None
        return [np.flatnonzero(d) for d in differs], int(self.background.shape[0])

    def _feature_count(self, row):
        return self.n_features

    def _coalition_rows(self):
        return 1 if self.background is None else int(self.background.shape[0])

    def _coalition_neighbourhood(self, row, masks, call):
        """``kernel='shap'`` as one game (one background row, or a row equal to every background row): each
        coalition one model row, absent features from the background.

        The players are the features that vary between the row and the
        background (``feature_ids``); the others keep the row's value.
        """
        players = self._players(row)
        row, unseen = _row_parts(row)
        background = self.background
        d = self.n_features

        def inputs(rows):
            kept = np.ones((masks[rows].shape[0], d), dtype=bool)
            kept[:, players] = masks[rows]
            if background.shape[0] == 1:
                return self._inputs(np.where(kept, row[None, :], background), unseen)(slice(None))
            # several rows and no game per row (_coalition_strata): every background row is the row itself
            distinct = stratum_rows(kept, row, background, np.zeros(kept.shape[0], dtype=np.intp))
            return replace(distinct, rows=self._inputs(distinct.rows, unseen)(slice(None)))

        return Neighbourhood(masks.astype(float), inputs, np.zeros(masks.shape[0]), feature_ids=players, binary=True)

    def _stratum_neighbourhood(self, row, masks, strata, call):
        """``kernel='shap'``, one game per background row: coalition ``i`` is one model row, the features it
        drops from background row ``strata[i]`` (among those with players); each distinct row built once."""
        players = self._players(row)
        _, background_rows = self._strata(row)
        row, unseen = _row_parts(row)
        d = self.n_features

        def inputs(rows):
            kept = np.ones((masks[rows].shape[0], d), dtype=bool)
            kept[:, players] = masks[rows]
            distinct = stratum_rows(kept, row, self.background, background_rows[strata[rows]])
            return replace(distinct, rows=self._inputs(distinct.rows, unseen)(slice(None)))

        return Neighbourhood(masks.astype(float), inputs, np.zeros(masks.shape[0]), feature_ids=players, binary=True)

    # ------------------------------------------------------------------ frontend hooks
    def _check_options(self, options):
        sampling_method = check_choice(options.pop("sampling_method"), "sampling_method", SAMPLING_METHODS)
        super()._check_options(options)
        return {"sampling_method": sampling_method}

    def _instance_digest(self, row):
        if sp.issparse(row):
            return instance_digest(row.indices, row.data, row.shape[1])
        row, unseen = _row_parts(row)
        if unseen:
            return instance_digest(row, repr(sorted((position, repr(value)) for position, value in unseen.items())))
        return instance_digest(row)

    def _sampler_for(self, call):
        """The call's sampler: the GAM sampler for original-space surrogates unless a sampler argument was given."""
        # sampling='kernel' asks for lime's discretised representation: it keeps lime's sampler
        kernel = getattr(getattr(call, "sampling", None), "scheme", "lime") == "kernel"
        if self.gam_sampler is not None and call.plan.in_original_space and not kernel:
            return self.gam_sampler
        return self.sampler

    def _check_call(self, call):
        """GAM surrogates fit the values themselves: none is missing in training (see *Missing numbers*)."""
        if self.missing_features_ and call.plan.in_original_space:
            raise bad_value(
                "surrogate",
                "a linear surrogate ('ridge', 'lasso') when numeric columns hold missing values (GAM "
                "surrogates are fitted on the values themselves; the linear ones on the missing bin)",
                f"{call.plan.name!r}, with missing values in column {self.feature_names[self.missing_features_[0]]!r}",
            )

    def _check_missing(self, row, sampler, call):
        """Raise if ``row`` has a missing number that this call's sampler or surrogate cannot take."""
        if sp.issparse(row) or not np.isnan(row).any():
            return
        column = self.feature_names[int(np.flatnonzero(np.isnan(row))[0])]
        if call.plan.in_original_space:
            option = "surrogate='ridge' (GAM surrogates are fitted on the values themselves)"
        elif sampler.discretizer is None:
            option = "discretize_continuous=True (a missing value is a bin of the discretised sampler)"
        else:
            return
        raise bad_value(
            "data_row",
            "no missing values with this sampler",
            f"a missing value (NaN) in column {column!r}",
            f"Use {option}.",
        )

    def _new_states(self, row, unseen, sampler):
        """Columns where ``row`` holds a state training never had, which the sampler draws as one more.

        Its unseen categories, and (discretised) its missing values where
        the training column has none.
        """
        if sp.issparse(row):
            return []
        missing = [] if sampler.discretizer is None else np.flatnonzero(np.isnan(row)).tolist()
        return sorted([*unseen, *(j for j in missing if j not in self.missing_features_)])

    def _names_with_unseen(self, unseen):
        """``categorical_names`` with each unseen category named at its code (for GAM shape functions)."""
        if not unseen:
            return self.categorical_names
        names = dict(self.categorical_names)
        for position, value in unseen.items():
            code = self.encoder.unseen_code(position)
            known = list(names.get(position, []))
            names[position] = [*known, *[MISSING] * (code - len(known)), str(value)]  # the missing slot, then it
        return names

    def _describe_state(self, unseen, column):
        """``"purpose='boat' (unseen in training)"`` or ``"income missing (never in training)"``, for messages."""
        name = self.feature_names[column]
        if column in unseen:
            return f"{name}={unseen[column]!r} (unseen in training)"
        return f"{name} missing (never in training)"

    def _inputs(self, inverse, unseen):
        """``inputs(rows)`` of a neighbourhood: rows of ``inverse``, unseen categories put back (see _frame)."""
        if not unseen:
            return lambda rows: inverse[rows]
        encoder = self.encoder
        return lambda rows: encoder.with_unseen(inverse[rows], unseen)

    def _sample(self, row, n, call, rng):
        row, unseen = _row_parts(row)
        check_perturbation_memory(n, row.nnz if sp.issparse(row) else self.n_features)
        sampler = self._sampler_for(call)
        self._check_missing(row, sampler, call)
        sampler.check_row(row, self.feature_names)
        Z, inverse, feature_ids = sampler.sample(
            row, n, rng, call.options["sampling_method"], self._new_states(row, unseen, sampler)
        )
        original = (
            sampler.original_space(Z, inverse, feature_ids, self._names_with_unseen(unseen))
            if _wants_original(call)
            else None
        )
        inputs = inverse.rows if isinstance(inverse, SparseRows) else self._inputs(inverse, unseen)
        binary = sampler.discretizer is not None and feature_ids is None
        return Neighbourhood(
            Z,
            inputs,
            distances_to_first(Z, call.distance_metric),
            feature_ids=feature_ids,
            original=original,
            binary=binary,
        )

    def _check_shared(self, call):
        """``share_samples=True`` needs draws that do not depend on the instance (``TabularSampler.shares_draws``)."""
        if call.plan.in_original_space:
            raise bad_value(
                "share_samples",
                "False with this surrogate (GAM surrogates fit on their own sampler's rows, drawn around the instance)",
                True,
            )
        if call.sampling.scheme != "lime":
            raise bad_value("share_samples", "False with sampling='kernel' (its draws depend on the instance)", True)
        if not self._sampler_for(call).shares_draws():
            raise bad_value(
                "share_samples",
                "False with sparse rows, sample_around_instance=True or "
                "keep_category (their draws depend on the instance)",
                True,
            )

    def _shared_width(self, call):
        return self.n_features

    def _sampling_strategy(self, call):
        """``share_samples=True``: every row of a task reads one pool (see :mod:`limekit.tabular.shared_pool`)."""
        return SharedPoolRounds(self) if call.share_samples else super()._sampling_strategy(call)

    def _emulator_input(self, rows):
        """Model-space rows as the emulator reads them: the original space (standardised values, category codes)."""
        return (np.asarray(rows, dtype=float) - self.sampler.standard_mean) / self.sampler.standard_scale

    def _shared_pool(self, n, call, rng):
        """``n`` perturbations of no instance in particular: their codes (bins, or values) as ``Z``; model inputs."""
        codes, inverse = self._sampler_for(call).sample_shared(n, rng, call.options["sampling_method"])
        return Neighbourhood(codes, lambda rows: inverse[rows], None, includes_instance=False)

    def _shared_view(self, row, pool, call, with_instance):
        """``row``'s neighbourhood of a shared ``pool``: which bins match its own, after its own row if asked."""
        row, unseen = _row_parts(row)
        sampler = self._sampler_for(call)
        if with_instance:
            self._check_missing(row, sampler, call)
            sampler.check_row(row, self.feature_names)
            new_states = self._new_states(row, unseen, sampler)
            if new_states:
                raise bad_value(
                    "share_samples",
                    "False for a row holding a state the training data never had (its perturbations "
                    "draw that state too; a shared pool cannot)",
                    f"True, with {self._describe_state(unseen, new_states[0])}",
                )
        Z = sampler.match(row, np.concatenate([sampler.shared_codes(row)[None, :], pool.Z]))
        pool_inputs = pool.inputs
        own_row = self._inputs(row[None, :], unseen)(slice(0, 1))

        def inputs(rows):
            start = rows.start or 0
            rest = pool_inputs(slice(max(start - 1, 0), rows.stop - 1))
            return rest if start else np.concatenate([own_row, rest])

        binary = sampler.discretizer is not None
        view = Neighbourhood(Z, inputs, distances_to_first(Z, call.distance_metric), binary=binary)
        return view if with_instance else view.without_instance()

    def _sample_kernel(self, row, n, call, rng):
        """Discretised rows drawn from the kernel (see :meth:`TabularSampler.sample_kernel`)."""
        row, unseen = _row_parts(row)
        sampler = self._sampler_for(call)
        if sampler.discretizer is None or sampler.is_sparse:
            raise bad_value(
                "sampling",
                "'lime' without discretised features ('kernel' needs the binary "
                "representation of discretize_continuous=True)",
                repr("kernel"),
            )
        self._check_missing(row, sampler, call)
        check_perturbation_memory(n, self.n_features)
        d = len(sampler.sampled_categorical)
        kernel = self.kernel_fn(distance_of_kept_count(np.arange(d + 1), d, call.distance_metric))
        Z, inverse, feature_ids = sampler.sample_kernel(row, n, rng, kernel, self._new_states(row, unseen, sampler))
        original = (
            sampler.original_space(Z, inverse, feature_ids, self._names_with_unseen(unseen))
            if _wants_original(call)
            else None
        )
        return Neighbourhood(
            Z,
            self._inputs(inverse, unseen),
            distances_to_first(Z, call.distance_metric),
            original=original,
            binary=True,
        )

    def _model_input(self, batch):
        if (
            self.shapley and self._coalition_rows() > 1
        ):  # decoded after the distinct rows are found (_coalition_model_input)
            return batch
        return self._decoded(batch)

    def _decoded(self, batch):
        return batch if self.encoder is None or sp.issparse(batch) else self.encoder.decode(batch)

    def _coalition_model_input(self):
        return None if self.encoder is None else self._decoded

    def _faithfulness_draws(self, call):
        """A removed feature takes ``TABULAR_DRAWS`` draws of the training distribution (averaged); with
        ``kernel='shap'``, every background row's value (the game's own removal)."""
        return int(self.background.shape[0]) if call.shapley else TABULAR_DRAWS

    def _check_faithfulness(self):
        if self.is_sparse:
            raise bad_value(
                "faithfulness", "False for sparse training data (no feature is removed from a sparse row)", True
            )

    def _masked_inputs(self, row, masks, call, rng):
        """The row with each masked-off feature replaced by draws of the training distribution (lime's sampler),
        or with ``kernel='shap'`` by each background row's value.

        ``masks`` repeats each step ``_faithfulness_draws`` times; the same draws serve every step (common
        random numbers: the curves' steps differ by the features removed, not by the draws).
        """
        draws = self._faithfulness_draws(call)
        if call.shapley:
            row, unseen = _row_parts(row)
            values = np.where(masks, row[None, :], np.tile(self.background, (masks.shape[0] // draws, 1)))
            inputs = self._inputs(values, unseen)
            if self._coalition_rows() == 1:
                return inputs
            return lambda rows: DistinctRows(inputs(rows), np.arange(len(values[rows])))  # as DistinctRowsModel takes
        _, inverse, _ = self.sampler.sample(row, draws + 1, rng, call.options["sampling_method"])
        replacements = np.tile(np.asarray(inverse[1:], dtype=float), (masks.shape[0] // draws, 1))
        values = np.where(masks, np.asarray(row, dtype=float)[None, :], replacements)
        return lambda rows: values[rows]

    def _new_explanation(self, row, neighbourhood, call):
        row, unseen = _row_parts(row)
        if call.shapley:  # values of the features themselves: "age = 39", "sex=Male"
            mapper = self._domain_mapper(
                row, np.ones((1, self.n_features)), None, True, self.declared_categorical, unseen
            )
            return Explanation(mapper, mode=self.mode)
        mapper = self._domain_mapper(
            row,
            neighbourhood.Z,
            neighbourhood.feature_ids,
            call.plan.in_original_space,
            self._sampler_for(call).sampled_categorical,
            unseen,
        )
        return Explanation(mapper, mode=self.mode)

    def _finish(self, explanation, context, call):
        _, unseen = _row_parts(context)
        if unseen:  # categories the training data never had, drawn as one more category each
            explanation.diagnostics["unseen_categories"] = {
                self.feature_names[position]: _json_value(value) for position, value in sorted(unseen.items())
            }
        if call.plan.in_original_space:  # GAMs: which sampler drew the perturbations (linear records stay lime's)
            sampler = self._sampler_for(call)
            explanation.diagnostics["sampler"] = {
                "discretize_continuous": sampler.discretizer is not None,
                "sample_around_instance": bool(sampler.sample_around_instance),
                "spread": sampler.spread,
                "keep_category": sampler.keep_category,
                "clip": sampler.bounds is not None,
                "sampling_method": call.options["sampling_method"],
                "chosen_by": "surrogate" if sampler is self.gam_sampler else "arguments",
            }

    def _check_instance(self, data_row):
        """The encoded row (NaN where a number is missing); an :class:`UnseenRow` when it holds unseen categories."""
        unseen = {}
        if self.encoder is not None and (is_series(data_row) or is_dataframe(data_row)):
            if is_dataframe(data_row) and data_row.shape[0] != 1:
                raise bad_value("data_row", "one row", f"a DataFrame with {data_row.shape[0]} rows")
            matrix, unseen_rows = self.encoder.encode_rows(data_row, "data_row")
            row, unseen = matrix[0], unseen_rows[0]
        elif sp.issparse(data_row):
            if not self.is_sparse:
                return self._check_instance(np.asarray(data_row.todense()).ravel())
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
            return sp.csr_matrix(check_finite(row, "data_row")[None, :])  # sparse rows: no missing values
        codes = row[self.declared_categorical]
        not_integer = np.flatnonzero(codes != np.round(codes))
        if not_integer.size:
            feature = self.declared_categorical[not_integer[0]]
            raise bad_value(
                "data_row", f"an integer code for categorical feature {self.feature_names[feature]!r}", row[feature]
            )
        return UnseenRow(row, unseen) if unseen else row

    def _check_instances(self, data_rows):
        """The rows of ``data_rows`` (2-D array, DataFrame or sparse matrix), each checked like a data_row."""
        unseen = None
        if self.encoder is not None and is_dataframe(data_rows):
            matrix, unseen = self.encoder.encode_rows(data_rows, "data_rows")
        elif sp.issparse(data_rows):
            matrix = sp.csr_matrix(data_rows, dtype=float)
        else:
            matrix = _as_float_matrix(data_rows.to_numpy() if is_dataframe(data_rows) else data_rows, "data_rows")
        if matrix.ndim != 2 or matrix.shape[0] < 1 or matrix.shape[1] != self.n_features:
            raise bad_value(
                "data_rows", f"a 2-D array of one or more rows of {self.n_features} values", f"shape {matrix.shape}"
            )
        if not sp.issparse(matrix):
            check_finite(matrix, "data_rows", allow_nan=not self.is_sparse)
            for feature in self.declared_categorical:
                if not np.all(matrix[:, feature] == np.round(matrix[:, feature])):
                    raise bad_value(
                        "data_rows",
                        f"integer codes for categorical feature {self.feature_names[feature]!r}",
                        "non-integer values",
                    )
        if sp.issparse(matrix) or self.is_sparse:  # dense <-> sparse conversions, as for one row
            return [self._check_instance(matrix[i]) for i in range(matrix.shape[0])]
        if unseen is not None:
            return [UnseenRow(row, found) if found else row for row, found in zip(matrix, unseen)]
        return list(matrix)

    def _domain_mapper(self, row, Z, feature_ids, original_space=False, categorical_features=None, unseen=None):
        names = list(self.feature_names)
        dense_row = np.asarray(row.todense()).ravel() if self.is_sparse else row
        values = self.convert_and_round(dense_row)
        instance_values = [None if np.isnan(v) else float(v) for v in dense_row]
        unseen = unseen or {}
        for feature in self.declared_categorical:
            code = int(dense_row[feature])
            if feature in unseen:
                display = unseen[feature]
            elif feature in self.categorical_names and 0 <= code < len(self.categorical_names[feature]):
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
                code = int(bins[feature])  # the missing bin may be unnamed when training had no NaN there
                discretized_names[feature] = (
                    bin_names[code] if code < len(bin_names) else missing_name(self.feature_names[feature])
                )
        if categorical_features is None:
            categorical_features = self.categorical_features
        return TableDomainMapper(
            names,
            values,
            Z[0],
            categorical_features,
            discretized_names,
            feature_ids,
            instance_values,
            list(self.feature_names),
        )


fill_docstrings(TabularExplainer, unit="row", features="features")


class RecurrentTabularExplainer(TabularExplainer):
    """lime's ``RecurrentTabularExplainer`` for ``(n_samples, n_timesteps, n_features)`` data.

    The series are flattened to ``n_timesteps * n_features`` columns named
    ``"{feature}_t-{lag}"``; the model still receives 3-D arrays.  With
    ``kernel='shap'``, ``background`` takes series of the training data's
    shape (or rows already flattened).
    """

    def __init__(
        self,
        training_data: npt.ArrayLike,
        mode: str = "classification",
        training_labels: npt.ArrayLike | None = None,
        feature_names: Sequence[str] | None = None,
        categorical_features: Sequence[int | str] | None = None,
        categorical_names: dict[int, Sequence[str]] | None = None,
        kernel_width: float | None = None,
        kernel: Callable[..., Any] | None = None,
        verbose: bool = False,
        class_names: Sequence[str] | None = None,
        feature_selection: str = "auto",
        discretize_continuous: bool | None = None,
        discretizer: str | BaseDiscretizer = "quartile",
        random_state: int | np.random.RandomState | np.random.Generator | None = None,
        **kwargs: Any,
    ) -> None:
        training_data = np.asarray(training_data, dtype=float)
        if training_data.ndim != 3:
            raise bad_value(
                "training_data", "a 3-D array (n_samples, n_timesteps, n_features)", f"shape {training_data.shape}"
            )
        n_samples, n_timesteps, n_features = training_data.shape
        self.n_timesteps = n_timesteps
        self.n_features_per_step = n_features
        flat = np.transpose(training_data, axes=(0, 2, 1)).reshape(n_samples, n_timesteps * n_features)
        if feature_names is None:
            feature_names = [str(i) for i in range(n_features)]
        if len(feature_names) != n_features:
            raise bad_value("feature_names", f"{n_features} names (one per feature)", len(feature_names))
        feature_names = [f"{name}_t-{n_timesteps - (i + 1)}" for name in feature_names for i in range(n_timesteps)]
        background = kwargs.get("background")
        if background is not None and np.ndim(background) == 3:  # kernel='shap': series, flattened as the data
            series = np.asarray(background, dtype=float)
            if series.shape[1:] != (n_timesteps, n_features):
                raise bad_value(
                    "background",
                    f"series of shape (n_rows, {n_timesteps}, {n_features}) (or flattened rows)",
                    f"shape {series.shape}",
                )
            kwargs["background"] = np.transpose(series, axes=(0, 2, 1)).reshape(len(series), -1)
        super().__init__(
            flat,
            mode=mode,
            training_labels=training_labels,
            feature_names=feature_names,
            categorical_features=categorical_features,
            categorical_names=categorical_names,
            kernel_width=kernel_width,
            kernel=kernel,
            verbose=verbose,
            class_names=class_names,
            feature_selection=feature_selection,
            discretize_continuous=discretize_continuous,
            discretizer=discretizer,
            random_state=random_state,
            **kwargs,
        )

    class SeriesModel:
        """The model of 3-D series, called with flattened rows (reshaped back); picklable."""

        def __init__(self, model: Callable[..., Any], n_timesteps: int, n_features_per_step: int) -> None:
            self.model, self.n_timesteps, self.n_features_per_step = model, n_timesteps, n_features_per_step

        def __call__(self, X: np.ndarray) -> Any:
            series = np.asarray(X).reshape(X.shape[0], self.n_features_per_step, self.n_timesteps)
            return self.model(np.transpose(series, axes=(0, 2, 1)))

        def __repr__(self) -> str:
            return f"<{self.model!r} on series of {self.n_timesteps} steps>"

    def _make_predict_proba(self, func):
        """``func`` (a model of 3-D series) as a model of the flattened rows."""
        return self.SeriesModel(func, self.n_timesteps, self.n_features_per_step)

    def _adapt_model(self, model):
        # every path to the model (explain_instance, explain_many on any backend, a model built on a worker
        # by predict_factory) passes here: the model always receives 3-D series
        predict, class_names = super()._adapt_model(model)
        return self._make_predict_proba(predict), class_names

    def explain_instance(  # type: ignore[override]  # lime's signature: classifier_fn, no sampling_method
        self,
        data_row: npt.ArrayLike,
        classifier_fn: Callable[..., Any],
        labels: int | str | Iterable[int | str] | None = None,
        top_labels: int | None = None,
        num_features: int = 10,
        num_samples: int | str = 5000,
        distance_metric: str | Callable[..., Any] = "euclidean",
        model_regressor: Any = None,
        **kwargs: Any,
    ) -> Explanation:
        """Explain one series of shape ``(n_timesteps, n_features)``; see :meth:`TabularExplainer.explain_instance`."""
        data_row = np.asarray(data_row, dtype=float)
        if data_row.shape != (self.n_timesteps, self.n_features_per_step):
            raise bad_value(
                "data_row", f"shape ({self.n_timesteps}, {self.n_features_per_step})", f"shape {data_row.shape}"
            )
        if not callable(classifier_fn):
            raise bad_type("classifier_fn", "a callable", classifier_fn)
        return super().explain_instance(
            data_row.T.reshape(-1),
            classifier_fn,
            labels=labels,
            top_labels=top_labels,
            num_features=num_features,
            num_samples=num_samples,
            distance_metric=distance_metric,
            model_regressor=model_regressor,
            **kwargs,
        )

    def _explain_signature(self):
        return inspect.signature(super().explain_instance)  # the flattened rows' explain_instance

    def explain_many(  # type: ignore[override]  # lime's name for the model: classifier_fn
        self,
        instances: Any,
        classifier_fn: Callable[..., Any] | None = None,
        n_jobs: int = 1,
        rows_per_task: int | None = None,
        **kwargs: Any,
    ) -> list[Explanation | FailedRow] | pd.DataFrame | Iterator[Any]:
        """Explain series of shape ``(n_rows, n_timesteps, n_features)``; see :meth:`TabularExplainer.explain_many`.

        Every keyword of :meth:`TabularExplainer.explain_many` applies
        (``backend``, ``predict_factory``, ``stream``, ...); the model, or the
        one ``predict_factory`` builds, receives 3-D series.  Rows already
        flattened to ``n_timesteps * n_features`` columns (in the order of
        ``feature_names``, as :class:`limekit.distributed.LimeBatchUDF`
        passes them) are taken as well.
        """
        if hasattr(instances, "to_numpy"):
            instances = instances.to_numpy()
        data_rows = np.asarray(instances, dtype=float)
        flat_width = self.n_timesteps * self.n_features_per_step
        if data_rows.ndim == 2 and data_rows.shape[1] == flat_width:
            flat = data_rows
        elif data_rows.ndim == 3 and data_rows.shape[1:] == (self.n_timesteps, self.n_features_per_step):
            flat = np.transpose(data_rows, axes=(0, 2, 1)).reshape(len(data_rows), -1)
        else:
            raise bad_value(
                "instances",
                f"shape (n_rows, {self.n_timesteps}, {self.n_features_per_step}) (or "
                f"flattened rows of {flat_width} values)",
                f"shape {data_rows.shape}",
            )
        classifier_fn = _one_model(classifier_fn, kwargs.pop("predict_fn", None))
        if classifier_fn is not None and not callable(classifier_fn):
            raise bad_type("classifier_fn", "a callable", classifier_fn)
        return super().explain_many(flat, classifier_fn, n_jobs, rows_per_task, **kwargs)


def _format_value(value):
    """Short readable number: integers without decimals, others to 4 significant digits."""
    value = float(value)
    if np.isnan(value):  # a missing number (kernel='shap' names the row's own values)
        return "missing"
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
    return check_finite(array, argument, allow_nan=True)  # NaN: a missing value


def _json_value(value):
    """A category as the JSON records keep it: a string, a number or a bool as it is, anything else as text."""
    if isinstance(value, np.generic):
        value = value.item()
    return value if isinstance(value, (str, int, float, bool)) else str(value)


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


def _one_model(classifier_fn: Callable[..., Any] | None, predict_fn: Callable[..., Any] | None) -> Any:
    """The model, given under lime's name ``classifier_fn`` or limekit's ``predict_fn`` (not both)."""
    if classifier_fn is not None and predict_fn is not None:
        raise LimekitTypeError(
            "explain_many: give the model once, as classifier_fn (lime's name) or predict_fn, not both"
        )
    return predict_fn if classifier_fn is None else classifier_fn
