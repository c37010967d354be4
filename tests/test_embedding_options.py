"""The embedding options of [embeddings]: the int8 ONNX MiniLM, truncation, lazy dense search, and the default
(real models, a real chromadb in a temp dir)."""

import io
import json
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from agent import progress as progress_module
from agent.config import Embeddings, load_settings
from agent.model.embeddings import (MAX_TOKENS, HashingEmbedding, MiniLMEmbedding, OnnxMiniLMEmbedding, _encode, _tokenizer,
                              build_embedding_function, locate_minilm)
from agent.errors import ConfigError
from agent.progress import ConsoleProgress
from agent.schema import Passage, Source, content_id
from agent.store import PassageStore
from tests.fakes import QUERIES, corpus

FIXTURE = Path(__file__).parent / "fixtures" / "retrieval" / "mrr.json"
TEXTS = ["A man is eating food.", "A man is eating a piece of bread.", "A man is playing guitar.",
         "The harbour board approved a new ferry terminal that will open in 2028. " * 3]


def test_int8_vectors_are_close_to_fp32_unit_length_and_independent_of_the_batch():
    fp32 = np.array(MiniLMEmbedding()(TEXTS))
    int8 = np.array(OnnxMiniLMEmbedding()(TEXTS))
    assert int8.shape == (4, 384) and np.allclose(np.linalg.norm(int8, axis=1), 1, atol=1e-5)
    assert ((fp32 * int8).sum(1) > 0.97).all()  # quantisation moves a vector by a few degrees at most
    sims = int8 @ int8.T
    assert sims[0, 1] > 0.7 > 0.35 > sims[0, 2]
    alone = np.array([OnnxMiniLMEmbedding()([t])[0] for t in TEXTS])
    assert np.array_equal(alone, int8)  # one text per call: a passage's vector never depends on its neighbours


def test_the_onnx_graph_in_fp32_equals_the_numpy_model():
    onnx32 = np.array(OnnxMiniLMEmbedding(quantized=False, batch_size=2)(TEXTS))
    assert np.abs(onnx32 - np.array(MiniLMEmbedding()(TEXTS))).max() < 1e-4


@pytest.mark.parametrize("max_tokens", [16, 128])
def test_truncation_keeps_the_first_tokens_and_the_closing_sep(max_tokens):
    tokenizer = _tokenizer(str(locate_minilm()))
    long_text = " ".join(f"word{i}" for i in range(400))
    ids, mask = _encode(tokenizer, [long_text, "short"], max_tokens)
    full = tokenizer.encode(long_text).ids
    assert ids.shape[1] == max_tokens and list(ids[0]) == full[:max_tokens - 1] + full[-1:]
    assert mask[1].sum() == len(tokenizer.encode("short").ids)
    cut, whole = MiniLMEmbedding(max_tokens=max_tokens), MiniLMEmbedding()
    assert cut.name() != whole.name() and whole.name() == "brief-minilm-l6-v2"  # other vectors, other collection
    assert np.allclose(cut(["short"])[0], whole(["short"])[0], atol=1e-6)  # a short text is not changed


class Counting(HashingEmbedding):
    texts: list[str] = []

    def __call__(self, input):
        Counting.texts += list(input)
        return super().__call__(input)


def _many(n: int) -> tuple[list[Source], list[Passage]]:
    sources, passages = [], []
    for i in range(n):
        text = f"Story {i}: the {('ferry', 'tram', 'reservoir')[i % 3]} board met on day {i} about budget item {i * 7}."
        src = Source(id=content_id(text), outlet=f"o{i}", text=text)
        sources.append(src)
        passages.append(Passage(id=f"S{i + 1}:1", source_id=src.id, text=text, start=0, end=len(text)))
    return sources, passages


def test_lazy_store_embeds_only_each_querys_shortlist_once_and_keeps_the_vectors(tmp_path):
    sources, passages = _many(30)
    ids = [s.id for s in sources]
    Counting.texts = []
    store = PassageStore(tmp_path, Counting(), dense="lazy", lazy_candidates=5)
    assert store.index(sources, passages).passages_added == 30
    assert not set(Counting.texts) & {p.text for p in passages}  # indexing embeds no passage
    hits = store.search("ferry board budget", source_ids=ids, k=8)
    embedded = [t for t in Counting.texts if t.startswith("Story")]
    assert 0 < len(embedded) <= 5 and len(hits) == 8 and any(h.dense_score > 0 for h in hits)
    store.search("ferry board budget", source_ids=ids, k=8)
    assert [t for t in Counting.texts if t.startswith("Story")] == embedded  # known vectors are not remade
    Counting.texts = []
    again = PassageStore(tmp_path, Counting(), dense="lazy", lazy_candidates=5)  # another process, same store
    assert again.index(sources, passages).passages_added == 0
    again.search("ferry board budget", source_ids=ids, k=8)
    assert not [t for t in Counting.texts if t.startswith("Story")]  # the vectors were kept in the store
    eager = PassageStore(tmp_path, Counting(), dense="eager")  # the eager store reuses what lazy made
    assert eager.index(sources, passages).passages_added == 30 - len(embedded)


def test_lazy_and_eager_rank_a_small_pool_alike(tmp_path):
    sources, passages = corpus()
    lazy = PassageStore(tmp_path / "lazy", MiniLMEmbedding(), dense="lazy")
    eager = PassageStore(tmp_path / "eager", MiniLMEmbedding())
    for store in (lazy, eager):
        store.index(sources, passages)
    for query in QUERIES.values():
        a = [(h.source_id, round(h.score, 9)) for h in lazy.search(query, source_ids=[s.id for s in sources], k=4)]
        b = [(h.source_id, round(h.score, 9)) for h in eager.search(query, source_ids=[s.id for s in sources], k=4)]
        assert a == b, query


def _fixture_store(tmp_path: Path, cfg: Embeddings):
    fixture = json.loads(FIXTURE.read_text(encoding="utf-8"))
    sources, passages, names = [], [], {}
    for n, (name, text) in enumerate(fixture["passages"].items(), start=1):
        src = Source(id=content_id(text), outlet=name, text=text)
        sources.append(src)
        names[src.id] = name
        passages.append(Passage(id=f"S{n}:1", source_id=src.id, text=text, start=0, end=len(text)))
    store = PassageStore(tmp_path, build_embedding_function(cfg), lexical_weight=cfg.lexical_weight, dense=cfg.dense,
                         lazy_candidates=cfg.lazy_candidates)
    store.index(sources, passages)
    return store, sources, names, fixture["queries"]


def test_the_default_embedding_finds_paraphrases(tmp_path):
    """The shipped default ([embeddings] in configs/default.toml), for real: paraphrases with few shared words."""
    cfg = load_settings(env={}).embeddings
    store, sources, names, queries = _fixture_store(tmp_path, cfg)
    ranks = []
    for q in queries:
        found = [names[h.source_id] for h in store.search(q["q"], source_ids=[s.id for s in sources], k=10)]
        ranks.append(found.index(q["id"]) + 1 if q["id"] in found else None)
    paraphrase = [r for r, q in zip(ranks, queries) if q["kind"] == "paraphrase"]
    keyword = [r for r, q in zip(ranks, queries) if q["kind"] == "keyword"]
    assert sum(1 / r for r in keyword if r) / len(keyword) >= 0.95
    assert sum(1 / r for r in paraphrase if r) / len(paraphrase) >= 0.75, paraphrase
    small = PassageStore(tmp_path / "small", build_embedding_function(cfg), dense=cfg.dense)
    small_sources, small_passages = corpus()
    small.index(small_sources, small_passages)
    by_id = {s.id: s.outlet for s in small_sources}
    for name, query in QUERIES.items():
        assert by_id[small.search(query, k=1)[0].source_id] == name, query


@pytest.mark.parametrize("table, key", [
    ("[embeddings]\ndense = 'sometimes'", "embeddings.dense"),
    ("[embeddings]\nmax_tokens = 4", "embeddings.max_tokens"),
    ("[embeddings]\nlazy_candidates = 0", "embeddings.lazy_candidates"),
    ("[embeddings]\nbackend = 'minilm-int4'", "embeddings.backend"),
])
def test_bad_embedding_options_name_their_key(tmp_path, table, key):
    cfg = tmp_path / "c.toml"
    cfg.write_text(table)
    with pytest.raises(ConfigError, match=f"key '{key}'"):
        load_settings(cfg, env={})


@pytest.mark.parametrize("backend, kind, name", [
    ("minilm", MiniLMEmbedding, "brief-minilm-l6-v2"),
    ("minilm-int8", OnnxMiniLMEmbedding, "brief-minilm-l6-v2-onnx-int8"),
    ("hashing", HashingEmbedding, "brief-hashing"),
])
def test_each_backend_builds_its_embedder(backend, kind, name):
    ef = build_embedding_function(Embeddings(backend=backend))
    assert type(ef) is kind and ef.name() == name
    assert build_embedding_function(Embeddings(backend=backend, max_tokens=128)).name() == (
        name if backend == "hashing" else f"{name}-t128")
    assert MAX_TOKENS == 256


def test_indexing_without_a_live_line_prints_its_rate_every_few_seconds(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: clock[0])
    out = io.StringIO()
    watch = ConsoleProgress(Console(file=out, width=120), live=False)
    watch.stage("index")
    watch.embedded(0, 1000)
    for done in range(100, 1000, 100):
        clock[0] += 4.0  # 25 passages/s
        watch.embedded(done, 1000)
    lines = [ln for ln in out.getvalue().splitlines() if "passages embedded" in ln]
    assert len(lines) == 3  # at 12, 24 and 36 s: one line per EMBED_LINE_EVERY_S, not one per chunk
    assert lines[0].split()[:2] == ["index", "300/1,000"] and "(25/s), about 28 s left" in lines[0]


def test_an_unwritable_model_cache_is_one_clear_error(tmp_path, monkeypatch):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("BRIEF_MODEL_CACHE", str(blocked / "cache"))
    with pytest.raises(ConfigError, match="BRIEF_MODEL_CACHE"):
        OnnxMiniLMEmbedding()(["text"])


def test_setup_verifies_the_int8_model_it_wrote():
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-m", "agent.model.embeddings", "--verify"], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert "agrees with fp32" in run.stderr and run.stdout.strip().endswith("-int8.onnx")


@pytest.mark.parametrize("broken", ["random vectors", "swapped texts"])
def test_an_int8_model_that_answers_wrongly_fails_the_verification(monkeypatch, broken):
    from agent.model import embeddings

    real = embeddings.OnnxMiniLMEmbedding.__call__

    def wrong(self, texts):
        if broken == "random vectors":
            return [np.random.default_rng(7).standard_normal(384).astype(np.float32) for _ in texts]
        return real(self, list(reversed(texts)))
    monkeypatch.setattr(embeddings.OnnxMiniLMEmbedding, "__call__", wrong)
    with pytest.raises(ConfigError, match="disagrees with the fp32 model"):
        embeddings.verify_int8()
