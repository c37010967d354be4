"""Context too long: pack to fit, shrink on a context-length error, never send the same request twice."""

from __future__ import annotations

import json

from agent.api import draft_brief
from tests.fakes import PASSAGE_RE, STORY, Status, good_model, settings_for

CONTEXT_ERROR = Status(400, body=json.dumps({"error": {
    "message": "This model's maximum context length is 512 tokens, however you requested 2000 tokens.",
    "type": "invalid_request_error", "code": "context_length_exceeded"}}))


def requests_for(fake, name):
    return [json.dumps(body["messages"], sort_keys=True) for n, body, _ in fake.requests if n == name]


def test_shrinks_on_a_context_length_error_and_never_repeats_a_request(tmp_path, fake_openai):
    limit = {"n": None}

    def small_context(prompt, body):
        passages = PASSAGE_RE.findall(body["messages"][-1]["content"])
        if prompt.startswith(("draft_section", "draft_brief")) and len(passages) > 1:  # the one call too
            return CONTEXT_ERROR
        return good_model(prompt, body)

    fake_openai.set_responder(small_context)
    result = draft_brief([STORY], config=settings_for(tmp_path, fake_openai.base_url, mode="section",
                                                       passages_per_section=4, max_passages_per_source=2))
    assert result.status == "published"
    sent = requests_for(fake_openai, "draft_section.body")
    assert len(sent) >= 2 and len(sent) == len(set(sent))  # shrank, never resent
    last = json.loads(sent[-1])
    assert len(PASSAGE_RE.findall(last[-1]["content"])) == 1
    attempts = [n for n, _, _ in fake_openai.requests if n == "draft_section.body"]
    assert len(attempts) <= 3  # 4 passages -> 2 -> 1: no retries of a 400


def test_packs_passages_to_fit_the_configured_context(tmp_path, fake_openai):
    fake_openai.set_responder(good_model)
    settings = settings_for(tmp_path, fake_openai.base_url, mode="section", passages_per_section=6,
                            max_passages_per_source=3)
    data = settings.model_dump()
    data["drafter"].update(context_tokens=512, max_tokens=128)  # room for about one or two passages
    settings = type(settings).model_validate(data)
    wide = draft_brief([STORY], config=settings_for(tmp_path / "wide", fake_openai.base_url, mode="section",
                                                    passages_per_section=6, max_passages_per_source=3))
    most = max(len(PASSAGE_RE.findall(b["messages"][-1]["content"])) for n, b, _ in fake_openai.requests
               if n.startswith(("draft_section", "draft_brief")))
    fake_openai.requests.clear()
    result = draft_brief([STORY], config=settings)
    assert result.status == wide.status == "published"
    packed = max(len(PASSAGE_RE.findall(b["messages"][-1]["content"])) for n, b, _ in fake_openai.requests
                 if n.startswith("draft_section"))
    assert packed < most
    for name, body, _ in fake_openai.requests:
        if name.startswith("draft_section"):
            chars = sum(len(m["content"]) for m in body["messages"])
            assert chars // 3 + 16 <= 512 - 128 or len(PASSAGE_RE.findall(body["messages"][-1]["content"])) == 1
