"""pandas support: DataFrames in, DataFrames (with their dtypes) back to the model.

Numeric columns pass through; object, string, category and bool columns become
categorical features whose codes index their categories.  The perturbed rows
are decoded back into a DataFrame with the training frame's columns and dtypes,
so a pipeline trained on the frame (a ColumnTransformer with a OneHotEncoder,
an XGBoost model with categorical dtypes) takes them as they are.

Missing values: in a categorical column of the training frame, a missing value
(NaN, None, ``pd.NA``) is a category of its own, shown as ``"missing"``,
sampled with its training frequency and decoded back to the missing value the
training frame holds, so the model gets what it was trained on.  A missing or
infinite value in a numeric column is an error naming the argument and column.
"""

from __future__ import annotations

import numpy as np

from .._validation import bad_type, bad_value

__all__ = ["is_dataframe", "is_series", "FrameEncoder", "MISSING"]

#: How a missing value of a categorical column is shown (``workclass=missing``).
MISSING = "missing"


def is_dataframe(obj):
    return type(obj).__name__ == "DataFrame" and hasattr(obj, "columns") and hasattr(obj, "dtypes")


def is_series(obj):
    return type(obj).__name__ == "Series" and hasattr(obj, "index") and hasattr(obj, "dtype")


def _is_categorical_dtype(dtype):
    import pandas as pd

    return (
        isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
        or pd.api.types.is_bool_dtype(dtype)
    )


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
    missing : dict of int -> object
        For every non-numeric column with missing values in training, the
        missing value the model sees (its code is ``len(categories[j])``).
    """

    def __init__(self, frame, categorical_columns=()):
        import pandas as pd

        self.columns = list(frame.columns)
        if len(set(self.columns)) != len(self.columns):
            raise bad_value("training_data", "a DataFrame with unique column names", "duplicated columns")
        self.dtypes = list(frame.dtypes)
        self.categories = {}
        self.missing = {}
        for position, (_name, dtype) in enumerate(zip(self.columns, self.dtypes)):
            if not _is_categorical_dtype(dtype):
                continue
            column = frame.iloc[:, position]
            if isinstance(dtype, pd.CategoricalDtype):
                categories = np.asarray(dtype.categories, dtype=object)
            else:
                categories = np.asarray(sorted(pd.unique(column.dropna()), key=str), dtype=object)
            self.categories[position] = categories
            absent = column.isna().to_numpy()
            if absent.any():  # the training frame's own missing marker (None, NaN, pd.NA) goes back to the model
                self.missing[position] = column[absent].iloc[0]
        self.categorical_features = sorted(set(self.categories) | set(categorical_columns))
        # code -> value handed to the model: the categories, then the missing value where training has one
        self._lookup = {}
        for position, categories in self.categories.items():
            lookup = np.empty(len(categories) + 1, dtype=object)
            lookup[:-1] = categories
            lookup[-1] = self.missing.get(position)
            self._lookup[position] = lookup

    @property
    def feature_names(self):
        return [str(c) for c in self.columns]

    def categorical_names(self):
        """``{position: [category names]}`` for the non-numeric columns, ``"missing"`` last where training has it."""
        names = {}
        for position, values in self.categories.items():
            names[position] = [str(v) for v in values]
            if position in self.missing:
                names[position].append(MISSING if MISSING not in names[position] else f"<{MISSING}>")
        return names

    def encode(self, frame, argument):
        """Float matrix of the frame's rows (categories replaced by codes).

        Parameters
        ----------
        frame : pandas.DataFrame or pandas.Series
            Rows with the training columns (a Series is one row).
        argument : str
            The user's name for ``frame``, for error messages.

        Returns
        -------
        ndarray of shape (n_rows, n_columns)
            Numbers as they are; category codes, ``len(categories)`` for a
            missing category.
        """
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
                encoded[:, position] = self._encode_categories(column, position, argument)
            else:
                encoded[:, position] = _encode_numbers(column, column_name, argument)
        return encoded

    def _encode_categories(self, column, position, argument):
        """Codes of one categorical column; missing values get code ``len(categories)``."""
        import pandas as pd

        categories = self.categories[position]
        absent = column.isna().to_numpy()
        codes = pd.Categorical(column.astype(object), categories=categories).codes.astype(float)
        unseen = (codes < 0) & ~absent
        if unseen.any():
            values = sorted(set(column[unseen].astype(str)))[:5]
            raise bad_value(
                argument,
                f"categories of column {self.columns[position]!r} seen in training",
                f"unseen value(s) {values}",
            )
        if absent.any():
            if position not in self.missing:
                raise bad_value(
                    argument,
                    f"values of column {self.columns[position]!r} seen in training "
                    "(the training data has no missing values there)",
                    f"{int(absent.sum())} missing value(s), the first in row {_first(column, absent)!r}",
                )
            codes[absent] = len(categories)
        return codes

    def decode(self, matrix):
        """DataFrame with the training columns and dtypes from an encoded matrix."""
        import pandas as pd

        data = {}
        for position, (name, dtype) in enumerate(zip(self.columns, self.dtypes)):
            values = matrix[:, position]
            if position in self.categories:
                codes = values.astype(np.int64)
                if isinstance(dtype, pd.CategoricalDtype):  # code len(categories) -> -1, pandas' missing
                    data[name] = pd.Categorical.from_codes(
                        np.where(codes == len(dtype.categories), -1, codes), dtype=dtype
                    )
                else:
                    data[name] = pd.Series(self._lookup[position][codes], dtype=dtype)
            elif np.issubdtype(np.dtype(dtype), np.integer) and np.all(values == np.round(values)):
                data[name] = values.astype(dtype)
            else:
                data[name] = values
        return pd.DataFrame(data, columns=self.columns)


def _first(column, mask):
    """Index label of the first row where ``mask`` holds, as plain Python for messages."""
    label = column.index[int(np.flatnonzero(mask)[0])]
    return label.item() if isinstance(label, np.generic) else label


def _encode_numbers(column, column_name, argument):
    """One numeric column as floats; missing or infinite values are an error naming the column."""
    import pandas as pd

    try:
        values = pd.to_numeric(column, errors="raise").to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise bad_type(argument, f"numbers in column {column_name!r}", column) from exc
    finite = np.isfinite(values)
    if not finite.all():
        n_missing = int(np.isnan(values).sum())
        n_infinite = int((~finite).sum()) - n_missing
        what = " and ".join(
            part
            for part in (
                f"{n_missing} missing (NaN) value(s)" if n_missing else "",
                f"{n_infinite} infinite value(s)" if n_infinite else "",
            )
            if part
        )
        raise bad_value(
            argument,
            f"finite numbers in numeric column {column_name!r}",
            f"{what}, the first in row {_first(column, ~finite)!r}",
            "Impute or drop them first (only categorical columns may hold missing values).",
        )
    return values
