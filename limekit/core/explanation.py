"""The Explanation object, with lime's accessors and limekit's diagnostics."""
from __future__ import annotations

import json

import numpy as np

from .._validation import bad_value

__all__ = ["DomainMapper", "Explanation"]


class DomainMapper:
    """Maps interpretable feature ids to readable names (lime's ``DomainMapper``).

    Frontends subclass it; the base class returns the ids themselves.
    """

    def map_exp_ids(self, exp, **kwargs):
        """Turn ``[(feature id, weight), ...]`` into ``[(name, weight), ...]``."""
        return exp

    def feature_records(self, feature_ids):
        """Per-feature details for :meth:`Explanation.to_dict` (``name`` at least)."""
        return [{"id": int(i), "name": str(i)} for i in feature_ids]

    def to_dict(self):
        """Modality-specific data for serialisation."""
        return {}


class Explanation:
    """The explanation of one prediction.

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
    diagnostics : dict
        How far the explanation can be trusted: ``num_samples``,
        ``effective_sample_size`` of the kernel weights, ``kernel_width``,
        ``feature_selection`` and the weighted ``r2`` per label.
    """

    def __init__(self, domain_mapper, mode="classification", class_names=None, random_state=None):
        if mode not in ("classification", "regression"):
            raise bad_value("mode", "'classification' or 'regression'", repr(mode))
        self.domain_mapper = domain_mapper
        self.mode = mode
        self.random_state = random_state
        self.local_exp = {}
        self.intercept = {}
        self.scores = {}
        self.local_preds = {}
        self.score = None
        self.local_pred = None
        self.top_labels = None
        self.predict_proba = None
        self.diagnostics = {}
        if mode == "classification":
            self.class_names = class_names
        else:
            self.class_names = ["negative", "positive"]
            self.predicted_value = None
            self.min_value = 0.0
            self.max_value = 1.0
            self.dummy_label = 1

    def add_fit(self, label, fit):
        """Record a :class:`~limekit.core.base.LocalFit` for ``label``."""
        self.intercept[label] = fit.intercept
        self.local_exp[label] = fit.local_exp
        self.scores[label] = fit.score
        self.local_preds[label] = fit.local_pred
        self.score = fit.score
        self.local_pred = fit.local_pred

    def available_labels(self):
        """Labels with an explanation (``top_labels`` order when they were asked for)."""
        if self.mode != "classification":
            raise NotImplementedError("Not supported for regression explanations.")
        return list(self.top_labels) if self.top_labels else list(self.local_exp.keys())

    def _label(self, label):
        label = label if self.mode == "classification" else self.dummy_label
        if label not in self.local_exp:
            raise bad_value("label", f"one of the explained labels {sorted(self.local_exp)}", repr(label),
                            "Pass it in labels=... or use top_labels when explaining.")
        return label

    def as_list(self, label=1, **kwargs):
        """``[(feature name, weight), ...]`` for ``label``, by decreasing ``|weight|``."""
        label = self._label(label)
        mapped = self.domain_mapper.map_exp_ids(self.local_exp[label], **kwargs)
        return [(item[0], float(item[1])) if len(item) == 2 else (item[0], item[1], float(item[2]))
                for item in mapped]

    def as_map(self):
        """``{label: [(feature id, weight), ...]}``."""
        return self.local_exp

    def to_dict(self):
        """Plain-JSON-types dictionary of everything in the explanation."""
        labels = sorted(self.local_exp)
        out = {
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
            out["predicted_value"] = float(self.predicted_value)
            out["min_value"] = float(self.min_value)
            out["max_value"] = float(self.max_value)
        for label in labels:
            exp = self.local_exp[label]
            records = self.domain_mapper.feature_records([f for f, _ in exp])
            for record, (_, weight) in zip(records, exp):
                record["weight"] = float(weight)
            out["explanations"][str(int(label))] = {
                "intercept": float(self.intercept[label]),
                "score": float(self.scores[label]),
                "local_pred": float(np.ravel(self.local_preds[label])[0]),
                "features": _plain(records),
            }
        return out

    def to_json(self, **kwargs):
        """The explanation as a JSON string (see :meth:`to_dict`)."""
        return json.dumps(self.to_dict(), **kwargs)

    def __repr__(self):
        labels = ", ".join(map(str, sorted(self.local_exp)))
        return f"<limekit Explanation mode={self.mode!r} labels=[{labels}] score={self.score!r}>"


def _plain(value):
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
