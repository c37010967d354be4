"""`brief check`: text drafts and brief JSON, with and without sources."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agent.checks.draft_check import check_draft, report_json
from agent.errors import UsageError
from agent.schema import Passage
from tests.fakes import BRIEF, PASSAGES

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


# --- round trip: the project's own brief.md / brief.html are read back section by section -------------
CLAIM_SUPPORT = {"unsupported-content", "off-purpose"}  # content verdicts (claim verifier, section purpose), not structure

def _faithful_brief_and_passages():
    """A brief whose every sentence is a sentence of the harbour example's passages, and those passages."""
    from agent.api import passages_of
    from agent.config import load_settings
    from agent.sources.ingest import load_sources
    from agent.schema import Brief, Paragraph, Sentence, SourceRef, Trend, Veracity
    from agent.text import split_sentences

    settings = load_settings(overrides={"embeddings": {"backend": "hashing"}})
    ingested = load_sources([ROOT / "examples" / "harbor-desalination"], settings.ingest)
    passages = passages_of(ingested.sources, settings.ingest.passage_chars)
    picked = []
    for pid, p in sorted(passages.items()):
        for a, b in split_sentences(p.text):
            if any(ch.isdigit() for ch in p.text[a:b]) and len(p.text[a:b].split()) >= 8 and '"' not in p.text[a:b] \
                    and "“" not in p.text[a:b]:
                picked.append(Sentence(text=p.text[a:b], citations=[pid]))
                break
    assert len(picked) >= 5
    refs = [SourceRef(source_id=s.id, number=n, outlet=s.outlet or "Outlet", topic="harbour")
            for n, s in enumerate(ingested.sources, start=1)]
    brief = Brief(headline="Port Carrow approves desalination plant", dek="A coastal city turns to the sea for water.",
                  body=[Paragraph(sentences=picked[:2]), Paragraph(sentences=picked[2:3])],
                  trend=Trend(name="Coastal cities turn to desalination", description="Drought pushes ports to the sea."),
                  veracity=Veracity(label="Corroborated", score=70, rationale="independent sources agree"),
                  who_benefits=[picked[3]], nuance=[Sentence(text="The sources do not describe any dispute.", kind="notice")],
                  what_this_means=[picked[4]], what_to_watch=picked[-1:],
                  disclaimer="Observations to monitor, not financial advice.", sources=refs)
    return brief, passages


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_own_brief_round_trips_without_structural_violations(fmt):
    from agent.output.render import render_html, render_markdown

    brief, passages = _faithful_brief_and_passages()
    text = (render_markdown if fmt == "md" else render_html)(brief, None, passages)
    report = check_draft(text, passages)
    assert [v for v in report.violations if v.code not in CLAIM_SUPPORT] == []
    assert not {v.code for v in report.violations} & {"unsupported-number", "unsupported-name", "unsupported-quote"}
    cited = [(name, i) for name, sents in brief.cited_sections().items() for i, s in enumerate(sents) if s.citations]
    assert sorted((c.section, c.sentence_index) for c in report.claims) == sorted(cited)  # each sentence, once
    assert check_draft(text).status == "pass"  # without sources: text rules per section, no header is a claim


def test_an_edited_number_in_own_markdown_is_caught():
    from agent.output.render import render_markdown

    brief, passages = _faithful_brief_and_passages()
    text = render_markdown(brief, None, passages)
    sentence = brief.what_this_means[0].text
    number = next(w for w in sentence.split() if any(ch.isdigit() for ch in w)).strip(".,")
    edited = text.replace(sentence, sentence.replace(number, number.replace(number[0], "9" if number[0] != "9" else "8", 1)))
    assert edited != text
    report = check_draft(edited, passages)
    assert report.status == "fail"
    assert [(v.code, v.section) for v in report.violations if v.code == "unsupported-number"] == [
        ("unsupported-number", "what_this_means")]


def test_cli_checks_own_markdown_against_sources(tmp_path):
    from agent.output.render import render_markdown

    brief, passages = _faithful_brief_and_passages()
    draft = tmp_path / "brief.md"
    draft.write_text(render_markdown(brief, None, passages), encoding="utf-8")
    args = [sys.executable, "-m", "agent.cli", "check", str(draft), "--json",
            "--sources", str(ROOT / "examples" / "harbor-desalination")]
    ok = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert ok.returncode in (0, 6) and ok.stderr == "", ok.stderr
    assert [v for v in json.loads(ok.stdout)["violations"] if v["code"] not in CLAIM_SUPPORT] == []
    assert len(json.loads(ok.stdout)["claims"]) == 6
    sentence = brief.body[0].sentences[1].text
    draft.write_text(draft.read_text(encoding="utf-8").replace(sentence, "I hope this helps! " + sentence), encoding="utf-8")
    fail = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert fail.returncode == 6 and "chatbot-leakage" in fail.stdout


@pytest.mark.parametrize("raw, message", [
    ("", "draft is empty"),
    ("  \n\n", "draft is empty"),
    ("[1, 2, 3]", "not a brief document"),
    ('"str"', "not a brief document"),
    ('{"company": "Salterra"}', "not a brief document"),
])
def test_json_that_is_not_a_brief_and_empty_drafts_are_usage_errors(raw, message):
    with pytest.raises(UsageError, match=message):
        check_draft(raw)


def test_a_draft_starting_with_a_brace_is_text_when_it_is_not_json():
    report = check_draft("{company_name} reported a profit of 4 million crowns.")
    assert [v.code for v in report.violations] == ["unfilled-placeholder"]


@pytest.mark.parametrize("raw", ["", "[1,2,3]", '"str"'])
def test_cli_never_passes_a_non_draft(tmp_path, raw):
    draft = tmp_path / "d.json"
    draft.write_text(raw)
    proc = subprocess.run([sys.executable, "-m", "agent.cli", "check", str(draft)], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2 and "pass" not in proc.stdout and len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize("status", ["published", "rejected"])
@pytest.mark.parametrize("provisional", [True, False])
def test_rendered_brief_parses_back_to_the_same_sections(fmt, status, provisional):
    from agent.checks.brief_text import parse_brief_html, parse_brief_markdown
    from agent.output.render import render_html, render_markdown

    brief = BRIEF.model_copy(update={"veracity": BRIEF.veracity.model_copy(update={"provisional": provisional}),
                                     "trend": BRIEF.trend.model_copy(update={"provisional": not provisional})})
    render, parse = (render_markdown, parse_brief_markdown) if fmt == "md" else (render_html, parse_brief_html)
    parsed = parse(render(brief, None, PASSAGES, status=status))
    assert parsed.model_dump(exclude={"sources"}) == brief.model_dump(exclude={"sources"})
    assert [(r.number, r.credit) for r in parsed.sources] == [(r.number, r.credit) for r in brief.sources]


@pytest.mark.parametrize("text", ["# Notes\n\nThe board met on Monday.", "<p>The board met on Monday.</p>"])
def test_markdown_or_html_that_is_not_our_brief_is_text(text):
    from agent.checks.brief_text import parse_brief_html, parse_brief_markdown

    assert parse_brief_markdown(text) is None and parse_brief_html(text) is None
    assert check_draft(text).status == "pass"


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_a_computed_dispute_reads_back_as_computed_and_its_outlets_are_not_claims(fmt):
    from agent.output.render import render_html, render_markdown
    from agent.schema import Sentence

    brief, passages = _faithful_brief_and_passages()
    cited = sorted(passages)[:2]
    dispute = Sentence(text="Sources disagree on a figure: Meridian Wire gives 1.2 billion crowns, Coastline Ledger "
                            "1.4 billion crowns.", citations=cited, kind="computed")
    brief = brief.model_copy(update={"nuance": [dispute]})
    report = check_draft((render_markdown if fmt == "md" else render_html)(brief, None, passages), passages)
    assert not [v for v in report.violations if v.section == "nuance" and v.code == "unsupported-name"]


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_a_spanish_brief_reads_back_with_its_spanish_labels(fmt):
    from agent.checks.brief_text import parse_brief_html, parse_brief_markdown
    from agent.output.render import render_html, render_markdown

    brief, passages = _faithful_brief_and_passages()
    brief = brief.model_copy(update={"language": "es"})
    text = (render_markdown if fmt == "md" else render_html)(brief, None, passages)
    assert "Qué vigilar" in text and "What to watch" not in text
    parsed = (parse_brief_markdown if fmt == "md" else parse_brief_html)(text)
    assert parsed is not None
    for key in ("who_benefits", "what_this_means", "what_to_watch"):
        assert [s.text for s in getattr(parsed, key)] == [s.text for s in getattr(brief, key)]
    assert len(parsed.sources) == len(brief.sources)
