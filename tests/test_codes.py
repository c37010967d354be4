"""The shared vocabulary: violation codes and their groups, emptiness, stopwords (agent/checks/codes.py, agent/text.py)."""

import ast
import json
from pathlib import Path

import pytest

from agent.checks.claims import HARD_FACTS, SUPPORT_CODES
from agent.checks.codes import STRUCTURE_CODES, Code
from agent.checks.debris import DEBRIS_CODES
from agent.checks.injection import INJECTION_CODES
from agent.checks.leakage import ASSISTANT_TEXT_CODES, LEAKAGE_CODES
from agent.checks.purpose import PURPOSE_CODES
from agent.checks.repetition import REPETITION_CODES
from agent.checks.tables import TABLE_CODES, TABLE_DUPLICATION_CODES
from agent.schema import CheckReport, Violation
from agent.text import ALL_STOPWORDS, FUNCTION_WORDS, STOPWORDS, has_words
from evals import scorers, seeded_defects

ROOT = Path(__file__).resolve().parent.parent
GROUPS = [SUPPORT_CODES, LEAKAGE_CODES, TABLE_CODES, REPETITION_CODES, DEBRIS_CODES, INJECTION_CODES, PURPOSE_CODES,
          STRUCTURE_CODES]


def test_every_code_belongs_to_exactly_one_rule_group():
    seen = [code for group in GROUPS for code in group]
    assert sorted(seen) == sorted(Code)


def test_the_eval_reads_the_rule_modules_groups():
    assert Code.UNSUPPORTED_CLAIM in scorers.SUPPORT_CODES  # the judge's verdict is a grounding failure too
    assert set(HARD_FACTS) <= scorers.SUPPORT_CODES
    assert scorers.LEAKAGE_CODES is LEAKAGE_CODES and seeded_defects.TYPE_CODES["leakage"] is LEAKAGE_CODES
    assert scorers.DUPLICATION_CODES == TABLE_DUPLICATION_CODES | REPETITION_CODES
    assert Code.TABLE_COLUMN_MISMATCH not in scorers.DUPLICATION_CODES
    assert ASSISTANT_TEXT_CODES == LEAKAGE_CODES - {Code.UNFILLED_PLACEHOLDER}
    assert set(seeded_defects.TYPE_CODES) - {"leakage"} <= {c.value for c in TABLE_CODES | REPETITION_CODES}


def test_a_code_is_its_plain_string_on_the_wire():
    v = Violation(code=Code.DUPLICATE_TABLE_ROW, section="body", message="m")
    assert type(v.code) is str and v.code == "duplicate-table-row" and v.code in TABLE_CODES
    report = CheckReport.from_violations([v])
    assert json.loads(report.model_dump_json())["violations"][0]["code"] == "duplicate-table-row"
    assert f"{Code.OFF_PURPOSE}" == "off-purpose" and json.dumps(Code.OFF_PURPOSE) == '"off-purpose"'


def _literal_codes(path: Path) -> list[str]:
    """`Violation(code="...")` written with a string literal instead of a Code member."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [f"{path.name}:{kw.value.lineno}" for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Violation"
            for kw in node.keywords if kw.arg == "code" and isinstance(kw.value, ast.Constant)]


def test_rule_modules_name_codes_through_the_enum():
    rules = [p for p in sorted((ROOT / "agent" / "checks").glob("*.py")) if p.name != "run.py"]  # run.py: helper "perf"
    assert [hit for p in rules for hit in _literal_codes(p)] == []


@pytest.mark.parametrize("text, filled", [
    ("Port Carrow", True), ("A 40% rise", True), ("no", True), ("...", False), ("—", False), ("", False),
    ("A", False), ("- ", False), ("é", False), ("Ñu", True),
])
def test_has_words_is_the_one_definition_of_an_empty_section(text, filled):
    assert has_words(text) is filled


def test_function_words_derive_from_the_shared_stopwords():
    assert STOPWORDS["en"] <= FUNCTION_WORDS and STOPWORDS["en"] <= ALL_STOPWORDS
    assert {"should", "these", "under"} <= FUNCTION_WORDS and not FUNCTION_WORDS & {"harbour", "approved", "ferry"}
