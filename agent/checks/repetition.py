"""Repeated or near-repeated sentences and bullets, within and across sections."""

from __future__ import annotations

from rapidfuzz import fuzz

from agent.schema import Violation
from agent.text import normalize_for_compare

THRESHOLD = 90


def _repeats(a: str, b: str, threshold: int) -> bool:
    """Near-identical, or one sentence of 8+ words standing whole inside the other."""
    shorter, longer = sorted((a, b), key=len)
    if len(shorter.split()) >= 8 and shorter in longer:
        return True
    return fuzz.ratio(a, b) >= threshold or (
        fuzz.token_set_ratio(a, b) >= 95 and len(shorter) > 0.8 * len(longer))


def find_repetition(items: list[tuple[str, int, str]], threshold: int = THRESHOLD) -> list[Violation]:
    """Flag each later item that repeats an earlier one (items are (section, index, text))."""
    kept: list[tuple[str, int, str]] = []
    out = []
    for section, index, text in items:
        key = normalize_for_compare(text)
        if len(key.split()) < 4:
            continue
        match = next((k for k in kept if _repeats(key, k[2], threshold)), None)
        if match:
            out.append(Violation(code="repeated-sentence", section=section, sentence_index=index,
                                 start=0, end=len(text), text=text,
                                 message=f"repeats {match[0]} sentence {match[1] + 1}"))
        else:
            kept.append((section, index, key))
    return out


def find_looping(text: str, section: str, n: int = 4, times: int = 3) -> list[Violation]:
    """A model stuck in a loop: the same n-word run three or more times in one text."""
    words = normalize_for_compare(text).split()
    counts: dict[tuple[str, ...], int] = {}
    for i in range(len(words) - n + 1):
        gram = tuple(words[i:i + n])
        counts[gram] = counts.get(gram, 0) + 1
        if counts[gram] == times:
            return [Violation(code="looping-text", section=section, start=0, end=len(text), text=text[:200],
                              message=f"'{' '.join(gram)}' repeats {times}+ times: the model looped")]
    return []
