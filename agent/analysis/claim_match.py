"""Claim matching: do two sentences report the same event, with the same names, figures and direction?

Two sentences corroborate when the other source names the claim's key entities, shares most of its
event words, gives the same figures and moves in the same direction. A figure of the same quantity
with a different value is a contradiction, not support, in any language (figures are read by
agent.text.figures_in). See docs/veracity.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from agent.checks.meaning_text import clauses, direction_marks, looks_english, negated
from agent.config import VeracityConfig
from agent.text import ALL_STOPWORDS, CURRENCIES, SCALES, UNIT_OF, Figure, figures_in, words as words_of

_NAME_RUN = re.compile(r"[^\W\d_][\w'’-]*(?:\s+(?:de|del|la|van|von|der)?\s*[A-ZÀ-Ý][\w'’-]*)*", re.UNICODE)
_DENIAL = re.compile(r"\b(denied|denies|deny|false|untrue|not true|no evidence|rejected the (?:claim|report)|"
                     r"desminti\w*|neg[óo] que|es falso|dément\w*|dementi\w*)\b", re.I)
_TIME_WORDS = frozenset("""monday tuesday wednesday thursday friday saturday sunday today yesterday tomorrow week
month year lunes martes miércoles jueves viernes sábado domingo ayer hoy mañana semana enero febrero marzo abril
mayo junio julio agosto septiembre octubre noviembre diciembre january february march april june july august
september october november december""".split())
_NOT_NAMES = ALL_STOPWORDS | _TIME_WORDS | frozenset("""a i he she we they his her our sources officials however meanwhile
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
class Features:
    """What a sentence says, reduced to what claim matching compares."""

    entities: frozenset[str]
    words: frozenset[str]          # event words: content stems that are not names, dates or figures
    figures: tuple[Figure, ...]
    directions: frozenset[tuple[str, int]]
    denial: bool
    negated: bool                  # a negation in a clause that carries a direction ("did not approve")


def _stem(word: str) -> str:
    return word[:5]


@lru_cache(maxsize=65536)
def features(text: str) -> Features:
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
    figure_words = {w for f in every for w in words_of(text[f.start:f.end].casefold())}
    words = {_stem(w) for w in words_of(text.casefold())
             if len(w) >= 4 and not w[0].isdigit() and w not in ALL_STOPWORDS and w not in _TIME_WORDS
             and w not in entities and w not in figure_words and w not in SCALES and w not in UNIT_OF}
    directions, negated_event = _directions(text)
    return Features(frozenset(entities), frozenset(words), figs, frozenset(directions), bool(_DENIAL.search(text)),
                     negated_event)


@lru_cache(maxsize=4096)
def named_words(text: str) -> frozenset[str]:
    """Every word of a text, casefolded: a name counts as named however the other source capitalises it."""
    return frozenset(w.removesuffix("'s").removesuffix("’s") for w in re.findall(r"[^\W\d_][\w'’]*", text.casefold()))


def _directions(text: str) -> tuple[set[tuple[str, int]], bool]:
    """Direction marks of the sentence's events, and whether an event clause is negated."""
    if looks_english(text):
        marked = [(c, direction_marks(c)) for c in clauses(text)]
        return ({(g, sign) for _, marks in marked for _, g, sign in marks},
                any(marks and negated(c) for c, marks in marked))
    words = words_of(text.casefold())
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
    c, o = features(claim), features(other)
    named = named_words(other_context or other)
    if c.entities and len(c.entities & named) * 2 < len(c.entities):
        return ClaimMatch("unrelated", "the other source does not name the claim's people and places")
    ours = (features(claim_context).entities if claim_context else frozenset()) | c.entities
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


@lru_cache(maxsize=65536)
def word_stems(text: str) -> frozenset[str]:
    """Stems of every word of four letters or more: a cheap test of whether a passage is worth reading."""
    return frozenset(_stem(w) for w in words_of(text.casefold()) if len(w) >= 4)


