"""The faithful-by-construction composer: every sentence of the brief is a source sentence,
cleaned of debris by deletion, chosen for its section by the section's purpose test and ordered
lead-first (most corroborated, most central, earliest in its story, newest). Nothing here writes
a word a source did not; a model may only shorten a sentence by deletion, verified elsewhere."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from agent.checks.debris import clean_source_sentence
from agent.checks.injection import instruction_family
from agent.checks.leakage import find_leakage
from agent.house_format import COMPOSITION_ORDER, LIMITS, SECTIONS
from agent.analysis.independence import SourceGroup
from agent.draft.purposes import answers, purpose_strength
from agent.schema import Passage, Sentence, Source
from agent.text import content_words, overlap, split_sentences

MIN_WORDS = 6
REDUNDANT_AT = 0.5  # share of a sentence's content words already said by a chosen sentence
MAX_CANDIDATE_PASSAGES = 80


# "Energy cooperation: Russia's oil…": a list item's topic label, not a speaker (a speaker's name is capitalised)
_TOPIC_LABEL = re.compile(r"^[A-Z][a-z]+(?: [a-z]+){0,3}: (?=[A-Z])")
_NEWS_DAY = re.compile(r"\b(?:on (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|yesterday|today|"
                       r"this week|el (?:lunes|martes|miércoles|jueves|viernes|sábado|domingo)|ayer|hoy|esta semana)\b",
                       re.I)
_SPECIFIC = re.compile(r"\d|(?<=\w )[A-Z][\w'-]+")


@dataclass
class Candidate:
    """A cleaned source sentence and what ranks it."""

    text: str
    passage_id: str
    source_id: str
    source_number: int
    position: int  # sentence index within its source
    published: date | None
    words: frozenset[str]
    corroboration: int = 0  # other independent groups that report a matching sentence
    centrality: float = 0.0  # summed best overlap with each other source

    @property
    def specifics(self) -> int:
        """Figures and names: what makes a sentence a fact rather than a generality."""
        return len(_SPECIFIC.findall(self.text))

    @property
    def lead_score(self) -> float:
        early = {0: 1.0, 1: 0.6, 2: 0.35}.get(self.position, 0.0)
        substance = 0.5 + 0.5 * min(len(self.words), 10) / 10  # a five-word generality is not a lead
        event = 0.5 if _NEWS_DAY.search(self.text) else 0.0  # "on Tuesday": the news event itself
        return (1.5 * min(self.corroboration, 3) + self.centrality + early + event
                + 0.25 * min(self.specifics, 4)) * substance

    def sentence(self, text: str | None = None) -> Sentence:
        return Sentence(text=text or self.text, citations=[self.passage_id], kind="selected")


# "X should adopt…" with no one named as saying it is the source's own opinion: in the brief it would become ours
_NORMATIVE = re.compile(r"\b(should|must|ought to|deberían?|debe|deben|tiene[n]? que)\b", re.I)
_ATTRIBUTED = re.compile(r"\b(said|says|say|told|according|argued|argues|wrote|writes|urged|urges|recommended|"
                         r"called for|calls for|dijo|dice|según|afirmó|aseguró|pidió)\b", re.I)


def _usable(text: str) -> bool:
    return (MIN_WORDS <= len(text.split()) <= LIMITS.sentence_words and "|" not in text
            and not (_NORMATIVE.search(text) and not _ATTRIBUTED.search(text))
            and not find_leakage(text, "body") and instruction_family(text) is None)


def gather_candidates(sources: list[Source], passages: dict[str, Passage], groups: list[SourceGroup],
                      passage_ids: list[str], language: str) -> list[Candidate]:
    """Clean every sentence of the given passages; rank each by corroboration and centrality."""
    numbers = {s.id: i for i, s in enumerate(sources, start=1)}
    published = {s.id: s.published for s in sources}
    lang_of = {s.id: (s.language if s.language not in ("", "und") else language) for s in sources}
    ordered = sorted(dict.fromkeys(passage_ids), key=lambda pid: (int(pid[1:].split(":")[0]), int(pid.split(":")[1])))
    seen: set[str] = {" ".join(s.title.casefold().split()) for s in sources if s.title}  # titles are not sentences
    out: list[Candidate] = []
    position: dict[str, int] = {}
    for pid in ordered[:MAX_CANDIDATE_PASSAGES]:
        p = passages[pid]
        for a, b in split_sentences(p.text):
            index = position.get(p.source_id, 0)
            position[p.source_id] = index + 1
            cleaned = clean_source_sentence(p.text[a:b].strip(), lang_of.get(p.source_id, language))
            cleaned = _TOPIC_LABEL.sub("", cleaned) if cleaned else None
            if cleaned is None or not _usable(cleaned):
                continue
            key = " ".join(cleaned.casefold().split())
            if key in seen or key.rstrip(".") in seen:  # a syndicated copy says it again word for word
                continue
            seen.add(key)
            out.append(Candidate(text=cleaned, passage_id=pid, source_id=p.source_id,
                                 source_number=numbers[p.source_id], position=index,
                                 published=published.get(p.source_id), words=content_words(cleaned)))
    group_of = {sid: g.group_id for g in groups for sid in g.source_ids}
    for c in out:
        best: dict[str, float] = {}
        for d in out:
            if d.source_id != c.source_id:
                best[d.source_id] = max(best.get(d.source_id, 0.0), overlap(c.words, d.words))
        c.centrality = sum(best.values())
        agreeing = {group_of.get(sid, sid) for sid, o in best.items() if o >= 0.4}
        c.corroboration = len(agreeing - {group_of.get(c.source_id, c.source_id)})
    return out


def rank_lead_first(candidates: list[Candidate]) -> list[Candidate]:
    newest = max((c.published for c in candidates if c.published), default=None)
    return sorted(candidates, key=lambda c: (-(c.lead_score + (0.2 if newest and c.published == newest else 0.0)),
                                             c.source_number, c.position))


def _story_order(body: list[Candidate]) -> list[Candidate]:
    """Sources in the order of their best sentence; each source's sentences in its own order, so a
    sentence is not read before the one it follows on from."""
    rank: dict[str, int] = {}
    for c in body:
        rank.setdefault(c.source_id, len(rank))
    return sorted(body, key=lambda c: (rank[c.source_id], c.position))


@dataclass
class Composition:
    lead: Candidate | None
    sections: dict[str, list[Candidate]]


def _redundant(c: Candidate, chosen: list[Candidate]) -> bool:
    """c adds little to a chosen sentence: most of its content words were said already."""
    return any(overlap(c.words, d.words) >= REDUNDANT_AT for d in chosen)


def compose(candidates: list[Candidate], counts: dict[str, int], language: str, story_date: date | None,
            exclude: set[str] = frozenset(), per_source: int = 3) -> Composition:
    """Lead, body and each section's sentences; a section with no sentence that answers it stays empty."""
    pool = [c for c in rank_lead_first(candidates) if c.text not in exclude]
    used: list[Candidate] = []
    lead = pool[0] if pool else None
    if lead:
        used.append(lead)
    sections: dict[str, list[Candidate]] = {}
    # the specific sections choose before the body, so the body cannot use up their answers
    for key in (k for k in COMPOSITION_ORDER if SECTIONS[k].test):  # the narrowest test chooses first
        want = counts.get(key, SECTIONS[key].default_count)
        body_like = [c for c in pool[:counts.get("body", 5) + 1]]
        ranked = sorted(pool, key=lambda c: (-purpose_strength(key, c.text, language), -c.lead_score))
        picked: list[Candidate] = []
        for c in ranked:
            if len(picked) >= want:
                break
            restates = any(overlap(c.words, b.words) >= 0.6 for b in body_like if b is not c)
            if c in used or _redundant(c, used) or not answers(key, c.text, language, story_date=story_date,
                                                                 restates=restates):
                continue
            picked.append(c)
            used.append(c)
        sections[key] = picked
    body: list[Candidate] = []
    per: dict[str, int] = {}
    for c in pool:
        if len(body) >= counts.get("body", 5):
            break
        if c is lead or c in used or _redundant(c, used) or per.get(c.source_id, 0) >= per_source:
            continue
        body.append(c)
        used.append(c)
        per[c.source_id] = per.get(c.source_id, 0) + 1
    if not body:  # a thin story: the body needs a sentence more than another section does
        donor = max((k for k in sections if sections[k]), key=lambda k: sections[k][0].lead_score, default=None)
        if donor is not None:
            body.append(sections[donor].pop(0))
    sections["body"] = _story_order(body)
    return Composition(lead=lead, sections=sections)
