"""The layout's rules, checked on the source: no import cycles between alloop's modules, front
ends that import the engine and never the other way round, and no classifier names compared
outside the model registry."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "alloop"


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in SRC.rglob("*.py")}


def imports_of(path: Path) -> set[str]:
    """alloop modules ``path`` imports anywhere (functions included), except ``TYPE_CHECKING``
    blocks, which never run. ``from pkg import name`` counts ``pkg.name`` when that is a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(n) for child in node.body for n in ast.walk(child))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("alloop"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("alloop"):
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in MODULES else node.module)
    return {m for m in found if m in MODULES}


GRAPH = {name: imports_of(path) - {name} for name, path in MODULES.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    assert cycles(GRAPH) == []


LAYERS = {
    # a lower layer never imports a higher one
    "alloop.errors": 0,
    "alloop.checks": 1,
    "alloop.data": 1,
    "alloop.models": 2,
    "alloop.strategies": 2,
    "alloop.loop": 3,
    "alloop.simulate": 5,
    "alloop.report": 5,
    "alloop.labelling": 5,
    "alloop.cli": 6,
}


GROUPS = {"alloop.report": "alloop.simulate"}
"""The report is the simulation front end's: it reads the results store."""


def layer(module: str) -> tuple[str, int] | None:
    for prefix, rank in sorted(LAYERS.items(), key=lambda kv: -len(kv[0])):
        if module == prefix or module.startswith(prefix + "."):
            return GROUPS.get(prefix, prefix), rank
    return None


@pytest.mark.parametrize("module", sorted(m for m in MODULES if layer(m)))
def test_imports_go_down_the_layers(module):
    own = layer(module)
    assert own is not None
    upward = []
    for target in GRAPH[module]:
        other = layer(target)
        if other and other[0] != own[0] and other[1] >= own[1]:
            upward.append(target)
    assert not upward, f"{module} imports {upward} from its own layer or above"


def test_simulation_and_labelling_do_not_import_each_other():
    for name, targets in GRAPH.items():
        for a, b in (("alloop.simulate", "alloop.labelling"), ("alloop.labelling", "alloop.simulate")):
            if name.startswith(a):
                assert not any(t.startswith(b) for t in targets), (name, targets)


NAME_COMPARISON = re.compile(r"""classifier\s*(==|!=|in|not in)\s*[("']""")


def test_no_classifier_name_is_compared_outside_the_registry():
    offenders = [
        f"{name}: {line.strip()}"
        for name, path in MODULES.items()
        if name != "alloop.models"
        for line in path.read_text(encoding="utf-8").splitlines()
        if NAME_COMPARISON.search(line)
    ]
    assert not offenders


def test_every_package_says_what_lives_there():
    for init in SRC.rglob("__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and len(doc) > 40, f"{init} needs a docstring saying what lives there"
