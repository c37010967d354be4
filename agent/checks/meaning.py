"""Meaning-change rules: a claim whose words are all in its source can still say something else.

Each rule is a pure function `(claim, source) -> list[Finding]`, comparing each clause of the
claim with the source clauses that say the same thing (most shared content words). A rule that
cannot tell (another language, no aligned clause, an unknown subject) says nothing. Direction,
hedges and figures live here; who-did-what and time in meaning_events.py; the shared lexicons and
clause alignment in meaning_text.py. The drafter calls `meaning_preserved` and `compression_errors`.
"""

from __future__ import annotations

from agent.checks.meaning_events import shifted_time, swapped_actor
from agent.checks.meaning_text import (
    ATTRIBUTION, MODALITY, STRONG_MODALS, Clause, Finding, Token, attributions, clauses, direction_marks, english,
    figures, finding, hedges, is_content, is_negation, negated, overlap, sentence_tokens, source_clauses,
    SCALE_WORDS, UNIT_OF, source_tokens, tokens,
)

__all__ = ["Finding", "RULES", "changed_direction", "changed_hedge", "compression_errors", "is_faithful_compression",
           "meaning_changes", "meaning_preserved", "moved_figure", "protected_tokens", "shifted_time", "swapped_actor"]


# --- direction and polarity -----------------------------------------------------------------
def changed_direction(claim: str, source: str) -> list[Finding]:
    """A direction word turned into its opposite (rise → fall, approve → reject), or a negation added or dropped."""
    if not english(claim, source):
        return []
    found: list[Finding] = []
    src = source_clauses(source)
    for c in clauses(claim):
        marks = direction_marks(c)
        sign_c = -1 if negated(c) else 1
        exclude = {t.stem for t, _, _ in marks}
        for tok, group, sign in marks:
            agree, against = 0, None
            for s in src:
                same_group = [(t, sg) for t, g, sg in direction_marks(s) if g == group]
                if not same_group:
                    continue
                n, ratio = overlap(c, s, exclude | {t.stem for t, _ in same_group})
                signs = {sg * (-1 if negated(s) else 1) for _, sg in same_group}
                if sign * sign_c in signs:
                    agree = max(agree, n)
                elif n >= 2 and ratio >= 0.34 and (against is None or n > against[0]):
                    against = (n, s, same_group[0][0])
            if against and against[0] > agree:
                n, s, word = against
                found.append(finding("direction", claim, (tok.start, tok.end), source, (s.start, s.end),
                                     f"'{tok.text}' reverses the source's '{word.text}'"))
        if not marks:
            found += _changed_negation(claim, source, c, src)
    return found


def _changed_negation(claim: str, source: str, c: Clause, src: tuple[Clause, ...]) -> list[Finding]:
    if len(c.content) < 4:
        return []  # a verbless list item ("voice recognition feature") has no polarity to compare
    ranked = sorted(((*overlap(c, s), s) for s in src), key=lambda r: (-r[0], -r[1]))
    if not ranked or ranked[0][0] < 3 or ranked[0][1] < 0.6 or ranked[0][0] < 0.5 * len(ranked[0][2].content):
        return []
    best = ranked[0][0]
    close = [s for n, ratio, s in ranked if n >= best - 1 and ratio >= 0.6]
    if any(negated(s) == negated(c) for s in close):
        return []
    s = close[0]
    what = "adds a negation the source does not have" if negated(c) else "drops the source's negation"
    return [finding("direction", claim, (c.start, c.end), source, (s.start, s.end), f"the claim {what}")]


# --- hedges, modality and attribution -------------------------------------------------------
def changed_hedge(claim: str, source: str) -> list[Finding]:
    """A hedge, modal or attribution of the source dropped (stated as fact) or one added."""
    if not english(claim, source):
        return []
    found: list[Finding] = []
    src = source_clauses(source)
    claim_clauses = clauses(claim)
    claim_words = set().union(*(c.content for c in claim_clauses)) if claim_clauses else set()
    attributed_sentences = {s.sentence for s in src if attributions(s)}
    claim_hedged = any(hedges(c) for c in claim_clauses)
    claim_will = any(t.low in _FUTURE for c in claim_clauses for t in c.tokens)
    for c in claim_clauses:
        if attributions(c) and len(c.content) <= 3:
            continue  # "…, officials said": the attribution clause itself
        ranked = sorted(((*overlap(c, s), s) for s in src), key=lambda r: (-r[0], -r[1]))
        if not ranked or ranked[0][0] < 3 or ranked[0][1] < 0.6:
            continue
        best = ranked[0][0]
        support = [s for n, ratio, s in ranked if n >= max(3, best - 1) and ratio >= 0.6]
        speakers = set().union(*(_speakers(source, s) for s in support))
        attributed = any(attributions(k, lenient=True) for k in claim_clauses) or bool(claim_words & speakers)
        mine = hedges(c)
        theirs = [hedges(s) for s in support]
        reported_future = all(t.low == "would" for h in theirs for t in h) and attributed and not claim_will
        if not claim_hedged and all(theirs) and not reported_future:
            s, word = support[0], theirs[0][0]
            found.append(finding("hedge-dropped", claim, (c.start, c.end), source, (s.start, s.end),
                                 f"the source hedges this ('{word.text}') but the claim states it as fact"))
        elif not attributed and _checkable(c) and all(s.sentence in attributed_sentences for s in support):
            s = support[0]
            word = next(t for t in sentence_tokens(source, s) if t.low in ATTRIBUTION)
            found.append(finding("hedge-dropped", claim, (c.start, c.end), source, s.sentence,
                                 f"the source attributes this ('{word.text}') but the claim drops the attribution"))
        elif any(t.low in STRONG_MODALS for t in mine) and not any(theirs) and not any(
                s.sentence in attributed_sentences for s in support):
            s, word = support[0], next(t for t in mine if t.low in STRONG_MODALS)
            found.append(finding("hedge-added", claim, (word.start, word.end), source, (s.start, s.end),
                                 f"the claim adds '{word.text}' where the source is definite"))
    return found


_FUTURE = frozenset({"will", "shall", "'ll", "won't"})


def _checkable(c: Clause) -> bool:
    """A figure, a forecast or a change: what an attribution vouches for (a plain past act needs none)."""
    toks = c.tokens
    return (any(t.low[0].isdigit() or t.low in _FUTURE for t in toks)
            or any(g == "amount" for _, g, _ in direction_marks(c))
            or any(a.low in ("set", "due", "going") and b.low == "to" for a, b in zip(toks, toks[1:])))


def _speakers(source: str, s: Clause) -> set[str]:
    """The words naming who the source says said it: the run of words just before the attribution verb
    ("Saal said", "their association said"), or just after it ("…, said director Mara Ilves")."""
    toks = sentence_tokens(source, s)
    out: set[str] = set()

    def run(indices) -> set[str]:
        got: set[str] = set()
        prev = None
        for k in indices:
            t = toks[k]
            gap = source[min(prev.end, t.end):max(prev.start, t.start)] if prev else ""
            if t.low[0].isdigit() or any(ch in gap for ch in ",;:(") or len(got) == 3:
                break
            if not is_content(t):
                if t.low in ("in", "of", "at", "for", "from"):  # "critics in Lanmouth"
                    prev = t
                    continue
                break
            got.add(t.stem)
            prev = t
        return got

    for i, t in enumerate(toks):
        if t.low in ATTRIBUTION and t.low != "according":
            before = source[toks[i - 1].end:t.start] if i else ","
            out |= run(range(i - 1, -1, -1)) if not any(ch in before for ch in ",;:") else set()
            out |= run(range(i + 1, len(toks)))
    return out


# --- figures bound to nouns and units ---------------------------------------------------------
def moved_figure(claim: str, source: str) -> list[Finding]:
    """A figure attached to a different unit, scale or noun than in the source."""
    if not english(claim, source):
        return []
    sfigs = figures(source)
    if not sfigs:
        return []
    found: list[Finding] = []
    src = source_clauses(source)
    sentence_content: dict[tuple[int, int], set[str]] = {}
    for s in src:
        sentence_content.setdefault(s.sentence, set()).update(s.content)
    every_word = set().union(*sentence_content.values())

    def sentence_of(pos: int) -> tuple[int, int]:
        return next((s.sentence for s in src if s.sentence[0] <= pos < s.sentence[1]), (pos, pos))

    claim_clauses = clauses(claim)
    for f in figures(claim):
        same_value = [g for g in sfigs if abs(g.value - f.value) <= 1e-9 * max(1.0, abs(f.value))]
        if not same_value:
            same_whole = [g for g in sfigs if g.whole == f.whole and g.scale != f.scale and (g.scale or f.scale)]
            if same_whole:
                g = same_whole[0]
                found.append(finding("figure-moved", claim, (f.start, f.end), source, (g.start, g.end),
                                     f"'{claim[f.start:f.end]}' has a different scale from the source's "
                                      f"'{source[g.start:g.end]}'"))
            continue
        if not (f.unit or f.scale or f.whole >= 10):
            continue  # a bare small number ("2", "5") binds too loosely to compare
        if f.unit_class and all(g.unit_class for g in same_value) and all(g.unit != f.unit for g in same_value):
            g = same_value[0]
            found.append(finding("figure-moved", claim, (f.start, f.end), source, (g.start, g.end),
                                 f"'{f.unit}' where the source gives this figure in '{g.unit}'"))
            continue
        c = next((c for c in claim_clauses if c.start <= f.start < c.end + 1), None)
        if c is None:
            continue
        figure_words = {t.stem for t in c.tokens if f.start <= t.start < f.end + 12 or t.low[0].isdigit()}
        context = c.content - figure_words
        own = {sentence_of(g.start) for g in same_value}
        best_own = max(len(context & sentence_content.get(s, set())) for s in own)
        others = [(len(context & sentence_content.get(sentence_of(g.start), set())), g) for g in sfigs
                  if sentence_of(g.start) not in own and (g.unit_class == f.unit_class or not f.unit_class)]
        if others:
            n, g = max(others, key=lambda r: r[0])
            if n >= 3 and n >= best_own + 2:
                found.append(finding("figure-moved", claim, (f.start, f.end), source, sentence_of(g.start),
                                     f"the claim binds '{claim[f.start:f.end]}' to what the source says about "
                                      f"'{source[g.start:g.end]}'"))
                continue
        other_words = set().union(set(), *(sentence_content.get(sentence_of(g.start), set()) for g in sfigs
                                          if sentence_of(g.start) not in own))
        swap = _swapped_modifier(c, own, source, other_words)
        if swap:
            w, w2, span = swap
            found.append(finding("figure-moved", claim, (w.start, w.end), source, span,
                                 f"the source gives '{claim[f.start:f.end]}' for '{w2.text}', not '{w.text}'"))
    return found


def _swapped_modifier(c: Clause, own: set[tuple[int, int]], source: str, other_words: set[str]):
    """'electricity bills' in the claim where the figure's source sentence says 'water bills'."""
    claim_words = c.content
    toks = c.tokens
    for a, b in sorted(own):
        stoks = [t for t in source_tokens(source) if a <= t.start < b]
        here = {t.stem for t in stoks if is_content(t)}
        for w, h in zip(toks, toks[1:]):
            if not (is_content(w) and is_content(h)) or h.stem not in here or w.stem in here:
                continue
            if w.stem not in other_words or w.low[0].isdigit():
                continue  # the claim's modifier must come from another figure's sentence
            for w2, h2 in zip(stoks, stoks[1:]):
                if h2.stem == h.stem and is_content(w2) and w2.stem not in claim_words and not w2.low[0].isdigit():
                    return w, w2, (w2.start, h2.end)
    return None


RULES = (changed_direction, changed_hedge, moved_figure, swapped_actor, shifted_time)


def meaning_changes(claim: str, source: str) -> list[Finding]:
    """Every meaning-change rule's findings for one claim against its source text, one per source span
    and kind (two clauses of a claim dropping the same attribution are one finding)."""
    seen: set[tuple[str, tuple[int, int]]] = set()
    out = []
    for f in (f for rule in RULES for f in rule(claim, source)):
        if (f.kind, f.source_span) not in seen:
            seen.add((f.kind, f.source_span))
            out.append(f)
    return out


def meaning_preserved(candidate: str, source_sentence: str) -> list[Finding]:
    """For the drafter: what a rewritten sentence changed in its source sentence (empty: nothing found)."""
    return meaning_changes(candidate, source_sentence)


def protected_tokens(text: str) -> list[str]:
    """Tokens a deletion-only compression must keep: numbers (with their scale and unit, and 'about' or
    'more than' before them), names, negations, hedges, modals and attribution."""
    keep = []
    toks = tokens(text)
    for i, t in enumerate(toks):
        if t.low in _APPROXIMATORS and i + 1 < len(toks) and toks[i + 1].low[0].isdigit():
            keep.append(t.low)  # "about 6 percent", "more than 900": the figure's precision
        elif i and toks[i - 1].low[0].isdigit() and (t.low in SCALE_WORDS or t.low in UNIT_OF):
            keep.append(t.low)  # "1.2 billion", "150,000 cubic": part of the figure
        elif (t.low[0].isdigit() or is_negation(t) or t.low == "without" or t.low in MODALITY or t.low in _MODAL_WORDS
                or t.low in ATTRIBUTION or (t.text[0].isupper() and (i > 0 or not _is_function(t)))):
            keep.append(t.low)
    return keep


_APPROXIMATORS = frozenset("about around nearly almost roughly approximately some over under than least most up"
                           .split())
_MODAL_WORDS = frozenset("""will would could may might should must shall can likely unlikely possibly probably perhaps
expected expects expect plans plan planned aims hopes hope wants asked asks estimated estimates""".split())


def _is_function(t: Token) -> bool:
    return not is_content(t) or t.low in ("however", "meanwhile")


def compression_errors(candidate: str, source: str) -> list[str]:
    """Why a candidate is not a faithful deletion-only compression of `source` (empty: it is one)."""
    want = [t.low for t in tokens(candidate)]
    if not want:
        return ["the candidate is empty"]
    have = iter(t.low for t in tokens(source))
    extra = next((w for w in want if not any(w == h for h in have)), None)
    if extra is not None:
        return [f"'{extra}' is not a deletion from the source (new, changed or moved word)"]
    kept = list(want)
    errors = []
    for p in protected_tokens(source):
        if p in kept:
            kept.remove(p)
        else:
            errors.append(f"dropped '{p}' (numbers, names, negations, hedges, modals and attributions must stay)")
    return errors + [f.message for f in meaning_preserved(candidate, source)]


def is_faithful_compression(candidate: str, source: str) -> bool:
    """True if the candidate only deletes words of the source, in order, keeping every protected token."""
    return not compression_errors(candidate, source)
