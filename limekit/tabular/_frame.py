"""pandas support: DataFrames in, DataFrames (with their dtypes) back to the model.

Numeric columns pass through; object, string, category and bool columns become
categorical features whose codes index their categories.  The perturbed rows
are decoded back into a DataFrame with the training frame's columns and dtypes,
so a pipeline trained on the frame (a ColumnTransformer with a OneHotEncoder,
an XGBoost model with categorical dtypes) takes them as they are.

Missing values: in a categorical column of the training frame, a missing value
(NaN, None, ``pd.NA``) is a category of its own, shown as ``"missing"``,
sampled with its training frequency and decoded back to the missing value the
training frame holds, so the model gets what it was trained on.  In a numeric
column a missing value is encoded as NaN (the discretizer gives it a bin of
its own, see :mod:`limekit.tabular.discretize`); an infinite value is an error
naming the argument and column.

Unseen categories: a row to explain may hold a category its column never had
in training (``purpose="boat"``).  :meth:`FrameEncoder.encode_rows` gives it
the column's *unseen code* (``len(categories) + 1``) and returns the value
itself beside the matrix; :meth:`FrameEncoder.with_unseen` puts the value back
into the cells holding that code (an object matrix, the value wrapped in
:class:`UnseenValue`), and :meth:`FrameEncoder.decode` hands it to the model
as it came.
"""

from __future__ import annotations

import numpy as np

from .._validation import LimekitTypeError, bad_type, bad_value, describe

__all__ = ["is_dataframe", "is_series", "FrameEncoder", "UnseenValue", "MISSING"]

#: How a missing value of a categorical column is shown (``workclass=missing``).
MISSING = "missing"


class UnseenValue:
    """A category unseen in training, in an object matrix of codes on its way to the model.

    The wrapper tells it apart from the codes around it (an unseen category
    may itself be a number).
    """

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        return f"UnseenValue({self.value!r})"


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
        for position, (name, dtype) in enumerate(zip(self.columns, self.dtypes)):
            if not _is_categorical_dtype(dtype):
                if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_complex_dtype(dtype):
                    raise LimekitTypeError(  # dates, durations, periods, intervals: no order limekit can sample
                        f"training_data: expected numeric, bool, string or categorical columns; got column {name!r} "
                        f"of dtype {dtype}. Convert it to numbers (e.g. days since a date) or to a category, or "
                        "drop it.",
                        "training_data",
                    )
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
            Numbers as they are (NaN where missing); category codes,
            ``len(categories)`` for a missing category.

        Raises
        ------
        LimekitValueError
            For a category unseen in training (see :meth:`encode_rows`), an
            infinite number, or a column missing or unknown.
        """
        return self._encode(frame, argument, None)

    def encode_rows(self, frame, argument):
        """Rows to explain: :meth:`encode`, with categories unseen in training kept.

        Parameters
        ----------
        frame : pandas.DataFrame or pandas.Series
            Rows with the training columns (a Series is one row).
        argument : str
            The user's name for ``frame``, for error messages.

        Returns
        -------
        encoded : ndarray of shape (n_rows, n_columns)
            As :meth:`encode`; an unseen category gets its column's
            :meth:`unseen_code`.
        unseen : list of dict
            Per row, ``{column position: value}`` of its unseen categories.
        """
        if is_series(frame):
            frame = frame.to_frame().T
        unseen = [{} for _ in range(frame.shape[0])]
        return self._encode(frame, argument, unseen), unseen

    def unseen_code(self, position):
        """The code of a category unseen in training, in categorical column ``position``."""
        return len(self.categories[position]) + 1

    def with_unseen(self, block, unseen):
        """``block`` (encoded rows) with the cells holding an unseen code replaced by the value.

        Parameters
        ----------
        block : ndarray of shape (n_rows, n_columns)
            Encoded rows of one instance's perturbations.
        unseen : dict of int -> object
            That instance's unseen categories, by column position.

        Returns
        -------
        ndarray
            ``block`` itself when no cell holds an unseen code; else an object
            copy whose such cells hold :class:`UnseenValue` (see :meth:`decode`).
        """
        cells = [(position, block[:, position] == self.unseen_code(position)) for position in unseen]
        cells = [(position, rows) for position, rows in cells if rows.any()]
        if not cells:
            return block
        block = block.astype(object)
        for position, rows in cells:
            block[rows, position] = UnseenValue(unseen[position])
        return block

    def _encode(self, frame, argument, unseen):
        """:meth:`encode`; with a list ``unseen`` (one dict per row), unseen categories are kept there."""
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
                encoded[:, position] = self._encode_categories(column, position, argument, unseen)
            else:
                encoded[:, position] = _encode_numbers(column, column_name, argument)
        return encoded

    def _encode_categories(self, column, position, argument, unseen_rows=None):
        """Codes of one categorical column; missing values get code ``len(categories)``.

        A category unseen in training is an error, or, with ``unseen_rows``
        (one dict per row), gets :meth:`unseen_code` and is kept there.
        """
        import pandas as pd

        categories = self.categories[position]
        absent = column.isna().to_numpy()
        codes = pd.Index(categories, dtype=object).get_indexer(column.astype(object)).astype(float)  # -1: not there
        unseen = (codes < 0) & ~absent
        if unseen.any() and unseen_rows is not None:
            codes[unseen] = self.unseen_code(position)
            for row, value in zip(np.flatnonzero(unseen), column[unseen]):
                unseen_rows[row][position] = value.item() if isinstance(value, np.generic) else value
        elif unseen.any():
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
        """DataFrame with the training columns and dtypes from an encoded matrix.

        Parameters
        ----------
        matrix : ndarray of shape (n_rows, n_columns)
            Encoded rows: floats, or objects where :meth:`with_unseen` put
            unseen categories (:class:`UnseenValue`) among the codes.

        Returns
        -------
        pandas.DataFrame
            Numbers (NaN where missing), categories (the training frame's
            missing marker for the missing code, the value itself for an
            unseen one).
        """
        import pandas as pd

        data = {}
        for position, (name, dtype) in enumerate(zip(self.columns, self.dtypes)):
            values = matrix[:, position]
            if position in self.categories:
                data[name] = self._decode_categories(values, position, dtype)
                continue
            data[name] = _decode_numbers(values.astype(float), dtype)
        return pd.DataFrame(data, columns=self.columns)

    def _decode_categories(self, values, position, dtype):
        """One categorical column of the model's input from its codes (and :class:`UnseenValue` cells)."""
        import pandas as pd

        unseen = None
        if values.dtype == object:
            unseen = np.frompyfunc(lambda cell: isinstance(cell, UnseenValue), 1, 1)(values).astype(bool)
            if unseen.any():
                literals = [cell.value for cell in values[unseen]]
                values = np.where(unseen, 0, values)
            else:
                unseen = None
        codes = values.astype(np.int64)
        if isinstance(dtype, pd.CategoricalDtype):  # code len(categories) -> -1, pandas' missing
            codes = np.where(codes == len(dtype.categories), -1, codes)
            if unseen is None:
                return pd.Categorical.from_codes(codes, dtype=dtype)
            decoded = np.asarray(dtype.categories, dtype=object)[np.maximum(codes, 0)]
            decoded[codes < 0] = None
            decoded[unseen] = literals
            extra = [value for value in dict.fromkeys(literals) if value not in set(dtype.categories)]
            return pd.Categorical(decoded, categories=[*dtype.categories, *extra], ordered=dtype.ordered)
        decoded = self._lookup[position][codes]
        if unseen is not None:
            decoded[unseen] = literals
        return pd.Series(decoded, dtype=dtype)


def _decode_numbers(values, dtype):
    """A numeric column of the model's input: its training dtype where the values allow it, else floats.

    Integer columns stay integers when every value is whole (draws within a
    bin are not); pandas' nullable dtypes (``Int64``, ``Float64``) turn NaN
    into ``pd.NA``.
    """
    import pandas as pd

    missing = np.isnan(values)
    nullable = isinstance(dtype, pd.api.extensions.ExtensionDtype)
    if pd.api.types.is_integer_dtype(dtype):
        whole = np.all((values == np.round(values)) | missing)
        if whole and nullable:
            return pd.array(values, dtype=dtype)
        if whole and not missing.any():
            return values.astype(dtype)
        return values
    if nullable and pd.api.types.is_float_dtype(dtype):
        return pd.array(values, dtype=dtype)
    return values


def _first(column, mask):
    """Index label of the first row where ``mask`` holds, as plain Python for messages."""
    label = column.index[int(np.flatnonzero(mask)[0])]
    return label.item() if isinstance(label, np.generic) else label


def _encode_numbers(column, column_name, argument):
    """One numeric column as floats, NaN where missing; an infinite value is an error naming the column."""
    import pandas as pd

    try:
        values = pd.to_numeric(column, errors="raise").to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        failed = pd.to_numeric(column, errors="coerce").isna().to_numpy() & column.notna().to_numpy()
        if not failed.any():
            raise bad_type(argument, f"numbers in column {column_name!r}", column) from exc
        raise LimekitTypeError(
            f"{argument}: expected numbers in column {column_name!r}; got {describe(column[failed].iloc[0])} in row "
            f"{_first(column, failed)!r}",
            argument,
        ) from exc
    infinite = np.isinf(values)
    if infinite.any():
        raise bad_value(
            argument,
            f"finite numbers in numeric column {column_name!r}",
            f"{int(infinite.sum())} infinite value(s), the first in row {_first(column, infinite)!r}",
            "Missing values (NaN, None, an empty cell) are explained as a state of their own; "
            "replace infinite ones by a number or by NaN.",
        )
    return values
