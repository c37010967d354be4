"""The brief graph end to end: real ingest, real chromadb, real openai client, fake server."""

from __future__ import annotations

import json

import jsonschema
import pytest

from agent.api import draft_brief
from agent.errors import LLMUnavailable, NoUsableSources
from agent.result import BriefDocument
from tests.fakes import HEADLINE, STORY, TREND, Status, good_model, settings_for


@pytest.mark.parametrize("mode", ["sentence", "section"])
def test_happy_path_publishes_a_checked_brief(tmp_path, fake_openai, mode):
    fake_openai.set_responder(good_model)
    result = draft_brief([STORY], config=settings_for(tmp_path, fake_openai.base_url, mode=mode))
    assert result.status == "published", result.report
    brief = result.brief
    assert brief.headline and brief.dek and brief.body and brief.what_to_watch
    assert brief.disclaimer == "Observations to monitor, not financial advice."
    assert brief.source_line.startswith(f"{len(brief.sources)} source")
    for sentences in brief.cited_sections().values():
        for s in sentences:
            assert s.kind == "notice" or all(c in result.passages for c in s.citations)
    text = json.dumps(result.document().model_dump(mode="json"))
    assert "let me know" not in text.lower()
    schema = BriefDocument.model_json_schema()
    jsonschema.validate(result.document().model_dump(mode="json"), schema)
    calls = [json.loads(line) for line in (result.run_dir / "llm_calls.jsonl").read_text().splitlines()]
    assert len(calls) == result.usage.llm_calls > 0
    saved = json.loads((result.run_dir / "result.json").read_text())
    assert [g["reason"] for g in saved["source_groups"]] == ["independent"] * 3
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert len(manifest["sources"]) == 3 and manifest["prompt_templates"]


def test_section_mode_happy_path_makes_at_most_three_calls(tmp_path, fake_openai):
    """A capable endpoint: one call drafts the whole brief; a rejected sentence costs one more call, not a section."""
    fake_openai.set_responder(good_model)
    result = draft_brief([STORY], config=settings_for(tmp_path / "clean", fake_openai.base_url, mode="section"))
    assert result.status == "published" and result.usage.llm_calls <= 3
    names = [r[0] for r in fake_openai.requests]
    assert names[0] == "draft_brief" and set(names) <= {"draft_brief", "revise_brief"} and len(names) <= 3
    assert result.brief.headline == HEADLINE["headline"] and result.brief.trend.name == TREND["name"]

    def one_bad_sentence(prompt, body):
        reply = good_model(prompt, body)
        if prompt == "draft_brief":
            reply["sections"]["body"][0]["text"] += " It will cost 999 million euros."
        return reply

    fake_openai.requests.clear()
    fake_openai.set_responder(one_bad_sentence)
    revised = draft_brief([STORY], config=settings_for(tmp_path / "revised", fake_openai.base_url, mode="section"))
    assert revised.status == "published" and revised.usage.llm_calls <= 3
    assert [r[0] for r in fake_openai.requests][:2] == ["draft_brief", "revise_brief"]
    revision = fake_openai.requests[1][1]["messages"][-1]["content"]
    assert "999" in revision and len(fake_openai.requests) <= 3
    assert revision.count("Rejected:") < sum(len(s) for s in revised.brief.cited_sections().values())  # not all
    assert "999" not in revised.document().model_dump_json()


def test_leaky_draft_with_uncited_number_is_repaired_by_one_revision(tmp_path, fake_openai):
    seen = {"bad": 0}

    def model(prompt, body):
        user = body["messages"][-1]["content"]
        if prompt == "draft_sentence.body" and "rejected because" not in user and seen["bad"] == 0:
            seen["bad"] += 1
            return {"sentence": "Certainly! The tram will carry 90000 riders a day. I hope this helps!"}
        return good_model(prompt, body)

    fake_openai.set_responder(model)
    result = draft_brief([STORY], config=settings_for(tmp_path, fake_openai.base_url, mode="sentence"))
    assert result.status == "published"
    revisions = [r for r in fake_openai.requests
                 if r[0] == "draft_sentence.body" and "rejected because" in r[1]["messages"][-1]["content"]]
    assert len(revisions) == 1  # the leaky body sentence (other sections may be revised for their purpose)
    feedback = revisions[0][1]["messages"][-1]["content"]
    assert "90000" in feedback and "leakage" in feedback.lower()
    assert all(s.kind == "drafted" for p in result.brief.body for s in p.sentences)
    assert "hope this helps" not in result.document().model_dump_json().lower()


def test_draft_failing_at_the_revision_limit_is_rejected(tmp_path, fake_openai):
    def model(prompt, body):
        if prompt.startswith("draft_sentence.body"):
            return {"sentence": "Let me know if you'd like more detail on the 77 new trams."}
        return good_model(prompt, body)

    fake_openai.set_responder(model)
    settings = settings_for(tmp_path, fake_openai.base_url, mode="sentence", fallback="reject", max_revisions=1)
    result = draft_brief([STORY], config=settings)
    assert result.status == "rejected"
    codes = {v.code for v in result.report.violations}
    assert {"chatbot-leakage", "unsupported-number"} <= codes


def test_fallback_quotes_the_source_instead_of_inventing(tmp_path, fake_openai):
    def model(prompt, body):
        if prompt.startswith("draft_sentence"):
            return {"sentence": "Mayor Jonas Ekberg promised 5000 new jobs."}
        return good_model(prompt, body)

    fake_openai.set_responder(model)
    result = draft_brief([STORY], config=settings_for(tmp_path, fake_openai.base_url, mode="sentence", max_revisions=1))
    assert result.status == "published"
    sentences = [s for sents in result.brief.cited_sections().values() for s in sents]
    assert sentences and all(s.kind in ("extracted", "notice") for s in sentences)
    assert "Ekberg" not in result.document().model_dump_json()
    for s in sentences:
        if s.kind == "extracted":
            assert s.text in result.passages[s.citations[0]].text


def test_endpoint_that_keeps_failing_raises_llm_error_and_writes_no_brief(tmp_path, fake_openai):
    fake_openai.set_responder(lambda prompt, body: Status(503))
    out = tmp_path / "out"
    with pytest.raises(LLMUnavailable):
        draft_brief([STORY], config=settings_for(tmp_path, fake_openai.base_url))
    assert not out.exists()
    assert all(n <= 2 for n in (fake_openai.attempts(p) for p in {r[0] for r in fake_openai.requests}))


def test_no_usable_sources_makes_no_llm_call(tmp_path, fake_openai):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "empty.md").write_text("   \n")
    (tmp_path / "src" / "cookie.md").write_text("Accept cookies\nSubscribe to our newsletter\n")
    with pytest.raises(NoUsableSources):
        draft_brief([tmp_path / "src"], config=settings_for(tmp_path, fake_openai.base_url))
    assert fake_openai.requests == []
