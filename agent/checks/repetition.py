"""Repeated or near-repeated sentences and bullets, within and across sections."""

from __future__ import annotations

from collections import Counter

from rapidfuzz import fuzz

from agent.checks.codes import Code
from agent.schema import Violation
from agent.text import normalize_for_compare

REPETITION_CODES = frozenset({Code.REPEATED_SENTENCE, Code.LOOPING_TEXT})
THRESHOLD = 90
MAX_COMPARE_CHARS = 2_000  # a longer "sentence" (a 1 MB line) is compared on its start
MAX_CANDIDATES = 16
MAX_KEYS = 12  # the sentence's rarest words and word pairs find its candidates
MAX_BUCKET = 64  # a word shared by more kept items (e.g. "the") stops adding them; pairs stay selective


def _repeats(a: str, b: str, threshold: int) -> bool:
    """Near-identical, or one sentence of 8+ words standing whole inside the other."""
    shorter, longer = sorted((a, b), key=len)
    if len(shorter.split()) >= 8 and shorter in longer:
        return True
    return fuzz.ratio(a, b) >= threshold or (
        fuzz.token_set_ratio(a, b) >= 95 and len(shorter) > 0.8 * len(longer))


def _keys(words: list[str]) -> set[str]:
    """Words and word pairs: the buckets in which a repeat of this sentence will look for it."""
    return set(words) | {f"{a} {b}" for a, b in zip(words, words[1:])}


def find_repetition(items: list[tuple[str, int, str]], threshold: int = THRESHOLD) -> list[Violation]:
    """Flag each later item that repeats an earlier one (items are (section, index, text)).

    Linear in the number of items: an exact repeat is one lookup; otherwise an item is compared only with
    the earlier items that share the most of its MAX_KEYS rarest words and word pairs (at most
    MAX_CANDIDATES, from buckets of at most MAX_BUCKET items), on its first MAX_COMPARE_CHARS
    characters, so a crafted 10 MB draft cannot make it quadratic.
    """
    kept: list[tuple[str, int, str]] = []
    buckets: dict[str, list[int]] = {}
    exact: dict[str, int] = {}
    out = []
    for section, index, text in items:
        key = normalize_for_compare(text)[:MAX_COMPARE_CHARS]
        words = key.split()
        if len(words) < 4:
            continue
        keys = _keys(words)
        if key in exact:  # the commonest repeat costs one lookup
            match = kept[exact[key]]
        else:
            rare = sorted((len(buckets[w]), w) for w in keys if w in buckets)[:MAX_KEYS]  # rarest keys vote
            votes = Counter(k for _, w in rare for k in buckets[w])
            candidates = sorted(k for k, _ in votes.most_common(MAX_CANDIDATES))  # earliest first, as before
            match = next((kept[k] for k in candidates if _repeats(key, kept[k][2], threshold)), None)
        if match:
            out.append(Violation(code=Code.REPEATED_SENTENCE, section=section, sentence_index=index,
                                 start=0, end=len(text), text=text,
                                 message=f"repeats {match[0]} sentence {match[1] + 1}"))
        else:
            for w in keys:
                bucket = buckets.setdefault(w, [])
                if len(bucket) < MAX_BUCKET:
                    bucket.append(len(kept))
            exact.setdefault(key, len(kept))
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
            return [Violation(code=Code.LOOPING_TEXT, section=section, start=0, end=len(text), text=text[:200],
                              message=f"'{' '.join(gram)}' repeats {times}+ times: the model looped")]
    return []
