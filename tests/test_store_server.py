"""The same retrieval tests against a Chroma server started with `chroma run` on loopback."""

from __future__ import annotations

import pytest

from agent.config import Store
from agent.model.embeddings import MiniLMEmbedding
from agent.store import PassageStore
from tests.fakes import QUERIES, CountingEmbedding, corpus


@pytest.mark.parametrize("mode", ["embedded", "server"])
def test_paraphrase_retrieval_in_both_modes(tmp_path, chroma_server, mode):
    server = Store(**{**chroma_server.model_dump(), "collection_prefix": f"t-{tmp_path.name}-"}) if mode == "server" else None
    store = PassageStore(tmp_path, MiniLMEmbedding(), server=server)
    sources, passages = corpus()
    store.index(sources, passages)
    by_id = {s.id: s.outlet for s in sources}
    for name, query in QUERIES.items():
        assert by_id[store.search(query, k=1)[0].source_id] == name, query
    assert not (tmp_path / "chroma").exists() if mode == "server" else (tmp_path / "chroma").exists()


def test_server_store_is_shared_and_reindexing_is_free(tmp_path, chroma_server):
    server = Store(**{**chroma_server.model_dump(), "collection_prefix": "shared-"})
    sources, passages = corpus()
    CountingEmbedding.calls = 0
    PassageStore(tmp_path / "a", CountingEmbedding(), server=server).index(sources, passages)
    again = PassageStore(tmp_path / "b", CountingEmbedding(), server=server)  # another machine's data dir
    stats = again.index(sources, passages)
    assert stats.passages_added == 0 and CountingEmbedding.calls == 4 and again.count() == 4
