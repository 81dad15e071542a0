"""The Explanation object, with lime's accessors and limekit's diagnostics."""

from __future__ import annotations

import inspect
import json
import numbers
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from .._validation import (
    LimekitTypeError,
    bad_type,
    bad_value,
    check_keywords,
    describe,
    did_you_mean,
    strict_keywords,
)
from .records import validate_explanation_record
from .trust import fit_warnings
from .verdicts import VERDICT_KEYS, feature_record, feature_statuses, label_groups, status_mark

if TYPE_CHECKING:
    import os

    from matplotlib.figure import Figure

    from .fit import LocalFit

__all__ = ["DomainMapper", "StoredDomainMapper", "Explanation", "mapper_keywords"]


def _one_label_hint(method: str) -> Callable[[Any], str]:
    """The hint of an output method that takes one ``label`` when it is given ``labels=``."""

    def hint(value: Any) -> str:
        example = "..."
        if isinstance(value, (list, tuple)) and len(value) == 1:
            example = repr(value[0])
        elif isinstance(value, (numbers.Integral, str)):
            example = repr(value)
        return (
            f"{method} shows one label: pass label={example} (a class index or class name); "
            "as_html, save_to_file and show_in_notebook take labels=[...]"
        )

    return hint


def single_label_method(function: Callable[..., Any]) -> Callable[..., Any]:
    """:func:`strict_keywords` for a method taking one ``label``, with the hint for ``labels=``."""
    return cast(
        "Callable[..., Any]",
        strict_keywords(function, hints={"labels": _one_label_hint(function.__name__)}),
    )


_MAPPER_KEYWORDS: dict[type, tuple[tuple[str, ...], bool]] = {}


def mapper_keywords(mapper: Any) -> tuple[tuple[str, ...], bool]:
    """``(keywords of mapper.map_exp_ids after exp, whether it takes any keyword)``.

    ``as_list`` and ``as_pyplot_figure`` pass these on to the domain mapper
    (``positions`` for text); limekit's mappers take named keywords only, a
    mapper written for lime with ``**kwargs`` takes any.
    """
    kind = type(mapper)
    known = _MAPPER_KEYWORDS.get(kind)
    if known is None:
        parameters = list(inspect.signature(mapper.map_exp_ids).parameters.values())[1:]  # after exp
        names = tuple(p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
        known = _MAPPER_KEYWORDS[kind] = (names, any(p.kind is p.VAR_KEYWORD for p in parameters))
    return known


class DomainMapper:
    """Maps interpretable feature ids to readable names (lime's ``DomainMapper``).

    Frontends subclass it; the base class returns the ids themselves.  The
    keywords a subclass's ``map_exp_ids`` names after ``exp`` are those
    :meth:`Explanation.as_list` accepts and passes on (``positions`` for text).
    """

    @strict_keywords
    def map_exp_ids(self, exp: list[tuple[int, float]]) -> list[tuple[Any, ...]]:
        """Turn ``[(feature id, weight), ...]`` into ``[(name, weight), ...]``."""
        return exp

    def feature_records(self, feature_ids: Iterable[int]) -> list[dict[str, Any]]:
        """Per-feature details for :meth:`Explanation.to_dict` (``name`` at least)."""
        return [{"id": int(i), "name": str(i)} for i in feature_ids]

    def to_dict(self) -> dict[str, Any]:
        """Modality-specific data for serialisation."""
        return {}


class StoredDomainMapper(DomainMapper):
    """Domain mapper of an explanation read back from JSON: names and records by feature id."""

    def __init__(self, domain: dict[str, Any], names: dict[int, str], records: dict[int, dict[str, Any]]) -> None:
        self.domain = dict(domain)
        self.names = dict(names)
        self.records = dict(records)
        self.original_names = domain.get("feature_names")

    @strict_keywords
    def map_exp_ids(self, exp: list[tuple[int, float]], positions: bool = False) -> list[tuple[Any, ...]]:
        """``[(name, weight), ...]``; ``positions=True`` (text): ``('word_3-17', weight)`` as lime's text mapper."""
        if not positions:
            return [(self.names.get(int(feature), str(feature)), weight) for feature, weight in exp]
        if self.domain.get("modality") != "text":
            raise bad_value(
                "positions",
                "False for a non-text explanation (word positions exist for text)",
                repr(positions),
            )
        out = []
        for feature, weight in exp:
            record = self.records.get(int(feature), {})
            starts = "-".join(str(int(p)) for p in record.get("positions") or [])
            out.append((f"{self.names.get(int(feature), str(feature))}_{starts}", weight))
        return out

    def feature_records(self, feature_ids: Iterable[int]) -> list[dict[str, Any]]:
        return [
            dict(self.records.get(int(i), {"id": int(i), "name": self.names.get(int(i), str(i))})) for i in feature_ids
        ]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.domain)


class Explanation:
    """The explanation of one prediction.

    The model's prediction for a label sits beside the surrogate's in
    :meth:`model_prediction`, their difference in :meth:`local_gap` and what
    is unsure about the fit (a low R^2, a large gap) in :meth:`fit_warnings`
    (thresholds in :mod:`limekit.core.trust`).

    Parameters
    ----------
    domain_mapper : DomainMapper
        Turns feature ids into names.
    mode : {'classification', 'regression'}, default='classification'
    class_names : list of str or None
    random_state : ignored
        Kept for lime compatibility.

    Notes
    -----
    *Labels.* Classification: a label is a class index, and every output method also
    takes the class name (``as_list(label='virginica')``) when
    ``class_names`` is known.  The methods that show one label
    (:meth:`as_list`, :meth:`as_pyplot_figure`, :meth:`as_waterfall_figure`,
    :meth:`global_importance`, :meth:`shape_function`) take ``label=``, None
    meaning :attr:`label`, the label explained first; the pages
    (:meth:`as_html`, :meth:`save_to_file`, :meth:`show_in_notebook`) take
    lime's ``labels=[...]`` (None: every explained label) or ``label=x``,
    which means ``labels=[x]``.  An unknown keyword raises a
    ``LimekitTypeError`` naming it.  Explanations made by
    :mod:`limekit.compat` keep lime's default ``label=1``.

    Regression: the explanation explains one output, the model's
    prediction, and every accessor reads the same fit whatever the label
    (None, or lime's 0 or 1): weights say how much each feature moves the
    prediction up (a positive weight: toward a higher prediction).
    :meth:`available_labels` is ``[1]`` and :attr:`label` is 1.  As lime's
    tabular explainer does, ``local_exp`` (and :meth:`as_map`) keeps the fit
    under label 1 and its negation under label 0 (lime's "negative" class),
    for every modality; :meth:`as_list` never returns the negation.

    Attributes
    ----------
    label : int or None
        The label the explanation explains, the first of several: the most
        probable of ``top_labels``, else the first of ``labels`` as asked
        (regression: 1).  See Labels.
    local_exp : dict of int -> list of (int, float)
        Per label, ``(feature id, weight)`` sorted by decreasing ``|weight|``.
    intercept : dict of int -> float
        Per label, the surrogate's intercept.
    score : float
        Weighted R^2 of the last label's surrogate (lime's attribute).
    local_pred : ndarray of shape (1,)
        The last label's surrogate prediction at the instance (lime's attribute).
    scores, local_preds : dict of int -> float
        The same for every explained label (lime keeps only the last one).
    predict_proba : ndarray or None
        Classification: the model's probabilities for the instance.
    predicted_value, min_value, max_value : float
        Regression: the model's prediction for the instance and the range
        over the perturbations.
    top_labels : list of int or None
    fits : dict of int -> LocalFit
        The fitted surrogates by label (empty for an explanation read back
        from JSON).
    local_decisions : dict of int -> float
        ``intercept + sum of every term`` at the instance: the surrogate's
        prediction, or its logit for ``surrogate_task='classification'``.
        With an additive surrogate and ``num_features`` covering every
        feature, ``intercept[label] + sum(w for _, w in local_exp[label])``
        equals it.
    shape_functions : dict of int -> dict of int -> (ndarray, ndarray)
        Additive (GAM) surrogates: per label and feature id, ``(grid,
        f_j(grid))`` over the perturbations' range, the grid in the user's
        units (category names for categorical features).  Empty otherwise.
    importance : dict of int -> dict of int -> float
        Per label and feature id, the kernel-weighted mean ``|contribution|``
        (centred) over the perturbations; see :meth:`global_importance`.
    diagnostics : dict
        How far the explanation can be trusted: ``num_samples``,
        ``effective_sample_size`` of the kernel weights, ``kernel_width``,
        ``feature_selection``, the weighted ``r2`` per label and, per label,
        ``fidelity`` (on held-out perturbations; None when skipped) and
        ``fidelity_in_sample`` (on the fitting perturbations), see
        :mod:`limekit.core.fidelity`.
    """

    #: Output methods given no label show label 1 (lime's default) instead of :attr:`label`; set on
    #: the explanations of :mod:`limekit.compat`'s explainers.
    lime_label_default: bool = False
    _first_label: int | None = None  # the first label fitted (the order they were asked in); set per instance

    def __init__(
        self,
        domain_mapper: DomainMapper,
        mode: str = "classification",
        class_names: list[str] | None = None,
        random_state: Any = None,
    ) -> None:
        if mode not in ("classification", "regression"):
            raise bad_value("mode", "'classification' or 'regression'", repr(mode))
        self.domain_mapper = domain_mapper
        self.mode = mode
        self.random_state = random_state
        self.local_exp: dict[int, list[tuple[int, float]]] = {}
        self.intercept: dict[int, float] = {}
        self.scores: dict[int, float] = {}
        self.local_preds: dict[int, np.ndarray] = {}
        self.score: float | None = None
        self.local_pred: np.ndarray | None = None
        self.top_labels: list[int] | None = None
        self.predict_proba: np.ndarray | None = None
        self.diagnostics: dict[str, Any] = {}
        self.local_decisions: dict[int, float] = {}
        self.shape_functions: dict[int, dict[int, tuple[Any, np.ndarray]]] = {}
        self.importance: dict[int, dict[int, float]] = {}
        self.fits: dict[int, LocalFit] = {}
        self._first_label = None
        self.class_names: list[str] | None
        if mode == "classification":
            self.class_names = class_names
        else:
            self.class_names = ["negative", "positive"]
            self.predicted_value: float | None = None
            self.min_value = 0.0
            self.max_value = 1.0
            self.dummy_label = 1

    def add_fit(self, label: int, fit: LocalFit) -> None:
        """Record a :class:`~limekit.core.base.LocalFit` for ``label``.

        Raises
        ------
        LimekitValueError
            When a number of the fit is not finite (NaN or infinity: the
            weighted fit overflowed float64, e.g. on regression outputs beyond
            about 1e306), as scikit-learn's regressors refuse to fit then.  A
            finite explanation of any magnitude is kept and round-trips
            through :meth:`to_json`; a non-finite one has no JSON form, so it
            is refused here, naming the field, rather than made and left
            unsaveable.
        """
        _check_fit_finite(self, label, fit)
        if self._first_label is None:
            self._first_label = int(label)
        self.intercept[label] = fit.intercept
        self.local_exp[label] = fit.local_exp
        self.scores[label] = fit.score
        self.local_preds[label] = fit.local_pred
        self.score = fit.score
        self.local_pred = fit.local_pred
        self.local_decisions[label] = getattr(fit, "local_decision", float(np.ravel(fit.local_pred)[0]))
        importance = getattr(fit, "importance", None)
        if importance is not None:
            self.importance[label] = dict(importance)
        shape_functions = getattr(fit, "shape_functions", None)
        if shape_functions is not None:
            self.shape_functions[label] = dict(shape_functions)

    def mirror_regression_labels(self) -> None:
        """lime's regression convention: label 1 is the fitted label 0, label 0 its negation."""
        self.intercept[1] = self.intercept[0]
        self.local_exp[1] = list(self.local_exp[0])
        self.local_exp[0] = [(i, -w) for i, w in self.local_exp[1]]
        self.scores[1] = self.scores[0]
        self.local_preds[1] = self.local_preds[0]
        if 0 in self.local_decisions:
            self.local_decisions[1] = self.local_decisions[0]
        if 0 in self.importance:
            self.importance[1] = self.importance[0]
        if 0 in self.shape_functions:
            self.shape_functions[1] = self.shape_functions[0]
            self.shape_functions[0] = {j: (grid, -values) for j, (grid, values) in self.shape_functions[1].items()}

    @property
    def label(self) -> int | None:
        """The label this explanation explains (the first, when it explains several).

        Classification: the most probable of ``top_labels`` when they were
        asked for, else the first of ``labels`` (the predicted class, or 1 for
        a binary model, when ``labels`` was left out).  An explanation built by
        hand: label 1 when it has it (lime's default), else its smallest.
        Regression: 1, the key of the fit in ``local_exp``.  None when nothing
        is explained yet.
        """
        if self.mode != "classification":
            return int(self.dummy_label)
        if self.top_labels:
            return int(self.top_labels[0])
        if self._first_label is not None and self._first_label in self.local_exp:
            return self._first_label
        if not self.local_exp:
            return None
        return 1 if 1 in self.local_exp else int(min(self.local_exp))

    @strict_keywords
    def available_labels(self) -> list[int]:
        """Labels with an explanation (``top_labels`` order when they were asked for).

        Regression: ``[1]``, the model's output (see the class docstring's
        Labels; lime raises NotImplementedError here).
        """
        if self.mode != "classification":
            return [int(self.dummy_label)]
        return list(self.top_labels) if self.top_labels else list(self.local_exp.keys())

    def _label_text(self, label: int) -> str:
        """``2 ('virginica')``, or ``2`` without class names."""
        names = self.class_names
        if names is not None and 0 <= label < len(names):
            return f"{label} ({str(names[label])!r})"
        return str(label)

    def resolve_label(self, label: int | str | None = None, argument: str = "label") -> int:
        """The key in ``local_exp`` of ``label``: a class index, a class name, or None for :attr:`label`.

        Regression explanations keep their fit under 1, which None, 0 and 1
        all give (see the class docstring's Labels).

        Raises
        ------
        LimekitValueError
            Naming ``argument``, for a label that is not explained, an
            unknown class name (the class names listed) or, in regression, a
            label other than None, 0 and 1.
        LimekitTypeError
            For something that is neither a class index nor a class name.
        """
        if self.mode != "classification":
            if label is None or (_is_index(label) and int(cast(int, label)) in (0, 1)):
                return int(self.dummy_label)
            raise bad_value(
                argument,
                "None for a regression explanation (it explains the model's one output; lime's labels 0 and 1 "
                "give the same)",
                repr(label),
            )
        if label is None:
            default = 1 if self.lime_label_default else self.label
            if default is None:
                raise bad_value(argument, "a label of an explained explanation", "an explanation with no labels")
            label = default
        elif isinstance(label, str):
            label = self._label_of_name(label, argument)
        elif _is_index(label):
            label = int(label)
        else:
            raise bad_type(argument, "a class index (int) or a class name (str)", label)
        if label not in self.local_exp:
            explained = ", ".join(self._label_text(x) for x in self.available_labels())
            raise bad_value(
                argument,
                f"one of the explained labels [{explained}]",
                self._label_text(label),
                "Pass it in labels=... or use top_labels when explaining.",
            )
        return label

    def _model_output(self, label: int) -> float | None:
        """The model's output for the stored key ``label`` at the instance, or None when not recorded."""
        if self.mode != "classification":
            return None if self.predicted_value is None else float(self.predicted_value)
        proba = self.predict_proba
        if proba is None or not 0 <= label < len(proba):
            return None
        return float(proba[label])

    def _gap(self, label: int) -> float | None:
        """Surrogate minus model at the instance for the stored key ``label`` (None when either is unknown)."""
        model = self._model_output(label)
        if model is None or label not in self.local_preds:
            return None
        return float(np.ravel(self.local_preds[label])[0]) - model

    def model_prediction(self, label: int | str | None = None) -> float:
        """The model's prediction for ``label`` at the instance, beside the surrogate's ``local_preds[label]``.

        Classification: the model's probability of the label (``predict_proba[label]``).
        Regression: its predicted value.

        Raises
        ------
        LimekitValueError
            When ``label`` is not explained, or the explanation does not hold
            the model's prediction (an explanation built by hand).
        """
        key = self.resolve_label(label)
        model = self._model_output(key)
        if model is None:
            raise bad_value("label", "a label whose model prediction the explanation holds", repr(label))
        return model

    def local_gap(self, label: int | str | None = None) -> float:
        """The surrogate's prediction at the instance minus the model's, for ``label``.

        Both are probabilities in classification (with
        ``surrogate_task='classification'`` the surrogate's is its probability
        that the model picks the label), values in regression.  A gap beyond
        :data:`limekit.core.trust.LARGE_GAP` of the output's scale is one of
        the :meth:`fit_warnings`.
        """
        return float(np.ravel(self.local_preds[self.resolve_label(label)])[0]) - self.model_prediction(label)

    def fit_warnings(self, label: int | str | None = None) -> dict[str, str]:
        """Why the surrogate of ``label`` should not be read as it is: ``{'r2': why, 'gap': why}``, or ``{}``.

        ``'r2'``: its weighted R^2 is below :data:`limekit.core.trust.LOW_R2`
        (0.5); ``'gap'``: its prediction at the instance is off the model's by
        more than :data:`~limekit.core.trust.LARGE_GAP` (0.1) of the output's
        scale (probabilities: 1; regression: the model's output range over the
        perturbations).  See :mod:`limekit.core.trust`.
        """
        key = self.resolve_label(label)
        return fit_warnings(
            self.mode,
            self.scores.get(key),
            self._gap(key),
            self._model_output(key),
            getattr(self, "min_value", None),
            getattr(self, "max_value", None),
        )

    def _label_of_name(self, name: str, argument: str) -> int:
        names = self.class_names
        if names is None:
            raise bad_value(
                argument,
                "a class index (this explanation has no class names; give the explainer class_names=... to use names)",
                repr(name),
            )
        for index, class_name in enumerate(names):
            if str(class_name) == name:
                return index
        names = [str(n) for n in names]
        raise bad_value(
            argument, f"a class index or one of the class names {names}", repr(name), did_you_mean(name, names)
        )

    def _check_map_keywords(self, method: str, kwargs: dict[str, Any], own: tuple[str, ...]) -> None:
        """Raise on a keyword that neither ``method`` (``own``) nor the domain mapper's ``map_exp_ids`` takes."""
        names, takes_any = mapper_keywords(self.domain_mapper)
        if takes_any:  # a mapper written for lime, with **kwargs: it decides
            unknown = {k: v for k, v in kwargs.items() if k == "labels"}
        else:
            unknown = kwargs
        check_keywords(f"Explanation.{method}", unknown, own + names, hints={"labels": _one_label_hint(method)})

    def as_list(self, label: int | str | None = None, **kwargs: Any) -> list[tuple[Any, ...]]:
        """``[(feature name, weight), ...]`` for ``label``, by decreasing ``|weight|``.

        Parameters
        ----------
        label : int, str or None, default=None
            A class index or class name; None: :attr:`label` (lime's 1 for
            :mod:`limekit.compat`'s explanations).  Regression: the fit of the
            output, whatever the label (see the class docstring's Labels).
        **kwargs
            The domain mapper's options: ``positions=True`` for text (lime's
            ``'word_3-17'`` names).  Any other keyword raises.
        """
        self._check_map_keywords("as_list", kwargs, ("label",))
        key = self.resolve_label(label)
        mapped = self.domain_mapper.map_exp_ids(self.local_exp[key], **kwargs)
        return [(item[0], float(item[1])) if len(item) == 2 else (item[0], item[1], float(item[2])) for item in mapped]

    def _verdict_key(self, label: int) -> str:
        """The key of ``label`` in the per-label verdicts of ``diagnostics['sampling']`` (regression: 0, the fit)."""
        return "0" if self.mode == "regression" else str(int(label))

    @single_label_method
    def feature_verdicts(self, label: int | str | None = None, **kwargs: Any) -> list[tuple[Any, float, str]]:
        """``[(feature name, weight, verdict), ...]``: :meth:`as_list` with each feature's sampling verdict.

        The verdict (see :mod:`limekit.core.verdicts`) is ``'settled'`` (its
        place among the top features and its sign are decided at the
        explanation's ``confidence``), ``'tie A'`` (a member of the label's
        first tie group, ``"place 5: one of ..."``, see :meth:`tie_groups`),
        ``'sign undecided'``, ``'no claim'`` (a negligible weight: its place
        and sign say nothing) or ``'unsettled'``; ``''`` when the explanation
        has no verdict per feature.  ``kwargs`` are :meth:`as_list`'s.
        """
        self._check_map_keywords("feature_verdicts", kwargs, ("label",))
        key = self.resolve_label(label)
        statuses = feature_statuses(self.diagnostics.get("sampling"), self._verdict_key(key))
        mapped = self.domain_mapper.map_exp_ids(self.local_exp[key], **kwargs)
        out = []
        for (feature, weight), item in zip(self.local_exp[key], mapped):
            mark = status_mark(*statuses.get(int(feature), ("unsettled", None))) if statuses else ""
            out.append((item[0], float(weight), mark))
        return out

    @single_label_method
    def tie_groups(self, label: int | str | None = None) -> list[dict[str, Any]]:
        """The label's tie groups: ``{'places', 'features', 'names', 'needed', 'out_of_reach'}`` each (may be empty).

        ``places`` are the 1-based places of the top features its members
        compete for; ``out_of_reach``: more samples within ``max_samples``
        would not break the tie.  See :mod:`limekit.core.verdicts`.
        """
        key = self.resolve_label(label)
        return [dict(group) for group in label_groups(self.diagnostics.get("sampling"), self._verdict_key(key))]

    @strict_keywords
    def as_map(self) -> dict[int, list[tuple[int, float]]]:
        """``{label: [(feature id, weight), ...]}`` (regression: the fit under 1, its negation under 0)."""
        return self.local_exp

    def _feature_names(self, ids: Iterable[int]) -> list[Any]:
        return [name for name, _ in self.domain_mapper.map_exp_ids([(int(i), 0.0) for i in ids])]

    @single_label_method
    def global_importance(self, label: int | str | None = None, names: bool = True) -> list[tuple[Any, float]]:
        """Features ranked by their mean ``|contribution|`` over the perturbations.

        Unlike :meth:`as_list`, which reads the surrogate at the instance,
        this says how much each feature moves the surrogate across the whole
        (kernel-weighted) neighbourhood: for a GAM, the weighted mean of
        ``|f_j(x_j) - mean f_j|``; for a linear surrogate, ``|w_j|`` times the
        weighted mean absolute deviation of ``z_j``.  Every feature the
        surrogate uses is ranked, not only the ``num_features`` listed.

        Parameters
        ----------
        label : int, str or None, default=None
            As :meth:`as_list`.
        names : bool, default=True
            Readable names (as :meth:`as_list`) instead of feature ids.

        Returns
        -------
        list of (name or int, float)
            By decreasing importance.
        """
        label = self.resolve_label(label)
        if label not in self.importance:
            raise bad_value("label", f"a label with importances {sorted(self.importance)}", repr(label))
        return self._ranked_importance(label, names)

    def _ranked_importance(self, label: int, names: bool) -> list[tuple[Any, float]]:
        """``global_importance`` of the stored key ``label`` as it is (no regression mapping)."""
        items = sorted(self.importance[label].items(), key=lambda item: -item[1])
        if not names:
            return [(int(i), float(v)) for i, v in items]
        return [(name, float(v)) for name, (_, v) in zip(self._feature_names([i for i, _ in items]), items)]

    @single_label_method
    def shape_function(self, feature: int | str, label: int | str | None = None) -> tuple[Any, np.ndarray]:
        """``(grid, values)`` of one feature's shape function (additive surrogates).

        Parameters
        ----------
        feature : int or str
            Feature id, or a name: the plain column name (tabular, e.g.
            ``'age'``) or the name shown by :meth:`as_list`.
        label : int, str or None, default=None
            As :meth:`as_list`.

        Returns
        -------
        (ndarray, ndarray)
            The grid (user's units; category names for categorical
            features) and the centred contribution ``f_j`` on it.
        """
        label = self.resolve_label(label)
        shapes = self.shape_functions.get(label)
        if not shapes:
            raise bad_value(
                "label",
                "a label explained by an additive (GAM) surrogate",
                repr(label),
                "Shape functions exist for surrogate='ebm' or 'gaminet'.",
            )
        if isinstance(feature, (int, np.integer)) and not isinstance(feature, bool):
            if int(feature) in shapes:
                return shapes[int(feature)]
        else:
            ids = list(shapes)
            plain = getattr(self.domain_mapper, "original_names", None)
            for i, name in zip(ids, self._feature_names(ids)):
                if feature == name or (plain is not None and i < len(plain) and feature == plain[i]):
                    return shapes[i]
        raise bad_value("feature", f"a feature id or name of the explanation ({len(shapes)} features)", repr(feature))

    # ------------------------------------------------------------------ kernel='shap'
    @property
    def is_shapley(self) -> bool:
        """True for an explainer's ``kernel='shap'`` explanation: ``local_exp`` holds Shapley values."""
        return isinstance(self.diagnostics.get("shapley"), dict)

    def _shapley_key(self, label: int) -> str | int:
        """The key of ``label`` in ``diagnostics['shapley']``'s per-label dicts (int live, str from JSON)."""
        record = self.diagnostics["shapley"]["values"]
        key = 0 if self.mode != "classification" else int(label)
        return key if key in record else str(key)

    def base_value(self, label: int | str | None = None) -> float:
        """``kernel='shap'``: the base value of ``label`` (``E f(background)``, or ``f(empty)`` for text and images).

        The intercept of the explanation: the base value plus every Shapley
        value is the model's output at the instance.

        Raises
        ------
        LimekitValueError
            When the explanation holds no Shapley values.
        """
        if not self.is_shapley:
            raise bad_value("explanation", "an explanation of kernel='shap'", "a LIME explanation")
        key = self.resolve_label(label)
        return float(self.diagnostics["shapley"]["base_value"][self._shapley_key(key)])

    def shapley_values(self, label: int | str | None = None) -> np.ndarray:
        """``kernel='shap'``: the Shapley value of every feature (by feature id) for ``label``.

        ``local_exp`` lists the top ``num_features`` of them; this is all of
        them, in feature-id order (regression: toward a higher prediction).
        """
        if not self.is_shapley:
            raise bad_value("explanation", "an explanation of kernel='shap'", "a LIME explanation")
        key = self.resolve_label(label)
        return np.asarray(self.diagnostics["shapley"]["values"][self._shapley_key(key)], dtype=float)

    def standard_errors(self, label: int | str | None = None) -> dict[int, float]:
        """``kernel='shap'``: ``{feature id: standard error of its value}`` for ``label``.

        0 for every feature when the values are exact; ``{}`` for a LIME explanation.
        """
        if not self.is_shapley:
            return {}
        key = self.resolve_label(label)
        errors = self.diagnostics["shapley"]["standard_errors"][self._shapley_key(key)]
        return {i: float(e) for i, e in enumerate(errors)}

    def to_shap(self, label: int | str | None = None) -> Any:
        """A ``shap.Explanation`` of this explanation's Shapley values for ``label`` (needs the ``shap`` extra).

        See :func:`limekit.interop.to_shap`.
        """
        from ..interop import to_shap

        return to_shap(self, label=label)

    @strict_keywords
    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON-types dictionary of everything in the explanation.

        ``labels`` is sorted; ``explanations`` holds the labels in the order
        they were explained, so :attr:`label` survives :meth:`from_dict`.
        """
        labels = sorted(self.local_exp)
        out: dict[str, Any] = {
            "mode": self.mode,
            "class_names": None if self.class_names is None else [str(c) for c in self.class_names],
            "top_labels": None if self.top_labels is None else [int(x) for x in self.top_labels],
            "labels": [int(x) for x in labels],
            "explanations": {},
            "diagnostics": _plain(self.diagnostics),
            "domain": _plain(self.domain_mapper.to_dict()),
        }
        if self.mode == "classification":
            out["predict_proba"] = None if self.predict_proba is None else [float(p) for p in self.predict_proba]
        else:
            # set by the fit (or from_dict); an unfitted explanation raises TypeError here, as it always did
            out["predicted_value"] = float(cast(float, self.predicted_value))
            out["min_value"] = float(self.min_value)
            out["max_value"] = float(self.max_value)
        sampling = self.diagnostics.get("sampling")
        for label in self.local_exp:  # as explained (a dict's order survives JSON)
            exp = self.local_exp[label]
            records = _plain(self.domain_mapper.feature_records([f for f, _ in exp]))
            statuses = feature_statuses(sampling, self._verdict_key(label))
            errors = self.standard_errors(label) if self.is_shapley else {}
            for record, (feature, weight) in zip(records, exp):
                record["weight"] = float(weight)  # after _plain: a NaN weight is named as NaN by to_json
                record.update(feature_record(statuses, feature))  # derived from diagnostics['sampling']
                if feature in errors:  # kernel='shap': derived from diagnostics['shapley']
                    record["standard_error"] = errors[feature]
            out["explanations"][str(int(label))] = {
                "intercept": float(self.intercept[label]),
                "score": float(self.scores[label]),
                "local_pred": float(np.ravel(self.local_preds[label])[0]),
                "features": records,
            }
            model, gap = self._model_output(label), self._gap(label)
            if model is not None:  # the model's prediction beside the surrogate's, and their gap
                out["explanations"][str(int(label))]["model_prediction"] = model
            if gap is not None and np.isfinite(gap):  # (a difference of two numbers near 1e308 may overflow)
                out["explanations"][str(int(label))]["local_gap"] = gap
            if label in self.local_decisions:
                out["explanations"][str(int(label))]["local_decision"] = float(self.local_decisions[label])
            if label in self.importance:
                ranked = self._ranked_importance(label, names=False)  # each stored key as it is
                out["explanations"][str(int(label))]["global_importance"] = [
                    {"id": int(i), "name": str(name), "importance": value}
                    for (i, value), name in zip(ranked, self._feature_names([i for i, _ in ranked]))
                ]
            if self.shape_functions.get(label):
                shapes = self.shape_functions[label]
                names = self._feature_names(list(shapes))
                out["explanations"][str(int(label))]["shape_functions"] = [
                    {
                        "id": int(i),
                        "name": str(name),
                        "grid": _plain(np.asarray(grid).tolist()),
                        "values": _plain(np.asarray(values).tolist()),
                    }
                    for (i, (grid, values)), name in zip(shapes.items(), names)
                ]
        return out

    def to_json(self, **kwargs: Any) -> str:
        """The explanation as a strict JSON string (see :meth:`to_dict`; no ``NaN`` or ``Infinity`` tokens).

        What it writes, :meth:`from_json` reads back, and ``from_json(text).to_dict()``
        equals ``to_dict()``: both sides run the one check,
        :func:`limekit.core.records.validate_explanation_record`, before
        writing and before reading.  Numbers are written as they are, at any
        finite float64 magnitude (a model whose outputs are near 1e300 or
        1e-300 gives weights of that size; ``json`` writes and reads them
        exactly), so every explanation the explainers return round-trips.
        Non-finite numbers have no JSON form: ``to_dict`` writes a diagnostic
        that could not be computed (NaN or infinity, e.g. an overflowed
        variance) as ``null``; any other non-finite number (an intercept,
        weight or score edited to NaN) raises a ``LimekitValueError`` naming
        its field, e.g. ``explanations['1'].score``, instead of ``json``'s
        bare ValueError.  The explainers never return one (see :meth:`add_fit`).
        ``kwargs`` go to :func:`json.dumps` (``indent``, ``sort_keys``, ...);
        another keyword raises, naming it.
        """
        check_keywords("Explanation.to_json", kwargs, _JSON_DUMPS_KEYWORDS)
        data = validate_explanation_record(self.to_dict())
        kwargs.setdefault("allow_nan", False)
        return json.dumps(data, **kwargs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Explanation:
        """Rebuild an explanation from :meth:`to_dict`'s output.

        The result has the same labels, weights, names, intercepts, scores,
        diagnostics, shape functions and importances, so ``as_list``,
        ``as_map``, ``to_dict`` and the HTML view give what the original gave.
        It does not hold the model, the data or the fitted surrogates.  The
        per-label ``model_prediction`` and ``local_gap`` are derived (from
        ``predict_proba`` or ``predicted_value`` and ``local_pred``), so a
        record written before they existed loads and gains them.
        """
        data = validate_explanation_record(data)  # names the path of the first bad field
        records, names = {}, {}
        for record in data["explanations"].values():
            for feature in record["features"]:
                stored = {
                    k: v for k, v in feature.items() if k not in ("weight", "standard_error") and k not in VERDICT_KEYS
                }
                records[int(feature["id"])] = stored
                names[int(feature["id"])] = feature["name"]
            for item in record.get("global_importance", []):
                names.setdefault(int(item["id"]), item["name"])
            for item in record.get("shape_functions", []):
                names.setdefault(int(item["id"]), item["name"])
        exp = cls(
            StoredDomainMapper(data.get("domain") or {}, names, records),
            mode=data["mode"],
            class_names=data.get("class_names"),
        )
        exp.top_labels = data.get("top_labels")
        exp.diagnostics = data.get("diagnostics") or {}
        if data["mode"] == "classification":
            proba = data.get("predict_proba")
            exp.predict_proba = None if proba is None else np.asarray(proba, dtype=float)
        else:
            exp.predicted_value = data["predicted_value"]
            exp.min_value = data["min_value"]
            exp.max_value = data["max_value"]
        order = {key: i for i, key in enumerate(data["explanations"])}
        for key in sorted(data["labels"], key=lambda key: order.get(str(key), len(order))):
            record = data["explanations"][str(key)]
            label = int(key)
            exp.local_exp[label] = [(int(f["id"]), float(f["weight"])) for f in record["features"]]
            exp.intercept[label] = record["intercept"]
            exp.scores[label] = record["score"]
            exp.local_preds[label] = np.array([record["local_pred"]])
            if "local_decision" in record:
                exp.local_decisions[label] = record["local_decision"]
            if "global_importance" in record:
                exp.importance[label] = {int(i["id"]): i["importance"] for i in record["global_importance"]}
            if "shape_functions" in record:
                exp.shape_functions[label] = {
                    int(item["id"]): (np.asarray(item["grid"]), np.asarray(item["values"]))
                    for item in record["shape_functions"]
                }
            exp.score, exp.local_pred = exp.scores[label], exp.local_preds[label]
            if exp._first_label is None:
                exp._first_label = label
        return exp

    @classmethod
    def from_json(cls, text: str | bytes | bytearray) -> Explanation:
        """Rebuild an explanation from :meth:`to_json`'s output (see :meth:`from_dict`)."""
        if not isinstance(text, (str, bytes, bytearray)):
            raise bad_type("text", "a JSON string made by Explanation.to_json()", text)
        return cls.from_dict(validate_explanation_record(text))

    # ------------------------------------------------------------------ views
    def as_pyplot_figure(self, label: int | str | None = None, **kwargs: Any) -> Figure:
        """lime's bar chart: one bar per feature, green for positive weights, red for negative.

        Parameters
        ----------
        label : int, str or None, default=None
            As :meth:`as_list`.
        **kwargs
            ``ax``, ``figsize`` (see :func:`limekit.viz.bar_chart`) and the
            domain mapper's options, as :meth:`as_list`; any other keyword raises.
        """
        self._check_map_keywords("as_pyplot_figure", kwargs, ("label", "ax", "figsize"))
        from ..viz.plots import bar_chart

        return cast("Figure", bar_chart(self, label=self.resolve_label(label), **kwargs))

    @single_label_method
    def as_waterfall_figure(
        self,
        label: int | str | None = None,
        ax: Any = None,
        figsize: tuple[float, float] | None = None,
        max_features: int | None = None,
    ) -> Figure:
        """Waterfall from the intercept to the surrogate's prediction (see :func:`limekit.viz.waterfall`).

        ``label`` as :meth:`as_list`.
        """
        from ..viz.plots import waterfall

        return cast(
            "Figure",
            waterfall(self, label=self.resolve_label(label), ax=ax, figsize=figsize, max_features=max_features),
        )

    def _html(
        self,
        method: str,
        labels: Any,
        label: int | str | None,
        predict_proba: bool,
        show_predicted_value: bool,
        show_table: bool,
        max_features: int | None,
        options: dict[str, Any],
    ) -> str:
        """The page of :meth:`as_html`, ``save_to_file`` and ``show_in_notebook``, arguments checked for ``method``."""
        modality = self.domain_mapper.to_dict().get("modality")
        lime_options = _LIME_HTML_OPTIONS.get(modality, _ALL_LIME_HTML_OPTIONS)
        own = ("labels", "predict_proba", "show_predicted_value", "label", "show_table", "max_features")
        check_keywords(f"Explanation.{method}", options, own + lime_options)
        if label is not None and labels is not None:
            raise LimekitTypeError(
                f"Explanation.{method}: label={label!r} and labels={labels!r} given; pass one "
                "(label=x means labels=[x])",
                "label",
            )
        if label is not None:
            labels = [self.resolve_label(label)]
        elif labels is not None:
            if isinstance(labels, (str, numbers.Integral)):
                labels = [labels]
            try:
                given = list(labels)
            except TypeError as exc:
                raise bad_type("labels", "a list of class indices or class names", labels) from exc
            labels = list(dict.fromkeys(self.resolve_label(x, "labels") for x in given))
        if options.get("text") is False:  # lime's text pages: text=False leaves the text out
            show_table = False
        from ..viz.html import explanation_html, page

        return cast(
            str,
            page(
                explanation_html(
                    self,
                    labels=labels,
                    predict_proba=predict_proba,
                    show_predicted_value=show_predicted_value,
                    show_table=show_table,
                    max_features=max_features,
                )
            ),
        )

    def as_html(
        self,
        labels: Sequence[int | str] | None = None,
        predict_proba: bool = True,
        show_predicted_value: bool = True,
        *,
        label: int | str | None = None,
        show_table: bool = True,
        max_features: int | None = None,
        **kwargs: Any,
    ) -> str:
        """A self-contained HTML page (no JavaScript; user strings escaped).

        Parameters
        ----------
        labels : list of int or str, or None, default=None
            Labels to show (class indices or class names); None: every
            explained label (``top_labels`` first).  Regression: the fit.
        predict_proba : bool, default=True
            Show the model's class probabilities (classification).
        show_predicted_value : bool, default=True
            Show the predicted value and its range (regression).
        label : int, str or None, default=None
            Keyword only.  One label: ``label=x`` is ``labels=[x]``.
        show_table : bool, default=True
            Keyword only.  The instance's values (tabular), the highlighted
            text (text) or the overlay (image).
        max_features : int or None
            Keyword only.  Show at most this many features per label.
        **kwargs
            lime's domain options, accepted for lime's calls: ``show_all``
            (tabular; the table lists the explained features either way),
            ``text`` (text; False leaves the text out) and ``opacity`` (text;
            words are always shaded by weight).  Any other keyword raises.
        """
        return self._html(
            "as_html", labels, label, predict_proba, show_predicted_value, show_table, max_features, kwargs
        )

    def save_to_file(
        self,
        file_path: str | os.PathLike[str],
        labels: Sequence[int | str] | None = None,
        predict_proba: bool = True,
        show_predicted_value: bool = True,
        *,
        label: int | str | None = None,
        show_table: bool = True,
        max_features: int | None = None,
        **kwargs: Any,
    ) -> None:
        """Write :meth:`as_html` to ``file_path`` (UTF-8); the other arguments as :meth:`as_html`."""
        html = self._html(
            "save_to_file", labels, label, predict_proba, show_predicted_value, show_table, max_features, kwargs
        )
        with open(file_path, "w", encoding="utf-8") as handle:
            handle.write(html)

    def show_in_notebook(
        self,
        labels: Sequence[int | str] | None = None,
        predict_proba: bool = True,
        show_predicted_value: bool = True,
        *,
        label: int | str | None = None,
        show_table: bool = True,
        max_features: int | None = None,
        **kwargs: Any,
    ) -> None:
        """Display :meth:`as_html` in a Jupyter notebook; the arguments as :meth:`as_html`."""
        html = self._html(
            "show_in_notebook", labels, label, predict_proba, show_predicted_value, show_table, max_features, kwargs
        )
        from IPython.display import HTML, display

        display(HTML(html))

    def _repr_html_(self) -> str:
        from ..viz.html import notebook_html

        return cast(str, notebook_html(self))

    def __repr__(self) -> str:
        labels = ", ".join(map(str, sorted(self.local_exp)))
        return f"<limekit Explanation mode={self.mode!r} labels=[{labels}] score={self.score!r}>"


#: lime's keywords of ``as_html`` (its domain mapper's ``visualize_instance_html``), by modality
_LIME_HTML_OPTIONS: dict[Any, tuple[str, ...]] = {
    "tabular": ("show_all",),
    "text": ("text", "opacity"),
    "image": (),
}
#: what Explanation.to_json passes on to json.dumps
_JSON_DUMPS_KEYWORDS = (
    "skipkeys",
    "ensure_ascii",
    "check_circular",
    "allow_nan",
    "cls",
    "indent",
    "separators",
    "default",
    "sort_keys",
)
_ALL_LIME_HTML_OPTIONS = ("show_all", "text", "opacity")  # a domain mapper of no known modality


def _is_index(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _check_fit_finite(exp: Explanation, label: int, fit: LocalFit) -> None:
    """Raise, naming the field, when a number of ``fit`` that the record must hold is not finite."""
    path = f"explanations[{str(int(label))!r}]"
    numbers = [
        ("intercept", fit.intercept),
        ("score", fit.score),
        ("local_pred", np.ravel(fit.local_pred)[0]),
        ("local_decision", getattr(fit, "local_decision", 0.0)),
    ]
    numbers += [(f"features[{i}].weight", weight) for i, (_, weight) in enumerate(fit.local_exp)]
    numbers += [(f"importance[{f}]", value) for f, value in (getattr(fit, "importance", None) or {}).items()]
    for feature, (_, values) in (getattr(fit, "shape_functions", None) or {}).items():
        shape = np.asarray(values, dtype=float)
        if shape.size and not np.isfinite(shape).all():
            numbers.append((f"shape_functions[{feature}].values", shape[~np.isfinite(shape)][0]))
    for name, value in numbers:
        if not np.isfinite(value):
            detail = "The surrogate's weighted fit overflowed float64"
            if exp.mode == "regression" and exp.min_value is not None and exp.max_value is not None:
                peak = max(abs(float(exp.min_value)), abs(float(exp.max_value)))
                detail += (
                    f" on model outputs of magnitude up to {peak:.3g}; divide predict_fn's outputs by a "
                    "constant (e.g. 1e300) and multiply the weights and intercept back"
                )
            raise bad_value(f"{path}.{name}", "a finite number", describe(float(value)), detail)


def _plain(value: Any) -> Any:
    """Convert numpy scalars/arrays nested in dicts and lists to plain Python types."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
