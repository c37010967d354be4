"""Learned leakage layer: logistic regression over MiniLM sentence embeddings plus a few shape features.

Second layer behind the patterns of agent.checks.leakage: it sees only sentences the patterns did
not catch, and only sentences that could be an assistant talking (no quotes, no reported speech,
not another language). Weights: agent/checks/data/leakage_lr.npz, trained by
evals/training/train_leakage.py (data card: agent/checks/data/LEAKAGE-CARD.md). Numpy only.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from agent.errors import ConfigError
from agent.text import detect_language

WEIGHTS = Path(__file__).resolve().parent / "data" / "leakage_lr.npz"
MINILM_NAME = "brief-minilm-l6-v2"  # the only embedding space the weights were trained in
DISABLE_ENV = "BRIEF_LEARNED_LEAKAGE"  # "off" turns the layer off for the process
MAX_WORDS = 60
_CACHE_SIZE = 4096

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")  # not agent.text.words: the weights were trained on these counts
_FIRST_SINGULAR = {"i", "me", "my", "mine", "myself", "i'm", "i've", "i'll", "i'd"}
_FIRST_PLURAL = {"we", "us", "our", "ours", "we're", "we've", "we'll", "let's"}
_SECOND = {"you", "your", "yours", "yourself", "you're", "you've", "you'll", "you'd", "u"}
_IMPERATIVE = set(("let feel note remember consider check try make keep ask see use enjoy please don't do "
                   "imagine take add choose start follow read find write give tell think avoid be stay").split())
_INTERJECTION = set(("sure certainly absolutely okay ok great good excellent wow hi hello hey thanks thank yes "
                     "no well alright indeed wonderful perfect fantastic awesome oh ah hmm dear welcome").split())
_QUOTES = re.compile(r"[\"“”„«»]|(?<!\w)['‘][^'’]{2,}['’](?!\w)")
# Reported speech is news, whoever is speaking: "The minister said she was happy to help".
_REPORTING = re.compile(
    r"\b(?:said|says|told|tells|according to|added|adds|stated|states|wrote|writes|announced|explained|"
    r"insisted|promised|replied|asked|urged|warned|claimed|argued|noted|recalled|acknowledged|conceded|"
    r"admitted|apologi[sz]ed|thanked|welcomed|pledged|vowed|declared|testified|tweeted|posted)\b", re.IGNORECASE)
# The model reads English: a sentence of four words or more with none of these is another language.
# (Not agent.text.detect_language: one English word is enough here; they disagree on 125 of 2,536 texts.)
_ENGLISH = set(("the a an and of to in is are was were be been it its this that these those for on with as at by "
                "or not but if so i me my we our you your he she they their have has had can could will would "
                "should here there what which who please let all any do does did from about").split())
SHAPE_FEATURES = ("first_singular", "first_plural", "second_person", "question", "exclamation", "colon_end",
                  "imperative_start", "interjection_start", "has_digit", "log_words", "short")


def shape_features(sentence: str) -> np.ndarray:
    """Shape of a sentence: who speaks to whom, and how (language-light, cheap)."""
    words = [w.casefold().replace("’", "'") for w in _WORD.findall(sentence.replace("’", "'"))]
    first = words[0] if words else ""
    stripped = sentence.strip()
    return np.array([
        any(w in _FIRST_SINGULAR for w in words),
        any(w in _FIRST_PLURAL for w in words),
        any(w in _SECOND for w in words),
        "?" in stripped,
        "!" in stripped,
        stripped.endswith(":"),
        first in _IMPERATIVE,
        first in _INTERJECTION,
        any(c.isdigit() for c in stripped),
        np.log1p(len(words)),
        len(words) <= 4,
    ], dtype=np.float32)


def eligible(sentence: str) -> bool:
    """Could this be the assistant talking? Quoted or reported speech and other languages are not."""
    words = _WORD.findall(sentence)
    if not words or len(words) > MAX_WORDS or sentence.count("|") >= 2:
        return False
    if _QUOTES.search(sentence) or _REPORTING.search(sentence):
        return False
    return len(words) < 4 or any(w.casefold().replace("’", "'") in _ENGLISH for w in words)


@dataclass(frozen=True)
class LeakageModel:
    """p(assistant talk | sentence) = sigmoid(w · [embedding, standardised shape] + b)."""

    weights: np.ndarray
    bias: float
    shape_mean: np.ndarray
    shape_std: np.ndarray
    threshold: float

    def features(self, embeddings: np.ndarray, sentences: Sequence[str]) -> np.ndarray:
        shapes = np.stack([shape_features(s) for s in sentences]) if sentences else np.zeros((0, len(SHAPE_FEATURES)))
        return np.hstack([np.asarray(embeddings, dtype=np.float32), (shapes - self.shape_mean) / self.shape_std])

    def probabilities(self, embeddings: np.ndarray, sentences: Sequence[str]) -> np.ndarray:
        z = self.features(embeddings, sentences) @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))

    def save(self, path: Path, **meta: object) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, weights=self.weights.astype(np.float32), bias=np.float32(self.bias),
                            shape_mean=self.shape_mean.astype(np.float32), shape_std=self.shape_std.astype(np.float32),
                            threshold=np.float32(self.threshold), shape_names=np.array(SHAPE_FEATURES),
                            **{k: np.array(v) for k, v in meta.items()})


@lru_cache(maxsize=2)
def load_model(path: Path = WEIGHTS) -> LeakageModel | None:
    """The shipped weights, or None when the file is missing or was trained on other features."""
    if not path.is_file():
        return None
    with np.load(path) as data:
        if tuple(str(n) for n in data["shape_names"]) != SHAPE_FEATURES:
            return None
        return LeakageModel(weights=data["weights"], bias=float(data["bias"]), shape_mean=data["shape_mean"],
                            shape_std=data["shape_std"], threshold=float(data["threshold"]))


Embed = Callable[[list[str]], Sequence[Sequence[float]]]
_state: dict[str, object] = {"embed": "auto"}
_lock = threading.Lock()
_scores: dict[str, float] = {}


def use_leakage_embedder(embed: Embed | None) -> None:
    """Set the process's embedder: MiniLM turns the layer on; None, hashing or anything else turns it off."""
    name = getattr(embed, "name", None)
    usable = embed is not None and callable(name) and name() == MINILM_NAME
    with _lock:
        _state["embed"] = embed if usable else None
        _scores.clear()


def _embedder() -> Embed | None:
    if os.environ.get(DISABLE_ENV, "").strip().lower() in ("off", "0", "false", "no"):
        return None
    with _lock:
        if _state["embed"] == "auto":  # the bundled MiniLM when its package is installed
            from agent.model.embeddings import MiniLMEmbedding, locate_minilm  # chromadb loads only when the layer runs

            try:
                _state["embed"] = MiniLMEmbedding(folder=locate_minilm())
            except ConfigError:
                _state["embed"] = None
        return _state["embed"]  # type: ignore[return-value]


def score_sentences(sentences: list[str]) -> list[float] | None:
    """p(assistant talk) per sentence (cached by text), or None when the layer is off."""
    model, embed = load_model(), _embedder()
    if model is None or embed is None:
        return None
    known = {s: _scores[s] for s in sentences if s in _scores}
    todo = list(dict.fromkeys(s for s in sentences if s not in known))
    if todo:
        vectors = np.asarray(embed(todo), dtype=np.float32)
        known.update(zip(todo, map(float, model.probabilities(vectors, todo))))
        with _lock:
            if len(_scores) + len(todo) > _CACHE_SIZE:
                _scores.clear()
            _scores.update((s, known[s]) for s in todo)
    return [known[s] for s in sentences]


def learned_leakage_spans(text: str, sentence_spans: list[tuple[int, int]]) -> list[tuple[int, int, float]]:
    """(start, end, probability) of the given sentences the model calls assistant talk."""
    model = load_model()
    if model is None or detect_language(text) not in ("en", "und"):
        return []
    candidates = [(a, b) for a, b in sentence_spans if eligible(text[a:b])]
    if model is None or not candidates:
        return []
    probs = score_sentences([text[a:b] for a, b in candidates])
    if probs is None:
        return []
    return [(a, b, p) for (a, b), p in zip(candidates, probs) if p >= model.threshold]
