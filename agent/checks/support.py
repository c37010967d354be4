"""Citation and claim-support rules: every cited sentence must rest on the passages it names."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable

from agent.checks.codes import Code
from agent.schema import Evidence, Passage, Violation
from agent.text import alignment_stem, alignment_stems, alignment_words, number_spans

FACT_CODES = frozenset({Code.UNSUPPORTED_NUMBER, Code.UNSUPPORTED_NAME, Code.UNSUPPORTED_QUOTE, Code.UNSUPPORTED_CONTENT})

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


numbers_in = number_spans  # the one figure parser (agent.text), which also builds the computed disputes


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
    evidence_values = _evidence_values(evidence_text)
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


@lru_cache(maxsize=128)  # the same evidence is read for several claims and on every check of a run
def _evidence_stems(evidence: str) -> frozenset[str]:
    return frozenset(alignment_stems(evidence))


@lru_cache(maxsize=128)
def _evidence_values(evidence: str) -> frozenset[float]:
    return frozenset(_values(evidence))


def clear_evidence_cache() -> None:
    """Forget the evidence read so far (its words and figures are kept per evidence text)."""
    _evidence_stems.cache_clear()
    _evidence_values.cache_clear()


def content_support(text: str, evidence: str) -> tuple[float, list[str]]:
    """Share of the sentence's content words (crudely stemmed) found in the evidence, and the misses."""
    words = alignment_words(text)
    if not words:
        return 1.0, []
    have = _evidence_stems(evidence)
    missing = [w for w in words if alignment_stem(w) not in have]
    return 1 - len(missing) / len(words), missing


def check_free_text_facts(section: str, text: str, passages: Iterable[Passage]) -> list[Violation]:
    """Numbers and names in uncited text (headline, dek) must occur somewhere in the sources."""
    return unsupported_facts(section, 0, text, list(passages))
