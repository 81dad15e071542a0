"""Tests for the bundled UCI Adult data set (limekit.datasets)."""

import gzip
import sys
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")

from limekit.datasets import (  # noqa: E402
    ADULT_CATEGORICAL,
    ADULT_CLASS_NAMES,
    ADULT_FEATURE_NAMES,
    load_adult,
)

RAW_DIR = Path("/work/shared/data/adult")
DATA = resources.files("limekit.datasets") / "data"

N_ROWS = {"train": 32561, "test": 16281, "all": 48842}
N_POSITIVE = {"train": 7841, "test": 3846, "all": 11687}
N_COMPLETE = {"train": 30162, "test": 15060, "all": 45222}
N_MISSING_CELLS = {"train": 4262, "test": 2203, "all": 6465}

NUMERIC = ["age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week"]


@pytest.fixture(scope="module")
def splits():
    return {subset: load_adult(subset) for subset in ("train", "test", "all")}


def test_constants():
    assert ADULT_FEATURE_NAMES == [
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
    assert ADULT_CATEGORICAL == [
        "workclass",
        "education",
        "marital_status",
        "occupation",
        "relationship",
        "race",
        "sex",
        "native_country",
    ]
    assert ADULT_CLASS_NAMES == ["<=50K", ">50K"]
    assert set(ADULT_CATEGORICAL) | set(NUMERIC) == set(ADULT_FEATURE_NAMES)


@pytest.mark.parametrize("subset", ["train", "test", "all"])
def test_row_counts_and_labels(splits, subset):
    X, y = splits[subset]
    assert X.shape == (N_ROWS[subset], 14)
    assert isinstance(y, np.ndarray) and y.dtype == np.int64 and y.shape == (N_ROWS[subset],)
    assert set(np.unique(y)) == {0, 1}
    assert int(y.sum()) == N_POSITIVE[subset]
    assert X.index.equals(pd.RangeIndex(N_ROWS[subset]))


def test_train_positive_rate(splits):
    _, y = splits["train"]
    assert int(y.sum()) == 7841
    assert y.mean() == pytest.approx(0.2408, abs=1e-4)


@pytest.mark.parametrize("subset", ["train", "test", "all"])
def test_columns_and_dtypes(splits, subset):
    X, _ = splits[subset]
    assert list(X.columns) == ADULT_FEATURE_NAMES
    for column in NUMERIC:
        assert X[column].dtype == np.int64, column
    for column in ADULT_CATEGORICAL:
        assert isinstance(X[column].dtype, pd.CategoricalDtype), column
        categories = list(X[column].cat.categories)
        assert "?" not in categories
        assert all(c == c.strip() and c for c in categories), column


def test_categories_identical_across_subsets(splits):
    train, test, full = (splits[s][0] for s in ("train", "test", "all"))
    for column in ADULT_CATEGORICAL:
        assert train[column].dtype == test[column].dtype == full[column].dtype, column
    # present in train only, still a category of the test split
    assert "Holand-Netherlands" in test["native_country"].cat.categories
    assert (test["native_country"] == "Holand-Netherlands").sum() == 0


@pytest.mark.slow  # reads and checks the whole Adult data: seconds
def test_all_is_train_then_test(splits):
    (Xtr, ytr), (Xte, yte), (Xall, yall) = (splits[s] for s in ("train", "test", "all"))
    np.testing.assert_array_equal(yall, np.concatenate([ytr, yte]))
    pd.testing.assert_frame_equal(Xall.iloc[: len(Xtr)], Xtr)
    pd.testing.assert_frame_equal(Xall.iloc[len(Xtr) :].reset_index(drop=True), Xte)


def test_first_rows(splits):
    X, y = splits["train"]
    row = X.iloc[0]
    assert row["age"] == 39 and row["workclass"] == "State-gov" and row["fnlwgt"] == 77516
    assert row["native_country"] == "United-States" and y[0] == 0
    X, y = splits["test"]  # the comment line is skipped
    assert X.iloc[0]["age"] == 25 and X.iloc[0]["education"] == "11th" and y[0] == 0


@pytest.mark.slow  # seconds per split
@pytest.mark.parametrize("subset", ["train", "test", "all"])
def test_missing_values(splits, subset):
    X, y = splits[subset]
    assert int(X.isna().sum().sum()) == N_MISSING_CELLS[subset]
    assert X[NUMERIC].notna().all().all()
    assert set(X.columns[X.isna().any()]) == {"workclass", "occupation", "native_country"}

    Xd, yd = load_adult(subset, drop_missing=True)
    assert Xd.shape == (N_COMPLETE[subset], 14)
    assert yd.shape == (N_COMPLETE[subset],)
    assert not Xd.isna().any().any()
    assert Xd.index.equals(pd.RangeIndex(N_COMPLETE[subset]))
    keep = X.notna().all(axis=1).to_numpy()
    np.testing.assert_array_equal(yd, y[keep])
    pd.testing.assert_frame_equal(Xd, X.loc[keep].reset_index(drop=True))


def test_as_frame_false(splits):
    X, y = load_adult("test", as_frame=False)
    Xf, yf = splits["test"]
    assert isinstance(X, np.ndarray) and X.dtype == object and X.shape == (16281, 14)
    np.testing.assert_array_equal(y, yf)
    assert X[0, 0] == 25 and X[0, 1] == "Private"
    assert pd.isna(X[:, ADULT_FEATURE_NAMES.index("workclass")]).sum() == Xf["workclass"].isna().sum()


def test_bunch():
    bunch = load_adult("test", return_X_y=False)
    assert bunch.data.shape == (16281, 14)
    assert int(bunch.target.sum()) == 3846
    assert list(bunch.frame.columns) == ADULT_FEATURE_NAMES + ["income"]
    np.testing.assert_array_equal(bunch.frame["income"].to_numpy(), bunch.target)
    assert bunch.feature_names == ADULT_FEATURE_NAMES
    assert bunch.categorical_features == ADULT_CATEGORICAL
    assert bunch.target_names == ADULT_CLASS_NAMES
    assert "10.24432/C5XW20" in bunch.DESCR
    assert load_adult("test", as_frame=False, return_X_y=False).frame is None


@pytest.mark.parametrize("bad", ["foo", "TRAIN", "", "validation"])
def test_bad_subset(bad):
    with pytest.raises(ValueError, match=r"^subset: expected one of 'train', 'test', 'all'; got ") as info:
        load_adult(bad)
    assert repr(bad) in str(info.value)


def test_bad_types():
    with pytest.raises(TypeError, match="^subset"):
        load_adult(0)
    for argument in ("as_frame", "drop_missing", "return_X_y"):
        with pytest.raises(TypeError, match=f"^{argument}: expected a bool"):
            load_adult(**{argument: "yes"})


def test_missing_pandas_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"load_adult needs pandas.*pip install 'limekit\[pandas\]'"):
        load_adult()


def test_bundled_files_present_and_attributed():
    for name in ("adult.data.gz", "adult.test.gz", "ADULT_LICENSE.md"):
        assert (DATA / name).is_file(), name
    text = (DATA / "ADULT_LICENSE.md").read_text(encoding="utf-8")
    for needle in ("Becker", "Kohavi", "1996", "https://doi.org/10.24432/C5XW20", "CC BY 4.0", "unmodified"):
        assert needle in text, needle
    with (DATA / "adult.test.gz").open("rb") as handle:
        assert handle.read(2) == b"\x1f\x8b"  # gzip magic


@pytest.mark.skipif(not RAW_DIR.is_dir(), reason=f"{RAW_DIR} not available")
@pytest.mark.parametrize("name", ["adult.data", "adult.test"])
def test_gz_matches_originals(name):
    packed = (DATA / f"{name}.gz").read_bytes()
    assert gzip.decompress(packed) == (RAW_DIR / name).read_bytes()


@pytest.mark.skipif(not RAW_DIR.is_dir(), reason=f"{RAW_DIR} not available")
@pytest.mark.parametrize("subset,name,skip", [("train", "adult.data", 0), ("test", "adult.test", 1)])
def test_values_match_plain_parse(splits, subset, name, skip):
    """An independent line-by-line parse of the originals gives the same table."""
    lines = (RAW_DIR / name).read_text().splitlines()[skip:]
    rows = [line.split(", ") for line in lines if line.strip()]
    assert all(len(row) == 15 for row in rows)
    X, y = splits[subset]
    assert len(rows) == len(X)
    np.testing.assert_array_equal(y, [int(row[14].rstrip(".") == ">50K") for row in rows])
    for j, column in enumerate(ADULT_FEATURE_NAMES):
        raw = [row[j] for row in rows]
        if column in NUMERIC:
            np.testing.assert_array_equal(X[column].to_numpy(), np.array(raw, dtype=np.int64))
        else:
            got = X[column].astype(object).where(X[column].notna(), "?").tolist()
            assert got == raw, column
