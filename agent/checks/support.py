"""Citation and claim-support rules: every cited sentence must rest on the passages it names."""

from __future__ import annotations

import re
from typing import Iterable

from agent.checks.codes import Code
from agent.schema import Evidence, Passage, Violation
from agent.text import alignment_stem, alignment_stems, alignment_words

FACT_CODES = frozenset({Code.UNSUPPORTED_NUMBER, Code.UNSUPPORTED_NAME, Code.UNSUPPORTED_QUOTE, Code.UNSUPPORTED_CONTENT})

_NUMBER_WORDS = {
    "zero": 0, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "dozen": 12,
}
_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12,
           "k": 1e3, "m": 1e6, "bn": 1e9}
_NUMBER_RE = re.compile(
    r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?:\s*(%|percent|per cent))?"
    r"(?:\s*(thousand|million|billion|trillion|bn|k|m)\b)?",
    re.IGNORECASE,
)
_WORD_NUMBER_RE = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", re.IGNORECASE)
_NAME_RE = re.compile(r"\b[A-Z][a-zA-Z'’\-]+(?:\s+[A-Z][a-zA-Z'’\-]+)*")
_QUOTE_RE = re.compile(r"[\"“]([^\"”]{8,})[\"”]")
# Capitalized words that are not names: sentence starters and house-format vocabulary.
_NOT_NAMES = {
    "the", "a", "an", "this", "that", "these", "those", "it", "its", "in", "on", "at", "by",
    "for", "from", "with", "as", "and", "but", "or", "if", "while", "when", "where", "after",
    "before", "since", "until", "both", "each", "other", "some", "many", "most", "more", "all",
    "officials", "analysts", "critics", "whether", "progress", "monday", "tuesday", "wednesday",
    "thursday", "friday", "saturday", "sunday", "january", "february", "march", "april", "may",
    "june", "july", "august", "september", "october", "november", "december", "he", "she",
    "they", "we", "i", "his", "her", "their", "our", "there", "here", "what", "who", "why",
    "how", "which", "watch", "however", "meanwhile", "also", "not", "no", "yes", "according",
}


def numbers_in(text: str) -> list[tuple[int, int, set[float]]]:
    """Numeric mentions in `text` as (start, end, acceptable values)."""
    found: list[tuple[int, int, set[float]]] = []
    for m in _NUMBER_RE.finditer(text):
        whole = float(m.group(1).replace(",", "") + ("." + m.group(2) if m.group(2) else ""))
        scale = _SCALES.get((m.group(4) or "").lower(), 1.0)
        found.append((m.start(), m.end(), {whole, whole * scale}))
    for m in _WORD_NUMBER_RE.finditer(text):
        value = float(_NUMBER_WORDS[m.group(1).lower()])
        found.append((m.start(), m.end(), {value}))
    return found


def _values(text: str) -> set[float]:
    values: set[float] = set()
    for _, _, vals in numbers_in(text):
        values |= vals
    return values


def names_in(text: str) -> list[tuple[int, int, str]]:
    """Capitalized word runs that look like names, minus function words at their start."""
    names = []
    for m in _NAME_RE.finditer(text):
        words = m.group(0).split()
        offset = m.start()
        while words and words[0].lower().strip("'’") in _NOT_NAMES:
            offset += len(words[0]) + 1
            words = words[1:]
        if len(words) == 1 and not text[:offset].strip():
            continue  # a lone capitalized word opening the sentence is usually not a name
        if words:
            name = " ".join(words)
            names.append((offset, offset + len(name), name))
    return names


def _evidence(passages: list[Passage]) -> list[Evidence]:
    return [Evidence(passage=p.id, quote=p.text[:300], start=p.start, end=p.end) for p in passages]


def unsupported_facts(section: str, index: int, text: str, cited: list[Passage], *,
                      content_supported: bool | None = None) -> list[Violation]:
    """Numbers, names and quotes missing from the cited text; content by the verifier's verdict when given
    (claims.py), else by the plain alignment cut-off (uncited free text)."""
    evidence_text = " ".join(p.text for p in cited)
    evidence_values = _values(evidence_text)
    evidence_folded = evidence_text.casefold()
    out: list[Violation] = []
    for start, end, values in numbers_in(text):
        if not values & evidence_values:
            out.append(Violation(
                code=Code.UNSUPPORTED_NUMBER, section=section, sentence_index=index, start=start, end=end,
                text=text[start:end], evidence=_evidence(cited),
                message=f"'{text[start:end]}' does not occur in the cited passage(s)"))
    for start, end, name in names_in(text):
        if name.casefold() not in evidence_folded and not all(
            w.casefold() in evidence_folded for w in name.split()
        ):
            out.append(Violation(
                code=Code.UNSUPPORTED_NAME, section=section, sentence_index=index, start=start, end=end,
                text=name, evidence=_evidence(cited),
                message=f"name '{name}' does not occur in the cited passage(s)"))
    support, missing = content_support(text, evidence_text)
    if (support < MIN_CONTENT_SUPPORT) if content_supported is None else not content_supported:
        out.append(Violation(
            code=Code.UNSUPPORTED_CONTENT, section=section, sentence_index=index, start=0, end=len(text), text=text,
            evidence=_evidence(cited),
            message=f"most of the sentence is not in the cited passage(s) ({support:.0%} supported; "
                    f"not found: {', '.join(missing[:6])})"))
    for m in _QUOTE_RE.finditer(text):
        if " ".join(m.group(1).split()).casefold() not in " ".join(evidence_text.split()).casefold():
            out.append(Violation(
                code=Code.UNSUPPORTED_QUOTE, section=section, sentence_index=index, start=m.start(),
                end=m.end(), text=m.group(0), evidence=_evidence(cited),
                message="quoted text does not occur verbatim in the cited passage(s)"))
    return out


MIN_CONTENT_SUPPORT = 0.5


def content_support(text: str, evidence: str) -> tuple[float, list[str]]:
    """Share of the sentence's content words (crudely stemmed) found in the evidence, and the misses."""
    words = alignment_words(text)
    if not words:
        return 1.0, []
    have = alignment_stems(evidence)
    missing = [w for w in words if alignment_stem(w) not in have]
    return 1 - len(missing) / len(words), missing


def check_free_text_facts(section: str, text: str, passages: Iterable[Passage]) -> list[Violation]:
    """Numbers and names in uncited text (headline, dek) must occur somewhere in the sources."""
    return unsupported_facts(section, 0, text, list(passages))
