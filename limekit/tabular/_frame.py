"""pandas support: DataFrames in, DataFrames (with their dtypes) back to the model.

Numeric columns pass through; object, string, category and bool columns become
categorical features whose codes index their categories.  The perturbed rows
are decoded back into a DataFrame with the training frame's columns and dtypes,
so a pipeline trained on the frame (a ColumnTransformer with a OneHotEncoder,
an XGBoost model with categorical dtypes) takes them as they are.
"""
from __future__ import annotations

import numpy as np

from .._validation import bad_type, bad_value

__all__ = ["is_dataframe", "is_series", "FrameEncoder"]


def is_dataframe(obj):
    return type(obj).__name__ == "DataFrame" and hasattr(obj, "columns") and hasattr(obj, "dtypes")


def is_series(obj):
    return type(obj).__name__ == "Series" and hasattr(obj, "index") and hasattr(obj, "dtype")


def _is_categorical_dtype(dtype):
    import pandas as pd

    return (isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_object_dtype(dtype)
            or pd.api.types.is_string_dtype(dtype) or pd.api.types.is_bool_dtype(dtype))


class FrameEncoder:
    """Column schema of a training DataFrame and the float encoding of its rows.

    Parameters
    ----------
    frame : pandas.DataFrame
        The training data.
    categorical_columns : list of int
        Positions of numeric columns the user declared categorical (their
        integer values are their codes).

    Attributes
    ----------
    columns : list
        Column labels.
    categories : dict of int -> ndarray
        For every non-numeric column, its categories; the code of a value is
        its position here.
    categorical_features : list of int
        Non-numeric columns plus the declared ones.
    """

    def __init__(self, frame, categorical_columns=()):
        import pandas as pd

        self.columns = list(frame.columns)
        if len(set(self.columns)) != len(self.columns):
            raise bad_value("training_data", "a DataFrame with unique column names", "duplicated columns")
        self.dtypes = list(frame.dtypes)
        self.categories = {}
        for position, (name, dtype) in enumerate(zip(self.columns, self.dtypes)):
            if not _is_categorical_dtype(dtype):
                continue
            column = frame.iloc[:, position]
            if isinstance(dtype, pd.CategoricalDtype):
                categories = np.asarray(dtype.categories, dtype=object)
            else:
                categories = np.asarray(sorted(pd.unique(column.dropna()), key=str), dtype=object)
            self.categories[position] = categories
        self.categorical_features = sorted(set(self.categories) | set(categorical_columns))

    @property
    def feature_names(self):
        return [str(c) for c in self.columns]

    def categorical_names(self):
        """``{position: [category names]}`` for the non-numeric columns."""
        return {position: [str(v) for v in values] for position, values in self.categories.items()}

    def encode(self, frame, argument):
        """Float matrix of the frame's rows (categories replaced by codes)."""
        import pandas as pd

        if is_series(frame):
            frame = frame.to_frame().T
        missing = [c for c in self.columns if c not in frame.columns]
        unknown = [c for c in frame.columns if c not in set(self.columns)]
        if unknown:
            raise bad_value(argument, f"the training columns {self.feature_names}", f"unknown column(s) {unknown}")
        if missing:
            raise bad_value(argument, f"the training columns {self.feature_names}", f"missing column(s) {missing}")
        frame = frame[self.columns]
        encoded = np.empty(frame.shape, dtype=float)
        for position, column_name in enumerate(self.columns):
            column = frame.iloc[:, position]
            if position in self.categories:
                categories = self.categories[position]
                if column.isna().any():
                    raise bad_value(argument, f"no missing values in column {column_name!r}",
                                    f"{int(column.isna().sum())} missing value(s)",
                                    "Drop or impute them first.")
                codes = pd.Categorical(column.astype(object), categories=categories).codes
                if (codes < 0).any():
                    unseen = sorted(set(column[codes < 0].astype(str)))[:5]
                    raise bad_value(argument, f"categories of column {column_name!r} seen in training",
                                    f"unseen value(s) {unseen}")
                encoded[:, position] = codes
            else:
                try:
                    encoded[:, position] = pd.to_numeric(column, errors="raise").to_numpy(dtype=float)
                except (TypeError, ValueError) as exc:
                    raise bad_type(argument, f"numbers in column {column_name!r}", column) from exc
        return encoded

    def decode(self, matrix):
        """DataFrame with the training columns and dtypes from an encoded matrix."""
        import pandas as pd

        data = {}
        for position, (name, dtype) in enumerate(zip(self.columns, self.dtypes)):
            values = matrix[:, position]
            if position in self.categories:
                codes = values.astype(np.int64)
                if isinstance(dtype, pd.CategoricalDtype):
                    data[name] = pd.Categorical.from_codes(codes, dtype=dtype)
                else:
                    data[name] = pd.Series(self.categories[position][codes], dtype=dtype)
            elif np.issubdtype(np.dtype(dtype), np.integer) and np.all(values == np.round(values)):
                data[name] = values.astype(dtype)
            else:
                data[name] = values
        return pd.DataFrame(data, columns=self.columns)

    def display_value(self, position, value):
        """Readable form of an encoded value (the category itself for non-numeric columns)."""
        if position in self.categories:
            return self.categories[position][int(value)]
        return value
