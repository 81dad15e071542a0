"""The main job: `limekit demo` explains an Adult prediction and prints a readable table."""
import subprocess
import sys

from limekit.cli import main


def test_demo_prints_the_explanation(capsys):
    assert main(["demo", "--num-samples", "800", "--num-features", "5", "--row", "3"]) == 0
    out = capsys.readouterr().out
    assert "Adult census income" in out
    assert "P(income >50K) =" in out
    header = next(line for line in out.splitlines() if line.startswith("feature"))
    assert header.split() == ["feature", "value", "weight"]
    table = out.split(header)[1].split("\n\n")[0].strip().splitlines()[1:]
    assert len(table) == 5
    assert all(line.split()[-1][0] in "+-" for line in table)
    assert "surrogate score (weighted R^2)" in out and "effective sample size" in out


def test_demo_rejects_a_bad_row(capsys):
    assert main(["demo", "--row", "999999"]) == 1
    assert "error" in capsys.readouterr().err


def test_module_entry_point_shows_help():
    result = subprocess.run([sys.executable, "-m", "limekit", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "demo" in result.stdout
