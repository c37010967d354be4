"""Deterministic parts of drafting: section specs, passage selection, fallbacks, assembly."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from agent.config import Settings
from agent.house_format import SECTION_KEYS, SECTIONS, labels
from agent.schema import Brief, Paragraph, Passage, Sentence, Source, SourceRef, Trend
from agent.analysis.independence import group_sources
from agent.text import split_sentences
from agent.analysis.veracity import brief_veracity

if TYPE_CHECKING:
    from agent.state import BriefState


_WORD = re.compile(r"\w+")


def select_passages(
    ranked: list[str], passages: dict[str, Passage], limit: int, per_source: int, avoid: set[str]
) -> list[str]:
    """Best-ranked passages, at most `per_source` from one source; reuse another section's only if none is left."""
    for allow_reuse in (False, True):
        chosen: list[str] = []
        counts: dict[str, int] = {}
        for pid in ranked:
            source = passages[pid].source_id
            if len(chosen) >= limit:
                break
            if pid in chosen or (not allow_reuse and pid in avoid) or counts.get(source, 0) >= per_source:
                continue
            chosen.append(pid)
            counts[source] = counts.get(source, 0) + 1
        if chosen:
            return chosen
    return []


def _overlap(a: str, b: str) -> float:
    wa, wb = set(_WORD.findall(a.casefold())), set(_WORD.findall(b.casefold()))
    return len(wa & wb) / (len(wa) or 1)


def extract_candidates(section: str, passage: Passage, attempted: str) -> list[Sentence]:
    """Passage sentences, verbatim, closest first to what the model tried (or to the section's aim)."""
    spans = [passage.text[a:b].strip() for a, b in split_sentences(passage.text)]
    usable = [s for s in spans if "|" not in s and not s.startswith("#") and not s.rstrip().endswith(":")]
    candidates = [s for s in usable if 6 <= len(s.split()) <= 60] or [s for s in usable if len(s.split()) >= 3]
    target = attempted or SECTIONS[section].query_hint
    ranked = sorted(candidates, key=lambda s: (-_overlap(target, s), candidates.index(s)))
    return [Sentence(text=s, citations=[passage.id], kind="extracted") for s in ranked]


def extract_fallback(section: str, passage: Passage, attempted: str) -> Sentence:
    """The best extracted sentence, or a plain notice when the passage has none."""
    candidates = extract_candidates(section, passage, attempted)
    return candidates[0] if candidates else Sentence(text=SECTIONS[section].notice, kind="notice")


def _topic(source: Source) -> str:
    if source.topic:
        return source.topic
    words = source.title.split()
    return " ".join(words[:4]) if words else "untitled"


def _with_lead(body: list[Sentence], state: "BriefState") -> list[Sentence]:
    """The key claims for veracity: the lead (the dek, when it is a source sentence) and the body."""
    if not state.dek_citations:
        return body
    return [Sentence(text=state.dek, citations=state.dek_citations, kind="selected")] + body


def assemble_brief(state: "BriefState", settings: Settings) -> Brief:
    """Build the Brief from drafted sections; source list, citations and disclaimer are ours."""
    sections = state.sections
    cited_ids = {c.split(":")[0] for sents in sections.values() for s in sents for c in s.citations}
    cited_ids |= {c.split(":")[0] for c in state.dek_citations}
    refs, cited_sources = [], []
    for number, source in enumerate(state.sources, start=1):
        if f"S{number}" in cited_ids:
            refs.append(SourceRef(source_id=source.id, number=number, outlet=source.outlet,
                                  topic=_topic(source), title=source.title, url=source.url,
                                  published=source.published))
            cited_sources.append(source)
    body = sections.get("body", [])
    computed = [s for key in SECTION_KEYS for s in sections.get(key, []) if s.kind == "computed"]
    section_fields = {key: ([Paragraph(sentences=sections.get(key, [])[i:i + 2])
                             for i in range(0, len(sections.get(key, [])), 2)] if SECTIONS[key].paragraphs
                            else sections.get(key, [])) for key in SECTION_KEYS}
    return Brief(
        headline=state.headline,
        dek=state.dek,
        trend=state.trend or Trend(name=labels(state.language).untracked_name,
                                   description=labels(state.language).untracked_description),
        language=state.language,
        veracity=brief_veracity(_with_lead(body, state), computed, state.passages,
                                state.groups or group_sources(state.sources), {s.id for s in cited_sources},
                                settings.veracity),
        disclaimer=(labels(state.language).disclaimer if settings.draft.disclaimer == labels("en").disclaimer
                    else settings.draft.disclaimer),  # the shipped line follows the brief's language
        sources=refs,
        **section_fields,
    )
