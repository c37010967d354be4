"""The same retrieval tests against a Chroma server started with `chroma run` on loopback."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from agent.config import Store
from agent.model.embeddings import MiniLMEmbedding
from agent.store import PassageStore
from tests.test_store import QUERIES, CountingEmbedding, corpus

CHROMA = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen([CHROMA, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).read()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("chroma run did not start")
            time.sleep(0.2)
    yield Store(host="127.0.0.1", port=port)
    proc.terminate()
    proc.wait(10)


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
