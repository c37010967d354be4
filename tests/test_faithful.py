"""Faithful drafting, node by node: every published sentence is a cleaned source sentence; the
model may only shorten by verified deletion; a failing sentence is replaced, never rewritten."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import load_settings
from agent.draft.extractive import compose, gather_candidates, rank_lead_first
from agent.house_format import SECTIONS
from agent.analysis.independence import group_sources
from agent.sources.ingest import load_sources, split_passages
from agent.nodes import check, fallback, first_draft as draft, revise
from agent.state import BriefState, Deps
from agent.schema import CheckReport, Violation
from tests.fakes import STORY, ScriptedModel, never_valid


def story_state(language: str = "en") -> BriefState:
    settings = load_settings(env={})
    sources = load_sources([STORY], settings.ingest).sources
    passages = {p.id: p for n, s in enumerate(sources, 1) for p in split_passages(s, n, 200)}
    return BriefState(sources=sources, passages=passages, groups=group_sources(sources), language=language,
                      selected={key: [] for key in SECTIONS})


def deps(model=None) -> Deps:
    return Deps(settings=load_settings(overrides={"embeddings": {"backend": "hashing"}}, env={}), store=None,
                drafter=model or ScriptedModel(otherwise=never_valid), mode="faithful")


def _words(text: str) -> list[str]:
    return [w.strip(".,;:\"'“”").casefold() for w in text.split() if w.strip(".,;:\"'“”")]


def _is_deletion_of(candidate: str, source: str) -> bool:
    have = iter(_words(source))
    return all(any(w == h for h in have) for w in _words(candidate))


def test_every_drafted_sentence_is_a_cleaned_sentence_of_its_cited_passage():
    state = story_state()
    update = draft(state, deps())
    sentences = [s for sents in update["sections"].values() for s in sents if s.kind == "selected"]
    assert len(sentences) >= 5
    for s in sentences:
        assert len(s.citations) == 1 and _is_deletion_of(s.text, state.passages[s.citations[0]].text), s.text
    texts = [s.text for s in sentences] + [update["dek"]]
    assert len(texts) == len(set(texts))  # no sentence twice
    assert not any("let me know" in t.casefold() or "|" in t for t in texts)


def test_the_lead_is_the_corroborated_news_and_the_headline_its_own_title():
    state = story_state()
    update = draft(state, deps())
    assert "voted 31 to 9" in update["dek"]  # reported by two outlets, on Tuesday, first in its story
    assert update["headline"] == "Velden council approves tram line extension"
    wire = next(src.id for src in state.sources if src.outlet == "Northfield Wire")
    assert [state.passages[pid].source_id for pid in update["dek_citations"]] == [wire]


def test_sections_answer_their_questions_or_say_so():
    update = draft(story_state(), deps())
    watch = [s.text for s in update["sections"]["what_to_watch"]]
    assert any("September" in t or "due to open" in t for t in watch), watch
    benefits = update["sections"]["who_benefits"][0].text
    assert "Halden Bau" in benefits or "shop owners" in benefits, benefits


def test_a_shortening_is_kept_only_when_it_deletes_and_keeps_the_facts():
    from agent.draft.faithful import shorten

    sentence = ("The extension will cost 240 million euros and is due to open in 2029, council spokesperson "
                "Anika Rost said.")
    faithful = "The extension will cost 240 million euros and is due to open in 2029, Anika Rost said."
    model = ScriptedModel({"compress": [{"sentence": text} for text in (
        faithful,  # deletes "council spokesperson" only
        "The extension will cost 240 million euros and is due to open in 2029.",  # drops the attribution
        "The extension will cost 300 million euros and is due to open in 2029, Anika Rost said.",  # a new figure
        "The extension will cost 240 million euros, Anika Rost said.",  # drops a date
        "The extension will cost 240 million euros and will open in 2029, Anika Rost said.",  # adds a word
    )]})
    d = deps(model)
    assert shorten(d, sentence, 17, {}) == faithful
    for _ in range(4):
        assert shorten(d, sentence, 17, {}) is None
    memo: dict[str, str] = {}
    assert shorten(deps(), sentence, 17, memo) is None and memo  # a failed call is remembered


def test_revise_replaces_a_failing_sentence_with_another_source_sentence():
    state = story_state()
    d = deps()
    state = BriefState(**{**state.__dict__, **draft(state, d)})
    bad = state.sections["body"][0]
    report = CheckReport(status="fail", violations=[Violation(code="meaning-changed", section="body",
                                                              sentence_index=0, message="direction changed")])
    revised = revise(BriefState(**{**state.__dict__, "report": report}), d)
    texts = [s.text for sents in revised["sections"].values() for s in sents]
    assert bad.text not in texts and bad.text in revised["excluded"]
    assert revised["revision"] == 1 and d.drafter.calls == []  # no model call to repair


def test_fallback_says_plainly_what_still_fails():
    state = story_state()
    d = deps()
    state = BriefState(**{**state.__dict__, **draft(state, d)})
    report = CheckReport(status="fail", violations=[
        Violation(code="off-purpose", section="who_benefits", sentence_index=0, message="names no beneficiary")])
    update = fallback(BriefState(**{**state.__dict__, "report": report}), d)
    assert [s.kind for s in update["sections"]["who_benefits"]] == ["notice"]
    assert update["sections"]["who_benefits"][0].text == SECTIONS["who_benefits"].notice


def test_the_faithful_draft_passes_the_checker():
    state = story_state()
    d = deps()
    state = BriefState(**{**state.__dict__, **draft(state, d)})
    report = check(state, d)["report"]
    assert report.status == "pass", [(v.code, v.section, v.text[:60], v.message) for v in report.violations]


def test_lead_first_prefers_a_corroborated_specific_sentence_over_a_generality():
    state = story_state()
    candidates = gather_candidates(state.sources, state.passages, state.groups, list(state.passages), "en")
    lead = rank_lead_first(candidates)[0]
    assert lead.corroboration >= 1 and lead.specifics >= 3


@pytest.mark.parametrize("language,notice", [("en", "The sources name no next steps to watch."),
                                             ("es", "Las fuentes no mencionan próximos pasos que vigilar.")])
def test_a_section_with_no_answer_gets_a_notice_in_the_brief_language(language, notice):
    composition = compose([], {key: 1 for key in SECTIONS}, language, None)
    assert composition.lead is None and composition.sections["what_to_watch"] == []
    assert SECTIONS["what_to_watch"].notice_in(language) == notice


def test_a_thin_story_still_gets_a_body_sentence():
    from agent.schema import Source

    text = ("Residents of Marrow Bay say a new ferry to the mainland will start in May, according to a notice at the "
            "harbour office. The notice did not say who would run the ferry or how often it would sail.")
    source = Source(id="src-thin", outlet="Marrow Bay Board", title="New ferry to the mainland", text=text, language="en")
    passages = {p.id: p for p in split_passages(source, 1, 400)}
    candidates = gather_candidates([source], passages, group_sources([source]), list(passages), "en")
    composition = compose(candidates, {key: spec.default_count for key, spec in SECTIONS.items()}, "en", None)
    assert composition.lead is not None and "ferry" in composition.lead.text
    assert [c.text for c in composition.sections["body"]] == [candidates[1].text]


def test_the_harbour_example_states_its_cost_dispute_with_the_right_outlets():
    settings = load_settings(env={})
    root = Path(__file__).resolve().parent.parent
    sources = load_sources([root / "examples" / "harbor-desalination"], settings.ingest).sources
    passages = {p.id: p for n, s in enumerate(sources, 1) for p in split_passages(s, n, 400)}
    selected = {key: list(passages) for key in SECTIONS}
    state = BriefState(sources=sources, passages=passages, groups=group_sources(sources), selected=selected)
    nuance = draft(state, deps())["sections"]["nuance"]
    disputes = [s.text for s in nuance if s.kind == "computed"]
    assert disputes == ["Sources disagree on a figure: Meridian Wire gives 1.2 billion crowns, Coastline Ledger "
                        "1.4 billion crowns."]


@pytest.mark.parametrize("sentence,usable", [
    ("Western partners should adopt a firmer line on the new port.", False),  # the source's own opinion
    ("The council must publish the full cost before the vote in June.", False),
    ("Union leader Lena Voss said the port should raise its offer.", True),  # attributed: reported, not ours
    ("According to the regulator, operators must cut prices by 5 percent.", True),
    ("The port raised its offer to 4 percent on Monday.", True),
])
def test_an_unattributed_opinion_is_not_selected(sentence, usable):
    from agent.draft.extractive import _usable

    assert _usable(sentence) is usable


def test_a_spanish_dispute_is_stated_in_spanish_with_both_outlets():
    settings = load_settings(env={})
    root = Path(__file__).resolve().parent.parent
    sources = load_sources([root / "evals" / "sources" / "metro-cost-dispute-es"], settings.ingest).sources
    passages = {p.id: p for n, s in enumerate(sources, 1) for p in split_passages(s, n, 400)}
    state = BriefState(sources=sources, passages=passages, groups=group_sources(sources), language="es",
                       selected={key: [] for key in SECTIONS})
    disputes = [s.text for s in draft(state, deps())["sections"]["nuance"] if s.kind == "computed"]
    assert disputes == ["Las fuentes discrepan en una cifra: Diario del Tajo da 55 millones de euros; Agencia Meseta, "
                        "40 millones de euros."]
