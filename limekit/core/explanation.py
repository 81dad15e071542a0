"""The Explanation object, with lime's accessors and limekit's diagnostics."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from .._validation import bad_type, bad_value, describe
from .records import validate_explanation_record
from .trust import fit_warnings

if TYPE_CHECKING:
    import os

    from matplotlib.figure import Figure

    from .fit import LocalFit

__all__ = ["DomainMapper", "StoredDomainMapper", "Explanation"]


class DomainMapper:
    """Maps interpretable feature ids to readable names (lime's ``DomainMapper``).

    Frontends subclass it; the base class returns the ids themselves.
    """

    def map_exp_ids(self, exp: list[tuple[int, float]], **kwargs: Any) -> list[tuple[Any, ...]]:
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

    def map_exp_ids(self, exp: list[tuple[int, float]], **kwargs: Any) -> list[tuple[Any, ...]]:
        return [(self.names.get(int(feature), str(feature)), weight) for feature, weight in exp]

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

    Attributes
    ----------
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

    def available_labels(self) -> list[int]:
        """Labels with an explanation (``top_labels`` order when they were asked for)."""
        if self.mode != "classification":
            raise NotImplementedError("Not supported for regression explanations.")
        return list(self.top_labels) if self.top_labels else list(self.local_exp.keys())

    def resolve_label(self, label: int) -> int:
        """The key of ``label`` in ``local_exp`` (regression explanations keep theirs under 1); raises if absent."""
        label = label if self.mode == "classification" else self.dummy_label
        if label not in self.local_exp:
            raise bad_value(
                "label",
                f"one of the explained labels {sorted(self.local_exp)}",
                repr(label),
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

    def model_prediction(self, label: int = 1) -> float:
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

    def local_gap(self, label: int = 1) -> float:
        """The surrogate's prediction at the instance minus the model's, for ``label``.

        Both are probabilities in classification (with
        ``surrogate_task='classification'`` the surrogate's is its probability
        that the model picks the label), values in regression.  A gap beyond
        :data:`limekit.core.trust.LARGE_GAP` of the output's scale is one of
        the :meth:`fit_warnings`.
        """
        return float(np.ravel(self.local_preds[self.resolve_label(label)])[0]) - self.model_prediction(label)

    def fit_warnings(self, label: int = 1) -> dict[str, str]:
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

    def as_list(self, label: int = 1, **kwargs: Any) -> list[tuple[Any, ...]]:
        """``[(feature name, weight), ...]`` for ``label``, by decreasing ``|weight|``."""
        label = self.resolve_label(label)
        mapped = self.domain_mapper.map_exp_ids(self.local_exp[label], **kwargs)
        return [(item[0], float(item[1])) if len(item) == 2 else (item[0], item[1], float(item[2])) for item in mapped]

    def as_map(self) -> dict[int, list[tuple[int, float]]]:
        """``{label: [(feature id, weight), ...]}``."""
        return self.local_exp

    def _feature_names(self, ids: Iterable[int]) -> list[Any]:
        return [name for name, _ in self.domain_mapper.map_exp_ids([(int(i), 0.0) for i in ids])]

    def global_importance(self, label: int = 1, names: bool = True) -> list[tuple[Any, float]]:
        """Features ranked by their mean ``|contribution|`` over the perturbations.

        Unlike :meth:`as_list`, which reads the surrogate at the instance,
        this says how much each feature moves the surrogate across the whole
        (kernel-weighted) neighbourhood: for a GAM, the weighted mean of
        ``|f_j(x_j) - mean f_j|``; for a linear surrogate, ``|w_j|`` times the
        weighted mean absolute deviation of ``z_j``.  Every feature the
        surrogate uses is ranked, not only the ``num_features`` listed.

        Parameters
        ----------
        label : int, default=1
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

    def shape_function(self, feature: int | str, label: int = 1) -> tuple[Any, np.ndarray]:
        """``(grid, values)`` of one feature's shape function (additive surrogates).

        Parameters
        ----------
        feature : int or str
            Feature id, or a name: the plain column name (tabular, e.g.
            ``'age'``) or the name shown by :meth:`as_list`.
        label : int, default=1

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

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON-types dictionary of everything in the explanation."""
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
        for label in labels:
            exp = self.local_exp[label]
            records = _plain(self.domain_mapper.feature_records([f for f, _ in exp]))
            for record, (_, weight) in zip(records, exp):
                record["weight"] = float(weight)  # after _plain: a NaN weight is named as NaN by to_json
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
        """
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
                stored = {k: v for k, v in feature.items() if k != "weight"}
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
        for key in data["labels"]:
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
        return exp

    @classmethod
    def from_json(cls, text: str | bytes | bytearray) -> Explanation:
        """Rebuild an explanation from :meth:`to_json`'s output (see :meth:`from_dict`)."""
        if not isinstance(text, (str, bytes, bytearray)):
            raise bad_type("text", "a JSON string made by Explanation.to_json()", text)
        return cls.from_dict(validate_explanation_record(text))

    # ------------------------------------------------------------------ views
    def as_pyplot_figure(self, label: int = 1, **kwargs: Any) -> Figure:
        """lime's bar chart: one bar per feature, green for positive weights, red for negative."""
        from ..viz.plots import bar_chart

        return bar_chart(self, label=label, **kwargs)

    def as_waterfall_figure(self, label: int = 1, **kwargs: Any) -> Figure:
        """Waterfall from the intercept to the surrogate's prediction (see :func:`limekit.viz.waterfall`)."""
        from ..viz.plots import waterfall

        return waterfall(self, label=label, **kwargs)

    def as_html(
        self,
        labels: Sequence[int] | None = None,
        predict_proba: bool = True,
        show_predicted_value: bool = True,
        **kwargs: Any,
    ) -> str:
        """A self-contained HTML page (no JavaScript; user strings escaped)."""
        from ..viz.html import explanation_html, page

        return page(
            explanation_html(
                self, labels=labels, predict_proba=predict_proba, show_predicted_value=show_predicted_value, **kwargs
            )
        )

    def save_to_file(
        self,
        file_path: str | os.PathLike[str],
        labels: Sequence[int] | None = None,
        predict_proba: bool = True,
        show_predicted_value: bool = True,
        **kwargs: Any,
    ) -> None:
        """Write :meth:`as_html` to ``file_path`` (UTF-8)."""
        with open(file_path, "w", encoding="utf-8") as handle:
            handle.write(
                self.as_html(
                    labels=labels, predict_proba=predict_proba, show_predicted_value=show_predicted_value, **kwargs
                )
            )

    def show_in_notebook(
        self,
        labels: Sequence[int] | None = None,
        predict_proba: bool = True,
        show_predicted_value: bool = True,
        **kwargs: Any,
    ) -> None:
        """Display :meth:`as_html` in a Jupyter notebook."""
        from IPython.display import HTML, display

        display(
            HTML(
                self.as_html(
                    labels=labels, predict_proba=predict_proba, show_predicted_value=show_predicted_value, **kwargs
                )
            )
        )

    def _repr_html_(self) -> str:
        from ..viz.html import explanation_html

        return explanation_html(self)

    def __repr__(self) -> str:
        labels = ", ".join(map(str, sorted(self.local_exp)))
        return f"<limekit Explanation mode={self.mode!r} labels=[{labels}] score={self.score!r}>"


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
