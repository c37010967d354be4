"""Veracity from passages, not from the model: claim-level corroboration across independent source groups.

Two sentences corroborate when they report the same event: the other source names the claim's key
entities, shares most of its event words, gives the same figures and moves in the same direction.
A figure of the same unit with a different value is a contradiction, not support, in any language.
The calibration and its worked examples are in docs/veracity.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from agent.checks.meaning_text import clauses, direction_marks, looks_english, negated
from agent.config import VeracityConfig
from agent.independence import SourceGroup
from agent.schema import Passage, Sentence, Veracity, VeracityFactor
from agent.text import CURRENCIES, SCALES, STOPWORDS, UNIT_OF, Figure, figures_in, split_sentences

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_NAME_RUN = re.compile(r"[^\W\d_][\w'’-]*(?:\s+(?:de|del|la|van|von|der)?\s*[A-ZÀ-Ý][\w'’-]*)*", re.UNICODE)
_DENIAL = re.compile(r"\b(denied|denies|deny|false|untrue|not true|no evidence|rejected the (?:claim|report)|"
                     r"desminti\w*|neg[óo] que|es falso|dément\w*|dementi\w*)\b", re.I)
_ALL_STOP = frozenset().union(*STOPWORDS.values())
_TIME_WORDS = frozenset("""monday tuesday wednesday thursday friday saturday sunday today yesterday tomorrow week
month year lunes martes miércoles jueves viernes sábado domingo ayer hoy mañana semana enero febrero marzo abril
mayo junio julio agosto septiembre octubre noviembre diciembre january february march april june july august
september october november december""".split())
_NOT_NAMES = _ALL_STOP | _TIME_WORDS | frozenset("""a i he she we they his her our sources officials however meanwhile
según however""".split())
# Spanish event directions; English comes from the meaning checker's lexicon (agent.checks.meaning_text).
_DIRECTION_ES = {w: (group, sign) for group, sign, words in (
    ("amount", 1, "sube subió suben subieron aumenta aumentó aumentan aumentaron crece creció crecen incrementa "
                  "incrementó alza subirá subirán aumentará aumentarán crecerá"),
    ("amount", -1, "baja bajó bajan bajaron cae cayó caen cayeron disminuye disminuyó reduce redujo recorta recortó "
                   "desciende descendió bajará bajarán caerá caerán disminuirá reducirá"),
    ("approval", 1, "aprueba aprobó aprobaron aprobado aprobada autoriza autorizó autorizaron respalda respaldó"),
    ("approval", -1, "rechaza rechazó rechazaron rechazado rechazada veta vetó deniega denegó"),
    ("openness", 1, "abre abrió abrirá inaugura inauguró reabre reabrió"),
    ("openness", -1, "cierra cerró cerrará suspende suspendió cancela canceló"),
) for w in words.split()}


@dataclass(frozen=True)
class _Features:
    entities: frozenset[str]
    words: frozenset[str]          # event words: content stems that are not names, dates or figures
    figures: tuple[Figure, ...]
    directions: frozenset[tuple[str, int]]
    denial: bool
    negated: bool                  # a negation in a clause that carries a direction ("did not approve")


def _stem(word: str) -> str:
    return word[:5]


@lru_cache(maxsize=65536)
def _features(text: str) -> _Features:
    """What a sentence says, reduced to what claim matching compares; cached because passages repeat."""
    entities = set()
    for m in _NAME_RUN.finditer(text):
        words = [w for w in re.split(r"\s+", m.group(0)) if w[:1].isupper()]
        first = not text[:m.start()].strip() or text[:m.start()].rstrip()[-1:] in ".!?\"“:"
        if first and len(words) == 1:
            continue  # a capitalised word opening a sentence is usually not a name
        entities |= {w.casefold().removesuffix("'s").removesuffix("’s").strip("'’-") for w in words
                     if w.casefold() not in _NOT_NAMES}
    every = figures_in(text)
    figs = tuple(f for f in every if (f.unit or f.value != f.whole) and not f.is_year)
    figure_words = {w for f in every for w in _WORD.findall(text[f.start:f.end].casefold())}
    words = {_stem(w) for w in _WORD.findall(text.casefold())
             if len(w) >= 4 and not w[0].isdigit() and w not in _ALL_STOP and w not in _TIME_WORDS
             and w not in entities and w not in figure_words and w not in SCALES and w not in UNIT_OF}
    directions, negated_event = _directions(text)
    return _Features(frozenset(entities), frozenset(words), figs, frozenset(directions), bool(_DENIAL.search(text)),
                     negated_event)


@lru_cache(maxsize=4096)
def _words(text: str) -> frozenset[str]:
    """Every word of a text, casefolded: a name counts as named however the other source capitalises it."""
    return frozenset(w.removesuffix("'s").removesuffix("’s") for w in re.findall(r"[^\W\d_][\w'’]*", text.casefold()))


def _directions(text: str) -> tuple[set[tuple[str, int]], bool]:
    """Direction marks of the sentence's events, and whether an event clause is negated."""
    if looks_english(text):
        marked = [(c, direction_marks(c)) for c in clauses(text)]
        return ({(g, sign) for _, marks in marked for _, g, sign in marks},
                any(marks and negated(c) for c, marks in marked))
    words = _WORD.findall(text.casefold())
    found = {_DIRECTION_ES[w] for w in words if w in _DIRECTION_ES}
    return found, any(w in ("no", "nunca") and nxt in _DIRECTION_ES for w, nxt in zip(words, words[1:]))


@dataclass
class ClaimMatch:
    """How one sentence of another source bears on a claim: 'support', 'contradict', 'deny' or 'unrelated'."""

    verdict: str
    why: str
    conflict: tuple[Figure, Figure] | None = None


def _same_quantity(a: Figure, b: Figure) -> bool:
    """Same unit, rate and whole; a bare scaled amount ("55 millones") may be the other's currency."""
    if a.per != b.per or (a.of and b.of and a.of != b.of):
        return False
    bare = lambda f: not f.unit and f.value != f.whole  # noqa: E731
    return a.unit == b.unit or (bare(a) and b.unit in CURRENCIES) or (bare(b) and a.unit in CURRENCIES)


def _agree(a: float, b: float) -> bool:
    return abs(a - b) <= 0.005 * max(abs(a), abs(b), 1e-9)


def figure_conflict(claim: tuple[Figure, ...], other: tuple[Figure, ...], max_ratio: float = 3.0,
                    other_moves: bool = False):
    """(claim figure, other figure) of one quantity whose values differ, or None.

    The other sentence disputes a value when it gives none of the claim's values for that quantity, or
    when it gives the claim's value and another one without describing a change (a contrast: "1.4 billion,
    well above the 1.2 billion announced"); values more than `max_ratio` apart measure different things.
    """
    for a in claim:
        same = [b for b in other if _same_quantity(a, b)]
        mine = [x for x in claim if _same_quantity(x, a)]
        agreeing = any(_agree(x.value, b.value) for x in mine for b in same)
        extra = [b for b in same if not any(_agree(x.value, b.value) for x in mine)]
        if agreeing and other_moves:
            continue
        for b in extra:
            low, high = sorted((abs(a.value), abs(b.value)))
            if low and high / low <= max_ratio:
                return a, b
    return None


def match_claim(claim: str, other: str, other_context: str = "", claim_context: str = "",
                cfg: VeracityConfig | None = None) -> ClaimMatch:
    """Does `other` (a sentence of another source, whose text is `other_context`) corroborate, contradict or deny `claim`?"""
    cfg = cfg or VeracityConfig()
    c, o = _features(claim), _features(other)
    named = _words(other_context or other)
    if c.entities and len(c.entities & named) * 2 < len(c.entities):
        return ClaimMatch("unrelated", "the other source does not name the claim's people and places")
    ours = (_features(claim_context).entities if claim_context else frozenset()) | c.entities
    if o.entities and ours and not o.entities & ours:
        return ClaimMatch("unrelated", "the other sentence is about other people or places")
    shared = c.words & o.words
    overlap = len(shared) / (min(len(c.words), len(o.words)) or 1)
    if len(shared) < min(2, len(c.words), len(o.words)):
        return ClaimMatch("unrelated", "too few event words in common")
    moves = any(g == "amount" for g, _ in o.directions)
    conflict = figure_conflict(c.figures, o.figures, cfg.dispute_max_ratio, moves)
    if conflict:
        return ClaimMatch("contradict", "a different figure for the same quantity", conflict)
    if o.denial and not c.denial and overlap >= cfg.claim_overlap:
        return ClaimMatch("deny", "the other source denies it")
    if overlap < cfg.claim_overlap or len(shared) < min(3, len(c.words), len(o.words)):
        return ClaimMatch("unrelated", f"{len(shared)} event words ({overlap:.0%}) in common")
    opposite = {(g, -s) for g, s in c.directions} & o.directions - c.directions
    if opposite:
        return ClaimMatch("unrelated", f"opposite direction ({sorted(opposite)[0][0]})")
    if c.negated != o.negated and c.directions & o.directions:
        return ClaimMatch("unrelated", "one of the two negates the event")
    return ClaimMatch("support", f"{overlap:.0%} of the event words, same figures and direction")


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
    claim = _features(sentence.text)
    for pid, p in passages.items():
        group = group_of.get(p.source_id)
        if group is None or group in cited_groups:
            continue
        named = _words(texts[p.source_id])
        if len(claim.entities & named) * 2 < len(claim.entities) or len(claim.words & _stems(p.text)) < 2:
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


@lru_cache(maxsize=65536)
def _stems(text: str) -> frozenset[str]:
    return frozenset(_stem(w) for w in _WORD.findall(text.casefold()) if len(w) >= 4)


def _level(groups: int) -> float:
    """Corroboration of one claim: 0 on one source, 0.5 with a second independent group, 1 with three or more."""
    return min(max(groups - 1, 0), 2) / 2


def _official(outlets: list[str], cfg: VeracityConfig) -> list[str]:
    words = {w.casefold() for w in cfg.official_outlet_words}
    return [o for o in outlets if words & set(_WORD.findall(o.casefold()))]


def score_veracity(claims: list[ClaimAssessment], groups: list[SourceGroup], cited_source_ids: set[str],
                   cfg: VeracityConfig) -> Veracity:
    """Score 0-100 from each factor and its weight (kept in `factors`), a label, and a one-line rationale."""
    by_id = {g.group_id: g for g in groups}
    cited_groups = [g for g in groups if set(g.source_ids) & cited_source_ids]
    copies = sum(len(g.source_ids) - 1 for g in cited_groups)
    n = len(claims) or 1
    best = max(claims, key=lambda c: (len(c.supporting_groups), -len(c.contradictions)), default=None)
    best_groups = len(best.supporting_groups) if best else 0
    official = _official([o for gid in (best.supporting_groups if best else ()) for o in by_id[gid].outlets]
                         if best else [], cfg)
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
            first = outlets.get(passages[x.claim_passage].source_id, "one source")
            second = outlets.get(passages[x.other_passage].source_id, "another")
            if first == second:
                first, second = "one source", "another"
            out.append(Sentence(
                text=f"Sources disagree on a figure: {first} gives {x.claim_text}, {second} {x.other_text}.",
                citations=[x.claim_passage, x.other_passage], kind="computed"))
    return out


def key_claim_contradictions(
    passage_ids: list[str], passages: dict[str, Passage], groups: list[SourceGroup],
    outlets: dict[str, str] | None = None, limit: int = 2, cfg: VeracityConfig | None = None,
) -> list[Sentence]:
    """Disagreements on figures between the body's passages and other independent sources."""
    group_of = {sid: g.group_id for g in groups for sid in g.source_ids}
    claims = []
    for pid in passage_ids:
        for text in _sentences(passages[pid].text):
            if _features(text).figures:
                claims.append(assess_claim(Sentence(text=text, citations=[pid]), passages, group_of, cfg))
    return contradiction_sentences(claims, passages, outlets)[:limit]


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
