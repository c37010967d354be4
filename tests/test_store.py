"""A real chromadb in a temp dir, with the bundled MiniLM and the hashing embedder."""

import multiprocessing
from pathlib import Path

import numpy as np

from agent.model.embeddings import HashingEmbedding, MiniLMEmbedding
from agent.schema import Passage, Source, content_id
from agent.store import PassageStore
from tests.fakes import QUERIES, CountingEmbedding, corpus


def test_minilm_semantics_and_batch_invariance():
    ef = MiniLMEmbedding(batch_size=2)
    texts = ["A man is eating food.", "A man is eating a piece of bread.", "A man is playing guitar."]
    vecs = np.array(ef(texts))
    assert vecs.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1, atol=1e-5)
    sims = vecs @ vecs.T
    assert sims[0, 1] > 0.7 > 0.35 > sims[0, 2]
    alone = np.array([ef([t])[0] for t in texts])
    assert np.abs(alone - vecs).max() < 1e-5


def test_paraphrase_retrieval_with_minilm(tmp_path):
    store = PassageStore(tmp_path, MiniLMEmbedding())
    sources, passages = corpus()
    store.index(sources, passages)
    by_id = {s.id: s.outlet for s in sources}
    for name, query in QUERIES.items():
        assert by_id[store.search(query, k=1)[0].source_id] == name, query


def test_reindex_is_idempotent_and_embeds_nothing(tmp_path):
    sources, passages = corpus()
    store = PassageStore(tmp_path, CountingEmbedding())
    CountingEmbedding.calls = 0
    first = store.index(sources, passages)
    assert first.passages_added == 4 and CountingEmbedding.calls == 4
    second = PassageStore(tmp_path, CountingEmbedding()).index(sources, passages)
    assert second.passages_added == 0 and second.passages_skipped == 4
    assert CountingEmbedding.calls == 4 and store.count() == 4


def test_reopen_and_filter_by_source(tmp_path):
    sources, passages = corpus()
    PassageStore(tmp_path, HashingEmbedding()).index(sources, passages)
    reopened = PassageStore(tmp_path, HashingEmbedding())
    hits = reopened.search("ferry terminal", source_ids=[sources[1].id, sources[2].id], k=5)
    assert {h.source_id for h in hits} <= {sources[1].id, sources[2].id} and hits


def _index_in_process(data_dir: str, offset: int) -> int:
    sources, passages = [], []
    for i in range(offset, offset + 20):
        text = f"Story number {i} about harbour cargo volumes and ferry timetables."
        src = Source(id=content_id(text), outlet="x", text=text)
        sources.append(src)
        passages.append(Passage(id=f"S{i + 1}:1", source_id=src.id, text=text, start=0, end=len(text)))
    return PassageStore(Path(data_dir), HashingEmbedding()).index(sources, passages).passages_added


def test_two_processes_write_one_store(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        added = pool.starmap(_index_in_process, [(str(tmp_path), 0), (str(tmp_path), 10)])
    assert sum(added) == 30  # ten stories overlap and are embedded once
    assert PassageStore(tmp_path, HashingEmbedding()).count() == 30
