"""No import circles in limekit/ or benchmarks/.

The graph counts every import statement, also those inside functions (a lazy
import hides a circle from Python, not from a reader): an edge goes from a
module to each module it names, ``from package import name`` naming the
submodule ``package.name`` where there is one and the package otherwise.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def module_names(folder, package):
    """``{module name: path}`` for the .py files under ``folder``."""
    names = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join([package, *parts] if package else parts)] = path
    return names


def imports_of(name, path, known, is_package):
    """The modules of ``known`` that ``name`` (at ``path``) imports anywhere in its code."""
    base = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                module = ".".join(anchor + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets = [
                f"{module}.{alias.name}" if f"{module}.{alias.name}" in known else module for alias in node.names
            ]
        else:
            continue
        found.update(t for t in targets if t in known and t != name)
    return found


def cycles(graph):
    """Every strongly connected component of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def import_graph(folder, package):
    known = module_names(folder, package)
    return {
        name: imports_of(name, path, known, path.name == "__init__.py" and bool(package))
        for name, path in known.items()
    }


@pytest.mark.parametrize(("folder", "package"), [("limekit", "limekit"), ("benchmarks", "")])
def test_no_import_circle(folder, package):
    assert cycles(import_graph(folder, package)) == []


def test_the_check_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
