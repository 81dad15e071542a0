"""The README's install line is enough for its quick start, and a missing extra is named.

The quick start runs in a fresh interpreter in which every installed package
outside the closure of limekit's base dependencies and the README's extras
(read from pyproject.toml and the README, with each package's own
requirements from its installed metadata) cannot be imported: the
equivalent, offline, of a fresh venv with only those packages.
"""

import importlib.metadata as metadata
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from limekit import TabularExplainer
from limekit._optional import MissingDependencyError

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def readme_extras():
    """The extras of the README's install line, ``pip install ".[a,b]"``."""
    match = re.search(r'pip install "\.\[([\w,]+)\]"', README)
    assert match, "the README has no install line"
    return match.group(1).split(",")


def allowed_distributions(extras):
    """Canonical names of limekit's base requirements, ``extras``' and everything they require, recursively."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [Requirement(text) for text in project["dependencies"]]
    for extra in extras:
        wanted += [Requirement(text) for text in project["optional-dependencies"][extra]]
    allowed = {"limekit"}
    while wanted:
        requirement = wanted.pop()
        name = canonicalize_name(requirement.name)
        if name in allowed:
            continue
        allowed.add(name)
        try:
            requires = metadata.requires(requirement.name) or []
        except metadata.PackageNotFoundError:  # not installed here: nothing to block either
            continue
        for text in requires:
            dependency = Requirement(text)
            environments = [{"extra": extra} for extra in requirement.extras] or [{"extra": ""}]
            if dependency.marker is None or any(dependency.marker.evaluate(env) for env in environments):
                wanted.append(dependency)
    return allowed


def blocked_modules(allowed):
    """Top-level modules installed here whose distributions are all outside ``allowed``."""
    return sorted(
        module
        for module, distributions in metadata.packages_distributions().items()
        if not any(canonicalize_name(name) in allowed for name in distributions)
    )


def python_block_after(heading):
    """The first python block of the README after ``heading``."""
    start = README.index(heading)
    return re.search(r"```python\n(.*?)```", README[start:], re.S).group(1)


BLOCKER = """
import importlib.abc, sys
BLOCKED = set({blocked!r})
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}} (not in the README's install)", name=name)
        return None
sys.meta_path.insert(0, Block())
"""


def test_the_quick_start_runs_with_the_base_install_and_the_readme_extras(tmp_path):
    extras = readme_extras()
    assert set(extras) <= set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])
    blocked = blocked_modules(allowed_distributions(extras))
    assert "torch" in blocked and "xgboost" in blocked and "lime" in blocked  # dev packages are really hidden
    assert "pandas" not in blocked and "matplotlib" not in blocked
    script = (
        BLOCKER.format(blocked=blocked)
        + python_block_after("### Tabular")
        + textwrap.dedent(
            """
        import matplotlib
        matplotlib.use("Agg")
        exp.as_pyplot_figure(label=1)
        import sys
        assert "torch" not in sys.modules and "xgboost" not in sys.modules
        print("quick start ok", len(exps))
        """
        )
    )
    path = tmp_path / "quick_start.py"
    path.write_text(script)
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "quick start ok 10" in done.stdout


def test_the_blocker_blocks(tmp_path):
    path = tmp_path / "blocked.py"
    path.write_text(BLOCKER.format(blocked=["xgboost"]) + "import xgboost\n")
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "not in the README's install" in done.stderr


def _explanation():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    return TabularExplainer(X, random_state=0).explain_instance(
        X[0],
        lambda rows: np.column_stack([1 - 1 / (1 + np.exp(-rows[:, 0])), 1 / (1 + np.exp(-rows[:, 0]))]),
        num_samples=200,
    )


@pytest.mark.parametrize(
    ("modules", "call", "extra"),
    [
        (("matplotlib", "matplotlib.pyplot"), lambda: _explanation().as_pyplot_figure(label=1), "plot"),
        (("pandas",), lambda: __import__("limekit.datasets", fromlist=["load_adult"]).load_adult("test"), "pandas"),
    ],
)
def test_a_missing_optional_package_names_its_extra(monkeypatch, modules, call, extra):
    for module in modules:
        monkeypatch.setitem(sys.modules, module, None)  # import raises ModuleNotFoundError
    with pytest.raises(MissingDependencyError, match=re.escape(f"pip install 'limekit[{extra}]'")) as error:
        call()
    assert error.value.extra == extra and isinstance(error.value, ImportError)
