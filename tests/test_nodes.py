"""Nodes called directly: a state, small injected fakes, an assertion on the partial update.
No chromadb and no HTTP: the router, passage selection, revise and fallback in milliseconds."""

from __future__ import annotations

import pytest

from agent.config import load_settings
from agent.draft.drafting import select_passages
from agent.errors import LLMOutputInvalid
from agent.graph import route_after_check
from agent.house_format import SECTIONS
from agent.analysis.independence import group_sources
from agent.nodes import UNTRACKED, fallback, revise
from agent.schema import CheckReport, Passage, Sentence, Source, Violation
from agent.state import BriefState, Deps, Status
from tests.fakes import ScriptedModel

A = "The Lisk harbour board approved a ferry terminal on Monday after a long debate."
B = "The terminal will cost 85 million crowns and is expected to open in 2028, the board said."
C = "Fishermen fear the works will close the north quay for two years, their union said."
SOURCES = [Source(id="src-a", outlet="Lisk Post", title="Lisk approves ferry terminal", text=f"{A} {B}"),
           Source(id="src-b", outlet="Quay Weekly", title="Fishermen fear quay closure", text=C)]
PASSAGES = {"S1:1": Passage(id="S1:1", source_id="src-a", text=A, start=0, end=len(A)),
            "S1:2": Passage(id="S1:2", source_id="src-a", text=B, start=len(A) + 1, end=len(A) + 1 + len(B)),
            "S2:1": Passage(id="S2:1", source_id="src-b", text=C, start=0, end=len(C))}


def deps(mode="section", drafter=None, **draft) -> Deps:
    settings = load_settings(overrides={"embeddings": {"backend": "hashing"}, "draft": draft}, env={})
    return Deps(settings=settings, store=None, drafter=drafter or ScriptedModel(), mode=mode)


def report(*violations: tuple[str, int | None, str]) -> CheckReport:
    return CheckReport.from_violations([Violation(code="unsupported-number", section=section, sentence_index=index,
                                                  message=message) for section, index, message in violations])


def state(**changes) -> BriefState:
    sections = {key: [Sentence(text=SECTIONS[key].notice, kind="notice")] for key in SECTIONS}
    sections["body"] = [Sentence(text="The Lisk harbour board approved a ferry terminal.", citations=["S1:1"]),
                        Sentence(text="It will cost 999 million crowns.", citations=["S1:2"])]
    base = BriefState(sources=SOURCES, passages=PASSAGES, sections=sections, headline="Lisk backs terminal",
                      groups=group_sources(SOURCES),
                      dek="A ferry terminal for Lisk.", selected={"body": ["S1:1", "S1:2"], "nuance": ["S2:1"]})
    return base.with_(**changes)


# --- the router -----------------------------------------------------------------------------

PASS, FAIL = CheckReport(status="pass"), report(("body", 0, "bad"))


@pytest.mark.parametrize("verdict, revision, fell_back, fallback_setting, expected", [
    (PASS, 0, False, "extract", "finalize"),
    (PASS, 2, True, "extract", "finalize"),
    (FAIL, 0, False, "extract", "revise"),
    (FAIL, 1, False, "extract", "revise"),
    (FAIL, 2, False, "extract", "fallback"),
    (FAIL, 2, True, "extract", "finalize"),
    (FAIL, 2, False, "reject", "finalize"),
    (None, 2, False, "extract", "fallback"),  # no report yet is not a pass
])
def test_route_after_check(verdict, revision, fell_back, fallback_setting, expected):
    s = state(report=verdict, revision=revision, fell_back=fell_back)
    assert route_after_check(s, deps(max_revisions=2, fallback=fallback_setting)) == expected


def test_route_with_no_revisions_goes_straight_to_fallback():
    assert route_after_check(state(report=FAIL), deps(max_revisions=0)) == "fallback"


# --- passage selection ----------------------------------------------------------------------

MANY = {f"S{s}:{k}": Passage(id=f"S{s}:{k}", source_id=f"src-{s}", text="x", start=0, end=1)
        for s in (1, 2, 3) for k in (1, 2, 3)}


@pytest.mark.parametrize("ranked, limit, per_source, avoid, expected", [
    (["S1:1", "S1:2", "S2:1"], 2, 3, set(), ["S1:1", "S1:2"]),  # best-ranked first
    (["S1:1", "S1:2", "S1:3", "S2:1"], 3, 2, set(), ["S1:1", "S1:2", "S2:1"]),  # at most 2 from one source
    (["S1:1", "S2:1", "S3:1"], 2, 3, {"S1:1"}, ["S2:1", "S3:1"]),  # another section's passage is avoided
    (["S1:1", "S2:1"], 2, 3, {"S1:1", "S2:1"}, ["S1:1", "S2:1"]),  # ... unless nothing else is left
    (["S1:1", "S1:1", "S2:2"], 3, 3, set(), ["S1:1", "S2:2"]),  # a repeated hit counts once
    ([], 2, 3, set(), []),
])
def test_select_passages(ranked, limit, per_source, avoid, expected):
    assert select_passages(ranked, MANY, limit, per_source, avoid=avoid) == expected


# --- revise ---------------------------------------------------------------------------------

SECTION_REPLY = {"sentences": [{"text": "The terminal will cost 85 million crowns.", "citations": ["S1:2"]}]}
REVISION = {"sentences": [{"text": "The terminal will cost 85 million crowns.", "citations": ["S1:2"]}]}


def test_revise_section_mode_rewrites_only_the_failing_sentence_in_one_call():
    drafter = ScriptedModel({"revise_brief": REVISION})
    s = state(report=report(("body", 1, "'999' does not occur in the cited passage(s)")))
    update = revise(s, deps(drafter=drafter))
    assert drafter.names == ["revise_brief"]
    sent = drafter.calls[0].prompt
    assert "'999' does not occur" in sent and sent.count("Rejected:") == 1 and "It will cost 999" in sent
    assert update["sections"]["body"] == [s.sections["body"][0], Sentence(text=REVISION["sentences"][0]["text"],
                                                                           citations=["S1:2"])]
    assert update["sections"]["nuance"] == s.sections["nuance"]  # untouched sections are kept as they are
    assert update["revision"] == 1 and "headline" not in update and "trend" not in update


def test_revise_section_mode_falls_back_to_redrafting_the_section_when_the_one_call_fails():
    drafter = ScriptedModel({"revise_brief": LLMOutputInvalid("no valid JSON"), "draft_section": SECTION_REPLY})
    update = revise(state(report=report(("body", 1, "bad"))), deps(drafter=drafter))
    assert drafter.names == ["revise_brief", "draft_section.body"]
    assert update["sections"]["body"][0].text == "The terminal will cost 85 million crowns."


@pytest.mark.parametrize("failing, headline_asked", [
    ([("body", 1, "bad figure")], False),  # a body fix does not re-draft the headline
    ([("headline", None, "too long")], True),
    ([("dek", None, "repeats the body")], True),
])
def test_revise_redrafts_the_headline_only_when_it_failed(failing, headline_asked):
    reply = {**(REVISION if failing[0][0] == "body" else {"sentences": []}),
             **({"headline": "Lisk approves terminal", "dek": "A new dek."} if headline_asked else {})}
    drafter = ScriptedModel({"revise_brief": reply})
    update = revise(state(report=report(*failing)), deps(drafter=drafter))
    assert ("were rejected:" in drafter.calls[0].prompt) == headline_asked
    assert ("headline" in update) == headline_asked
    if headline_asked:
        assert (update["headline"], update["dek"]) == ("Lisk approves terminal", "A new dek.")


def test_revise_sentence_mode_spends_a_call_only_on_the_failing_sentence():
    drafter = ScriptedModel({"draft_sentence": {"sentence": "The terminal will cost 85 million crowns."}})
    s = state(report=report(("body", 1, "'999' does not occur")))
    update = revise(s, deps(mode="sentence", drafter=drafter))
    assert drafter.names == ["draft_sentence.body"]
    assert update["sections"]["body"][0] == s.sections["body"][0]  # passed the checker: kept, no call
    assert update["sections"]["body"][1].text == "The terminal will cost 85 million crowns."


def test_revise_falls_back_to_the_source_when_the_model_never_answers():
    drafter = ScriptedModel({"revise_brief": LLMOutputInvalid("no valid JSON"),
                             "draft_section": LLMOutputInvalid("no valid JSON")})
    update = revise(state(report=report(("body", 1, "bad"))), deps(drafter=drafter))
    assert {s.kind for s in update["sections"]["body"]} == {"extracted"}
    assert all(s.text in A + " " + B for s in update["sections"]["body"])


def test_revise_a_failing_trend_becomes_untracked_without_a_call():
    drafter = ScriptedModel()
    update = revise(state(report=report(("trend", None, "names this story"))), deps(drafter=drafter))
    assert update["trend"] == UNTRACKED and drafter.calls == []


def test_revise_faithful_mode_excludes_what_failed_and_never_rewrites():
    s = state(report=report(("body", 1, "bad")), language="en")
    update = revise(s, deps(mode="faithful"))
    assert "It will cost 999 million crowns." in update["excluded"]
    kept = [x.text for key in SECTIONS for x in update["sections"][key]]
    assert "It will cost 999 million crowns." not in kept
    assert all(x.kind in ("selected", "notice", "computed") for key in SECTIONS for x in update["sections"][key])


# --- fallback -------------------------------------------------------------------------------


def test_fallback_replaces_a_failing_sentence_with_a_source_sentence():
    update = fallback(state(report=report(("body", 1, "bad"))), deps(drafter=ScriptedModel()))
    body = update["sections"]["body"]
    assert update["fell_back"] is True and body[0].text == "The Lisk harbour board approved a ferry terminal."
    assert body[1].kind == "extracted" and body[1].text in B and body[1].citations == ["S1:2"]


def test_fallback_says_so_plainly_when_no_source_sentence_fits():
    s = state(report=report(("who_benefits", 0, "bad")))
    s.sections["who_benefits"] = [Sentence(text="Everyone wins.", citations=["S2:1"])]
    update = fallback(s, deps(drafter=ScriptedModel()))
    assert update["sections"]["who_benefits"] == [Sentence(text=SECTIONS["who_benefits"].notice, kind="notice")]


def test_fallback_headline_is_the_lead_sources_own_title():
    update = fallback(state(report=report(("headline", None, "too long"))), deps(drafter=ScriptedModel()))
    assert update["headline"] == "Lisk approves ferry terminal"


def test_fallback_faithful_mode_drops_what_fails_and_leaves_a_notice_when_nothing_is_left():
    s = state(report=report(("body", 0, "bad"), ("body", 1, "bad"), ("nuance", 0, "bad")))
    update = fallback(s, deps(mode="faithful"))
    assert update["sections"]["body"] == [Sentence(text=SECTIONS["body"].notice, kind="notice")]
    assert [x.kind for x in update["sections"]["nuance"]] == ["notice"]


def test_finalize_status_is_the_enum_and_reads_as_text():
    from agent.nodes import finalize

    assert finalize(state(report=PASS), deps())["status"] == Status.PUBLISHED == "published"
    assert finalize(state(report=FAIL), deps())["status"] == "rejected"


# --- draft (section mode): the whole brief in one call -------------------------------------------

WHOLE = {"sections": {"body": [{"text": "The Lisk harbour board approved a ferry terminal.", "citations": ["S1:1"]}],
                      "nuance": [{"text": "Fishermen fear the works will close the north quay.", "citations": ["S2:1"]}]},
         "headline": "Lisk approves ferry terminal", "dek": "The board backs an 85 million crown terminal.",
         "trend": {"name": "Harbours Rebuild for Ferries", "description": "Coastal towns invest in ferry links."},
         "disputes": []}


def test_draft_section_mode_writes_sections_headline_and_trend_in_one_call():
    from agent.nodes import first_draft

    drafter = ScriptedModel({"draft_brief": WHOLE})
    s = state(sections={}, headline="", dek="")
    update = first_draft(s, deps(drafter=drafter))
    assert drafter.names == ["draft_brief"]
    prompt = drafter.calls[0].prompt
    assert '"body": ' in prompt and '"nuance": ' in prompt and '"who_benefits"' not in prompt  # no passages: not asked
    assert update["drafted_whole"] is True and update["headline"] == "Lisk approves ferry terminal"
    assert update["trend"].name == "Harbours Rebuild for Ferries" and update["trend"].provisional
    assert update["sections"]["who_benefits"] == [Sentence(text=SECTIONS["who_benefits"].notice, kind="notice")]
    assert update["sections"]["body"][0].citations == ["S1:1"]


def test_draft_section_mode_falls_back_to_a_call_per_section_when_the_one_call_fails():
    from agent.nodes import first_draft

    drafter = ScriptedModel({"draft_brief": LLMOutputInvalid("truncated"), "draft_section": SECTION_REPLY,
                             "headline": {"headline": "Lisk approves terminal", "dek": "A new dek."},
                             "trend": {"name": "Harbours Rebuild",
                                       "description": "Coastal towns invest in ferry links."}})
    update = first_draft(state(sections={}, headline="", dek=""), deps(drafter=drafter))
    assert drafter.names == ["draft_brief", "draft_section.body", "draft_section.nuance",
                             "headline", "trend"]
    assert not update.get("drafted_whole") and update["headline"] == "Lisk approves terminal"


@pytest.mark.parametrize("reply, kept", [
    ("Lisk Post puts the terminal at 85 million, while Quay Weekly says 95 million.", True),
    ("The outlets disagree about what the terminal will cost.", False),  # dropped the figures
])
def test_the_one_call_words_a_computed_dispute_only_if_outlets_and_figures_survive(reply, kept):
    from agent.nodes import draft

    fact = Sentence(text="Sources disagree on a figure: Lisk Post gives 85 million, Quay Weekly 95 million.",
                    citations=["S1:2", "S2:1"], kind="computed")
    drafter = ScriptedModel({"draft_brief": {**WHOLE, "disputes": [reply]}})
    update = draft(state(sections={}, disputes=[fact]), deps(drafter=drafter))
    assert "1. Sources disagree on a figure: Lisk Post gives 85 million" in drafter.calls[0].prompt
    (computed,) = [x for x in update["sections"]["nuance"] if x.kind == "computed"]
    assert computed.text == (reply if kept else fact.text) and computed.citations == fact.citations
