"""Print agent/'s import cycles and private cross-module imports (issue #19's yardstick).

Usage: python scripts/check_imports.py   (exit 0 always: a report, not yet a gate)
Walks agent/ with ast: module-level and function-level imports both count as edges.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "agent"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> tuple[set[str], list[tuple[str, str, int, bool]]]:
    """(modules imported from agent, [(module, private name, line, inside a function)])."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    edges: set[str] = set()
    private: list[tuple[str, str, int, bool]] = []
    functions = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                 for n in ast.walk(f)}
    type_only = {id(n) for f in ast.walk(tree) if isinstance(f, ast.If) and "TYPE_CHECKING" in ast.unparse(f.test)
                 for n in ast.walk(f)}  # annotations only: not a run-time edge
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("agent"):
            base = ROOT.joinpath(*node.module.split("."))
            submodules = {a.name for a in node.names if (base / f"{a.name}.py").is_file() or (base / a.name).is_dir()}
            edges.update({f"{node.module}.{m}" for m in submodules} or {node.module})
            if len(submodules) < len(node.names) and submodules:
                edges.add(node.module)
            for alias in node.names:
                if alias.name.startswith("_"):
                    private.append((node.module, alias.name, node.lineno, id(node) in functions))
        elif isinstance(node, ast.Import):
            edges.update(a.name for a in node.names if a.name.startswith("agent"))
    return edges, private


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Elementary cycles found by DFS from each module (each reported once, smallest rotation)."""
    found: set[tuple[str, ...]] = set()

    def walk(start: str, node: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt == start:
                i = path.index(min(path))
                found.add(tuple(path[i:] + path[:i]))
            elif nxt not in path and nxt > start and len(path) < 8:
                walk(start, nxt, path + [nxt])

    for module in sorted(graph):
        walk(module, module, [module])
    return [list(c) for c in sorted(found)]


def main() -> int:
    graph: dict[str, set[str]] = {}
    private_uses = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        edges, private = imports(path)
        graph[name] = {e for e in edges if e != name}
        private_uses += [(name, *p) for p in private]
    found = cycles(graph)
    print(f"{len(graph)} modules, {sum(len(v) for v in graph.values())} import edges")
    print(f"import cycles: {len(found)}")
    for c in found:
        print("  " + " -> ".join(c + [c[0]]))
    print(f"private names imported across modules: {len(private_uses)}")
    for user, module, name, line, inner in private_uses:
        print(f"  {user}:{line} imports {module}.{name}" + (" (inside a function)" if inner else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
