"""The package's shape: no import cycles and no private names reached across modules (scripts/check_imports.py),
and the detector itself catches both on planted code, so a zero here means something."""

from __future__ import annotations

import ast
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("check_imports", ROOT / "scripts" / "check_imports.py")
check_imports = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_imports)


def test_agent_has_no_import_cycles_and_no_private_cross_module_imports():
    graph, cycles, private = check_imports.report(ROOT)
    assert len(graph) > 50  # it really walked the package
    assert cycles == [], "\n".join(" -> ".join(c) for c in cycles)
    assert private == [], "\n".join(f"{u}:{line} uses {m}.{n}" for u, m, n, line, _ in private)


PLANTED = [  # (files under agent/, expected cycles, expected private uses as (user, module, name))
    ({"a.py": "from agent import b\n", "b.py": "from agent.a import thing\n"}, [["agent.a", "agent.b"]], []),
    ({"a.py": "def f():\n    from agent.b import x\n", "b.py": "def g():\n    import agent.a\n"},
     [["agent.a", "agent.b"]], []),  # hidden behind function-level imports: still a cycle
    ({"a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from agent.b import B\n",
      "b.py": "from agent.a import thing\n"}, [], []),  # annotations only: not a run-time edge
    ({"a.py": "from agent.b import _hidden\n", "b.py": "_hidden = 1\n"}, [], [("agent.a", "agent.b", "_hidden")]),
    ({"a.py": "from agent import b\n\ndef f():\n    return b._store()\n", "b.py": "def _store(): ...\n"}, [],
     [("agent.a", "agent.b", "_store")]),  # reached through the module
    ({"a.py": "import agent.b as bee\nbee._x\n", "b.py": "_x = 1\n"}, [], [("agent.a", "agent.b", "_x")]),
    ({"a.py": "from agent import b\nb.__name__\nb.public()\n", "b.py": "def public(): ...\n"}, [], []),
    ({"a.py": "from agent.c.d import run\n", "c/__init__.py": "", "c/d.py": "from agent.a import thing\n"},
     [["agent.a", "agent.c.d"]], []),
]


@pytest.mark.parametrize("files, expected_cycles, expected_private", PLANTED)
def test_the_detector_finds_planted_cycles_and_private_uses(tmp_path, files, expected_cycles, expected_private):
    (tmp_path / "agent").mkdir()
    (tmp_path / "agent" / "__init__.py").write_text("")
    for name, text in files.items():
        path = tmp_path / "agent" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    _, cycles, private = check_imports.report(tmp_path)
    assert cycles == expected_cycles
    assert [(u, m, n) for u, m, n, _, _ in private] == expected_private


def test_the_script_is_a_gate(tmp_path):
    (tmp_path / "agent").mkdir()
    (tmp_path / "agent" / "__init__.py").write_text("")
    (tmp_path / "agent" / "a.py").write_text("from agent.b import _x\n")
    (tmp_path / "agent" / "b.py").write_text("_x = 1\n")
    bad = subprocess.run([sys.executable, str(ROOT / "scripts" / "check_imports.py"), str(tmp_path)],
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "agent.a:1 imports agent.b._x" in bad.stdout
    good = subprocess.run([sys.executable, str(ROOT / "scripts" / "check_imports.py")], capture_output=True, text=True)
    assert good.returncode == 0 and "import cycles: 0" in good.stdout


def test_no_test_module_imports_another():
    """Shared helpers live in tests/fakes.py, tests/conftest.py or agent/testing/, never in another test module
    (issue 19). Every import form counts, function-level ones included; the walk is checked on planted code first."""
    def test_modules_imported(source: str, package: str) -> list[tuple[int, str]]:
        found = []
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                found += [(node.lineno, a.name) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative to the module's package
                    parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    base = f"{parent}.{base}" if base else parent
                found += [(node.lineno, base)] + [(node.lineno, f"{base}.{a.name}") for a in node.names]
        return sorted({(line, name) for line, name in found if re.fullmatch(r"tests\.test_\w+", name)})

    planted = ("import tests.test_llm\nfrom tests.test_store import corpus\nfrom tests import fakes, test_resume\n"
               "from .test_leakage import CLEAN\nfrom tests.fakes import client\nimport tests.fakes\n"
               "def f():\n    from . import test_trends\n")
    assert test_modules_imported(planted, "tests") == [
        (1, "tests.test_llm"), (2, "tests.test_store"), (3, "tests.test_resume"), (4, "tests.test_leakage"),
        (8, "tests.test_trends")]

    files = sorted((ROOT / "tests").glob("*.py")) + sorted((ROOT / "benchmarks").rglob("*.py")) \
        + sorted((ROOT / "evals").rglob("*.py"))
    assert len(files) > 50  # it really walked the tests
    offenders = [f"{path.relative_to(ROOT)}:{line} imports {name}" for path in files
                 for line, name in test_modules_imported(path.read_text(), ".".join(path.relative_to(ROOT).parent.parts))]
    assert offenders == [], "move these helpers to tests/fakes.py or tests/conftest.py:\n" + "\n".join(offenders)
