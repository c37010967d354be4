"""Faithful drafting for a weak model: the brief is composed from cleaned source sentences
(agent/draft/extractive.py); the model may only shorten a sentence by deletion, and a shortening that
fails verification is thrown away in favour of the unchanged source sentence."""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING

from agent.checks.debris import find_debris
from agent.checks.injection import instruction_family
from agent.checks.leakage import find_leakage
from agent.checks.meaning import is_faithful_compression
from agent.errors import ContextTooLong, LLMOutputInvalid
from agent.draft.extractive import MAX_CANDIDATE_PASSAGES, Candidate, compose, gather_candidates
from agent.house_format import LIMITS, SECTIONS, labels
from agent.model.llm_schemas import Shortened
from agent.prompting import render
from agent.schema import Sentence, Source, Trend

if TYPE_CHECKING:
    from agent.state import BriefState, Deps

COMPRESS_OVER_WORDS = 38  # body sentences longer than this are offered to the model for shortening
DEK_WORDS = 25  # a longer lead is offered to the model for a dek of at most this many words
MAX_COMPRESSIONS = 2  # per draft: the weak model is slow, and most sentences need none


def story_date(sources: list[Source]) -> date | None:
    return max((s.published for s in sources if s.published), default=None)


def shorten(deps: "Deps", text: str, max_words: int, memo: dict[str, str]) -> str | None:
    """The model deletes words; kept only if it is a faithful deletion-only compression that fits."""
    key = f"{max_words}:{text}"
    if key in memo:
        return memo[key] or None
    result = ""
    try:
        out = deps.drafter.complete_json("compress", render("compress.drafter", sentence=text, max_words=max_words),
                                         Shortened)
        candidate = " ".join(out.sentence.split()).strip()
        if (len(candidate.split()) <= max_words and candidate != text and is_faithful_compression(candidate, text)
                and not find_debris(candidate, "body")):
            result = candidate
    except (LLMOutputInvalid, ContextTooLong):
        pass
    memo[key] = result
    return result or None


_CLAUSE_CUT = re.compile(r",\s+(?:which|who|where|when|after|as|while|according|including|with|but|and)\b|"
                         r"\s+(?:after|because|while|although|as part of)\s", re.I)


def _clean_title(title: str, language: str) -> bool:
    words = title.split()
    return (3 <= len(words) <= LIMITS.headline_words and not title.rstrip().endswith((".", ":", "?"))
            and not find_leakage(title, "headline") and instruction_family(title) is None
            and not find_debris(title, "headline", allow_fragment=True, language=language))


def headline_for(lead: Sentence | None, lead_source_id: str, sources: list[Source], deps: "Deps", language: str,
                 memo: dict[str, str]) -> str:
    """The lead source's own title; else the lead sentence shortened by verified deletion; else its main clause."""
    if lead is None:
        return next((s.title for s in sources if s.title and _clean_title(s.title, language)), "")
    by_id = {s.id: s for s in sources}
    own = by_id[lead_source_id].title
    if own and _clean_title(own, language):
        return own
    text = lead.text.rstrip(".")
    if len(text.split()) <= LIMITS.headline_words:
        return text
    shortened = shorten(deps, lead.text, LIMITS.headline_words, memo)
    if shortened:
        return shortened.rstrip(".")
    cut = _CLAUSE_CUT.search(text)
    if cut and len(text[:cut.start()].split()) <= LIMITS.headline_words and is_faithful_compression(text[:cut.start()], text):
        return text[:cut.start()]
    return next((s.title for s in sources if s.title and _clean_title(s.title, language)), text)


def trend_for(deps: "Deps", summary: str, language: str) -> Trend:
    """A tracked trend the story really belongs to (the registry's threshold), else said plainly."""
    if deps.trends is not None and (found := deps.trends.lookup(summary)) is not None:
        return found
    words = labels(language)
    return Trend(name=words.untracked_name, description=words.untracked_description, provisional=False)


def _section_sentences(key: str, picked: list[Candidate], language: str, deps: "Deps",
                       memo: dict[str, str], budget: list[int]) -> list[Sentence]:
    out = []
    for c in picked:
        text = c.text
        if key == "body" and len(text.split()) > COMPRESS_OVER_WORDS and budget[0] > 0:
            budget[0] -= 1
            text = shorten(deps, text, COMPRESS_OVER_WORDS, memo) or text
        out.append(c.sentence(text))
    return out or [Sentence(text=SECTIONS[key].notice_in(language), kind="notice")]


def compose_faithful(state: "BriefState", deps: "Deps", exclude: set[str] = frozenset()) -> dict:
    """Every section from source sentences, and the lead sentence the headline and dek will come from."""
    language = state.language
    settings = deps.settings.draft
    if len(state.passages) <= MAX_CANDIDATE_PASSAGES:  # a brief's usual handful of sources: read them all
        passage_ids = list(state.passages)
    else:  # a large corpus: what retrieval chose for each section, and every source's opening
        passage_ids = list(dict.fromkeys([pid for ids in state.selected.values() for pid in ids] +
                                         [pid for pid in state.passages if int(pid.split(":")[1]) <= 2]))
    candidates = gather_candidates(state.sources, state.passages, state.groups, passage_ids, language)
    counts = {key: spec.count(settings) for key, spec in SECTIONS.items()}
    composition = compose(candidates, counts, language, story_date(state.sources), exclude=exclude,
                          per_source=settings.max_passages_per_source)
    memo = dict(state.shortened)
    budget = [MAX_COMPRESSIONS]
    sections = {key: _section_sentences(key, composition.sections.get(key, []), language, deps, memo, budget)
                for key in SECTIONS}
    lead = composition.lead.sentence() if composition.lead else None
    return {"sections": sections, "lead": lead, "shortened": memo}


def headline_faithful(state: "BriefState", deps: "Deps") -> dict:
    """Headline and dek from the lead sentence (verified deletion only), and a tracked trend if one matches."""
    language = state.language
    memo = dict(state.shortened)
    lead = state.lead
    lead_source = state.passages[lead.citations[0]].source_id if lead else ""
    headline = headline_for(lead, lead_source, state.sources, deps, language, memo)
    dek = lead.text if lead else ""
    if lead and len(dek.split()) > DEK_WORDS:  # a crisper dek, by verified deletion only; else the whole lead
        dek = shorten(deps, lead.text, DEK_WORDS, memo) or dek
    summary = " ".join([headline, dek] + [s.text for s in state.sections["body"] if s.kind != "notice"])
    return {"headline": headline, "dek": dek, "dek_citations": list(lead.citations) if lead else [],
            "trend": trend_for(deps, summary, language), "shortened": memo}
