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
    """The features' names and the instance's values (tabular values; 1 for a present word or superpixel)."""
    records = explanation.domain_mapper.feature_records(range(width))
    names = [str(record.get("feature", record.get("name"))) for record in records]
    data = [record.get("value", 1) for record in records]
    return names, data


def _is_explanation(item: Any) -> bool:
    """A limekit Explanation (duck-typed: this module sits above the core, which calls it lazily)."""
    return hasattr(item, "local_exp") and hasattr(item, "diagnostics") and hasattr(item, "is_shapley")


def to_shap(explanations: Any, label: int | str | None = None) -> Any:
    """A ``shap.Explanation`` of one or many ``kernel='shap'`` explanations.

    Parameters
    ----------
    explanations : Explanation or sequence of Explanation
        Made by an explainer with ``kernel='shap'`` (or read back with
        ``Explanation.from_json``); several must have the same features.
    label : int, str or None, default=None
        The label whose values are taken (None: each explanation's
        :attr:`~limekit.core.explanation.Explanation.label`).

    Returns
    -------
    shap.Explanation
        One explanation: ``values`` of shape (M,), a scalar ``base_values``;
        several: ``values`` of shape (n, M) and ``base_values`` of shape
        (n,).  ``data`` holds the instance's values (tabular) or 1 for the
        present words and superpixels, ``feature_names`` the features' names.

    Raises
    ------
    MissingDependencyError
        When shap is not installed.
    LimekitValueError
        For an explanation without Shapley values, or explanations of different features.
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
    widths = {v.size for v in values}
    if len(widths) != 1:
        raise bad_value("explanations", "explanations of the same features", f"{sorted(widths)} features")
    shap = import_optional("shap", "to_shap")
    base = np.array([item.base_value(label) for item in items])
    names, _ = _feature_table(items[0], values[0].size)
    data = [_feature_table(item, values[0].size)[1] for item in items]
    data_array = np.array(data, dtype=object)
    try:
        data_array = data_array.astype(float)
    except (TypeError, ValueError):
        pass
    if single:
        return shap.Explanation(values=values[0], base_values=float(base[0]), data=data_array[0], feature_names=names)
    return shap.Explanation(values=np.vstack(values), base_values=base, data=data_array, feature_names=names)
