"""Repetition rule: the same verdicts as comparing every pair, at a cost linear in the number of sentences."""

from __future__ import annotations

import random

import pytest

from agent.checks import repetition
from agent.checks.repetition import MAX_CANDIDATES, find_looping, find_repetition

BASE = "The Velden council approved the Blue line tram extension on Tuesday"


@pytest.mark.parametrize("later, repeats", [
    (BASE, True),                                                     # exact
    (BASE.replace("Tuesday", "Tuesday."), True),                      # punctuation only
    (BASE.replace("approved", "approves"), True),                     # one letter
    ("Officials said " + BASE.lower() + " after a debate", True),     # contains the whole earlier sentence
    ("The harbour board rejected a ferry terminal plan on Monday", False),
    ("Velden council tram", False),                                   # under four words: never compared
])
def test_repeats_are_found(later, repeats):
    found = find_repetition([("body", 0, BASE), ("nuance", 0, later)])
    assert bool(found) is repeats
    if repeats:
        assert found[0].section == "nuance" and found[0].message == "repeats body sentence 1"


def _all_pairs(items, threshold=repetition.THRESHOLD):
    """The old rule: every item against every kept one (quadratic), as the reference."""
    kept, out = [], []
    for section, index, text in items:
        key = repetition.normalize_for_compare(text)
        if len(key.split()) < 4:
            continue
        match = next((k for k in kept if repetition._repeats(key, k[2], threshold)), None)
        (out.append((section, index, f"repeats {match[0]} sentence {match[1] + 1}")) if match
         else kept.append((section, index, key)))
    return out


def _corpus(seed: int, n: int) -> list[tuple[str, int, str]]:
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(300)]  # a small vocabulary: every bucket fills up
    items = [("body", i, " ".join(rng.choice(vocab) for _ in range(rng.randint(4, 18))) + ".") for i in range(n)]
    items += [("nuance", i, items[i][2]) for i in range(0, n, 17)]
    items += [("watch", i, items[i][2].replace(items[i][2].split()[1], "other")) for i in range(1, n, 19)]
    items += [("means", i, "As reported, " + items[i][2] + " more") for i in range(2, n, 23)]
    rng.shuffle(items)
    return items


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_same_verdicts_as_comparing_every_pair(seed):
    items = _corpus(seed, 600)
    got = [(v.section, v.sentence_index, v.message) for v in find_repetition(items)]
    assert got == _all_pairs(items) and got


def test_comparisons_grow_linearly_with_the_draft(monkeypatch):
    calls = [0]
    real = repetition._repeats

    def counting(a, b, threshold):
        calls[0] += 1
        return real(a, b, threshold)

    monkeypatch.setattr(repetition, "_repeats", counting)
    for n in (1_000, 4_000):
        calls[0] = 0
        find_repetition([("body", i, f"Sentence number {i} about the tram line and the harbour") for i in range(n)])
        assert calls[0] <= MAX_CANDIDATES * n  # all pairs would be n * (n - 1) / 2


def test_a_huge_single_line_is_compared_on_its_start():
    line = "word " * 400_000  # 2 MB without a full stop: one "sentence"
    assert find_repetition([("body", 0, line), ("body", 1, line + "tail")])  # found, without an O(n^2) string compare


def test_looping_text_is_found():
    assert find_looping("the line will open " * 3, "body")
    assert not find_looping("the line will open in 2028 and the harbour will follow", "body")


def test_sentence_splitting_reads_each_boundary_locally():
    """split_sentences looked at everything after each full stop: quadratic on one long line."""
    from agent import text

    calls = []
    real = text._NEXT_CHAR

    class Counting:
        def match(self, line, pos):
            calls.append(pos)
            return real.match(line, pos)

    line = "word. " * 50_000  # lowercase after every stop: no split, 50,000 boundaries
    original, text._NEXT_CHAR = text._NEXT_CHAR, Counting()
    try:
        assert text.split_sentences(line) == [(0, len(line.rstrip()))]
    finally:
        text._NEXT_CHAR = original
    assert len(calls) == 50_000
    assert text.split_sentences("Dr. Lind said so. Then U.S. officials left.") == [(0, 17), (18, 43)]
