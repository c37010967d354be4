"""`brief check`: text drafts and brief JSON, with and without sources."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agent.checks.draft_check import check_draft, report_json
from agent.errors import UsageError
from agent.schema import Passage
from tests.test_render import BRIEF, PASSAGES

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "The Lisk harbour board approved a new ferry terminal on Monday. The terminal will cost 85 million crowns and open in 2028."
POOL = {"S1:1": Passage(id="S1:1", source_id="a", text=SOURCE, start=0, end=len(SOURCE))}
NOISY = ("The harbour board approved a new ferry terminal in Lisk on Monday. The terminal will cost 95 million crowns.\n\n"
         "| Quay | Closure |\n|---|---|\n| North | 2027 |\n| North | 2027 |\n\n"
         "If you'd like, I can also turn this into a timeline. Just let me know!\n")


@pytest.mark.parametrize(
    "text, passages, codes",
    [
        (NOISY, None, {"duplicate-table-row", "chatbot-leakage"}),
        (NOISY, POOL, {"duplicate-table-row", "chatbot-leakage", "unsupported-number"}),
        ("The Lisk harbour board approved a new ferry terminal on Monday.", POOL, set()),
        ("'Certainly not,' the spokesman said of the harbour plan.", None, set()),
    ],
)
def test_text_drafts(text, passages, codes):
    report = check_draft(text, passages)
    assert {v.code for v in report.violations} == codes
    assert report.status == ("fail" if codes else "pass")
    for v in report.violations:
        assert text[v.start:v.end] in text and v.end > v.start


def test_number_violation_points_at_the_number_with_evidence():
    report = check_draft(NOISY, POOL)
    (v,) = [v for v in report.violations if v.code == "unsupported-number"]
    assert NOISY[v.start:v.end] == "95 million" and v.evidence[0].passage == "S1:1"
    assert set(report_json(report)["violations"][0]) == {"code", "severity", "section", "start", "end", "text", "message", "evidence"}


def test_brief_document_is_checked_against_its_own_passages():
    doc = {"status": "published", "brief": BRIEF.model_dump(mode="json"),
           "passages": {k: v.model_dump() for k, v in PASSAGES.items()}}
    report = check_draft(json.dumps(doc))
    assert {v.code for v in report.violations} >= {"unsupported-content"}  # "Lisk bets on ferries." is not in S2:1


def test_bad_json_is_a_usage_error():
    with pytest.raises(UsageError, match="key 'headline'"):
        check_draft('{"dek": "x"}')


def test_cli_exit_codes(tmp_path):
    draft = tmp_path / "d.md"
    draft.write_text(NOISY)
    fail = subprocess.run([sys.executable, "-m", "agent.cli", "check", str(draft), "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert fail.returncode == 6 and json.loads(fail.stdout)["status"] == "fail"
    draft.write_text("The harbour board met on Monday to discuss the ferry terminal.")
    ok = subprocess.run([sys.executable, "-m", "agent.cli", "check", str(draft)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and "pass" in ok.stdout
