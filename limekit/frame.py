"""Explanations as a table: one row per instance and label, ready for parquet.

:func:`explanations_to_frame` turns explanations (and the error records of
``explain_many(..., errors="skip")``) into a pandas DataFrame:

``row``
    The instance's position in the input of ``explain_many`` (or in the list
    given here).
``label``, ``label_name``
    The explained label and its class name (regression: label 1, the fitted
    output, as ``Explanation.as_list`` reports it).
``model_pred``
    The model's output for that label at the instance (a probability, or the
    predicted value in regression).
``intercept``, ``score``, ``local_pred``, ``local_decision``
    The surrogate's, as on the Explanation.
``local_gap``
    ``local_pred - model_pred``, the surrogate's miss at the instance
    (:meth:`limekit.core.explanation.Explanation.local_gap`).
diagnostics
    Every numeric diagnostic, per label where it is kept per label, nested
    keys joined with ``_``: ``num_samples``, ``effective_sample_size``,
    ``r2``, ``fidelity_r2``, ``fidelity_auc``, ``fidelity_in_sample_r2``,
    ``stability_jaccard``, ``stability_n_draws``, ... (only those present).
``error``
    None, or the exception text of a row that could not be explained
    (``errors="skip"``); its other columns are missing.
``w:<feature>``
    One column per feature: its weight, missing where the explanation does
    not list the feature (``num_features`` left it out).  Features are named
    by their plain name as :func:`limekit.core.importance.global_importance`
    matches them: the column for tabular data (``w:age`` for ``age <= 28``),
    the word for text, ``superpixel <id>`` for images.  Tabular columns come
    in the explainer's feature order, others in order of first appearance.

``layout="long"`` gives one row per instance, label and listed feature
instead (columns ``feature``, ``feature_id``, ``weight`` in place of the
``w:`` columns): a fixed set of columns whatever the words or superpixels,
which suits engines that need a schema up front (Spark) for text and images.

:func:`frame_importance` (also reached through
``limekit.core.importance.global_importance(frame)``) ranks features by their
mean ``|weight|`` over the frame's rows, as ``global_importance`` does over
the explanations.
"""

from __future__ import annotations

import numbers

import numpy as np

from ._validation import bad_type, bad_value, check_choice

__all__ = ["explanations_to_frame", "frame_importance", "FailedRow", "WEIGHT_PREFIX", "LAYOUTS"]

WEIGHT_PREFIX = "w:"
LAYOUTS = ("wide", "long")
META_COLUMNS = [
    "row",
    "label",
    "label_name",
    "model_pred",
    "intercept",
    "score",
    "local_pred",
    "local_decision",
    "local_gap",
]


class FailedRow:
    """An instance ``explain_many(..., errors="skip")`` could not explain, in place of its Explanation.

    Attributes
    ----------
    position : int
        The instance's position in the input.
    error : str
        ``"ExceptionType: message"`` of what failed (the model call or the
        explanation).
    error_type : str
        The exception's class name.
    """

    def __init__(self, position, error, error_type=None):
        self.position = int(position)
        if isinstance(error, BaseException):
            error_type = type(error).__name__ if error_type is None else error_type
            error = f"{type(error).__name__}: {error}"
        self.error = str(error)
        self.error_type = error_type

    def to_dict(self):
        """``{"position": ..., "error": ..., "error_type": ...}`` (plain JSON types)."""
        return {"position": self.position, "error": self.error, "error_type": self.error_type}

    def __eq__(self, other):
        return isinstance(other, FailedRow) and (self.position, self.error) == (other.position, other.error)

    def __hash__(self):
        return hash((self.position, self.error))

    def __repr__(self):
        return f"<limekit FailedRow position={self.position} error={self.error!r}>"


def _number(value):
    if isinstance(value, (bool, np.bool_)):
        return float(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return None


def _flatten(prefix, value, out):
    """Numeric leaves of ``value`` (nested dicts), keys joined with ``_``; lists and strings are left out."""
    number = _number(value)
    if number is not None:
        out[prefix] = number
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, numbers.Real, np.generic)):
                if isinstance(item, dict) and all(str(k).lstrip("-").isdigit() for k in item):
                    continue  # per-feature maps (stability's sign_agreement): not one column per row
                _flatten(f"{prefix}_{key}", item, out)


def _diagnostic_columns(diagnostics, label):
    out = {}
    for key, value in (diagnostics or {}).items():
        if isinstance(value, dict) and (label in value or str(label) in value):
            item = value.get(label, value.get(str(label)))
            if item is not None:
                _flatten(str(key), item, out)
        elif isinstance(value, dict):
            if value and all(str(k).lstrip("-").isdigit() for k in value):
                continue  # kept per label, not this one
            _flatten(str(key), value, out)
        else:
            number = _number(value)
            if number is not None:
                out[str(key)] = number
    return out


def _labels_of(exp, labels):
    if exp.mode != "classification":
        return [exp.dummy_label if hasattr(exp, "dummy_label") else 1]
    if labels is None:
        return list(exp.top_labels) if exp.top_labels else sorted(exp.local_exp)
    return [label for label in labels if label in exp.local_exp]


def _feature_order(exp):
    try:
        names = exp.domain_mapper.to_dict().get("feature_names")
    except Exception:  # a custom domain mapper
        names = None
    return None if names is None else [str(n) for n in names]


def explanations_to_frame(explanations, labels=None, positions=None, features=None, layout="wide"):
    """A pandas DataFrame with one row per instance and label (see the module docstring for the columns).

    Parameters
    ----------
    explanations : iterable of Explanation or FailedRow
        What ``explain_many`` returns (error records give a row with
        ``error`` set).
    labels : iterable of int or None
        Labels to include (those an explanation has); None: every explained
        label (``top_labels`` order), regression: the fitted output.
    positions : iterable of int or None
        The ``row`` of each explanation; None: its position in
        ``explanations`` (a FailedRow keeps its own).
    features : list of str or None
        ``layout='wide'``: exactly these ``w:`` columns, in this order
        (features outside it are left out), for a fixed schema; None: every
        feature seen.
    layout : {'wide', 'long'}, default='wide'

    Returns
    -------
    pandas.DataFrame
    """
    import pandas as pd

    check_choice(layout, "layout", LAYOUTS)
    if isinstance(explanations, (str, bytes)) or not hasattr(explanations, "__iter__"):
        raise bad_type("explanations", "an iterable of Explanation objects", explanations)
    explanations = list(explanations)
    if positions is None:
        positions = [exp.position if isinstance(exp, FailedRow) else i for i, exp in enumerate(explanations)]
    else:
        positions = [int(p) for p in positions]
        if len(positions) != len(explanations):
            raise bad_value("positions", f"{len(explanations)} positions, one per explanation", f"{len(positions)}")
    if features is not None:
        features = [str(f) for f in features]
    records, order, seen = [], [], set()

    def note(name):
        if name not in seen:
            seen.add(name)
            order.append(name)

    for position, exp in zip(positions, explanations):
        if isinstance(exp, FailedRow):
            records.append(({"row": position, "label": None, "error": exp.error}, {}))
            continue
        if not hasattr(exp, "local_exp") or not hasattr(exp, "domain_mapper"):
            raise bad_type("explanations", "an iterable of Explanation or FailedRow objects", exp)
        if features is None:
            for name in _feature_order(exp) or ():
                note(name)
        for label in _labels_of(exp, labels):
            pairs = exp.local_exp[label]
            feature_records = exp.domain_mapper.feature_records([int(i) for i, _ in pairs])
            weights = {}
            for record, (feature_id, weight) in zip(feature_records, pairs):
                key = str(record.get("feature", record["name"]))
                if layout == "long":
                    weights.setdefault(key, []).append((int(feature_id), float(weight)))
                else:
                    weights[key] = weights.get(key, 0.0) + float(weight)  # a word listed twice: summed
                if features is None:
                    note(key)
            if exp.mode == "classification":
                name = (
                    str(exp.class_names[label])
                    if exp.class_names is not None and 0 <= label < len(exp.class_names)
                    else str(label)
                )
                model_pred = (
                    float(exp.predict_proba[label])
                    if exp.predict_proba is not None and label < len(exp.predict_proba)
                    else np.nan
                )
            else:
                name, model_pred = None, float(exp.predicted_value)
            meta = {
                "row": position,
                "label": int(label),
                "label_name": name,
                "model_pred": model_pred,
                "intercept": float(exp.intercept[label]),
                "score": float(exp.scores.get(label, np.nan)),
                "local_pred": float(np.ravel(exp.local_preds[label])[0]) if label in exp.local_preds else np.nan,
                "local_decision": float(exp.local_decisions.get(label, np.nan)),
            }
            meta["local_gap"] = meta["local_pred"] - model_pred
            meta.update(_diagnostic_columns(exp.diagnostics, label if exp.mode == "classification" else 0))
            meta["error"] = None
            records.append((meta, weights))

    meta_keys = list(META_COLUMNS)
    for meta, _ in records:
        for key in meta:
            if key not in meta_keys and key != "error":
                meta_keys.append(key)
    meta_keys.append("error")
    if layout == "wide":
        columns = features if features is not None else order
        rows = []
        for meta, weights in records:
            row = {key: meta.get(key) for key in meta_keys}
            row.update({WEIGHT_PREFIX + f: weights.get(f, np.nan) for f in columns})
            rows.append(row)
        all_columns = meta_keys + [WEIGHT_PREFIX + f for f in columns]
    else:
        rows = []
        for meta, weights in records:
            base = {key: meta.get(key) for key in meta_keys}
            if not weights:
                rows.append({**base, "feature": None, "feature_id": None, "weight": np.nan})
            for key, items in weights.items():
                for feature_id, weight in items:
                    rows.append({**base, "feature": key, "feature_id": feature_id, "weight": weight})
        all_columns = meta_keys + ["feature", "feature_id", "weight"]
    frame = pd.DataFrame.from_records(rows, columns=all_columns)
    return _typed(frame)


def _typed(frame):
    """Stable dtypes (so that frames from different tasks concatenate and write to parquet alike)."""
    import pandas as pd

    frame["row"] = frame["row"].astype("int64")
    frame["label"] = pd.array(frame["label"], dtype="Int64")
    if "feature_id" in frame:
        frame["feature_id"] = pd.array(frame["feature_id"], dtype="Int64")
    for column in ("label_name", "error", "feature"):
        if column in frame:
            frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    for column in frame.columns:
        if column not in ("row", "label", "label_name", "error", "feature", "feature_id"):
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame


def concat_frames(frames):
    """Per-task frames as one, columns in :func:`explanations_to_frame`'s order (the same frame as one call gives)."""
    import pandas as pd

    frames = [frame for frame in frames if frame is not None]
    if not frames:
        return explanations_to_frame([])
    frame = pd.concat(frames, ignore_index=True, sort=False) if len(frames) > 1 else frames[0]
    weights = [c for c in frame.columns if str(c).startswith(WEIGHT_PREFIX)]
    tail = [c for c in ("error", "feature", "feature_id", "weight") if c in frame.columns]
    meta = [c for c in frame.columns if c not in weights and c not in tail]
    return _typed(frame[meta + tail + weights].reset_index(drop=True))


def conform(frame, columns):
    """``frame`` with exactly ``columns`` (missing ones added empty, others dropped), dtypes kept stable."""
    import pandas as pd

    out = frame.reindex(columns=list(columns))
    for column in columns:
        if column not in frame:
            if column in ("label_name", "error", "feature"):
                out[column] = pd.Series([None] * len(out), index=out.index, dtype=object)
            elif column in ("label", "feature_id"):
                out[column] = pd.array([None] * len(out), dtype="Int64")
            else:
                out[column] = out[column].astype("float64")
    return out


def frame_importance(frame, label=1, missing="zero"):
    """Rank features by their mean ``|weight|`` over a frame's rows for ``label``.

    The frame is :func:`explanations_to_frame`'s (either layout); rows with
    an ``error`` are left out.  The same ranking as
    :func:`limekit.core.importance.global_importance` on the explanations.

    Parameters
    ----------
    frame : pandas.DataFrame
    label : int, default=1
    missing : {'zero', 'skip'}, default='zero'
        A feature a row does not list counts as 0, or is left out of its mean.

    Returns
    -------
    list of (str, float)
        ``(feature, mean |weight|)`` by decreasing importance (ties by name).
    """
    check_choice(missing, "missing", ("zero", "skip"))
    if not hasattr(frame, "columns") or "label" not in frame.columns:
        raise bad_type("frame", "a DataFrame made by limekit.frame.explanations_to_frame", frame)
    rows = frame[(frame["label"] == label).fillna(False).astype(bool)]
    if "error" in rows:
        rows = rows[rows["error"].isna()]
    if "feature" in rows.columns and "weight" in rows.columns:  # long layout
        n = rows["row"].nunique()
        listed = rows.dropna(subset=["feature"])
        grouped = listed.groupby("feature")["weight"].apply(lambda w: float(np.abs(w).sum()))
        counts = listed.groupby("feature")["row"].nunique()
        means = {str(k): v / (n if missing == "zero" else counts[k]) for k, v in grouped.items()}
    else:
        weight_columns = [c for c in rows.columns if str(c).startswith(WEIGHT_PREFIX)]
        n = len(rows)
        means = {}
        for column in weight_columns:
            values = np.abs(rows[column].to_numpy(dtype=float))
            listed = ~np.isnan(values)
            if not listed.any():
                continue
            total = float(values[listed].sum())
            means[column[len(WEIGHT_PREFIX) :]] = total / (n if missing == "zero" else int(listed.sum()))
    if n == 0:
        raise bad_value("frame", f"at least one explained row for label {label!r}", "none")
    return sorted(((k, float(v)) for k, v in means.items()), key=lambda item: (-item[1], item[0]))
