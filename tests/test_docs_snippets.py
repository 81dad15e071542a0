"""Every ```python block of the documentation runs, in order, as the reader would run it.

The Markdown files of ``DOCS`` are read at collection; each ```python (or ```py) fenced
block, also one indented inside a list item, is one test, with the id ``FILE:LINE`` (the
line of its opening fence).  The blocks of one file run in order in one shared namespace
(``__name__ == "__main__"``, as a script or a notebook), in a temporary working directory of
their own, so files they write do not land in the repository.  Tracebacks name the
Markdown file and the line of the failing statement.  Running one block alone
(``pytest "tests/test_docs_snippets.py::test_snippet[README.md:245]"``) first runs the
blocks above it that it may depend on (not the skipped and ``slow`` ones); after a block
fails, the later blocks of its file are skipped, naming it.

Directives: HTML comments (invisible on GitHub) directly above a fence, separated from it
by blank lines at most; several may be stacked.  Options on the first line, by words::

    <!-- snippet: skip reason="needs a download" -->   never run; a reason is required
    <!-- snippet: requires=torch,transformers -->      run only where every one is available
    <!-- snippet: slow -->                             pytest.mark.slow (deselect: -m "not slow")
    <!-- snippet: slow requires=ray -->                several options in one comment

``requires`` takes importable module names and ``cuda`` (a CUDA device through torch) or
``java`` (a Java runtime).  Two directives carry code on the lines after their first line::

    <!-- snippet: setup
    review = "what the reader already has, e.g. their own data or model"
    -->
    <!-- snippet: cleanup
    client.close()
    -->

``setup`` runs, hidden from the reader, in the file's namespace just before the block (with
``monkeypatch``, the block's pytest fixture, in scope: what it patches is undone after the
block); ``cleanup`` runs after the file's last block (also after a failure), once the block
it sits above has run.  Keep setup to what the text says the reader brings (their model,
their data).  A block is never skipped because it fails: fix the documentation instead.
A ``slow`` block should not define names that later blocks need, so that ``-m "not slow"``
still runs the rest.  Matplotlib draws with the Agg backend and nothing may use the network:
a block that would download is ``skip`` with the reason.
"""

import importlib.util
import os
import re
import shlex
import shutil
import sys
import textwrap
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The Markdown files whose python blocks run: the README and the site's pages (docs/, ``make docs``)
DOCS = [ROOT / "README.md", *sorted(ROOT.glob("docs/**/*.md"))]
DOCS = [path for path in DOCS if "_build" not in path.parts]

LANGUAGES = {"python", "py", "python3"}
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
DIRECTIVE = re.compile(r"^\s*<!--\s*snippet:(?P<body>.*?)(?P<end>-->)?\s*$")
OPTIONS = {"skip", "slow", "setup", "cleanup", "reason", "requires"}
CHECKS = {
    "cuda": lambda: importlib.util.find_spec("torch") is not None and __import__("torch").cuda.is_available(),
    "java": lambda: shutil.which("java") is not None or bool(os.environ.get("JAVA_HOME")),
}


@dataclass
class Code:
    """Source lines and where they start in the Markdown file (1-based)."""

    text: str
    line: int


@dataclass
class Block:
    path: Path
    line: int  # the opening fence
    code: Code
    skip: str | None = None
    slow: bool = False
    requires: tuple = ()
    setup: list = field(default_factory=list)
    cleanup: list = field(default_factory=list)

    @property
    def name(self):
        return f"{display(self.path)}:{self.line}"


def display(path):
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def _dedent(line, indent):
    """``line`` without up to ``len(indent)`` leading blanks (the fence's indentation)."""
    n = 0
    while n < len(indent) and n < len(line) and line[n] in " \t":
        n += 1
    return line[n:]


def _directive(lines, i, path):
    """``(options, code, index after the comment)`` of the directive comment that starts at line ``i``."""
    match = DIRECTIVE.match(lines[i])
    where = f"{display(path)}:{i + 1}"
    words = shlex.split(match["body"])
    code, j = [], i + 1
    if match["end"] is None:  # code lines follow, up to the closing -->
        while j < len(lines) and lines[j].strip() != "-->":
            if "-->" in lines[j]:
                raise ValueError(f"{where}: close the snippet comment with '-->' alone on its line")
            code.append(lines[j])
            j += 1
        if j == len(lines):
            raise ValueError(f"{where}: the snippet comment is not closed")
        j += 1
    options = {}
    for word in words:
        key, _, value = word.partition("=")
        if key not in OPTIONS:
            raise ValueError(f"{where}: unknown snippet option {key!r} (known: {', '.join(sorted(OPTIONS))})")
        options[key] = value
    if code and not {"setup", "cleanup"} & options.keys():
        raise ValueError(f"{where}: only 'setup' and 'cleanup' comments carry code")
    if "skip" in options and not options.get("reason"):
        raise ValueError(f'{where}: a skipped block needs a reason: <!-- snippet: skip reason="..." -->')
    return options, Code(textwrap.dedent("\n".join(code)), i + 2), j


def parse(path):
    """The python blocks of the Markdown file ``path``, with their directives."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks, pending, i = [], [], 0
    while i < len(lines):
        line = lines[i]
        if DIRECTIVE.match(line):
            options, code, i = _directive(lines, i, path)
            pending.append((options, code))
            continue
        fence = FENCE.match(line)
        if fence is None:
            if line.strip() and pending:
                raise ValueError(f"{display(path)}:{i + 1}: a snippet directive must sit directly above a fence")
            i += 1
            continue
        indent, marker = fence["indent"], fence["fence"]
        closing = re.compile(rf"^[ \t]*{re.escape(marker[0])}{{{len(marker)},}}\s*$")
        j = i + 1
        while j < len(lines) and not closing.match(lines[j]):
            j += 1
        words = fence["info"].strip().split()
        if words and words[0].lower() in LANGUAGES:
            block = Block(path, i + 1, Code("\n".join(_dedent(x, indent) for x in lines[i + 1 : j]), i + 2))
            for options, code in pending:
                if "skip" in options:
                    block.skip = options["reason"]
                block.slow |= "slow" in options
                block.requires += tuple(filter(None, options.get("requires", "").split(",")))
                if "setup" in options:
                    block.setup.append(code)
                if "cleanup" in options:
                    block.cleanup.append(code)
            blocks.append(block)
        elif pending:
            raise ValueError(f"{display(path)}:{i + 1}: snippet directives above a block that is not python")
        pending, i = [], j + 1
    if pending:
        raise ValueError(f"{display(path)}: snippet directives at the end of the file, above no block")
    return blocks


def missing(block):
    """The requirements of ``block`` that this environment lacks."""
    absent = []
    for name in block.requires:
        check = CHECKS.get(name)
        available = check() if check else importlib.util.find_spec(name) is not None
        if not available:
            absent.append(name)
    return absent


def why_not_run(block):
    """Why ``block`` does not run here, or None."""
    if block.skip:
        return block.skip
    absent = missing(block)
    return f"needs {', '.join(absent)} (not available here)" if absent else None


BLOCKS = [block for path in DOCS for block in parse(path)]


def _params():
    for block in BLOCKS:
        marks = [pytest.mark.slow] if block.slow else []
        yield pytest.param(block, id=block.name, marks=marks)


class SnippetError(Exception):
    """An exception raised by a block, with its traceback from the Markdown file's frame down."""

    def __init__(self, exc, path):
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != str(path):
            tb = tb.tb_next
        where = f"{display(path)}:{tb.tb_lineno}" if tb is not None else display(path)
        details = "".join(traceback.format_exception(type(exc), exc, tb or exc.__traceback__))
        super().__init__(f"{where}: {type(exc).__name__}: {exc}\n\n{details}")


class Session:
    """One Markdown file's run: its namespace, working directory and progress."""

    def __init__(self, workdir):
        self.namespace = {"__name__": "__main__"}
        self.workdir = workdir
        self.done = set()  # lines of the blocks that ran in this session
        self.failed = None  # the first block that failed
        self.cleanups = []

    def execute(self, code, path, extra=None):
        # padded with blank lines so that tracebacks give the line numbers of the Markdown file
        compiled = compile("\n" * (code.line - 1) + code.text, str(path), "exec")
        added = [name for name in (extra or {}) if name not in self.namespace]
        self.namespace.update(extra or {})
        try:
            exec(compiled, self.namespace)
        except Exception as exc:
            raise SnippetError(exc, path) from None
        finally:
            for name in added:
                self.namespace.pop(name, None)

    def run(self, block, monkeypatch):
        monkeypatch.chdir(self.workdir)
        try:
            for setup in block.setup:
                self.execute(setup, block.path, {"monkeypatch": monkeypatch})
            self.execute(block.code, block.path)
        except BaseException:
            self.failed = block
            raise
        finally:
            self.done.add(block.line)
            self.cleanups += [(block.path, code) for code in block.cleanup]
            if "matplotlib.pyplot" in sys.modules:
                sys.modules["matplotlib.pyplot"].close("all")

    def close(self):
        errors = []
        for path, code in reversed(self.cleanups):
            try:
                self.execute(code, path)
            except Exception as exc:  # every cleanup runs; the first error is reported
                errors.append(exc)
        self.cleanups = []
        if errors and self.failed is None:  # after a failure, a cleanup may fail for the same reason
            raise errors[0]


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MPLBACKEND", "Agg")
        for variable in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
            patch.setenv(variable, "1")
        try:
            import matplotlib
        except ImportError:
            pass
        else:
            matplotlib.use("Agg")
        opened = {}

        def session(path):
            if path not in opened:
                opened[path] = Session(tmp_path_factory.mktemp(path.stem))
            return opened[path]

        yield session
        for run in opened.values():
            run.close()


@pytest.mark.parametrize("block", list(_params()))
def test_snippet(block, sessions, monkeypatch):
    reason = why_not_run(block)
    if reason:
        pytest.skip(f"{block.name}: {reason}")
    run = sessions(block.path)
    # the blocks above that did not run in this session (deselected): run them first, as the reader would
    for earlier in (b for b in BLOCKS if b.path == block.path and b.line < block.line):
        if run.failed is not None:
            pytest.skip(f"{block.name} not run: the earlier block {run.failed.name} failed")
        if earlier.line not in run.done and not earlier.slow and why_not_run(earlier) is None:
            with monkeypatch.context() as patch:
                failure = _run(run, earlier, patch, f"the earlier block {earlier.name}, run first,")
            if failure:
                pytest.fail(failure, pytrace=False)
    if run.failed is not None:
        pytest.skip(f"{block.name} not run: the earlier block {run.failed.name} failed")
    failure = _run(run, block, monkeypatch, block.name)
    if failure:
        pytest.fail(failure, pytrace=False)


def _run(run, block, monkeypatch, what):
    """Run ``block``; the failure message (naming the line and with the traceback), or None."""
    try:
        run.run(block, monkeypatch)
    except SnippetError as exc:
        return f"{what} failed at {exc}"
    return None


def test_directives_are_understood(tmp_path):
    """The parser finds indented blocks, stacks directives and refuses the malformed ones."""
    page = tmp_path / "page.md"
    page.write_text(
        "text\n\n"
        '<!-- snippet: slow requires=json,cuda reason="x" -->\n'
        "<!-- snippet: setup\n"
        "value = 1\n"
        "-->\n\n"
        "```python\nvalue += 1\n```\n\n"
        "* item\n  ```py\n  if value:\n      value = 3\n  ```\n\n"
        "```bash\necho not python\n```\n",
        encoding="utf-8",
    )
    first, second = parse(page)
    assert (first.line, first.slow, first.requires, first.skip) == (8, True, ("json", "cuda"), None)
    assert first.setup[0].text == "value = 1" and first.setup[0].line == 5
    assert first.code.text == "value += 1" and first.code.line == 9
    assert (second.line, second.code.text) == (13, "if value:\n    value = 3")
    for bad, message in [
        ("<!-- snippet: skip -->\n```python\npass\n```\n", "needs a reason"),
        ("<!-- snippet: skipp -->\n```python\npass\n```\n", "unknown snippet option"),
        ("<!-- snippet: slow -->\ntext\n```python\npass\n```\n", "directly above"),
        ("<!-- snippet: slow -->\n```bash\nls\n```\n", "not python"),
        ("<!-- snippet: slow\nx = 1\n-->\n```python\npass\n```\n", "carry code"),
    ]:
        page.write_text(bad, encoding="utf-8")
        with pytest.raises(ValueError, match=message):
            parse(page)
