"""'The nuance': disagreements are computed from passages, worded by the drafter, and kept honest."""

from __future__ import annotations

import re

import pytest

from agent.api import draft_brief
from tests.test_graph import good_model, settings_for
from tests.test_veracity import STORIES


def write_corpus(folder):
    folder.mkdir()
    for name in ("wire", "daily", "rival"):
        (folder / f"{name}.md").write_text(f"---\noutlet: Outlet {name}\ntitle: Orsk dredging plan\n---\n{STORIES[name]}\n")
    return folder


FACT = re.compile(r"disagree on a figure: (.+?) gives (.+?), (Outlet \w+) (.+?)\.\n")
HEADLINE = {"headline": "Orsk port authority approves dredging plan",
            "dek": "The Orsk port authority approved the dredging plan on Monday."}


def model_with_nuance(reply):
    def word(fact):
        first, first_value, second, second_value = fact.groups()
        return reply.format(first=first, second=second, a=first_value, b=second_value)

    def respond(prompt, body):
        if prompt == "nuance":
            return {"sentence": word(FACT.search(body["messages"][-1]["content"]))}
        if prompt == "headline":
            return dict(HEADLINE)
        if prompt == "draft_brief":  # the one-call draft words the disputes too
            out = good_model(prompt, body)
            return {**out, **HEADLINE, "disputes": [word(f) for f in FACT.finditer(body["messages"][-1]["content"])]}
        return good_model(prompt, body)
    return respond


@pytest.mark.parametrize("reply,worded", [
    ("{first} puts the plan at {a}, while {second} says it will cost {b}.", True),
    ("{first} and {second} disagree about what the plan will cost.", False),   # dropped the figures
    ("{first} puts it at {a}, others at {b}.", False),                         # dropped an outlet
])
@pytest.mark.parametrize("mode, nuance_calls", [("section", 0), ("sentence", 1)])  # section: in the one call
def test_the_drafter_words_the_dispute_only_when_it_keeps_outlets_and_figures(tmp_path, fake_openai, reply, worded,
                                                                               mode, nuance_calls):
    fake_openai.set_responder(model_with_nuance(reply))
    result = draft_brief([write_corpus(tmp_path / "src")],
                         config=settings_for(tmp_path, fake_openai.base_url, mode=mode))
    assert result.status == "published", result.report
    disputes = [s for s in result.brief.nuance if s.kind == "computed"]
    assert len(disputes) == 1 and fake_openai.attempts("nuance") == nuance_calls
    (dispute,) = disputes
    if worded:
        assert dispute.text.endswith("says it will cost 300 million euro.") or dispute.text.endswith(
            "says it will cost 450 million euro."), dispute.text
    else:
        assert dispute.text.startswith("Sources disagree on a figure:")
    assert "300" in dispute.text and "450" in dispute.text
    assert len(dispute.citations) == 2
    assert "contradicted" in result.brief.veracity.rationale
