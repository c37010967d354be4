"""Veracity from passages, not from the model: corroboration across independent source groups."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agent.config import VeracityConfig
from agent.independence import SourceGroup
from agent.schema import Passage, Sentence, Veracity

_WORD = re.compile(r"[a-z0-9]+")
_FIGURE = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*(%|per\s?cent|[a-z]+)", re.I)
_DENIAL = re.compile(r"\b(denied|denies|deny|false|untrue|not true|no evidence|rejected the (?:claim|report))\b", re.I)
_UNITS = set("""percent billion million thousand trillion euro dollar pound yen franc krona kilometre
kilometer km mile metre meter tonne ton worker job people person megawatt mw gigawatt gw litre liter
minute hour day week month year bus tram train seat home household bed resident vote member student
patient vessel ship flight passenger bn""".split())
_STOP = set("that this with from have were will would their there which about after before into than then they them said says also been being over under more most some such only other when where while because".split())


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.casefold()) if len(w) >= 4 and w not in _STOP}


def figures(text: str) -> dict[str, set[float]]:
    """Numbers keyed by unit and the noun after it ('billion crowns', 'percent electricity')."""
    out: dict[str, set[float]] = {}
    for m in _FIGURE.finditer(text):
        unit = m.group(2).casefold().replace(" ", "")
        unit = "percent" if unit in ("%", "percent") else unit.rstrip("s")
        if unit not in _UNITS:
            continue
        after = [w for w in _WORD.findall(text[m.end():m.end() + 40].casefold())[:3] if len(w) >= 4 and w not in _STOP]
        key = f"{unit} {after[0]}" if after else unit
        out.setdefault(key, set()).add(float(m.group(1).replace(",", "")))
    return out


@dataclass
class Contradiction:
    claim_passage: str
    other_passage: str
    unit: str
    claim_values: set[float]
    other_values: set[float]


@dataclass
class ClaimAssessment:
    claim: str
    supporting_groups: set[int] = field(default_factory=set)
    contradictions: list[Contradiction] = field(default_factory=list)
    denied_by: list[str] = field(default_factory=list)


def _overlap(claim: set[str], passage: set[str]) -> float:
    return len(claim & passage) / (len(claim) or 1)


def assess_claim(
    sentence: Sentence, passages: dict[str, Passage], group_of: dict[str, int], support_at: float = 0.4,
) -> ClaimAssessment:
    """Which independent groups support a cited sentence, and which disagree on its figures."""
    result = ClaimAssessment(claim=sentence.text)
    words, claim_figures = content_words(sentence.text), figures(sentence.text)
    cited = [passages[c] for c in sentence.citations if c in passages]
    result.supporting_groups |= {group_of[p.source_id] for p in cited}
    cited_groups = set(result.supporting_groups)
    for pid, p in passages.items():
        group = group_of[p.source_id]
        if group in cited_groups:
            continue
        overlap = _overlap(words, content_words(p.text))
        other = figures(p.text)
        # a clash: the other source gives a value for the same unit that the claim does not
        clash = [u for u in claim_figures if u in other and other[u] - claim_figures[u]]
        if clash and overlap >= 0.3:
            result.contradictions.append(Contradiction(
                claim_passage=cited[0].id if cited else "", other_passage=pid, unit=clash[0],
                claim_values=claim_figures[clash[0]], other_values=other[clash[0]] - claim_figures[clash[0]]))
        elif overlap >= 0.35 and _DENIAL.search(p.text):
            result.denied_by.append(pid)
        elif overlap >= support_at:
            result.supporting_groups.add(group)
    return result


def score_veracity(
    claims: list[ClaimAssessment], groups: list[SourceGroup], cited_source_ids: set[str], cfg: VeracityConfig,
) -> Veracity:
    """Score 0-100 with a rationale listing each factor and its weight in plain words."""
    cited_groups = [g for g in groups if set(g.source_ids) & cited_source_ids]
    copies = sum(len(g.source_ids) - 1 for g in cited_groups)
    n = len(claims) or 1
    corroboration = sum(min(len(c.supporting_groups) - 1, 2) / 2 for c in claims) / n
    single = sum(1 for c in claims if len(c.supporting_groups) <= 1) / n
    disputed = sum(1 for c in claims if c.contradictions or c.denied_by) / n
    breadth = min(len(cited_groups) - 1, 2) / 2 if cited_groups else 0.0
    parts = [
        ("base", cfg.base, "starting point"),
        ("corroboration", cfg.corroboration_weight * corroboration,
         f"{corroboration:.0%} corroboration of {len(claims)} key claims by other independent sources"),
        ("breadth", cfg.breadth_weight * breadth, f"{len(cited_groups)} independent source group(s)"
         + (f"; {copies} syndicated cop{'y' if copies == 1 else 'ies'} counted once" if copies else "")),
        ("single-source", -cfg.single_source_penalty * single, f"{single:.0%} of claims rest on one source"),
        ("contradictions", -cfg.contradiction_penalty * disputed, f"{disputed:.0%} of claims contradicted or denied"),
    ]
    score = round(max(0, min(100, sum(p[1] for p in parts))))
    label = next((lab.name for lab in cfg.labels if score >= lab.min_score), cfg.labels[-1].name)
    if disputed >= cfg.disputed_share:
        label = "Disputed"
    rationale = "; ".join(f"{text} ({value:+.0f})" for _, value, text in parts) + f" = {score}."
    return Veracity(label=label, score=score, rationale=rationale, provisional=False)


def contradiction_sentences(claims: list[ClaimAssessment], passages: dict[str, Passage],
                            outlets: dict[str, str] | None = None) -> list[Sentence]:
    """'The nuance' facts computed from the passages: each disagreement on a figure, both sources named and cited."""
    outlets = outlets or {}
    out, seen = [], set()
    for c in claims:
        for x in c.contradictions:
            key = (x.unit, frozenset(x.claim_values | x.other_values))
            if key in seen or not x.claim_passage:
                continue
            seen.add(key)
            fmt = lambda vals: " or ".join(f"{v:g}" for v in sorted(vals))  # noqa: E731
            unit = x.unit
            first = outlets.get(passages[x.claim_passage].source_id, "one source")
            second = outlets.get(passages[x.other_passage].source_id, "another")
            if first == second:
                first, second = "one source", "another"
            out.append(Sentence(
                text=f"Sources disagree on a figure: {first} gives {fmt(x.claim_values)} {unit}, "
                     f"{second} {fmt(x.other_values)} {unit}.",
                citations=[x.claim_passage, x.other_passage], kind="computed"))
    return out


def key_claim_contradictions(
    passage_ids: list[str], passages: dict[str, Passage], groups: list[SourceGroup],
    outlets: dict[str, str] | None = None, limit: int = 2,
) -> list[Sentence]:
    """Disagreements on figures between the body's passages and other independent sources."""
    from agent.text import split_sentences

    group_of = {sid: g.group_id for g in groups for sid in g.source_ids}
    claims = []
    for pid in passage_ids:
        text = passages[pid].text
        for a, b in split_sentences(text):
            if figures(text[a:b]):
                claims.append(assess_claim(Sentence(text=text[a:b], citations=[pid]), passages, group_of))
    return contradiction_sentences(claims, passages, outlets)[:limit]


def brief_veracity(body: list[Sentence], disputes: list[Sentence], passages: dict[str, Passage],
                   groups: list[SourceGroup], cited_source_ids: set[str], cfg: VeracityConfig) -> Veracity:
    """Veracity of a brief: its body sentences and its computed disputes are the key claims."""
    group_of = {sid: g.group_id for g in groups for sid in g.source_ids}
    claims = [assess_claim(s, passages, group_of) for s in body if s.kind != "notice" and s.citations]
    for d in disputes:  # a disagreement on a figure between independent sources is a contested key claim
        first, second = (passages[c] for c in d.citations[:2])
        claims.append(ClaimAssessment(claim=d.text, supporting_groups={group_of[first.source_id]}, contradictions=[
            Contradiction(first.id, second.id, "figure", set(), set())]))
    return score_veracity(claims, groups, cited_source_ids, cfg)
