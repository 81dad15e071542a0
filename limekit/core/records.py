"""Validation of stored explanations: what :meth:`Explanation.from_dict` / ``from_json`` may read.

An explanation read back from JSON is rendered (HTML, plots) and trusted as
it is, so a damaged or hand-edited record must fail loudly and say where,
never crash later with a bare ``KeyError`` or show ``inf``.  The record format
is the one :meth:`Explanation.to_dict` writes::

    mode            'classification' | 'regression'
    labels          [int >= 0, ...]   one record per label in ``explanations``
    explanations    {'<label>': {intercept, score, local_pred, [local_decision],
                                 [model_prediction, local_gap],
                                 features: [{id, name, weight, ...modality fields,
                                             [verdict, tie_group]}],
                                 [global_importance: [{id, name, importance}]],
                                 [shape_functions: [{id, name, grid, values}]]}}
    class_names     [str, ...] or None
    top_labels      [int, ...] or None (a subset of ``labels``)
    diagnostics     {...} or None (free JSON; the fields the views read are typed)
    domain          {'modality': 'tabular' | 'text' | 'image', ...} or None
    predict_proba   [float, ...] or None                       (classification)
    predicted_value, min_value, max_value: float               (regression)

Every number must be a finite float64: whatever magnitude an explainer
produces (a regression model's outputs near 1e300 give weights and intercepts
near 1e300, outputs near 1e-300 subnormal ones), ``json`` writes it as is
and reads it back bit for bit.  ``NaN``, ``Infinity`` and numbers beyond
:data:`MAX_MAGNITUDE` (``1e999`` parses as infinity, ``10**400`` has no
float) are refused.  The one check, :func:`validate_explanation_record`,
serves both sides: :meth:`Explanation.to_json` runs it before writing and
:meth:`Explanation.from_json` / ``from_dict`` before reading, so what one
writes the other reads.  Non-finite values have no JSON form: a diagnostic
that could not be computed (e.g. a variance that overflowed) is written as
``null`` by ``to_dict``; the numbers of the explanation itself (intercepts,
weights, scores, predictions, importances, shape functions) are never
non-finite in an explanation limekit makes (the explainers raise instead,
see :meth:`Explanation.add_fit`).  The views draw numbers of any finite
magnitude (scaled by a power of ten on their axes).

Every error names the field's path, e.g.
``explanations['1'].features[0].weight: expected a finite number; got 'x' (str)``.
Fields the format does not know are allowed when they hold plain JSON.
"""

from __future__ import annotations

import json
import math
import numbers
import sys
from collections.abc import Callable, Collection, Iterable
from typing import Any

from .._validation import LimekitValueError, bad_type, bad_value, describe
from .verdicts import FEATURE_STATUSES

__all__ = ["validate_explanation_record", "MAX_DEPTH", "MAX_MAGNITUDE"]

#: Deepest nesting accepted (``to_dict`` writes at most 7 levels).
MAX_DEPTH = 32

_MODES = ("classification", "regression")
_MODALITIES = ("tabular", "text", "image")
_MAX_ID = 2**53  # the largest integer every JSON reader keeps exactly
#: Largest magnitude of a number: the largest finite float64, so any finite number an explainer
#: makes is written and read back (JSON holds it exactly); larger ones are refused on both sides.
MAX_MAGNITUDE = sys.float_info.max


class _Constant:
    """A non-finite JSON token (``NaN``, ``Infinity``, ``-Infinity``) kept for the error message."""

    __slots__ = ("token",)

    def __init__(self, token: str) -> None:
        self.token = token

    def __repr__(self) -> str:
        return self.token


def validate_explanation_record(data: object, *, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """Check that ``data`` is an explanation as :meth:`Explanation.to_dict` writes it.

    Parameters
    ----------
    data : dict, str or bytes
        The dict of :meth:`~limekit.core.explanation.Explanation.to_dict`, or
        the JSON text of :meth:`~limekit.core.explanation.Explanation.to_json`
        (strict JSON: ``NaN`` and ``Infinity`` tokens and repeated keys are
        refused).
    max_depth : int, default=MAX_DEPTH
        Deepest nesting of dicts and lists accepted.

    Returns
    -------
    dict
        ``data`` itself, or the parsed JSON text.

    Raises
    ------
    LimekitValueError, LimekitTypeError
        On the first problem found, naming its path (e.g.
        ``explanations['1'].features[0].weight``); ``data`` or ``text`` for
        the whole record.
    """
    if isinstance(data, (str, bytes, bytearray)):
        data = _parse(data, max_depth)
    if not isinstance(data, dict):
        raise bad_type("data", "a dict made by Explanation.to_dict()", data)
    _check_depth(data, max_depth)
    required = ("mode", "labels", "explanations")
    absent = [key for key in required if key not in data]
    if absent:
        raise bad_value(
            "data",
            f"a dict made by Explanation.to_dict(), with keys {list(required)}",
            f"no {absent} among its keys {_keys(data)}",
        )
    _Record(data).check()
    return data


# ---------------------------------------------------------------- parsing and depth


def _parse(text: str | bytes | bytearray, max_depth: int) -> Any:
    def constant(token: str) -> _Constant:
        return _Constant(token)

    def no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out = {}
        for key, value in pairs:
            if key in out:
                raise bad_value("text", "JSON objects without repeated keys", f"the key {key!r} twice")
            out[key] = value
        return out

    try:
        return json.loads(text, parse_constant=constant, object_pairs_hook=no_repeats)
    except RecursionError:
        raise bad_value("text", f"JSON nested at most {max_depth} levels deep", "deeper nesting") from None
    except LimekitValueError:
        raise
    except (TypeError, ValueError) as exc:  # JSONDecodeError, UnicodeDecodeError, too many digits
        raise bad_value("text", "a JSON string made by Explanation.to_json()", f"invalid JSON ({exc})") from exc


def _check_depth(data: dict[str, Any], max_depth: int) -> None:
    """Raise at the first container nested deeper than ``max_depth`` (cycles included); no recursion."""
    stack: list[tuple[Any, str, int]] = [(data, "data", 1)]
    while stack:
        value, path, depth = stack.pop()
        if depth > max_depth:
            raise bad_value(_short(path), f"nesting at most {max_depth} levels deep", "deeper nesting")
        if isinstance(value, dict):
            stack.extend(
                (item, _key_path(path, key), depth + 1)
                for key, item in value.items()
                if isinstance(item, (dict, list, tuple))
            )
        else:
            stack.extend(
                (item, f"{path}[{i}]", depth + 1)
                for i, item in enumerate(value)
                if isinstance(item, (dict, list, tuple))
            )


def _short(path: str, limit: int = 120) -> str:
    return path if len(path) <= limit else path[: limit // 2] + " ... " + path[-limit // 2 :]


# ---------------------------------------------------------------- paths and scalar checks


def _key_path(path: str, key: object) -> str:
    """``explanations['1']`` for data keys; ``record.features`` for field names."""
    if isinstance(key, str) and key.isidentifier():
        return f"{path}.{key}" if path and path != "data" else key
    return f"{path}[{key!r}]" if path != "data" else f"[{key!r}]"


def _keys(mapping: Iterable[Any], limit: int = 12) -> list[str]:
    keys = [str(k) for k in mapping]
    return keys if len(keys) <= limit else keys[:limit] + [f"... ({len(keys)} keys)"]


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _number(value: Any, path: str, minimum: float | None = None) -> numbers.Real:
    if isinstance(value, _Constant):
        raise bad_value(path, "a finite number", f"{value.token} (not a JSON number)")
    if not _is_number(value):
        raise bad_type(path, "a finite number", value)
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        finite = False
    if not finite:
        raise bad_value(path, "a finite number", describe(value))
    if abs(value) > MAX_MAGNITUDE:
        raise bad_value(path, f"a number of magnitude at most {MAX_MAGNITUDE!r} (a float64)", describe(value))
    if minimum is not None and value < minimum:
        raise bad_value(path, f"a number >= {minimum}", describe(value))
    return value


def _integer(value: Any, path: str, minimum: int = 0) -> numbers.Integral:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, _Constant):
            raise bad_value(path, "an integer", f"{value.token} (not a JSON number)")
        raise bad_type(path, "an integer", value)
    if not minimum <= int(value) <= _MAX_ID:  # int(): exact for any Integral, and comparable for mypy
        raise bad_value(path, f"an integer in [{minimum}, 2**53]", describe(value))
    return value


def _string(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise bad_type(path, "a string", value)
    return value


def _boolean(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise bad_type(path, "true or false", value)
    return value


def _array(value: Any, path: str) -> list[Any] | tuple[Any, ...]:
    if not isinstance(value, (list, tuple)):
        raise bad_type(path, "a list", value)
    return value


def _mapping(value: Any, path: str) -> dict[Any, Any]:
    if not isinstance(value, dict):
        raise bad_type(path, "a dict (JSON object)", value)
    return value


def _json(value: Any, path: str) -> object:
    """Any plain JSON value: None, bool, str, finite number, list or dict with string keys."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if _is_number(value) or isinstance(value, _Constant):
        return _number(value, path)
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _json(item, f"{path}[{i}]")
        return value
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise bad_type(f"{path}[{key!r}]", "a string key", key)
            _json(item, _key_path(path, key))
        return value
    raise bad_type(path, "a JSON value (dict, list, string, number, true, false or null)", value)


_EXPECTED: dict[Callable[..., Any], str] = {
    _number: "a finite number",
    _integer: "an integer",
    _string: "a string",
    _boolean: "true or false",
    _array: "a list",
    _mapping: "a dict (JSON object)",
}


def _label_key(key: object, path: str) -> str:
    """A label's key: the decimal form of an integer >= 0 (what ``str(int(label))`` writes)."""
    if not isinstance(key, str) or not key.isdigit() or not key.isascii() or str(int(key)) != key:
        raise bad_value(f"{path}[{key!r}]", "a key naming a label, such as '0' or '1'", describe(key))
    return key


# ---------------------------------------------------------------- the record


class _Fields:
    """Typed access to the fields of one dict, with paths for the errors."""

    def __init__(self, mapping: dict[Any, Any], path: str) -> None:
        self.mapping = mapping
        self.path = path

    def at(self, key: object) -> str:
        return _key_path(self.path, key)

    def get(
        self,
        key: str,
        check: Callable[..., Any],
        required: bool = True,
        nullable: bool = False,
        **options: Any,
    ) -> Any:
        if key not in self.mapping:
            if required:
                raise bad_value(
                    self.at(key),
                    _EXPECTED[check] + (" or null" if nullable else ""),
                    f"nothing (no {key!r} key among {_keys(self.mapping)})",
                )
            return None
        value = self.mapping[key]
        if value is None and nullable:
            return None
        return check(value, self.at(key), **options)

    def rest(self, known: Collection[str]) -> None:
        """The fields the format does not know: plain JSON."""
        for key, value in self.mapping.items():
            if key not in known:
                if not isinstance(key, str):
                    raise bad_type(f"{self.path}[{key!r}]", "a string key", key)
                _json(value, self.at(key))


def _numbers(value: Any, path: str, minimum: float | None = None) -> list[Any] | tuple[Any, ...]:
    for i, item in enumerate(_array(value, path)):
        _number(item, f"{path}[{i}]", minimum)
    return value


def _integers(value: Any, path: str, minimum: int = 0) -> list[Any] | tuple[Any, ...]:
    for i, item in enumerate(_array(value, path)):
        _integer(item, f"{path}[{i}]", minimum)
    return value


def _strings(value: Any, path: str) -> list[Any] | tuple[Any, ...]:
    for i, item in enumerate(_array(value, path)):
        _string(item, f"{path}[{i}]")
    return value


def _scalar(value: Any, path: str) -> object:
    """A feature's value as shown: None, bool, string or finite number."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if not _is_number(value) and not isinstance(value, _Constant):
        raise bad_type(path, _EXPECTED[_scalar], value)
    return _number(value, path)


_EXPECTED.update(
    {
        _numbers: "a list of finite numbers",
        _integers: "a list of integers",
        _strings: "a list of strings",
        _scalar: "a string, a finite number, true, false or null",
    }
)


def _unique_ids(items: Iterable[Any], path: str, what: str) -> set[Any]:
    seen = set()
    for i, item in enumerate(items):
        if item["id"] in seen:
            raise bad_value(f"{path}[{i}].id", f"ids that appear once in {what}", f"{item['id']} again")
        seen.add(item["id"])
    return seen


class _Record:
    """Checks one explanation record, field by field."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.top = _Fields(data, "data")

    def check(self) -> None:
        top = self.top
        mode = self.data["mode"]
        if not isinstance(mode, str):
            raise bad_type("mode", "'classification' or 'regression'", mode)
        if mode not in _MODES:
            raise bad_value("mode", "'classification' or 'regression'", describe(mode))
        labels = top.get("labels", _integers)
        if len(set(labels)) != len(labels):
            raise bad_value("labels", "distinct labels", describe(list(labels)))
        if mode == "regression" and 1 not in labels:  # lime's convention: label 1 is the prediction
            raise bad_value("labels", "label 1 among the labels of a regression explanation", describe(list(labels)))
        records = top.get("explanations", _mapping)
        for key, record in records.items():
            self.label_record(_label_key(key, "explanations"), record, mode)
        for i, label in enumerate(labels):
            if str(label) not in records:
                raise bad_value(
                    f"explanations[{str(label)!r}]",
                    f"the record of label {label} (labels[{i}])",
                    f"no such key among {_keys(records)}",
                )
        top.get("class_names", _strings, required=False, nullable=True)
        top_labels = top.get("top_labels", _integers, required=False, nullable=True)
        for i, label in enumerate(top_labels or ()):
            if label not in labels:
                raise bad_value(f"top_labels[{i}]", f"one of labels {list(labels)}", describe(label))
        diagnostics = top.get("diagnostics", _mapping, required=False, nullable=True)
        if diagnostics is not None:
            self.diagnostics(diagnostics)
        domain = top.get("domain", _mapping, required=False, nullable=True)
        if domain is not None:
            self.domain(domain)
        known = {"mode", "labels", "explanations", "class_names", "top_labels", "diagnostics", "domain"}
        if mode == "classification":
            top.get("predict_proba", _numbers, required=False, nullable=True)
            known.add("predict_proba")
        else:
            for key in ("predicted_value", "min_value", "max_value"):
                top.get(key, _number)
                known.add(key)
        top.rest(known)

    # -------------------------------------------------------- one label
    def label_record(self, key: str, record: object, mode: str) -> None:
        path = f"explanations[{key!r}]"
        fields = _Fields(_mapping(record, path), path)
        for name in ("intercept", "score", "local_pred"):
            fields.get(name, _number)
        fields.get("local_decision", _number, required=False)
        # the model's prediction beside the surrogate's (limekit.core.trust); records before them load without
        fields.get("model_prediction", _number, required=False)
        fields.get("local_gap", _number, required=False)
        features = fields.get("features", _array)
        for i, feature in enumerate(features):
            self.feature(feature, f"{path}.features[{i}]")
        listed = _unique_ids(features, f"{path}.features", "a label's features")
        importance = fields.get("global_importance", _array, required=False)
        for i, item in enumerate(importance or ()):
            item_fields = self.named(item, f"{path}.global_importance[{i}]")
            item_fields.get("importance", _number, minimum=0)
            item_fields.rest({"id", "name", "importance"})
        if importance:
            _unique_ids(importance, f"{path}.global_importance", "global_importance")
        shapes = fields.get("shape_functions", _array, required=False)
        for i, item in enumerate(shapes or ()):
            self.shape_function(item, f"{path}.shape_functions[{i}]")
        if shapes:
            shaped = _unique_ids(shapes, f"{path}.shape_functions", "shape_functions")
            unshaped = sorted(listed - shaped)
            if unshaped or not listed:
                raise bad_value(
                    f"{path}.shape_functions",
                    "a shape function for every listed feature",
                    f"none for feature id(s) {unshaped[:10]}" if unshaped else "no listed feature",
                )
        fields.rest(
            {
                "intercept",
                "score",
                "local_pred",
                "local_decision",
                "model_prediction",
                "local_gap",
                "features",
                "global_importance",
                "shape_functions",
            }
        )

    @staticmethod
    def named(item: object, path: str) -> _Fields:
        fields = _Fields(_mapping(item, path), path)
        fields.get("id", _integer)
        fields.get("name", _string)
        return fields

    def feature(self, feature: object, path: str) -> None:
        fields = self.named(feature, path)
        fields.get("weight", _number)
        # modality fields (tabular: feature, value; text: positions, spans; image: n_pixels, centroid, bbox)
        fields.get("feature", _string, required=False)
        fields.get("value", _scalar, required=False, nullable=True)
        fields.get("positions", _integers, required=False)
        spans = fields.get("spans", _array, required=False)
        for i, span in enumerate(spans or ()):
            span_path = f"{fields.at('spans')}[{i}]"
            if not isinstance(span, (list, tuple)) or len(span) != 2:
                raise bad_type(span_path, "a [start, end] pair", span)
            start, end = _integer(span[0], f"{span_path}[0]"), _integer(span[1], f"{span_path}[1]")
            if start > end:
                raise bad_value(span_path, "start <= end", describe(list(span)))
        fields.get("n_pixels", _integer, required=False)
        centroid = fields.get("centroid", _numbers, required=False)
        if centroid is not None and len(centroid) != 2:
            raise bad_value(fields.at("centroid"), "a [row, column] pair", f"{len(centroid)} numbers")
        bbox = fields.get("bbox", _integers, required=False, nullable=True)
        if bbox is not None and len(bbox) != 4:
            raise bad_value(fields.at("bbox"), "[row0, col0, row1, col1]", f"{len(bbox)} numbers")
        # the verdict per feature (derived from diagnostics['sampling'] when written; see limekit.core.verdicts)
        verdict = fields.get("verdict", _string, required=False)
        if verdict is not None and verdict not in FEATURE_STATUSES:
            raise bad_value(fields.at("verdict"), "one of " + ", ".join(map(repr, FEATURE_STATUSES)), describe(verdict))
        fields.get("tie_group", _integer, required=False)
        fields.get("standard_error", _number, required=False)  # kernel='shap' (from diagnostics['shapley'])
        fields.rest(
            {
                "id",
                "name",
                "weight",
                "feature",
                "value",
                "positions",
                "spans",
                "n_pixels",
                "centroid",
                "bbox",
                "verdict",
                "tie_group",
                "standard_error",
            }
        )

    def shape_function(self, item: object, path: str) -> None:
        fields = self.named(item, path)
        grid = fields.get("grid", _array)
        for i, point in enumerate(grid):
            if not isinstance(point, str):
                _number(point, f"{fields.at('grid')}[{i}]")
        values = fields.get("values", _numbers)
        if len(values) != len(grid):
            raise bad_value(fields.at("values"), f"{len(grid)} numbers (one per grid point)", len(values))
        fields.rest({"id", "name", "grid", "values"})

    # -------------------------------------------------------- diagnostics and domain
    @staticmethod
    def diagnostics(diagnostics: dict[Any, Any]) -> None:
        fields = _Fields(diagnostics, "diagnostics")
        fields.get("num_samples", _number, required=False, nullable=True, minimum=0)
        fields.get("effective_sample_size", _number, required=False, nullable=True, minimum=0)
        for name in ("fidelity", "fidelity_in_sample", "r2"):
            per_label = fields.get(name, _mapping, required=False, nullable=True)
            for key, value in (per_label or {}).items():
                if value is not None and not _is_number(value) and not isinstance(value, dict):
                    raise bad_type(f"diagnostics.{name}[{key!r}]", "a dict, a number or null", value)
        stability = fields.get("stability", _mapping, required=False, nullable=True)
        for key, value in (stability or {}).items():
            path = f"diagnostics.stability[{key!r}]"
            if value is None:
                continue
            label = _Fields(_mapping(value, path), path)
            jaccard = label.get("jaccard", _number, required=False, nullable=True, minimum=0)
            label.get("n_draws", _integer, required=jaccard is not None)
            label.get("unsure_features", _array, required=False, nullable=True)
            for name in ("sign_agreement", "weight_std"):
                shares = label.get(name, _mapping, required=False, nullable=True)
                for feature, share in (shares or {}).items():
                    if share is not None or name == "sign_agreement":
                        _number(share, f"{label.at(name)}[{feature!r}]")
        sampling = fields.get("sampling", _mapping, required=False, nullable=True)
        if sampling is not None:
            _Record.sampling_verdict(sampling)
        fields.rest(set())  # everything, typed above or not, is plain JSON

    @staticmethod
    def sampling_verdict(sampling: dict[Any, Any]) -> None:
        """The verdict per feature that the views read from ``diagnostics.sampling`` (see limekit.core.verdicts)."""
        fields = _Fields(sampling, "diagnostics.sampling")
        fields.get("places", _integer, required=False, nullable=True)
        fields.get("outcome", _string, required=False, nullable=True)
        for name in ("settled", "sign_undecided", "no_claim"):
            per_label = fields.get(name, _mapping, required=False, nullable=True)
            for key, ids in (per_label or {}).items():
                _integers(ids, f"{fields.at(name)}[{key!r}]")
        groups = fields.get("tie_groups", _mapping, required=False, nullable=True)
        for key, label_groups in (groups or {}).items():
            path = f"{fields.at('tie_groups')}[{key!r}]"
            for i, group in enumerate(_array(label_groups, path)):
                group_fields = _Fields(_mapping(group, f"{path}[{i}]"), f"{path}[{i}]")
                group_fields.get("places", _integers, minimum=1)
                group_fields.get("features", _integers)
                group_fields.get("names", _strings, required=False)
                group_fields.get("needed", _integer, required=False, nullable=True)
                group_fields.get("out_of_reach", _boolean, required=False)
        for name in ("tied_names", "tied_features"):
            fields.get(name, _array, required=False, nullable=True)

    @staticmethod
    def domain(domain: dict[Any, Any]) -> None:
        fields = _Fields(domain, "domain")
        modality = fields.get("modality", _scalar, required=False)
        if modality is not None and (not isinstance(modality, str) or modality not in _MODALITIES):
            raise bad_value("domain.modality", "one of " + ", ".join(map(repr, _MODALITIES)), describe(modality))
        fields.get("feature_names", _strings, required=False, nullable=True)
        fields.get("text", _string, required=False)
        fields.get("bow", _boolean, required=False)
        fields.get("char_level", _boolean, required=False)
        fields.get("num_words", _integer, required=False)
        fields.get("image_shape", _integers, required=False)
        fields.get("n_segments", _integer, required=False)
        fields.rest(
            {"modality", "feature_names", "text", "bow", "char_level", "num_words", "image_shape", "n_segments"}
        )
