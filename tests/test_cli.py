"""The main job: `limekit demo` explains an Adult prediction and prints a readable table."""

import re
import subprocess
import sys

import pytest

from limekit.cli import main


def test_demo_prints_the_explanation(capsys):
    assert main(["demo", "--num-samples", "800", "--num-features", "5", "--row", "3"]) == 0
    out = capsys.readouterr().out
    assert "Adult census income" in out
    assert "P(income >50K) =" in out
    header = next(line for line in out.splitlines() if line.startswith("feature"))
    assert header.split() == ["feature", "value", "same", "sign", "weight", "verdict"]
    table = out.split(header)[1].split("\n\n")[0].strip().splitlines()[1:]
    assert len(table) == 5
    # same sign, weight, then each feature's sampling verdict
    rows = [
        re.search(r"\s(\d+)%\s+[+-]\d+\.\d{4}\s+(settled|tie [A-Z]|no claim|sign undecided|unsettled)$", line)
        for line in table
    ]
    assert all(rows) and all(0 <= int(row.group(1)) <= 100 for row in rows)
    assert "surrogate score (weighted R^2)" in out and "effective sample size" in out
    gap = next(line for line in out.splitlines() if "local gap" in line)  # the model's prediction beside
    assert "surrogate prediction" in gap and "model prediction" in gap
    assert "stability over 20 bootstrap refits: top-feature overlap (Jaccard)" in out


def test_demo_without_stability(capsys):
    assert main(["demo", "--num-samples", "300", "--num-features", "3", "--stability", "0", "--quiet"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("feature"))
    assert header.split() == ["feature", "value", "weight", "verdict"] and "bootstrap" not in out


def test_demo_rejects_a_bad_row(capsys):
    assert main(["demo", "--row", "999999"]) == 1
    assert "error" in capsys.readouterr().err


@pytest.mark.slow  # a new Python process importing limekit: seconds
def test_module_entry_point_shows_help():
    result = subprocess.run([sys.executable, "-m", "limekit", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "demo" in result.stdout


import json  # noqa: E402

import joblib  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402


@pytest.fixture
def saved_model(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"age": rng.integers(20, 70, 300), "colour": rng.choice(["red", "blue"], 300), "noise": rng.normal(size=300)}
    )
    frame["label"] = (frame["age"] > 45).astype(int)
    features = frame[["age", "noise"]]
    model = RandomForestClassifier(20, random_state=0).fit(features, frame["label"])
    model_path = tmp_path / "model.joblib"
    joblib.dump(model, model_path)
    data_path = tmp_path / "data.csv"
    frame[["age", "noise", "label"]].to_csv(data_path, index=False)
    return tmp_path, model_path, data_path


def test_explain_writes_html_json_png(saved_model, capsys):
    folder, model_path, data_path = saved_model
    html, js, png = folder / "e.html", folder / "e.json", folder / "e.png"
    code = main(
        [
            "explain",
            str(model_path),
            str(data_path),
            "--target",
            "label",
            "--row",
            "2",
            "--num-samples",
            "400",
            "--random-state",
            "1",
            "--html",
            str(html),
            "--json",
            str(js),
            "--png",
            str(png),
            "--quiet",
        ]
    )
    assert code == 0, capsys.readouterr().err
    payload = json.loads(js.read_text())
    assert payload["domain"]["feature_names"] == ["age", "noise"]
    top = payload["top_labels"][0]
    assert payload["explanations"][str(top)]["features"][0]["feature"] == "age"
    assert html.read_text().startswith("<!DOCTYPE html>")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert capsys.readouterr().out == ""  # --quiet


def test_explain_prints_the_gap_and_writes_it_to_json(saved_model, capsys):
    folder, model_path, data_path = saved_model
    args = ["explain", str(model_path), str(data_path), "--target", "label", "--num-samples", "3000"]
    assert main([*args, "--json", str(folder / "e.json")]) == 0
    captured = capsys.readouterr()
    payload = json.loads((folder / "e.json").read_text())
    label = str(payload["top_labels"][0])
    record = payload["explanations"][label]
    line = next(line for line in captured.out.splitlines() if "model prediction" in line)
    assert f"surrogate prediction {record['local_pred']:.4f}" in line
    assert f"model prediction {record['model_prediction']:.4f}" in line
    assert f"local gap {record['local_gap']:+.4f}" in line
    assert record["model_prediction"] == payload["predict_proba"][int(label)]
    # batches of 1000 rows: several model calls, yet no bar, stderr being no terminal (progress_bar='auto')
    assert "predicting" not in captured.err and "it/s" not in captured.err


def test_explain_shapley_values(saved_model, capsys):
    """--kernel shap: the table gives each Shapley value and its standard error, and a line checks efficiency
    (the base value plus the values is the model's prediction, as the JSON records them)."""
    folder, model_path, data_path = saved_model
    args = ["explain", str(model_path), str(data_path), "--target", "label", "--row", "3", "--kernel", "shap"]
    assert main([*args, "--num-samples", "256", "--json", str(folder / "s.json")]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("feature"))
    assert header.split() == ["feature", "value", "Shapley", "value", "std.", "error", "verdict"]
    payload = json.loads((folder / "s.json").read_text())
    label = payload["top_labels"][0]
    record = payload["diagnostics"]["shapley"]
    values = record["values"][str(label)]
    base = record["base_value"][str(label)]
    assert base + sum(values) == pytest.approx(payload["predict_proba"][label], abs=1e-10)
    line = next(line for line in out.splitlines() if line.startswith("base value"))
    assert f"base value {base:.4f}" in line and f"Shapley values {sum(values):+.4f}" in line
    assert f"model prediction {payload['predict_proba'][label]:.4f}" in line and "exact" in line
    assert "surrogate" not in out and "bootstrap" not in out


def test_explain_same_seed_same_json(saved_model):
    folder, model_path, data_path = saved_model
    outputs = []
    for name in ("a.json", "b.json"):
        assert (
            main(
                [
                    "explain",
                    str(model_path),
                    str(data_path),
                    "--target",
                    "label",
                    "--num-samples",
                    "300",
                    "--json",
                    str(folder / name),
                    "--quiet",
                    "--surrogate",
                    "lasso",
                ]
            )
            == 0
        )
        outputs.append((folder / name).read_text())
    assert outputs[0] == outputs[1]


@pytest.mark.slow  # the emulator: seconds
def test_explain_with_the_emulator(saved_model, capsys):
    folder, model_path, data_path = saved_model
    js = folder / "e.json"
    assert (
        main(
            [
                "explain",
                str(model_path),
                str(data_path),
                "--target",
                "label",
                "--num-samples",
                "auto",
                "--variance-reduction",
                "emulator",
                "--num-features",
                "2",
                "--json",
                str(js),
            ]
        )
        == 0
    )
    sampling = json.loads(js.read_text())["diagnostics"]["sampling"]
    assert sampling["variance_reduction"] == "emulator" and "emulator_r2" in sampling
    assert "stable" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # argparse names the choices
        main(["explain", str(model_path), str(data_path), "--variance-reduction", "control"])


@pytest.mark.parametrize(
    "case, words",
    [
        ("missing model", "model: expected an existing file"),
        ("not a pickle", "error"),
        ("bad row", "--row: expected a row index in [0, 299]"),
        ("bad target", "--target: expected a column"),
        ("bad surrogate", "surrogate:"),
        ("bad stability", "stability_samples: expected 0 (skip) or an integer >= 2"),
        ("shap with a surrogate", "--surrogate: expected none with --kernel shap"),
        ("shap with stability", "--stability: expected 0 or none with --kernel shap"),
    ],
)
def test_explain_errors_are_one_line(saved_model, capsys, case, words):
    folder, model_path, data_path = saved_model
    args = ["explain", str(model_path), str(data_path), "--target", "label", "--num-samples", "100", "--quiet"]
    if case == "missing model":
        args[1] = str(folder / "nope.joblib")
    elif case == "not a pickle":
        (folder / "junk.joblib").write_text("not a model")
        args[1] = str(folder / "junk.joblib")
    elif case == "bad row":
        args += ["--row", "300"]
    elif case == "bad target":
        args[4] = "income"
    elif case == "bad stability":
        args += ["--stability", "1"]
    elif case == "shap with a surrogate":
        args += ["--kernel", "shap", "--surrogate", "ebm"]
    elif case == "shap with stability":
        args += ["--kernel", "shap", "--stability", "5"]
    else:
        args += ["--surrogate", "forest"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("limekit: error:") and words in err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.slow  # a new Python process importing limekit: seconds
def test_explain_help_warns_that_pickles_run_code():
    result = subprocess.run(
        [sys.executable, "-m", "limekit", "explain", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert "Unpickling runs code" in result.stdout


@pytest.mark.parametrize("modality, words", [("text", "brilliant"), ("image", "superpixel")])
def test_text_and_image_demos(tmp_path, capsys, modality, words):
    html = tmp_path / "demo.html"
    assert main(["demo", modality, "--num-samples", "300", "--quiet", "--html", str(html)]) == 0
    out = capsys.readouterr().out
    assert words in out and "effective sample size" in out and "local gap" in out
    assert "<!DOCTYPE html>" in html.read_text()
    if modality == "image":  # the demo's class names reach the page
        assert "Explanation for person" in html.read_text()
