"""The core's modules import each other without a cycle: counting imports under
TYPE_CHECKING and inside functions, which import-linter's layers do not see as cycles.

Walked with `ast` over the sources, so a deferred or type-only import counts like any other:
a cycle hidden that way still ties the modules together (issue: "The house shows its layers").
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parent.parent / "wallboard" / "core"
PACKAGE = "wallboard.core"


def _imports(path: Path, root: Path = CORE) -> set[str]:
    """The core modules (files in `root`) that `path` imports, anywhere in the file."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            # `from wallboard.core import fold` names a module; `from wallboard.core.fold
            # import X` names the module before `import`.
            base = node.module
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name.startswith(PACKAGE + ".") and (root / f"{name.split('.')[2]}.py").exists():
                found.add(name.split(".")[2])
    found.discard(path.stem)
    return found


def import_graph(root: Path = CORE) -> dict[str, set[str]]:
    return {path.stem: _imports(path, root) for path in sorted(root.glob("*.py"))
            if path.stem != "__init__"}  # fmt: skip


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path [a, b, ..., a], or None (depth-first, three colours)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for imported in sorted(graph.get(module, ())):
            if state.get(imported) == 1:
                return [*path[path.index(imported):], imported]
            if imported not in state:
                cycle = visit(imported)
                if cycle is not None:
                    return cycle
        path.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state:
            cycle = visit(module)
            if cycle is not None:
                return cycle
    return None


def test_the_core_has_no_import_cycle() -> None:
    graph = import_graph()
    assert "fold" in graph and "alerts" in graph["fold"], "the walk must see the core"
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


def test_the_walk_sees_deferred_and_type_only_imports(tmp_path: Path) -> None:
    """The test above can fail: a cycle made only of a TYPE_CHECKING import and an import
    inside a function is found."""
    (tmp_path / "a.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from wallboard.core.b import B\n")
    (tmp_path / "b.py").write_text("def f():\n    from wallboard.core import a\n")
    (tmp_path / "c.py").write_text("import wallboard.core.a\n")
    graph = import_graph(tmp_path)
    assert graph == {"a": {"b"}, "b": {"a"}, "c": {"a"}}
    assert find_cycle(graph) == ["a", "b", "a"]


@pytest.mark.parametrize("graph, expected", [
    ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
    ({"a": {"a"}}, ["a", "a"]),
])  # fmt: skip
def test_find_cycle(graph: dict[str, set[str]], expected: list[str] | None) -> None:
    assert find_cycle(graph) == expected
