"""Readable names for tabular interpretable features."""

from __future__ import annotations

import numpy as np

from .._validation import strict_keywords
from ..core.explanation import DomainMapper

__all__ = ["TableDomainMapper"]


class TableDomainMapper(DomainMapper):
    """lime's ``TableDomainMapper``: feature ids -> names such as ``"age <= 28.00"`` or ``"sex=Male"``.

    Parameters
    ----------
    feature_names : list of str
        Names for the undiscretised representation (``"sex=Male"`` for categoricals).
    feature_values : list of str
        The instance's values as shown in lime's table.
    scaled_row : ndarray
        The instance in the interpretable (scaled) space.
    categorical_features : list of int
    discretized_feature_names : list of str or None
        Names of the instance's bins, used instead of ``feature_names`` when set.
    feature_indexes : ndarray or None
        For sparse rows, the ids of the features that vary.
    instance_values : list or None
        The instance's values in the user's terms (category strings, numbers).
    original_names : list of str or None
        The plain column names.
    """

    def __init__(
        self,
        feature_names,
        feature_values,
        scaled_row,
        categorical_features,
        discretized_feature_names=None,
        feature_indexes=None,
        instance_values=None,
        original_names=None,
    ):
        self.exp_feature_names = feature_names
        self.discretized_feature_names = discretized_feature_names
        self.feature_names = feature_names
        self.feature_values = feature_values
        self.feature_indexes = feature_indexes
        self.scaled_row = scaled_row
        self.categorical_features = categorical_features
        self.all_categorical = len(categorical_features) == len(scaled_row)
        self.instance_values = instance_values
        self.original_names = original_names if original_names is not None else list(feature_names)

    @property
    def names(self):
        return self.discretized_feature_names if self.discretized_feature_names is not None else self.exp_feature_names

    @strict_keywords
    def map_exp_ids(self, exp):
        """``[(name, weight), ...]`` for ``[(feature id, weight), ...]`` (lime's signature: no options)."""
        names = self.names
        return [(names[feature], weight) for feature, weight in exp]

    def feature_records(self, feature_ids):
        names = self.names
        records = []
        for feature in feature_ids:
            value = None if self.instance_values is None else self.instance_values[feature]
            if isinstance(value, np.generic):
                value = value.item()
            records.append(
                {
                    "id": int(feature),
                    "name": str(names[feature]),
                    "feature": str(self.original_names[feature]),
                    "value": value if isinstance(value, (int, float, bool)) or value is None else str(value),
                }
            )
        return records

    def to_dict(self):
        return {"modality": "tabular", "feature_names": [str(n) for n in self.original_names]}
