"""Print agent/'s import cycles and private cross-module imports (issue #19's yardstick).

Usage: python scripts/check_imports.py [ROOT]   (exit 1 when it finds a cycle or a private import: a gate)
Walks ROOT/agent/ with ast: module-level and function-level imports both count as edges; imports under
`if TYPE_CHECKING:` don't (annotations only). A private name counts whether it is imported
(`from agent.api import _store`) or reached through an imported module (`api._store`).
tests/test_architecture.py runs it on agent/ and on planted examples.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, root: Path = ROOT) -> tuple[set[str], list[tuple[str, str, int, bool]]]:
    """(modules imported from agent, [(module, private name, line, inside a function)])."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bound: dict[str, str] = {}  # local name -> agent module it stands for
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
            base = root.joinpath(*node.module.split("."))
            submodules = {a.name for a in node.names if (base / f"{a.name}.py").is_file() or (base / a.name).is_dir()}
            edges.update({f"{node.module}.{m}" for m in submodules} or {node.module})
            if len(submodules) < len(node.names) and submodules:
                edges.add(node.module)
            for alias in node.names:
                if alias.name.startswith("_"):
                    private.append((node.module, alias.name, node.lineno, id(node) in functions))
                elif alias.name in submodules:
                    bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("agent"):
                    edges.add(a.name)
                    if a.asname:
                        bound[a.asname] = a.name
    for node in ast.walk(tree):  # module._private through a name bound to an agent module
        if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                and isinstance(node.value, ast.Name) and node.value.id in bound and id(node) not in type_only):
            private.append((bound[node.value.id], node.attr, node.lineno, id(node) in functions))
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


def report(root: Path = ROOT) -> tuple[dict[str, set[str]], list[list[str]], list[tuple]]:
    """(import graph, cycles, [(user, module, private name, line, inside a function)]) for root/agent."""
    graph: dict[str, set[str]] = {}
    private_uses = []
    for path in sorted((root / "agent").rglob("*.py")):
        name = module_name(path, root)
        edges, private = imports(path, root)
        graph[name] = {e for e in edges if e != name}
        private_uses += [(name, *p) for p in private if p[0] != name]
    return graph, cycles(graph), private_uses


def function_level_imports(root: Path = ROOT) -> int:
    """Import statements inside functions, anywhere in root/agent (stdlib and third-party included)."""
    count = 0
    for path in (root / "agent").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        count += len({id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                      for n in ast.walk(f) if isinstance(n, (ast.Import, ast.ImportFrom))})
    return count


def main() -> int:
    root = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT
    graph, found, private_uses = report(root)
    print(f"{len(graph)} modules, {sum(len(v) for v in graph.values())} import edges, "
          f"{function_level_imports(root)} function-level imports")
    print(f"import cycles: {len(found)}")
    for c in found:
        print("  " + " -> ".join(c + [c[0]]))
    print(f"private names imported across modules: {len(private_uses)}")
    for user, module, name, line, inner in private_uses:
        print(f"  {user}:{line} imports {module}.{name}" + (" (inside a function)" if inner else ""))
    return 1 if found or private_uses else 0


if __name__ == "__main__":
    sys.exit(main())
