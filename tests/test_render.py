"""Rendering: house-format order, citations, escaping, the rejected banner, schema in sync."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agent.output.render import render_html, render_markdown
from agent.result import BriefDocument
from agent.schema import CheckReport, Violation
from tests.fakes import BRIEF, PASSAGES

ROOT = Path(__file__).resolve().parent.parent
REPORT = CheckReport.from_violations([Violation(code="chatbot-leakage", section="body", message="chatbot leakage (closing filler)")])
ORDER = ["Lisk approves ferry terminal", "The harbour board backs", "Lisk harbour board approved", "tracked trend",
         "Corroborated", "If true, who benefits", "The nuance", "What this means", "What to watch",
         "Observations to monitor", "2 sources", "Synthesized from", "Lisk Post (terminal vote)", "Quay Weekly (fishermen)"]


@pytest.mark.parametrize("render", [render_markdown, render_html])
def test_house_format_order(render):
    text = render(BRIEF, None, PASSAGES, status="published")
    text = text.split("<body>")[-1]
    position = 0
    for marker in ORDER:  # each section is found after the one before it
        found = text.find(marker, position)
        assert found >= 0, f"{marker!r} missing or out of order"
        position = found + len(marker)
    assert "NOT FOR PUBLICATION" not in text


def test_markdown_citations_and_kinds():
    md = render_markdown(BRIEF, None, PASSAGES)
    assert "on Monday. [S1:1]" in md and "“The terminal will open in 2028.” (extracted)" in md
    assert "_The sources do not describe any dispute or uncertainty._" in md


def test_html_escapes_and_reveals_the_supporting_quote():
    html = render_html(BRIEF, None, PASSAGES)
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "Fishermen fear closures of the north quay." in html and "S2:1 · Quay Weekly (fishermen)" in html
    assert 'tabindex="0"' in html and "http" not in html.split("<body>")[1]


@pytest.mark.parametrize("render", [render_markdown, render_html])
def test_rejected_draft_carries_banner_and_violations(render):
    text = render(BRIEF, REPORT, PASSAGES, status="rejected").split("<body>")[-1]
    assert "REJECTED DRAFT — NOT FOR PUBLICATION" in text and "chatbot-leakage" in text
    assert text.find("NOT FOR PUBLICATION") < text.find("Lisk approves ferry terminal")


def test_exported_schema_is_in_sync_with_the_contract():
    committed = json.loads((ROOT / "schemas" / "brief.schema.json").read_text())
    assert committed == BriefDocument.model_json_schema(), "run: brief schema schemas/brief.schema.json"


@pytest.mark.browser
@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_html_brief_renders_in_headless_chromium(tmp_path):
    page = tmp_path / "brief.html"
    page.write_text(render_html(BRIEF, None, PASSAGES))
    png = tmp_path / "brief.png"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "screenshot.py"), str(page), str(png)], check=True, timeout=180)
    assert png.stat().st_size > 10_000
