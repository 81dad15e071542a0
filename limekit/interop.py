"""Hand limekit's Shapley values to other libraries: :func:`to_shap` builds a ``shap.Explanation``.

shap is an optional dependency (``pip install 'limekit[shap]'``), imported
only when :func:`to_shap` is called, so shap's plots (``shap.plots.waterfall``,
``beeswarm``, ``bar``) draw explanations made with ``kernel='shap'``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._optional import import_optional
from ._validation import bad_type, bad_value

__all__ = ["to_shap"]


def _feature_table(explanation: Any, width: int) -> tuple[list[str], list[Any]]:
    """The features' names and data: a tabular row's values; a text's words as shap's tokens (a word keeps
    the space after it, which ``shap.plots.text`` joins them with; characters as they are); 1 for a present
    superpixel."""
    records = explanation.domain_mapper.feature_records(range(width))
    names = [str(record.get("feature", record.get("name"))) for record in records]
    described = explanation.domain_mapper.to_dict()
    if described.get("modality") == "text":
        return names, names if described.get("char_level") else [name + " " for name in names]
    return names, [record.get("value", 1) for record in records]


def _as_array(data: list[Any]) -> np.ndarray:
    """``data`` as floats where it is all numbers, else as objects (categories, words)."""
    array = np.array(data, dtype=object)
    try:
        return array.astype(float)
    except (TypeError, ValueError):
        return array


def _ragged(rows: list[Any]) -> np.ndarray:
    """One object array holding an array per explanation (shap's form for explanations of different features)."""
    out = np.empty(len(rows), dtype=object)
    for i, row in enumerate(rows):
        out[i] = row
    return out


def _is_explanation(item: Any) -> bool:
    """A limekit Explanation (duck-typed: this module sits above the core, which calls it lazily)."""
    return hasattr(item, "local_exp") and hasattr(item, "diagnostics") and hasattr(item, "is_shapley")


def to_shap(explanations: Any, label: int | str | None = None) -> Any:
    """A ``shap.Explanation`` of one or many ``kernel='shap'`` explanations.

    Parameters
    ----------
    explanations : Explanation or sequence of Explanation
        Made by an explainer with ``kernel='shap'`` (or read back with
        ``Explanation.from_json``).
    label : int, str or None, default=None
        The label whose values are taken (None: each explanation's
        :attr:`~limekit.core.explanation.Explanation.label`).

    Returns
    -------
    shap.Explanation
        One explanation: ``values`` of shape (M,), a scalar ``base_values``.
        Several with the same features (a table's rows): ``values`` of shape
        (n, M) and ``base_values`` of shape (n,).  Several with different
        features (texts, images): shap's form for its own text explanations,
        ``values``, ``data`` and ``feature_names`` object arrays of one array
        per explanation (``shap.plots.text``, ``waterfall`` and ``bar`` draw
        them; ``beeswarm`` needs one feature set).  ``data`` holds a row's
        values, a text's words (each with the space after it, as shap's
        tokens) or 1 for the present superpixels.

    Raises
    ------
    MissingDependencyError
        When shap is not installed.
    LimekitValueError
        For an explanation without Shapley values.
    """
    single = _is_explanation(explanations)
    if not single and (isinstance(explanations, (str, bytes)) or not isinstance(explanations, Sequence)):
        raise bad_type("explanations", "a limekit Explanation or a sequence of them", explanations)
    items: list[Any] = [explanations] if single else list(explanations)
    if not items:
        raise bad_value("explanations", "at least one explanation", "an empty sequence")
    for i, item in enumerate(items):
        if not _is_explanation(item):
            raise bad_type(f"explanations[{i}]", "a limekit Explanation", item)
        if not item.is_shapley:
            raise bad_value(f"explanations[{i}]", "an explanation made with kernel='shap'", "a LIME explanation")
    values = [item.shapley_values(label) for item in items]
    shap = import_optional("shap", "to_shap")
    base = np.array([item.base_value(label) for item in items])
    tables = [_feature_table(item, v.size) for item, v in zip(items, values)]
    names = [table[0] for table in tables]
    rows = [table[1] for table in tables]
    if single:
        return shap.Explanation(
            values=values[0], base_values=float(base[0]), data=_as_array(rows[0]), feature_names=names[0]
        )
    if all(n == names[0] for n in names):  # one feature set (a table's rows): matrices
        return shap.Explanation(
            values=np.vstack(values), base_values=base, data=_as_array(rows), feature_names=names[0]
        )
    return shap.Explanation(  # texts of other words, images of other superpixels: one array per explanation
        values=_ragged(values),
        base_values=base,
        data=_ragged([_as_array(row) for row in rows]),
        feature_names=_ragged([np.array(n) for n in names]),
    )
