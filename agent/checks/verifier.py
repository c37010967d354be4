"""The trained claim verifier: logistic regression over alignment, facts, meaning changes and similarity.

It replaces hand-set alignment cut-offs. Weights live in `verifier.npz` beside this module, made by
`training/train_verifier.py` from training and validation splits only (see training/VERIFIER-DATA-CARD.md).
Two variants ship: "lexical" (no model needed) and "minilm" (adds MiniLM sentence similarities when the
caller passes an embedding function).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from agent.checks.meaning import Finding, meaning_changes
from agent.checks.support import content_support, names_in, numbers_in
from agent.text import split_sentences

WEIGHTS = Path(__file__).with_name("verifier.npz")
MEANING_KINDS = ("direction", "hedge", "figure-moved", "actor-swapped", "time-shifted")
LEXICAL_FEATURES = ("alignment", "best_sentence", "weakest_clause", "bigram_share", "number_missing", "name_missing",
                    "quote_missing", "name_share") + tuple(f"meaning_{k}" for k in MEANING_KINDS)
MINILM_FEATURES = LEXICAL_FEATURES + ("sim_max", "sim_top3", "sim_second_gap")

Embed = Callable[[Sequence[str]], Sequence[Sequence[float]]]
# Not agent.text.words: the weights were trained on these features, and \w+ keeps "snake_case" whole
# (words() splits it; 97 of 2,540 project texts tokenize differently).
_WORD = re.compile(r"\w+")
_CLAUSE = re.compile(r"[,;:]\s+|\s+(?:and|but|while|which|who)\s+")
_QUOTE = re.compile(r"[\"“]([^\"”]{8,})[\"”]")


def _values(text: str) -> set[float]:
    return {v for _, _, vals in numbers_in(text) for v in vals}


def _sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in split_sentences(text)] or [text]


def claim_features(claim: str, evidence: str, *, findings: list[Finding] | None = None,
                   embed: Embed | None = None) -> dict[str, float]:
    """The verifier's inputs for one claim against its evidence text."""
    alignment, missing = content_support(claim, evidence)
    sentences = _sentences(evidence)
    best = max(content_support(claim, s)[0] for s in sentences)
    parts = [c for c in _CLAUSE.split(claim) if len(_WORD.findall(c)) >= 3] or [claim]
    weakest = min(max(content_support(part, s)[0] for s in sentences) for part in parts)
    words = [w.casefold() for w in _WORD.findall(claim)]
    bigrams = list(zip(words, words[1:]))
    folded = " ".join(w.casefold() for w in _WORD.findall(evidence))
    bigram_share = sum(1 for a, b in bigrams if f"{a} {b}" in folded) / (len(bigrams) or 1)
    have = _values(evidence)
    evidence_folded = evidence.casefold()
    names = [n for _, _, n in names_in(claim)]
    names_found = [n for n in names if n.casefold() in evidence_folded
                   or all(w.casefold() in evidence_folded for w in n.split())]
    quotes = [q for q in _QUOTE.findall(claim)
              if " ".join(q.split()).casefold() not in " ".join(evidence.split()).casefold()]
    if findings is None:
        findings = meaning_changes(claim, evidence)
    kinds = {f.kind.split("-")[0] if f.kind.startswith("hedge") else f.kind for f in findings}
    out = {
        "alignment": alignment, "best_sentence": best, "weakest_clause": weakest, "bigram_share": bigram_share,
        "missing_words": math.log1p(len(missing)), "claim_words": math.log1p(len(words)),
        "number_missing": float(any(not vals & have for _, _, vals in numbers_in(claim))),
        "name_missing": float(len(names_found) < len(names)), "quote_missing": float(bool(quotes)),
        "name_share": len(names_found) / len(names) if names else 1.0,
    }
    out.update({f"meaning_{k}": float(k in kinds) for k in MEANING_KINDS})
    if embed is not None:
        vectors = np.asarray(embed([claim] + sentences), dtype=np.float32)
        sims = np.sort(vectors[1:] @ vectors[0])[::-1]
        out["sim_max"] = float(sims[0])
        out["sim_top3"] = float(sims[:3].mean())
        out["sim_second_gap"] = float(sims[0] - (sims[1] if len(sims) > 1 else sims[0]))
    return out


@dataclass(frozen=True)
class ClaimVerifier:
    """One trained variant: standardised features, weights, and the cut-offs picked on training data."""

    names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float  # supported at or above (best balanced accuracy on the training split)
    confident: float  # at or above, no judge is needed (precision of "supported" >= 0.9 on training)

    def probability(self, features: dict[str, float]) -> float:
        x = (np.array([features[n] for n in self.names], dtype=np.float64) - self.mean) / self.scale
        return float(1.0 / (1.0 + np.exp(-(x @ self.coef + self.intercept))))


@lru_cache(maxsize=2)
def load_verifier(variant: str = "lexical", path: Path = WEIGHTS) -> ClaimVerifier:
    """A shipped variant ("lexical" or "minilm") from the weights file."""
    with np.load(path) as data:
        names = tuple(str(n) for n in data[f"{variant}_names"])
        return ClaimVerifier(names, data[f"{variant}_mean"], data[f"{variant}_scale"], data[f"{variant}_coef"],
                             float(data[f"{variant}_intercept"]), float(data[f"{variant}_threshold"]),
                             float(data[f"{variant}_confident"]))


# The hard facts are decided by their own rules; the content verdict asks whether the rest is carried.
_FACTS_HOLD = {"number_missing": 0.0, "name_missing": 0.0, "quote_missing": 0.0, "name_share": 1.0} | {
    f"meaning_{k}": 0.0 for k in MEANING_KINDS}


def verify_claim(claim: str, evidence: str, *, findings: list[Finding] | None = None,
                 embed: Embed | None = None) -> tuple[float, ClaimVerifier, dict[str, float]]:
    """(probability the evidence carries the claim's content, the variant used, its features).

    The probability is taken with the hard-fact features set as if they held: a missing figure or a
    meaning change is reported by its own rule, not a second time as unsupported content."""
    verifier = load_verifier("minilm" if embed is not None else "lexical")
    features = claim_features(claim, evidence, findings=findings, embed=embed)
    return verifier.probability(features | _FACTS_HOLD), verifier, features
