"""ninjs export: briefs drafted through the fake model, validated against the vendored IPTC ninjs 3.3 schema."""

from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import urlparse

import jsonschema
import pytest

from agent.api import draft_brief
from agent.errors import UsageError
from agent.output.ninjs import NINJS_SCHEMA_FILE, to_ninjs
from agent.result import BriefResult
from tests.fakes import LEAKY_SENTENCE, STORY, good_model, leaky_model, run, settings_for

SCHEMA = json.loads(NINJS_SCHEMA_FILE.read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def assert_valid_ninjs(document: dict) -> None:
    errors = sorted(VALIDATOR.iter_errors(document), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]
    # jsonschema checks "date-time" and "uri" formats only with optional packages; check them here
    assert datetime.fromisoformat(document["firstCreated"]) <= datetime.fromisoformat(document["versionCreated"])
    assert urlparse(document["uri"]).scheme == "urn"


def test_the_vendored_schema_is_ninjs_3_3_and_strict():
    assert SCHEMA["$id"] == "http://www.iptc.org/std/ninjs/ninjs-schema_3.3.json#"
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert not VALIDATOR.is_valid({"uri": "urn:x:1", "pubStatus": "draft"})  # not in the enum
    assert not VALIDATOR.is_valid({"uri": "urn:x:1", "veracity": "high"})  # unknown property
    assert VALIDATOR.is_valid({"uri": "urn:x:1"})


def test_a_published_brief_is_valid_ninjs_and_still_withheld(tmp_path, fake_openai):
    fake_openai.set_responder(good_model)
    result = draft_brief([STORY], config=settings_for(tmp_path, fake_openai.base_url))
    assert result.status == "published"
    document = to_ninjs(result)
    assert_valid_ninjs(document)
    brief = result.brief
    assert document["pubStatus"] == "withheld" and document["type"] == "text"
    assert document["uri"] == f"urn:brief-agent:{result.run_id}"
    assert document["headlines"] == [{"role": "main", "value": brief.headline}]
    assert document["descriptions"][0] == {"role": "summary", "contentType": "text/plain", "value": brief.dek}
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert document["firstCreated"] == manifest["started_at"]
    note = document["edNote"]
    assert "withheld until an editor publishes it" in note and "Checker: pass, 0 error(s)" in note
    assert f"Veracity: {brief.veracity.label} {brief.veracity.score}/100" in note
    assert [(s["name"], s["role"], s["literal"]) for s in document["infoSources"]] == [
        (ref.outlet, "source", ref.source_id) for ref in brief.sources]
    assert len(document["infoSources"]) == 3
    body = document["bodies"][0]
    assert body["contentType"] == "text/html" and body["value"].startswith("<p>")
    assert body["charCount"] == len(body["value"]) and "NOT FOR PUBLICATION" not in body["value"]
    assert "<h2>The nuance</h2>" in body["value"] and "<h2>What to watch</h2>\n<ul><li>" in body["value"]
    assert brief.source_line in body["value"] and brief.headline not in body["value"]

    urls = ["https://wire.example/tram", "wire.example/no-scheme", None]
    refs = [ref.model_copy(update={"url": url}) for ref, url in zip(brief.sources, urls)]
    linked = to_ninjs(result.model_copy(update={"brief": brief.model_copy(update={"sources": refs})}))
    assert_valid_ninjs(linked)
    assert [s.get("uri") for s in linked["infoSources"]] == ["https://wire.example/tram", None, None]


def test_a_rejected_brief_is_withheld_with_its_violations_in_the_note(tmp_path, fake_openai):
    fake_openai.set_responder(leaky_model({"sentence": LEAKY_SENTENCE}))
    settings = settings_for(tmp_path, fake_openai.base_url, mode="sentence", fallback="reject", max_revisions=1)
    result = draft_brief([STORY], config=settings)
    assert result.status == "rejected"
    document = to_ninjs(result)
    assert_valid_ninjs(document)
    assert document["pubStatus"] == "withheld"
    assert document["edNote"].startswith("REJECTED by the checker: NOT FOR PUBLICATION")
    assert "Checker: fail" in document["edNote"] and "chatbot-leakage [" in document["edNote"]
    assert "NOT FOR PUBLICATION" in document["bodies"][0]["value"]


def test_the_ninjs_body_is_clean_html_without_internal_markers():
    from agent.output.ninjs import body_html
    from agent.schema import Brief, Paragraph, Sentence, SourceRef, Trend, Veracity

    said = Sentence(text="The council voted 31 to 9 <b>on Tuesday</b>.", citations=["S1:1"])
    quoted = Sentence(text="The firm said it would hire 400 workers.", citations=["S2:2"], kind="extracted")
    none = Sentence(text="The sources name no next steps to watch.", kind="notice")
    brief = Brief(headline="H", dek="D", body=[Paragraph(sentences=[said, quoted])], trend=Trend(name="T", description="d"),
                  veracity=Veracity(label="Plausible", score=55, rationale="r"), who_benefits=[said], nuance=[quoted],
                  what_this_means=[said], what_to_watch=[none], disclaimer="Not advice.",
                  sources=[SourceRef(source_id="src-1", number=1, outlet="Wire", topic="t")])
    html = body_html(BriefResult(status="published", brief=brief), brief)
    assert "[S1:1]" not in html and "S2:2" not in html and "(extracted)" not in html
    assert "&lt;b&gt;on Tuesday&lt;/b&gt;" in html  # source text is text, never markup
    assert "<q>The firm said it would hire 400 workers.</q>" in html
    assert "<li><em>The sources name no next steps to watch.</em></li>" in html
    import lxml.html

    assert lxml.html.fragments_fromstring(html)  # well-formed enough to parse


def test_no_brief_cannot_be_exported():
    with pytest.raises(UsageError, match="no brief"):
        to_ninjs(BriefResult(status="failed", error="x"))


def test_cli_prints_ninjs(tmp_path, fake_openai):
    fake_openai.set_responder(good_model)
    proc = run(["draft", str(STORY), "--format", "ninjs"], tmp_path, fake_openai.base_url)
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)  # stdout holds the ninjs document and nothing else
    assert_valid_ninjs(document)
    assert document["pubStatus"] == "withheld" and document["headlines"][0]["value"]


def test_cli_writes_ninjs_beside_the_other_files(tmp_path, fake_openai):
    fake_openai.set_responder(good_model)
    out = tmp_path / "out"
    proc = run(["draft", str(STORY), "-o", str(out), "--format", "ninjs"], tmp_path, fake_openai.base_url)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["brief.html", "brief.json", "brief.md", "brief.ninjs.json"]
    assert_valid_ninjs(json.loads((out / "brief.ninjs.json").read_text()))
