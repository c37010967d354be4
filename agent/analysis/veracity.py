"""Veracity from passages, not from the model: claim-level corroboration across independent source groups.

Each key claim is matched, sentence by sentence, against the other independent sources
(agent.analysis.claim_match); the score adds weighted factors, the reader gets one line, and the factors go
in the brief. The calibration and its worked examples are in docs/veracity.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from agent.checks.meaning_text import clauses, direction_marks, looks_english
from agent.analysis.claim_match import features, match_claim, named_words, word_stems
from agent.config import VeracityConfig
from agent.analysis.independence import SourceGroup
from agent.schema import Passage, Sentence, Veracity, VeracityFactor
from agent.house_format import labels
from agent.text import figures_in, split_sentences, words as words_of


@dataclass
class Contradiction:
    claim_passage: str
    other_passage: str
    unit: str
    claim_values: set[float]
    other_values: set[float]
    claim_text: str = ""
    other_text: str = ""


@dataclass
class ClaimAssessment:
    claim: str
    supporting_groups: set[int] = field(default_factory=set)
    contradictions: list[Contradiction] = field(default_factory=list)
    denied_by: list[str] = field(default_factory=list)


def _sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in split_sentences(text)]


def assess_claim(sentence: Sentence, passages: dict[str, Passage], group_of: dict[str, int],
                 cfg: VeracityConfig | None = None) -> ClaimAssessment:
    """Which independent groups report the same event, and which give another figure or deny it, sentence by sentence."""
    cfg = cfg or VeracityConfig()
    result = ClaimAssessment(claim=sentence.text)
    cited = [passages[c] for c in sentence.citations if c in passages]
    result.supporting_groups |= {group_of[p.source_id] for p in cited}
    cited_groups = set(result.supporting_groups)
    texts = _source_texts(tuple((p.source_id, p.text) for p in passages.values()))
    claim_context = " ".join(texts.get(p.source_id, "") for p in cited[:1])
    claim = features(sentence.text)
    for pid, p in passages.items():
        group = group_of.get(p.source_id)
        if group is None or group in cited_groups:
            continue
        named = named_words(texts[p.source_id])
        if len(claim.entities & named) * 2 < len(claim.entities) or len(claim.words & word_stems(p.text)) < 2:
            continue  # the source never names the claim's entities, or the passage shares too little with it
        for other in _sentences(p.text):
            m = match_claim(sentence.text, other, texts[p.source_id], claim_context, cfg)
            if m.verdict == "contradict" and m.conflict:
                a, b = m.conflict
                result.contradictions.append(Contradiction(
                    claim_passage=cited[0].id if cited else "", other_passage=pid, unit=a.unit,
                    claim_values={a.value}, other_values={b.value},
                    claim_text=sentence.text[a.start:a.end], other_text=other[b.start:b.end]))
                break
            if m.verdict == "deny":
                result.denied_by.append(pid)
                break
            if m.verdict == "support":
                result.supporting_groups.add(group)
                break
    return result


@lru_cache(maxsize=8)
def _source_texts(passages: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """Each source's passages joined: where a claim's names are looked for."""
    parts: dict[str, list[str]] = {}
    for source_id, text in passages:
        parts.setdefault(source_id, []).append(text)
    return {source_id: " ".join(texts) for source_id, texts in parts.items()}


def _level(groups: int) -> float:
    """Corroboration of one claim: 0 on one source, 0.5 with a second independent group, 1 with three or more."""
    return min(max(groups - 1, 0), 2) / 2


def _official(outlets: list[str], cfg: VeracityConfig) -> list[str]:
    words = {w.casefold() for w in cfg.official_outlet_words}
    return [o for o in outlets if words & set(words_of(o.casefold()))]


def score_veracity(claims: list[ClaimAssessment], groups: list[SourceGroup], cited_source_ids: set[str],
                   cfg: VeracityConfig) -> Veracity:
    """Score 0-100 from each factor and its weight (kept in `factors`), a label, and a one-line rationale."""
    by_id = {g.group_id: g for g in groups}
    cited_groups = [g for g in groups if set(g.source_ids) & cited_source_ids]
    copies = sum(len(g.source_ids) - 1 for g in cited_groups)
    n = len(claims) or 1
    best = max(claims, key=lambda c: (len(c.supporting_groups), -len(c.contradictions)), default=None)
    best_groups = len(best.supporting_groups) if best else 0
    official = _official([o for gid in best.supporting_groups for o in by_id[gid].outlets], cfg) if best else []
    coverage = sum(_level(len(c.supporting_groups)) for c in claims) / n
    single = sum(1 for c in claims if len(c.supporting_groups) <= 1) / n
    disputed_claims = [c for c in claims if c.contradictions or c.denied_by]
    disputed = len(disputed_claims) / n
    terms = [
        ("base", 1.0, cfg.base, "starting point"),
        ("lead", _level(best_groups), cfg.lead_weight,
         f"best-corroborated key claim reported by {best_groups} independent source group(s)"),
        ("coverage", coverage, cfg.coverage_weight, f"mean corroboration of {len(claims)} key claim(s)"),
        ("official", 1.0 if official else 0.0, cfg.official_weight,
         f"official or primary source: {official[0]}" if official else "no official or primary source"),
        ("single-source", single, -cfg.single_source_penalty, f"{single:.0%} of key claims rest on one source"),
        ("contradictions", disputed, -cfg.contradiction_penalty, f"{disputed:.0%} of key claims contradicted or denied"),
    ]
    factors = [VeracityFactor(name=name, measure=round(m, 4), weight=w, points=round(m * w, 1), note=note)
               for name, m, w, note in terms]
    score = round(max(0, min(100, sum(m * w for _, m, w, _ in terms))))
    label = next((lab.name for lab in cfg.labels if score >= lab.min_score), cfg.labels[-1].name)
    if claims and disputed >= cfg.disputed_share:
        label = "Disputed"
    elif disputed_claims and label == cfg.labels[0].name and len(cfg.labels) > 1:
        label = cfg.labels[1].name  # a disputed figure rules out the top label
    rationale = f"{label}: {_reading(best, official, claims, cited_groups, copies)}; {_disputes(disputed_claims)}."
    return Veracity(label=label, score=score, rationale=rationale, provisional=False, factors=factors)


_EVENT_NAMES = {("approval", 1): "the approval", ("approval", -1): "the rejection", ("amount", 1): "the rise",
                ("amount", -1): "the fall", ("openness", 1): "the opening", ("openness", -1): "the closure",
                ("outcome", 1): "the win", ("outcome", -1): "the defeat", ("jobs", 1): "the hiring",
                ("jobs", -1): "the job cuts", ("verdict", 1): "the acquittal", ("verdict", -1): "the conviction"}


def _event_name(claim: str) -> str:
    """'the approval' when the claim's main clause has one clear event; else 'the lead claim'."""
    main = clauses(claim)[:1] if looks_english(claim) else []  # the main clause names the event
    names = {_EVENT_NAMES.get((group, sign)) for c in main for _, group, sign in direction_marks(c)} - {None}
    return names.pop() if len(names) == 1 else "the lead claim"


def _reading(best: ClaimAssessment | None, official: list[str], claims: list[ClaimAssessment],
             cited_groups: list[SourceGroup], copies: int) -> str:
    """The corroboration half of the one-line rationale."""
    best_groups = len(best.supporting_groups) if best else 0
    syndicated = f" ({copies} syndicated cop{'y' if copies == 1 else 'ies'} counted once)" if copies else ""
    if not claims:
        return "no key claim to check"
    if best_groups >= 2:
        backed = sum(1 for c in claims if len(c.supporting_groups) >= 2)
        text = f"{best_groups} independent outlets report {_event_name(best.claim)}{syndicated}"
        verb = "has" if backed == 1 else "have"
        return text + (f", {backed} of {len(claims)} key claims {verb} a second independent source" if len(claims) > 1 else "")
    outlets = [g.outlets[0] for g in cited_groups if g.outlets]
    if official:
        who = f"the key claims rest on an official source ({official[0]})"
    elif len(outlets) == 1:
        who = f"the key claims rest on one outlet ({outlets[0]})"
    else:
        who = "each key claim rests on a single outlet"
    return f"{who}, with no independent confirmation{syndicated}"


def _disputes(disputed: list[ClaimAssessment]) -> str:
    contradictions = [x for c in disputed for x in c.contradictions]
    denials = sum(len(c.denied_by) for c in disputed)
    parts = []
    if contradictions:
        shown = next((f" ({x.claim_text} vs {x.other_text})" for x in contradictions if x.claim_text and x.other_text), "")
        count = len({(x.unit, frozenset(x.claim_values | x.other_values)) for x in contradictions})
        parts.append(f"{count} figure{' is' if count == 1 else 's are'} contradicted by another source{shown}")
    if denials:
        parts.append(f"{denials} claim{' is' if denials == 1 else 's are'} denied by another source")
    return " and ".join(parts) or "no figure is disputed"


def contradiction_sentences(claims: list[ClaimAssessment], passages: dict[str, Passage],
                            outlets: dict[str, str] | None = None, language: str = "en") -> list[Sentence]:
    """'The nuance' facts computed from the passages: each disagreement on a figure, both sources named and cited,
    worded in the brief's language."""
    outlets = outlets or {}
    words = labels(language)
    out, seen = [], set()
    for c in claims:
        for x in c.contradictions:
            key = (x.unit, frozenset(x.claim_values | x.other_values))
            if key in seen or not x.claim_passage:
                continue
            seen.add(key)
            first = outlets.get(passages[x.claim_passage].source_id, words.someone)
            second = outlets.get(passages[x.other_passage].source_id, words.another)
            if first == second:
                first, second = words.someone, words.another
            out.append(Sentence(
                text=words.dispute.format(first=first, a=x.claim_text, second=second, b=x.other_text),
                citations=[x.claim_passage, x.other_passage], kind="computed"))
    return out


def key_claim_contradictions(
    passage_ids: list[str], passages: dict[str, Passage], groups: list[SourceGroup],
    outlets: dict[str, str] | None = None, limit: int = 2, cfg: VeracityConfig | None = None, language: str = "en",
) -> list[Sentence]:
    """Disagreements on figures between the body's passages and other independent sources."""
    group_of = {sid: g.group_id for g in groups for sid in g.source_ids}
    claims = []
    for pid in passage_ids:
        for text in _sentences(passages[pid].text):
            if features(text).figures:
                claims.append(assess_claim(Sentence(text=text, citations=[pid]), passages, group_of, cfg))
    return contradiction_sentences(claims, passages, outlets, language)[:limit]


def brief_veracity(body: list[Sentence], disputes: list[Sentence], passages: dict[str, Passage],
                   groups: list[SourceGroup], cited_source_ids: set[str], cfg: VeracityConfig) -> Veracity:
    """Veracity of a brief: its body sentences and its computed disputes are the key claims."""
    group_of = {sid: g.group_id for g in groups for sid in g.source_ids}
    claims = [assess_claim(s, passages, group_of, cfg) for s in body if s.kind != "notice" and s.citations]
    known = {(x.unit, frozenset(x.claim_values | x.other_values)) for c in claims for x in c.contradictions}
    for d in disputes:  # a disagreement on a figure between independent sources is a contested key claim
        first, second = (passages[c] for c in d.citations[:2])
        figs = [f for f in figures_in(d.text) if f.unit][:2]
        a, b = figs if len(figs) == 2 else (None, None)
        if a and (a.unit, frozenset({a.value, b.value})) in known:
            continue  # the body claim it contests already counts it
        claims.append(ClaimAssessment(claim=d.text, supporting_groups={group_of[first.source_id]}, contradictions=[
            Contradiction(first.id, second.id, a.unit if a else "figure", {a.value} if a else set(),
                          {b.value} if b else set(), d.text[a.start:a.end] if a else "",
                          d.text[b.start:b.end] if b else "")]))
    return score_veracity(claims, groups, cited_source_ids, cfg)
