"""bao's modules import one another without a cycle (DESIGN.md: one direction of imports, top to bottom).

A cycle works until the day a module is imported first from the other end, then fails with a half-initialised
module; an import hidden inside a function only delays that. So every `import bao...` and `from bao... import`
counts, at any level of the file, and `from bao.x import y` is an edge to the module `bao.x.y` when there is
one, else to `bao.x`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import bao

SRC = Path(bao.__file__).resolve().parent


def module_name(path: Path, root: Path) -> str:
    """`root/users/matcher.py` -> "bao.users.matcher" (a package's `__init__.py` is the package)."""
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(tree: ast.AST, modules: set[str], package: str) -> set[str]:
    """The bao modules a parsed file imports, from any statement at any depth (relative imports resolved
    against `package`)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "bao"}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base.split(".")[0] != "bao":
                continue
            out |= {f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names}
    return out


def import_graph(root: Path = SRC) -> dict[str, set[str]]:
    """Module -> the bao modules it imports, for every .py file under `root`."""
    files = {module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    graph = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        graph[name] = imported(ast.parse(path.read_text(encoding="utf-8")), set(files), package) - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (first module repeated at the end) through each group of modules that import one another."""
    found, done = [], set()
    for start in sorted(graph):
        stack, path, on_path = [(start, iter(sorted(graph[start])))], [start], {start}
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                on_path.discard(node)
                done.add(node)
            elif child in on_path:
                cycle = path[path.index(child):] + [child]
                if not any(set(cycle) <= set(c) for c in found):
                    found.append(cycle)
            elif child not in done and child in graph:
                stack.append((child, iter(sorted(graph[child]))))
                path.append(child)
                on_path.add(child)
    return found


def test_bao_modules_import_one_another_without_a_cycle():
    found = cycles(import_graph())
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)


def test_the_graph_sees_imports_inside_functions_and_resolves_modules(tmp_path):
    (tmp_path / "bao" / "users").mkdir(parents=True)
    (tmp_path / "bao" / "__init__.py").write_text("")
    (tmp_path / "bao" / "users" / "__init__.py").write_text("")
    (tmp_path / "bao" / "users" / "matcher.py").write_text(
        "def make():\n    from bao.users import embedding\n")
    (tmp_path / "bao" / "users" / "embedding.py").write_text("from bao.users.matcher import Entry\n")
    graph = import_graph(tmp_path / "bao")
    assert graph["bao.users.matcher"] == {"bao.users.embedding"}
    assert graph["bao.users.embedding"] == {"bao.users.matcher"}
    assert cycles(graph) == [["bao.users.embedding", "bao.users.matcher", "bao.users.embedding"]]


def test_a_graph_without_a_cycle_has_none():
    assert cycles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []
