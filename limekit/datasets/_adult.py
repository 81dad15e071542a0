"""Loader for the bundled UCI Adult (Census Income) data set.

The package ships the unmodified ``adult.data`` and ``adult.test`` files,
gzip-compressed, under ``limekit/datasets/data``; see ``ADULT_LICENSE.md``
there for the attribution (Becker & Kohavi, 1996, CC BY 4.0).  Nothing is
downloaded.
"""

from __future__ import annotations

from importlib import resources

import numpy as np

from .._optional import import_optional
from .._validation import bad_type, bad_value, check_choice

__all__ = [
    "load_adult",
    "ADULT_FEATURE_NAMES",
    "ADULT_CATEGORICAL",
    "ADULT_CLASS_NAMES",
]

#: The 14 feature columns, in file order (hyphens of ``adult.names`` -> underscores).
ADULT_FEATURE_NAMES = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education_num",
    "marital_status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
    "native_country",
]

#: The columns returned with pandas ``category`` dtype.
ADULT_CATEGORICAL = [
    "workclass",
    "education",
    "marital_status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "native_country",
]

#: Class labels; ``y == 1`` means ``">50K"``.
ADULT_CLASS_NAMES = ["<=50K", ">50K"]

_NUMERIC = [name for name in ADULT_FEATURE_NAMES if name not in ADULT_CATEGORICAL]
_TARGET = "income"
_SUBSETS = ("train", "test", "all")
_FILES = {"train": ("adult.data.gz", 0), "test": ("adult.test.gz", 1)}  # (file, lines to skip)

# Category levels as listed in ``adult.names`` (sorted), fixed so that every
# subset gets the same dtype (e.g. "Holand-Netherlands" never occurs in the test file).
_CATEGORIES = {
    "workclass": [
        "Federal-gov",
        "Local-gov",
        "Never-worked",
        "Private",
        "Self-emp-inc",
        "Self-emp-not-inc",
        "State-gov",
        "Without-pay",
    ],
    "education": [
        "10th",
        "11th",
        "12th",
        "1st-4th",
        "5th-6th",
        "7th-8th",
        "9th",
        "Assoc-acdm",
        "Assoc-voc",
        "Bachelors",
        "Doctorate",
        "HS-grad",
        "Masters",
        "Preschool",
        "Prof-school",
        "Some-college",
    ],
    "marital_status": [
        "Divorced",
        "Married-AF-spouse",
        "Married-civ-spouse",
        "Married-spouse-absent",
        "Never-married",
        "Separated",
        "Widowed",
    ],
    "occupation": [
        "Adm-clerical",
        "Armed-Forces",
        "Craft-repair",
        "Exec-managerial",
        "Farming-fishing",
        "Handlers-cleaners",
        "Machine-op-inspct",
        "Other-service",
        "Priv-house-serv",
        "Prof-specialty",
        "Protective-serv",
        "Sales",
        "Tech-support",
        "Transport-moving",
    ],
    "relationship": [
        "Husband",
        "Not-in-family",
        "Other-relative",
        "Own-child",
        "Unmarried",
        "Wife",
    ],
    "race": ["Amer-Indian-Eskimo", "Asian-Pac-Islander", "Black", "Other", "White"],
    "sex": ["Female", "Male"],
    "native_country": [
        "Cambodia",
        "Canada",
        "China",
        "Columbia",
        "Cuba",
        "Dominican-Republic",
        "Ecuador",
        "El-Salvador",
        "England",
        "France",
        "Germany",
        "Greece",
        "Guatemala",
        "Haiti",
        "Holand-Netherlands",
        "Honduras",
        "Hong",
        "Hungary",
        "India",
        "Iran",
        "Ireland",
        "Italy",
        "Jamaica",
        "Japan",
        "Laos",
        "Mexico",
        "Nicaragua",
        "Outlying-US(Guam-USVI-etc)",
        "Peru",
        "Philippines",
        "Poland",
        "Portugal",
        "Puerto-Rico",
        "Scotland",
        "South",
        "Taiwan",
        "Thailand",
        "Trinadad&Tobago",
        "United-States",
        "Vietnam",
        "Yugoslavia",
    ],
}


def _import_pandas():
    return import_optional("pandas", "load_adult")


def _check_bool(value, argument):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise bad_type(argument, "a bool", value)


def _data_file(name):
    """Traversable for a bundled data file (works from a wheel or a zip, too)."""
    return resources.files(__package__) / "data" / name


def _read_split(pd, subset):
    """Read one bundled split as a DataFrame with the 14 features and ``income``."""
    name, skiprows = _FILES[subset]
    dtype = {column: "int64" for column in _NUMERIC}
    dtype.update({column: "category" for column in ADULT_CATEGORICAL})
    dtype[_TARGET] = object
    with _data_file(name).open("rb") as handle:
        frame = pd.read_csv(
            handle,
            compression="gzip",
            header=None,
            names=ADULT_FEATURE_NAMES + [_TARGET],
            sep=",",
            skipinitialspace=True,
            skiprows=skiprows,
            na_values=["?"],
            keep_default_na=False,
            dtype=dtype,
            engine="c",
        )
    for column in ADULT_CATEGORICAL:
        levels = _CATEGORIES[column]
        unknown = set(frame[column].cat.categories) - set(levels)
        if unknown:  # pragma: no cover - guards the bundled files only
            raise ValueError(f"{name}: unexpected {column} value(s) {sorted(unknown)}")
        frame[column] = frame[column].cat.set_categories(levels)
    return frame


def load_adult(subset="train", *, as_frame=True, drop_missing=False, return_X_y=True):
    """Load the UCI Adult (Census Income) data set bundled with limekit.

    Binary task: does a person earn more than 50K a year?  The data come from
    the 1994 US census (Becker & Kohavi, 1996, https://doi.org/10.24432/C5XW20,
    CC BY 4.0) and are read from the package; nothing is downloaded.

    Parameters
    ----------
    subset : {"train", "test", "all"}, default="train"
        ``"train"`` is ``adult.data`` (32,561 rows), ``"test"`` is
        ``adult.test`` (16,281 rows), ``"all"`` is train followed by test
        (48,842 rows).
    as_frame : bool, default=True
        If True, ``X`` is a :class:`pandas.DataFrame` with ``int64`` numeric
        columns and ``category`` columns (the same categories for every
        subset).  If False, ``X`` is a numpy array of dtype ``object``.
    drop_missing : bool, default=False
        If True, drop the rows with any missing value (written ``?`` in the
        files; 30,162 train and 15,060 test rows remain).  Otherwise missing
        values are kept as NaN (only in ``workclass``, ``occupation`` and
        ``native_country``); :class:`~limekit.tabular.TabularExplainer`
        explains them as a category of their own (``workclass=missing``)
        and gives them back to the model as NaN.
    return_X_y : bool, default=True
        If True, return ``(X, y)``; if False, return a
        :class:`sklearn.utils.Bunch`.

    Returns
    -------
    X : pandas.DataFrame or numpy.ndarray of shape (n_samples, 14)
        Features named as in ``ADULT_FEATURE_NAMES``, with a fresh
        ``RangeIndex``.
    y : numpy.ndarray of shape (n_samples,), dtype int64
        1 for ``">50K"``, 0 for ``"<=50K"`` (see ``ADULT_CLASS_NAMES``).
    data : sklearn.utils.Bunch
        Only when ``return_X_y=False``: ``data`` (X), ``target`` (y),
        ``frame`` (X with an ``income`` column holding y, or None when
        ``as_frame=False``), ``feature_names``, ``categorical_features``,
        ``target_names`` and ``DESCR`` (the attribution).

    Raises
    ------
    ValueError
        If ``subset`` is not one of the choices above.
    ImportError
        If pandas is not installed.
    """
    check_choice(subset, "subset", _SUBSETS)
    as_frame = _check_bool(as_frame, "as_frame")
    drop_missing = _check_bool(drop_missing, "drop_missing")
    return_X_y = _check_bool(return_X_y, "return_X_y")
    pd = _import_pandas()

    if subset == "all":
        frame = pd.concat([_read_split(pd, "train"), _read_split(pd, "test")], ignore_index=True)
    else:
        frame = _read_split(pd, subset)

    labels = frame.pop(_TARGET).str.rstrip(".")
    unknown = set(labels.unique()) - set(ADULT_CLASS_NAMES)
    if unknown:  # pragma: no cover - guards the bundled files only
        raise bad_value("income", "labels '<=50K' or '>50K'", sorted(unknown))
    y = (labels == ADULT_CLASS_NAMES[1]).to_numpy(dtype=np.int64)

    if drop_missing:
        keep = frame.notna().all(axis=1).to_numpy()
        frame = frame.loc[keep].reset_index(drop=True)
        y = y[keep]

    X = frame if as_frame else frame.to_numpy(dtype=object)
    if return_X_y:
        return X, y

    from sklearn.utils import Bunch

    descr = _data_file("ADULT_LICENSE.md").read_text(encoding="utf-8")
    return Bunch(
        data=X,
        target=y,
        frame=frame.assign(**{_TARGET: y}) if as_frame else None,
        feature_names=list(ADULT_FEATURE_NAMES),
        categorical_features=list(ADULT_CATEGORICAL),
        target_names=list(ADULT_CLASS_NAMES),
        DESCR=descr,
    )
