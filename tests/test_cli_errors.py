"""Issue 13: every failure of ``limekit explain`` is one readable line on stderr and a non-zero exit."""

import json
import subprocess
import sys

import joblib
import numpy as np
import pytest

pd = pytest.importorskip("pandas")

from sklearn.compose import make_column_transformer  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder  # noqa: E402

from limekit.cli import main  # noqa: E402


class MultiLineFailure:
    """A 'model' whose predict_proba fails with a multi-line message, as real libraries do."""

    classes_ = np.array([0, 1])

    def predict_proba(self, X):
        raise ValueError("Input contains something odd.\n  Details:\n    - column 'age'\n")


def _frame(n=120):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"age": rng.integers(20, 70, n), "noise": rng.normal(size=n)})
    frame["label"] = (frame["age"] > 45).astype(int)
    return frame


@pytest.fixture
def files(tmp_path):
    frame = _frame()
    model = RandomForestClassifier(10, random_state=0).fit(frame[["age", "noise"]], frame["label"])
    joblib.dump(model, tmp_path / "model.joblib")
    frame.to_csv(tmp_path / "data.csv", index=False)
    return tmp_path, frame


def _run(capsys, *args, code=1):
    assert main(["explain", *map(str, args), "--num-samples", "100", "--quiet", "--stability", "0"]) == code
    err = capsys.readouterr().err
    assert err.startswith("limekit: error: "), err
    assert err.count("\n") == 1 and err.endswith("\n") and "Traceback" not in err, err
    return err[len("limekit: error: ") :].rstrip("\n")


# ---------------------------------------------------------------- model files that are not models


@pytest.mark.parametrize("content", [b"not a model", b"", b"\x80\x04\x95 truncated"], ids=["text", "empty", "cut"])
def test_a_file_that_is_not_a_model(files, capsys, content):
    folder, _ = files
    (folder / "junk.joblib").write_bytes(content)
    message = _run(capsys, folder / "junk.joblib", folder / "data.csv", "--target", "label")
    assert message.startswith(
        "model: expected a model saved with joblib.dump; got 'junk.joblib', which could not be loaded ("
    ), message


def test_a_model_failing_with_a_multi_line_message(files, capsys):
    folder, _ = files
    joblib.dump(MultiLineFailure(), folder / "odd.joblib")
    message = _run(capsys, folder / "odd.joblib", folder / "data.csv", "--target", "label")
    assert message == (
        "model: MultiLineFailure.predict_proba failed: ValueError: Input contains something odd. "
        "Details: - column 'age'"
    )


# ---------------------------------------------------------------- CSVs that do not fit the model


def test_csv_with_a_column_the_model_does_not_know(files, capsys):
    folder, _ = files
    message = _run(capsys, folder / "model.joblib", folder / "data.csv")  # no --target: 'label' is extra
    assert message == (
        "data: expected the model's columns ['age', 'noise'] in data.csv; got unknown ['label'] "
        "(name the label column with --target)"
    )


def test_csv_without_a_column_the_model_needs(files, capsys):
    folder, frame = files
    frame[["age", "label"]].to_csv(folder / "short.csv", index=False)
    message = _run(capsys, folder / "model.joblib", folder / "short.csv", "--target", "label")
    assert message == "data: expected the model's columns ['age', 'noise'] in short.csv; got missing ['noise']"


def test_csv_columns_in_another_order_are_reordered(files, capsys):
    folder, frame = files
    frame[["noise", "label", "age"]].to_csv(folder / "shuffled.csv", index=False)
    for name in ("data.csv", "shuffled.csv"):
        assert (
            main(
                [
                    "explain",
                    str(folder / "model.joblib"),
                    str(folder / name),
                    "--target",
                    "label",
                    "--num-samples",
                    "100",
                    "--quiet",
                    "--stability",
                    "0",
                    "--json",
                    str(folder / f"{name}.json"),
                ]
            )
            == 0
        )
    first, second = (json.loads((folder / f"{n}.json").read_text()) for n in ("data.csv", "shuffled.csv"))
    assert second["domain"]["feature_names"] == ["age", "noise"]
    assert second["explanations"] == first["explanations"]


def test_csv_with_the_wrong_number_of_columns_for_a_model_without_names(files, capsys):
    folder, frame = files
    model = RandomForestClassifier(5, random_state=0).fit(frame[["age"]].to_numpy(), frame["label"])
    joblib.dump(model, folder / "numpy.joblib")
    message = _run(capsys, folder / "numpy.joblib", folder / "data.csv", "--target", "label")
    assert message == "data: expected 1 feature columns (the model's) in data.csv; got 2: ['age', 'noise']"


@pytest.mark.parametrize("cell", ["inf", "-inf"])
def test_csv_with_an_infinite_number(files, capsys, cell):  # empty cells: tests/test_real_tables.py
    folder, frame = files
    lines = frame.to_csv(index=False).splitlines()
    age, _noise, label = lines[4].split(",")
    lines[4] = ",".join([age, cell, label])
    (folder / "holes.csv").write_text("\n".join(lines) + "\n")
    message = _run(capsys, folder / "model.joblib", folder / "holes.csv", "--target", "label")
    assert message.startswith(
        "data: expected finite numbers or empty cells in numeric column 'noise' of holes.csv; got 1 "
        "infinite value(s), the first on line 5 (row 3)"
    ), message


@pytest.mark.parametrize(
    "content, name", [(b"", "empty.csv"), (b"\xff\xfe\xfa\x00\x81" * 20, "binary.csv")], ids=["empty", "binary"]
)
def test_unreadable_csv(files, capsys, content, name):
    folder, _ = files
    (folder / name).write_bytes(content)
    message = _run(capsys, folder / "model.joblib", folder / name)
    assert message.startswith(f"data: expected a CSV file with a header row; got {name!r}, which could not be read")


def test_empty_text_cells_are_a_missing_category(tmp_path, capsys):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"age": rng.integers(20, 70, 200), "colour": rng.choice(["red", "blue", None], 200)})
    frame["label"] = ((frame["age"] > 45) | frame["colour"].isna()).astype(int)
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["colour"]), remainder="passthrough"),
        RandomForestClassifier(10, random_state=0),
    ).fit(frame[["age", "colour"]], frame["label"])
    joblib.dump(model, tmp_path / "pipe.joblib")
    frame.to_csv(tmp_path / "data.csv", index=False)
    row = int(np.flatnonzero(frame["colour"].isna().to_numpy())[0])
    assert (
        main(
            [
                "explain",
                str(tmp_path / "pipe.joblib"),
                str(tmp_path / "data.csv"),
                "--target",
                "label",
                "--row",
                str(row),
                "--num-samples",
                "200",
                "--quiet",
                "--stability",
                "0",
                "--json",
                str(tmp_path / "e.json"),
            ]
        )
        == 0
    ), capsys.readouterr().err
    payload = json.loads((tmp_path / "e.json").read_text())
    names = [f["name"] for f in payload["explanations"][str(payload["top_labels"][0])]["features"]]
    assert "colour=missing" in names


# ---------------------------------------------------------------- usage errors and the real entry point


@pytest.mark.parametrize(
    "argv, words",
    [
        (
            ["explain", "--row", "abc", "m", "d"],
            "argument --row: invalid int value: 'abc' (see limekit explain --help)",
        ),
        (["explain"], "the following arguments are required: model, data"),
        (["nonsense"], "argument command: invalid choice: 'nonsense'"),
    ],
)
def test_usage_errors_are_one_line(capsys, argv, words):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("limekit: error: ") and words in err and err.count("\n") == 1, err


@pytest.mark.slow  # a new Python process importing limekit: seconds
def test_console_entry_point_prints_one_line(tmp_path):
    (tmp_path / "junk.joblib").write_text("not a model")
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "limekit",
            "explain",
            str(tmp_path / "junk.joblib"),
            str(tmp_path / "data.csv"),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("limekit: error: model: expected a model")
