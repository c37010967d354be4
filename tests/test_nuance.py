"""'The nuance': disagreements are computed from passages, worded by the drafter, and kept honest."""

from __future__ import annotations

import pytest

from agent.api import draft_brief
from tests.fakes import model_with_nuance, settings_for, write_corpus


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
