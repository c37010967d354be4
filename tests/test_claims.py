"""Claim support layers: deterministic rules first, the judge (fake server on loopback) for the rest."""

from __future__ import annotations

import pytest

from agent.checks.claims import check_claims
from agent.config import load_settings
from agent.deps import build_claim_judge
from agent.model.llm import CallLog
from agent.schema import Passage, Sentence

SOURCE = ("Rain fell for three days. The Velden council approved the tram extension on Tuesday by 9 votes to 4. "
          "Construction starts in May.")
START = SOURCE.index("The Velden")
PASSAGE = Passage(id="S1:2", source_id="src1", text=SOURCE[START:], start=START, end=len(SOURCE))
PASSAGES = {"S1:2": PASSAGE}


def judge_for(fake, *replies):
    settings = load_settings(overrides={"judge": {"base_url": fake.base_url, "max_attempts": 1, "max_reasks": 0},
                                        "check": {"layers": "judge"}}, env={})
    fake.enqueue("judge_claim", *replies)
    return build_claim_judge(settings, CallLog())


CASES = [
    # sentence, judge replies, supported, layer, violation codes, judge calls
    ("The Velden council approved the tram extension on Tuesday.", [], True, "deterministic", [], 0),
    ("The Velden council approved the tram extension by 12 votes.", [], False, "deterministic",
     ["unsupported-number"], 0),
    ("Councillors backed plans for longer light-rail service.", [{"supported": True, "unsupported_part": ""}],
     True, "judge", [], 1),
    ("Councillors rejected plans for longer light-rail service.",
     [{"supported": False, "unsupported_part": "rejected"}], False, "judge", ["unsupported-claim"], 1),
    ("Councillors backed plans for longer light-rail service.", ["no json here"], False, "deterministic",
     ["unsupported-content"], 1),
]


@pytest.mark.parametrize("text,replies,supported,layer,codes,calls", CASES)
def test_layers_decide_in_order(fake_openai, text, replies, supported, layer, codes, calls):
    judge = judge_for(fake_openai, *replies)
    violations, (verdict,) = check_claims("body", [Sentence(text=text, citations=["S1:2"])], PASSAGES, judge=judge)
    assert (verdict.supported, verdict.layer) == (supported, layer)
    assert [v.code for v in violations] == codes
    assert fake_openai.attempts("judge_claim") == calls
    if layer == "judge" and not supported:
        assert "rejected" in violations[0].message and verdict.unsupported == "rejected"


def test_without_a_judge_the_deterministic_layer_decides_everything():
    violations, (verdict,) = check_claims(
        "body", [Sentence(text="Councillors backed plans for longer light-rail service.", citations=["S1:2"])], PASSAGES)
    assert verdict.layer == "deterministic" and not verdict.supported
    assert [v.code for v in violations] == ["unsupported-content"]


def test_evidence_span_points_into_the_source_text():
    _, (verdict,) = check_claims("body", [Sentence(text="Construction will start in May, the council said.", citations=["S1:2"])], PASSAGES)
    (span,) = verdict.evidence
    assert span.passage == "S1:2" and span.quote == "Construction starts in May."
    assert SOURCE[span.start:span.end] == span.quote


def test_judge_prompt_carries_the_claim_and_the_datamarked_document(fake_openai):
    judge = judge_for(fake_openai, {"supported": True, "unsupported_part": ""})
    check_claims("body", [Sentence(text="Councillors backed plans for longer light-rail service.",
                                   citations=["S1:2"])], PASSAGES, judge=judge)
    (_, body, _), = fake_openai.requests
    user = body["messages"][-1]["content"]
    assert "Claim: Councillors backed plans for longer light-rail service." in user
    assert "<document>" in user and "tram" in user and "substantiated" in user
