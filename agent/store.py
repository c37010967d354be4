"""chromadb passage index: idempotent indexing under a file lock, hybrid dense + BM25 search."""

from __future__ import annotations

import fcntl
import math
import re
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import chromadb
from chromadb.config import Settings as ChromaSettings

from agent.errors import StoreError
from agent.schema import Passage, Source

_TOKEN = re.compile(r"\w+")
LOCK_TIMEOUT_S = 30.0


@dataclass
class IndexStats:
    sources: int
    passages_added: int
    passages_skipped: int


@dataclass
class Hit:
    source_id: str
    k: int
    text: str
    start: int
    end: int
    score: float
    dense_score: float
    lexical_score: float


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.casefold())


def bm25(query: str, docs: list[str], k1: float = 1.5, b: float = 0.75) -> list[float]:
    """Okapi BM25 of each doc for the query, over this candidate set."""
    toks = [_tokens(d) for d in docs]
    avg = sum(map(len, toks)) / max(1, len(toks))
    df = Counter(t for ts in toks for t in set(ts))
    n = len(docs)
    scores = []
    for ts in toks:
        tf = Counter(ts)
        s = 0.0
        for q in set(_tokens(query)):
            if q in tf:
                idf = math.log(1 + (n - df[q] + 0.5) / (df[q] + 0.5))
                s += idf * tf[q] * (k1 + 1) / (tf[q] + k1 * (1 - b + b * len(ts) / (avg or 1)))
        scores.append(s)
    return scores


class PassageStore:
    """Passages of many runs in one persistent collection per embedding function."""

    def __init__(self, data_dir: Path, embedding_function, *, lexical_weight: float = 0.5, collection: str | None = None,
                 server=None):
        self.data_dir = Path(data_dir)
        self.lexical_weight = lexical_weight
        self.ef = embedding_function
        prefix = server.collection_prefix if server is not None else ""
        name = collection or f"{prefix}passages-{embedding_function.name()}"
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            if server is not None and server.host:  # a Chroma server (`chroma run`) instead of the embedded store
                self.client = chromadb.HttpClient(host=server.host, port=server.port,
                                                  settings=ChromaSettings(anonymized_telemetry=False))
            else:
                self.client = chromadb.PersistentClient(path=str(self.data_dir / "chroma"),
                                                        settings=ChromaSettings(anonymized_telemetry=False))
            self.collection = self.client.get_or_create_collection(
                name=name, embedding_function=embedding_function, metadata={"hnsw:space": "cosine"})
        except Exception as e:  # chromadb raises many types; the user needs one line
            raise StoreError(f"{self.data_dir / 'chroma'}: cannot open the store ({e.__class__.__name__}: {e})") from None

    @contextmanager
    def _write_lock(self) -> Iterator[None]:
        """Exclusive lock across processes; wait up to LOCK_TIMEOUT_S, then refuse."""
        with (self.data_dir / "store.lock").open("w") as fh:
            deadline = time.monotonic() + LOCK_TIMEOUT_S
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise StoreError(f"{self.data_dir}: the store is locked by another process") from None
                    time.sleep(0.1)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def index(self, sources: list[Source], passages: list[Passage]) -> IndexStats:
        """Embed and add passages not already stored; re-indexing unchanged sources costs ~0."""
        outlets = {s.id: s.outlet for s in sources}
        ids = [f"{p.source_id}:{p.id.split(':')[1]}" for p in passages]
        try:
            with self._write_lock():
                existing = set(self.collection.get(ids=ids, include=[])["ids"]) if ids else set()
                new = [(i, p) for i, p in zip(ids, passages) if i not in existing]
                for start in range(0, len(new), 256):
                    chunk = new[start:start + 256]
                    self.collection.add(
                        ids=[i for i, _ in chunk], documents=[p.text for _, p in chunk],
                        metadatas=[{"source_id": p.source_id, "k": int(p.id.split(":")[1]), "start": p.start,
                                    "end": p.end, "outlet": outlets.get(p.source_id, "")} for _, p in chunk])
        except StoreError:
            raise
        except Exception as e:
            raise StoreError(f"{self.data_dir / 'chroma'}: indexing failed ({e.__class__.__name__}: {e})") from None
        return IndexStats(sources=len(sources), passages_added=len(new), passages_skipped=len(existing))

    def search(self, query: str, *, source_ids: list[str] | None = None, k: int = 8) -> list[Hit]:
        """Weighted reciprocal-rank fusion of dense (chroma) and BM25 rankings."""
        where = {"source_id": {"$in": list(source_ids)}} if source_ids else None
        try:
            total = self.collection.count()
            if total == 0:
                return []
            dense = self.collection.query(query_texts=[query], n_results=min(max(k * 3, 20), total), where=where,
                                          include=["documents", "metadatas", "distances"])
            if source_ids:
                pool = self.collection.get(where=where, include=["documents", "metadatas"])
            else:
                pool = {"ids": dense["ids"][0], "documents": dense["documents"][0], "metadatas": dense["metadatas"][0]}
        except Exception as e:
            raise StoreError(f"{self.data_dir / 'chroma'}: search failed ({e.__class__.__name__}: {e})") from None
        docs = dict(zip(pool["ids"], zip(pool["documents"], pool["metadatas"])))
        dense_rank = {i: r for r, i in enumerate(dense["ids"][0])}
        dense_score = {i: 1 - d for i, d in zip(dense["ids"][0], dense["distances"][0])}
        lexical = dict(zip(docs, bm25(query, [d for d, _ in docs.values()])))
        lexical_rank = {i: r for r, i in enumerate(sorted(lexical, key=lambda i: -lexical[i])) if lexical[i] > 0}
        w = self.lexical_weight
        fused = {}
        for i in docs:
            s = 0.0
            if i in dense_rank:
                s += (1 - w) / (60 + dense_rank[i])
            if i in lexical_rank:
                s += w / (60 + lexical_rank[i])
            fused[i] = s
        hits = []
        for i in sorted(docs, key=lambda i: (-fused[i], docs[i][1]["source_id"], docs[i][1]["k"]))[:k]:
            text, meta = docs[i]
            hits.append(Hit(source_id=meta["source_id"], k=int(meta["k"]), text=text, start=int(meta["start"]),
                            end=int(meta["end"]), score=fused[i], dense_score=dense_score.get(i, 0.0),
                            lexical_score=lexical.get(i, 0.0)))
        return hits

    def count(self) -> int:
        return self.collection.count()
