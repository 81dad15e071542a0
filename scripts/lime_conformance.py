#!/usr/bin/env python
"""Run lime's own test suite against lime and against limekit.compat.

Downloads lime's source distribution (``pip download --no-binary :all:``),
runs the tests it ships (``lime/tests/test_*.py``) twice with pytest:

1. as they are, in the unpacked sdist, so against lime's own code;
2. on a copy whose lime imports are rewritten to limekit.compat
   (``from lime.X import Y`` -> ``from limekit.compat.X import Y``,
   ``import lime.X`` -> ``import limekit.compat.X`` and its ``lime.X.``
   references); importing ``lime`` itself is blocked in that run, so a test
   cannot pass by reaching lime.

It prints each test's outcome on both, the totals and the tests that pass on
lime but not on limekit.compat.  Exit status: 0 when every test that passes on
lime passes on limekit.compat (or when the registry cannot be reached: the
check is then skipped), 1 otherwise.  Nothing is written to the repository.

Usage: python scripts/lime_conformance.py [--sdist lime-0.2.0.1.tar.gz] [--keep]
"""

import argparse
import ast
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

LIME_VERSION = "0.2.0.1"
REPO = Path(__file__).resolve().parents[1]
PYTEST_TIMEOUT_S = 1800

# In the limekit.compat run, importing lime fails: every lime name must come from limekit.compat.
BLOCK_LIME = """import importlib.abc
import sys


class _NoLime(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname == "lime" or fullname.startswith("lime."):
            raise ImportError(f"lime conformance: {fullname} imported in the limekit.compat run")
        return None


sys.meta_path.insert(0, _NoLime())
"""

FROM_LIME = re.compile(r"^(\s*)from\s+lime((?:\.\w+)*)\s+import\b")
IMPORT_LIME = re.compile(r"^(\s*)import\s+lime((?:\.\w+)*)(\s+as\s+\w+)?\s*(#.*)?$")
ANY_LIME_IMPORT = re.compile(r"^\s*(from\s+lime(\.\w+)*\s+import\b|import\s+lime\b)")


def rewrite_imports(source):
    """``source`` with lime's imports pointing at limekit.compat; returns ``(new_source, changed_lines)``.

    Only import lines change, plus the dotted references ``lime.X...`` that an
    un-aliased ``import lime.X`` makes the code use.
    """
    lines = source.splitlines(keepends=True)
    dotted = set()  # X of the `lime.X` that `import lime.X` (without `as`) binds
    changed = []
    for i, line in enumerate(lines):
        m = FROM_LIME.match(line)
        if m:
            lines[i] = FROM_LIME.sub(lambda m: f"{m.group(1)}from limekit.compat{m.group(2)} import", line, count=1)
        else:
            m = IMPORT_LIME.match(line)
            if not m:
                continue
            if not m.group(2):  # `import lime`: the package itself
                lines[i] = (
                    line.replace("import lime", "import limekit.compat as lime", 1)
                    if not m.group(3)
                    else line.replace("import lime", "import limekit.compat", 1)
                )
            else:
                lines[i] = line.replace(f"import lime{m.group(2)}", f"import limekit.compat{m.group(2)}", 1)
                if not m.group(3):
                    dotted.add(m.group(2).split(".")[1])  # `import lime.a.b` binds lime.a
        changed.append((i + 1, line.rstrip("\n"), lines[i].rstrip("\n")))
    if dotted:
        reference = re.compile(r"(?<![\w.])lime\.(" + "|".join(map(re.escape, sorted(dotted))) + r")\b")
        for i, line in enumerate(lines):
            if ANY_LIME_IMPORT.match(line) or line.lstrip().startswith("import limekit"):
                continue
            new = reference.sub(r"limekit.compat.\1", line)
            if new != line:
                changed.append((i + 1, line.rstrip("\n"), new.rstrip("\n")))
                lines[i] = new
    new_source = "".join(lines)
    left = [line for line in new_source.splitlines() if ANY_LIME_IMPORT.match(line)]
    if left:
        raise SystemExit(f"lime conformance: could not rewrite {left}")
    return new_source, sorted(changed)


def download_sdist(dest):
    """Path of lime's sdist downloaded into ``dest``, or None when pip cannot get it."""
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-binary",
        ":all:",
        "--no-deps",
        "--disable-pip-version-check",
        f"lime=={LIME_VERSION}",
        "-d",
        str(dest),
    ]
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        print(f"pip download failed: {exc}", file=sys.stderr)
        return None
    found = sorted(Path(dest).glob("lime-*.tar.gz")) + sorted(Path(dest).glob("lime-*.zip"))
    if result.returncode != 0 or not found:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        print("pip download failed:\n  " + "\n  ".join(tail), file=sys.stderr)
        return None
    return found[0]


def unpack(archive, dest):
    """Unpack the sdist; return the directory holding ``lime/``."""
    archive = Path(archive)
    if archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(dest)
    else:
        with tarfile.open(archive) as tf:
            if hasattr(tarfile, "data_filter"):
                tf.extractall(dest, filter="data")
            else:
                tf.extractall(dest)
    roots = [p.parent.parent for p in Path(dest).glob("*/lime/__init__.py")]
    if not roots:
        raise SystemExit(f"lime conformance: no lime/ package in {archive.name}")
    return roots[0]


def discover(test_dir):
    """Test ids (``file::Class::test`` or ``file::test``) defined in ``test_dir``'s test_*.py, by file."""
    found = {}
    for path in sorted(Path(test_dir).glob("test_*.py")):
        tree = ast.parse(path.read_text())
        ids = []
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                ids += [
                    f"{path.name}::{node.name}::{item.name}"
                    for item in node.body
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name.startswith("test")
                ]
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                ids.append(f"{path.name}::{node.name}")
        found[path.name] = ids
    return found


def run_pytest(rootdir, target, xml_path, env, log_path):
    """Run pytest on ``target`` from ``rootdir`` with its own (empty) configuration."""
    (Path(rootdir) / "pytest.ini").write_text("[pytest]\n")
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        str(target),
        "-q",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(rootdir),
        "-c",
        str(Path(rootdir) / "pytest.ini"),
        "--continue-on-collection-errors",
        "-o",
        "junit_family=xunit1",
        f"--junitxml={xml_path}",
    ]
    with open(log_path, "w") as log:
        try:
            subprocess.run(cmd, cwd=rootdir, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=PYTEST_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            log.write(f"\npytest timed out after {PYTEST_TIMEOUT_S} s\n")


def outcomes(xml_path, tests_by_file):
    """``{test id: (outcome, message)}`` from a junit XML; a file that failed to import errs all its tests."""
    result = {}
    if not Path(xml_path).exists():
        return result
    for case in ET.parse(xml_path).getroot().iter("testcase"):
        outcome, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = {"failure": "failed"}.get(child.tag, child.tag)
                message = (child.get("message") or "").strip().splitlines()[0:1]
                message = message[0] if message else ""
                break
        file_name = Path(case.get("file") or "").name
        classname, name = case.get("classname") or "", case.get("name") or ""
        if not classname:  # collection error of a whole module; name is its dotted path
            module = name.rsplit(".", 1)[-1] + ".py"
            for test_id in tests_by_file.get(module, []):
                result[test_id] = ("error", f"collection: {message}")
            continue
        if not file_name:
            file_name = classname.split(".")[-2 if classname.split(".")[-1][:1].isupper() else -1] + ".py"
        cls = classname.split(".")[-1]
        test_id = f"{file_name}::{cls}::{name}" if cls[:1].isupper() else f"{file_name}::{name}"
        result[test_id] = (outcome, message)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sdist", help="use this lime sdist instead of downloading one")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (printed)")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="lime-conformance-"))
    try:
        if args.sdist:
            archive = Path(args.sdist).resolve()
        else:
            archive = download_sdist(work / "download")
            if archive is None:
                print("lime conformance: skipped, registry unreachable")
                return 0
        lime_root = unpack(archive, work / "src")
        lime_tests = lime_root / "lime" / "tests"
        tests_by_file = discover(lime_tests)
        if not any(tests_by_file.values()):
            raise SystemExit(f"lime conformance: no tests in {archive.name}'s lime/tests")

        compat_root = work / "compat"
        compat_tests = compat_root / "lime_tests"
        compat_tests.mkdir(parents=True)
        (compat_root / "conftest.py").write_text(BLOCK_LIME)
        rewritten = []
        for path in sorted(lime_tests.glob("*.py")):
            source, changed = rewrite_imports(path.read_text())
            (compat_tests / path.name).write_text(source)
            rewritten += [(path.name, *c) for c in changed]

        env = dict(os.environ)
        lime_env = dict(env, PYTHONDONTWRITEBYTECODE="1")
        # this checkout's limekit first, whatever the environment has installed
        compat_env = dict(lime_env, PYTHONPATH=os.pathsep.join([str(REPO)] + [p for p in [env.get("PYTHONPATH")] if p]))

        print(
            f"lime conformance: lime {LIME_VERSION}'s tests ({archive.name}), {sum(map(len, tests_by_file.values()))}"
            f" tests in {len(tests_by_file)} files; limekit from {REPO}"
        )
        print(f"rewritten import lines: {len(rewritten)}")
        for file_name, line_no, old, new in rewritten:
            print(f"  {file_name}:{line_no}: {old.strip()}  ->  {new.strip()}")
        run_pytest(lime_root, lime_tests, work / "lime.xml", lime_env, work / "lime.log")
        run_pytest(compat_root, compat_tests, work / "compat.xml", compat_env, work / "compat.log")

        on_lime = outcomes(work / "lime.xml", tests_by_file)
        on_kit = outcomes(work / "compat.xml", tests_by_file)
        test_ids = [t for ids in tests_by_file.values() for t in ids]
        test_ids += sorted((set(on_lime) | set(on_kit)) - set(test_ids))
        missing = ("not run", "")
        width = max(len(t) for t in test_ids)
        print()
        print(f"{'test':<{width}}  {'lime':<8}  limekit.compat")
        print(f"{'-' * width}  {'-' * 8}  {'-' * 14}")
        for test_id in test_ids:
            print(f"{test_id:<{width}}  {on_lime.get(test_id, missing)[0]:<8}  {on_kit.get(test_id, missing)[0]}")
        n = len(test_ids)
        n_lime = sum(on_lime.get(t, missing)[0] == "passed" for t in test_ids)
        n_kit = sum(on_kit.get(t, missing)[0] == "passed" for t in test_ids)
        regressions = [
            t for t in test_ids if on_lime.get(t, missing)[0] == "passed" and on_kit.get(t, missing)[0] != "passed"
        ]
        both = [t for t in test_ids if on_lime.get(t, missing)[0] != "passed" and on_kit.get(t, missing)[0] != "passed"]
        print()
        print(f"lime: {n_lime}/{n} passed; limekit.compat: {n_kit}/{n} passed")
        if both:
            print(f"not passing on either ({len(both)}; lime's reason):")
            for t in both:
                print(f"  {t}: {on_lime.get(t, missing)[1][:100]}")
        if regressions:
            print(f"pass on lime but not on limekit.compat ({len(regressions)}):")
            for t in regressions:
                outcome, message = on_kit.get(t, missing)
                print(f"  {t}: {outcome}: {message[:160]}")
            print(
                f"pytest logs: {work / 'lime.log'}, {work / 'compat.log'}"
                if args.keep
                else "rerun with --keep for pytest's logs"
            )
            return 1
        print("every test that passes on lime passes on limekit.compat")
        return 0
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
