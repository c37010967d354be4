"""Meaning-change rules about events: who did what (subject and object of the same verb), and when.

Heuristic subject-verb-object reading over clauses, no parser: a verb from a lexicon in a verb's
position, its doer the words just left of it (past auxiliaries and adverbs), its object the words right of it,
passives turned round. When the doer is unknown (a pronoun, an infinitive) the rule says nothing.
"""

from __future__ import annotations

from agent.checks.meaning_text import (
    CLAUSE_OPENERS, IRREGULAR, PAST_PARTICIPLE_IRREGULAR, Clause, Finding, Token, clauses, english, finding,
    is_content, overlap, source_clauses, stem, time_mentions,
)


_VERBS = {stem(v) for v in """approve reject challenge sue fine beat defeat acquire buy sell hire fire attack accuse
criticise criticize praise support oppose award pay sign elect appoint arrest charge sanction ban block back endorse
win lose announce propose ask urge warn build close open lead join leave invite meet host visit own fund finance lend
borrow owe demand defend blame threaten investigate replace overtake merge employ vote veto order force hit kill
injure convict acquit pass launch cancel impose lift release raise cut reduce increase grant deny sack dismiss
overturn uphold recommend request contract pressure press""".split()}
_SKIP_LEFT = frozenset("""is are was were be been being has have had do does did will would could should may might
must shall can to set expected due going likely able about also not n't already still now then reportedly formally
unanimously again finally jointly help helps helped helping try tries tried seek seeks want wants plan plans
planned aim aims aimed on in last this monday tuesday wednesday thursday friday saturday sunday""".split())
# Nouns that name a doer: a claim subject made of them is a different actor, not a paraphrase of one.
_ACTORS = {stem(w) for w in """authority council board government ministry minister parliament port city company firm
court police union association regulator agency mayor president committee bank operator utility residents farmers
growers""".split()}
_BE = frozenset("is are was were be been being get gets got".split())
_PRONOUNS = frozenset("it they he she we i you which who that this these those there its".split())
_STOP_RIGHT = frozenset("in on at by for from with to into after before over under against during since".split())


def _roles(c: Clause, i: int) -> tuple[set[str] | None, set[str]]:
    """(logical subject, logical object) content stems of the verb at token i; subject None if unknown."""
    toks = c.tokens
    j = i - 1
    while j >= 0 and (toks[j].low in _SKIP_LEFT or toks[j].low.endswith("ly")):
        if toks[j].low == "to" and j and toks[j - 1].low not in _SKIP_LEFT and not toks[j - 1].low.endswith("ly"):
            return None, set()  # "its intention to increase": the doer is not next to the verb
        j -= 1
    left = list(toks[: j + 1])
    while left and left[0].low in CLAUSE_OPENERS:
        left = left[1:]  # "that help reduce": the subject is outside this clause
    right: list[Token] = []
    for t in toks[i + 1:]:
        if t.low in _STOP_RIGHT and right:
            break
        right.append(t)
    verb = toks[i].low
    passive = i > 0 and toks[i - 1].low in _BE and (verb.endswith(("ed", "en")) or verb in PAST_PARTICIPLE_IRREGULAR)
    if not left or left[-1].low in _PRONOUNS:
        subject = None
    else:
        subject = {t.stem for t in left[-6:] if is_content(t)} or None
    obj = {t.stem for t in right[:5] if is_content(t) and t.low not in _STOP_RIGHT}
    if passive:
        after = toks[i + 1:]
        by = next((k for k, t in enumerate(after) if t.low == "by"), None)
        agent = {t.stem for t in after[by + 1: by + 5] if is_content(t)} if by is not None else set()
        return (agent or None), subject or set()
    return subject, obj


def _verb_positions(c: Clause) -> list[int]:
    """Tokens of the verb lexicon in a verb's position: inflected, or after an auxiliary or a plural or name."""
    out = []
    for i, t in enumerate(c.tokens):
        if t.stem not in _VERBS or t.text[0].isupper():
            continue
        before = c.tokens[i - 1] if i else None
        if before is None or before.low in _DETERMINERS_OF:
            continue
        inflected = t.low.endswith(("ed", "es")) or (t.low.endswith("s") and not t.low.endswith("ss")) or (
            t.low in IRREGULAR)
        after_aux = before.low in _SKIP_LEFT or before.low.endswith("ly")
        after_doer = before.text[0].isupper() or (before.low.endswith("s") and is_content(before))
        if inflected or after_aux or after_doer:
            out.append(i)
    return out


_DETERMINERS_OF = frozenset("the a an its their his her our your my of this that these those".split())


def swapped_actor(claim: str, source: str) -> list[Finding]:
    """The doer of an action in the claim is not its doer in the source (or is the one it was done to)."""
    if not english(claim, source):
        return []
    src = source_clauses(source)
    every_word = set().union(*(s.content for s in src)) if src else set()
    found: list[Finding] = []
    for c in clauses(claim):
        for i in _verb_positions(c):
            subj, obj = _roles(c, i)
            if not subj:
                continue
            verb = c.tokens[i]
            occurrences = [(s, *_roles(s, j)) for s in src for j in _verb_positions(s) if s.tokens[j].stem == verb.stem]
            known = [(s, ss, os) for s, ss, os in occurrences if ss]
            if not known or any(subj & ss for _, ss, _ in known):
                continue
            for s, ss, os in known:
                same_event = not obj or not os or bool(obj & os) or bool(subj & os and obj & ss)
                if same_event and (subj & os or subj <= every_word or subj & _ACTORS):
                    who = "what the source says it acted on" if subj & os else "not who does it in the source"
                    found.append(finding("actor-swapped", claim, (c.start, verb.end), source, (s.start, s.end),
                                         f"the claim's doer of '{verb.text}' is {who}"))
                    break
    return found


# --- time ------------------------------------------------------------------------------------------
def _tense(c: Clause, i: int) -> str | None:
    """'future' (will, would, due to, set to…), 'past' (-ed, irregular past) or None for the verb at token i."""
    toks = c.tokens
    before = [t.low for t in toks[max(0, i - 3):i]]
    if any(b in ("will", "shall", "'ll", "would") for b in before) or any(
            a in ("due", "set", "expected", "going", "plans", "planned") and b == "to"
            for a, b in zip(before, before[1:])):
        return "future"
    word = toks[i].low
    if (word.endswith("ed") and len(word) > 4) or (word in IRREGULAR and word not in ("said", "told")):
        return "past"
    return None


def shifted_time(claim: str, source: str) -> list[Finding]:
    """A date moved from one event to another, or a future event told as past (or the reverse)."""
    if not english(claim, source):
        return []
    src = source_clauses(source)
    stimes = time_mentions(source)
    found: list[Finding] = []
    claim_clauses = clauses(claim)
    for tm in time_mentions(claim):
        c = next((c for c in claim_clauses if c.start <= tm.start <= c.end), None)
        if c is None or not any(t.key == tm.key for t in stimes):
            continue
        own_words = {t.stem for t in c.tokens if tm.start <= t.start < tm.end}
        holders = {id(s) for s in src for t in stimes if t.key == tm.key and s.start <= t.start < s.end + 1}
        ranked = sorted(((*overlap(c, s, own_words), s) for s in src), key=lambda r: (-r[0], -r[1]))
        n, ratio, best = ranked[0]
        held = max((m for m, _, s in ranked if id(s) in holders), default=0)
        if id(best) not in holders and n >= 2 and ratio >= 0.6 and n >= held + 2:
            where = next(s for s in src if id(s) in holders)
            found.append(finding("time-shifted", claim, (tm.start, tm.end), source, (where.start, where.end),
                                 f"'{tm.key}' belongs to another event in the source"))
    for c in claim_clauses:
        for i in sorted(set(_verb_positions(c)) | {k for k, t in enumerate(c.tokens) if t.stem in _EVENT_VERBS}):
            mine = _tense(c, i)
            if mine is None:
                continue
            verb = c.tokens[i]
            told = [(s, _tense(s, j)) for s in src for j, t in enumerate(s.tokens)
                    if t.stem == verb.stem and overlap(c, s, {verb.stem})[0] >= 1]
            told = [(s, tense) for s, tense in told if tense]
            if told and all(tense != mine for _, tense in told):
                s, theirs = told[0]
                found.append(finding("time-shifted", claim, (verb.start, verb.end), source, (s.start, s.end),
                                     f"the claim tells as {mine} what the source tells as {theirs}"))
                break
    return found


_EVENT_VERBS = {stem(v) for v in "open start begin end finish complete rise fall take hold".split()}
