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


def model_with_nuance(reply):
    def respond(prompt, body):
        if prompt == "nuance":
            fact = re.search(r"disagree on a figure: (.+?) gives (.+?), (Outlet \w+) (.+?)\.\n", body["messages"][-1]["content"])
            first, first_value, second, second_value = fact.groups()
            return {"sentence": reply.format(first=first, second=second, a=first_value, b=second_value)}
        if prompt == "headline":
            return {"headline": "Orsk port authority approves dredging plan",
                    "dek": "The Orsk port authority approved the dredging plan on Monday."}
        return good_model(prompt, body)
    return respond


@pytest.mark.parametrize("reply,worded", [
    ("{first} puts the plan at {a}, while {second} says it will cost {b}.", True),
    ("{first} and {second} disagree about what the plan will cost.", False),   # dropped the figures
    ("{first} puts it at {a}, others at {b}.", False),                         # dropped an outlet
])
def test_the_drafter_words_the_dispute_only_when_it_keeps_outlets_and_figures(tmp_path, fake_openai, reply, worded):
    fake_openai.set_responder(model_with_nuance(reply))
    result = draft_brief([write_corpus(tmp_path / "src")],
                         config=settings_for(tmp_path, fake_openai.base_url, mode="section"))
    assert result.status == "published", result.report
    disputes = [s for s in result.brief.nuance if s.kind == "computed"]
    assert len(disputes) == 1 and fake_openai.attempts("nuance") == 1
    (dispute,) = disputes
    if worded:
        assert dispute.text.endswith("says it will cost 300 million euro.") or dispute.text.endswith(
            "says it will cost 450 million euro."), dispute.text
    else:
        assert dispute.text.startswith("Sources disagree on a figure:")
    assert "300" in dispute.text and "450" in dispute.text
    assert len(dispute.citations) == 2
    assert "contradicted" in result.brief.veracity.rationale
