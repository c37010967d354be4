"""chromadb passage index: idempotent indexing under a file lock, hybrid dense + BM25 search.

Dense vectors are made when indexing ("eager"), or ("lazy") only for the passages BM25 shortlists for
a query, at search time: indexing then stores text and a placeholder vector in a "-lazy" collection, and
the vectors made are added to the eager collection, so a passage is embedded once per store whichever
mode asks.
"""

from __future__ import annotations

import fcntl
import hashlib
import math
import re
import threading
import time
from collections import Counter, OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings

from agent.cancel import raise_if_cancelled
from agent.errors import StoreError
from agent.schema import Passage, Source

_TOKEN = re.compile(r"\w+")
LOCK_TIMEOUT_S = 30.0
POOL_CACHE = 4  # candidate pools (source sets) kept tokenized per store; retrieve asks 5 queries of one pool
QUERY_CACHE = 256  # query embeddings kept per store


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


class _Lexical:
    """bm25() over one candidate pool, tokenized once: per-term postings, scored with numpy (same figures)."""

    def __init__(self, docs: list[str], k1: float = 1.5, b: float = 0.75):
        toks = [_tokens(d) for d in docs]
        avg = sum(map(len, toks)) / max(1, len(toks))
        postings: dict[str, tuple[list[int], list[int]]] = {}
        for i, ts in enumerate(toks):
            for term, tf in Counter(ts).items():
                post = postings.setdefault(term, ([], []))
                post[0].append(i)
                post[1].append(tf)
        self.postings = postings
        self.arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # numpy postings, built for terms queried
        self.norm = k1 * (1 - b + b * np.array([len(ts) for ts in toks], dtype=np.float64) / (avg or 1))
        self.n, self.k1 = len(docs), k1

    def scores(self, query: str) -> np.ndarray:
        out = np.zeros(self.n)
        for q in set(_tokens(query)):
            if q in self.postings:
                if q not in self.arrays:
                    self.arrays[q] = (np.array(self.postings[q][0]), np.array(self.postings[q][1], dtype=np.float64))
                idx, tf = self.arrays[q]
                idf = math.log(1 + (self.n - len(idx) + 0.5) / (len(idx) + 0.5))
                out[idx] += idf * tf * (self.k1 + 1) / (tf + self.norm[idx])
        return out


@dataclass
class _Pool:
    """The passages one search may return, with their lexical index."""

    ids: list[str]
    docs: list[str]
    metas: list[dict]
    lexical: _Lexical
    count: int  # collection size when fetched: another writer makes it stale
    vectors: dict[str, np.ndarray] | None = None  # lazy mode: the real vectors known so far, by id


def _placeholder(ids: list[str], dim: int) -> list[list[float]]:
    """Stand-in vectors for passages not embedded yet: distinct (HNSW degrades on many equal points), unit
    length, and never read as meaning (lazy search scores only the eager collection's vectors)."""
    out = []
    for i in ids:
        rng = np.random.default_rng(int(hashlib.sha256(i.encode()).hexdigest()[:15], 16))
        vec = rng.standard_normal(dim).astype(np.float32)
        out.append((vec / np.linalg.norm(vec)).tolist())
    return out


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


class PassageStore:
    """Passages of many runs in one persistent collection per embedding function."""

    def __init__(self, data_dir: Path, embedding_function, *, lexical_weight: float = 0.5, collection: str | None = None,
                 server=None, dense: str = "eager", lazy_candidates: int = 48):
        self.data_dir = Path(data_dir)
        self.lexical_weight = lexical_weight
        self.ef = embedding_function
        self.lazy = dense == "lazy"
        self.lazy_candidates = lazy_candidates
        self._dim: int | None = None
        self._pools: OrderedDict[tuple, _Pool] = OrderedDict()  # candidate pools by source set
        self._queries: OrderedDict[str, object] = OrderedDict()  # query embeddings by text
        self._caches = threading.RLock()  # the service drafts in several threads on one store
        prefix = server.collection_prefix if server is not None else ""
        name = collection or f"{prefix}passages-{embedding_function.name()}"
        # lazy: text with placeholder vectors in its own collection; real vectors in the eager one (`vectors`)
        names = [name + "-lazy", name] if self.lazy else [name]
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            if server is not None and server.host:  # a Chroma server (`chroma run`) instead of the embedded store
                self.client = chromadb.HttpClient(host=server.host, port=server.port,
                                                  settings=ChromaSettings(anonymized_telemetry=False))
                opened = [self.client.get_or_create_collection(
                    name=n, embedding_function=embedding_function, metadata={"hnsw:space": "cosine"}) for n in names]
            else:
                with self._write_lock():  # two processes creating one new store would race on its tables
                    self.client = chromadb.PersistentClient(path=str(self.data_dir / "chroma"),
                                                            settings=ChromaSettings(anonymized_telemetry=False))
                    opened = [self.client.get_or_create_collection(
                        name=n, embedding_function=embedding_function, metadata={"hnsw:space": "cosine"})
                        for n in names]
            self.collection, self.vectors = opened[0], opened[-1]
        except StoreError:
            raise
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

    def index(self, sources: list[Source], passages: list[Passage], progress=None) -> IndexStats:
        """Embed and add passages not already stored; re-indexing unchanged sources costs ~0.

        A passage's id carries a hash of its text, so a source split differently (another passage_chars)
        is re-embedded and its old passages dropped, instead of serving stale text under the same ids.
        `progress(done, total)`, if given, hears how many of the new passages are embedded so far.
        """
        outlets = {s.id: s.outlet for s in sources}
        ids = [f"{p.source_id}:{p.id.split(':')[1]}:{_digest(p.text)}" for p in passages]
        try:
            with self._write_lock():
                existing = set(self.collection.get(ids=ids, include=[])["ids"]) if ids else set()
                new = [(i, p) for i, p in zip(ids, passages) if i not in existing]
                if progress is not None:
                    progress(0, len(new))
                if touched := sorted({p.source_id for _, p in new}):  # new or re-split sources: drop what they no longer have
                    current = set(ids)
                    listed = self.collection.get(where={"source_id": {"$in": touched}}, include=[])["ids"]
                    if stale := [i for i in listed if i not in current]:
                        self.collection.delete(ids=stale)
                step = 4096 if self.lazy else 256  # lazy: nothing to embed, so few large writes
                for start in range(0, len(new), step):
                    raise_if_cancelled()  # an abandoned draft stops embedding (Cancelled is no Exception)
                    chunk = new[start:start + step]
                    chunk_ids = [i for i, _ in chunk]
                    metas = [{"source_id": p.source_id, "k": int(p.id.split(":")[1]), "start": p.start,
                              "end": p.end, "outlet": outlets.get(p.source_id, "")} for _, p in chunk]
                    if self.lazy:
                        self.collection.add(ids=chunk_ids, documents=[p.text for _, p in chunk], metadatas=metas,
                                            embeddings=_placeholder(chunk_ids, self.dim()))
                    else:
                        self.collection.add(ids=chunk_ids, documents=[p.text for _, p in chunk], metadatas=metas)
                    if progress is not None:
                        progress(start + len(chunk), len(new))
        except StoreError:
            raise
        except Exception as e:
            raise StoreError(f"{self.data_dir / 'chroma'}: indexing failed ({e.__class__.__name__}: {e})") from None
        finally:
            self._pools.clear()
        return IndexStats(sources=len(sources), passages_added=len(new), passages_skipped=len(existing))

    def _pool(self, source_ids: list[str], where: dict, total: int) -> _Pool:
        """All passages of these sources, fetched and tokenized once while the collection is unchanged."""
        with self._caches:
            return self._cached_pool(source_ids, where, total)

    def _cached_pool(self, source_ids: list[str], where: dict, total: int) -> _Pool:
        pools = self._pools
        key = tuple(sorted(set(source_ids)))
        pool = pools.get(key)
        if pool is None or pool.count != total:
            got = self.collection.get(where=where, include=["documents", "metadatas"])
            pool = _Pool(got["ids"], got["documents"], got["metadatas"], _Lexical(got["documents"]), total)
            pools[key] = pool
            while len(pools) > POOL_CACHE:
                pools.popitem(last=False)
        pools.move_to_end(key)
        return pool

    def dim(self) -> int:
        """Width of this store's vectors (one embedding call, once)."""
        if self._dim is None:
            self._dim = len(self._embed_query("dimension"))
        return self._dim

    def _lazy_vectors(self, pool: _Pool, positions: list[int]) -> np.ndarray:
        """Real vectors of these pool passages: known ones from the eager collection, the rest embedded now and
        added there (one write per search)."""
        if pool.vectors is None:
            pool.vectors = {}
        known = pool.vectors
        if want := [pool.ids[n] for n in positions if pool.ids[n] not in known]:
            got = self.vectors.get(ids=want, include=["embeddings"])
            known.update((i, np.asarray(v, dtype=np.float32)) for i, v in zip(got["ids"], got["embeddings"]))
        if todo := [n for n in positions if pool.ids[n] not in known]:
            raise_if_cancelled()
            vecs = [np.asarray(v, dtype=np.float32) for v in self.ef([pool.docs[n] for n in todo])]
            with self._write_lock():
                self.vectors.upsert(ids=[pool.ids[n] for n in todo], embeddings=vecs,
                                    documents=[pool.docs[n] for n in todo], metadatas=[pool.metas[n] for n in todo])
            known.update((pool.ids[n], v) for n, v in zip(todo, vecs))
        return np.stack([known[pool.ids[n]] for n in positions]) if positions else np.zeros((0, 1), np.float32)

    def _lazy_dense(self, query: str, pool: _Pool, lexical: np.ndarray, n_results: int) -> dict:
        """Dense ranking among the query's BM25 shortlist (all of a pool that small), shaped as chroma's reply."""
        if len(pool.ids) <= self.lazy_candidates:
            shortlist = list(range(len(pool.ids)))
        else:
            matched = np.flatnonzero(lexical > 0)
            shortlist = sorted(matched, key=lambda n: -lexical[n])[:self.lazy_candidates]
        vecs = self._lazy_vectors(pool, [int(n) for n in shortlist])
        if not shortlist:
            return {"ids": [[]], "distances": [[]]}
        sims = vecs @ np.asarray(self._embed_query(query), dtype=np.float32)
        order = np.argsort(-sims, kind="stable")[:n_results]
        return {"ids": [[pool.ids[shortlist[j]] for j in order]], "distances": [[float(1 - sims[j]) for j in order]]}

    def _embed_query(self, query: str):
        with self._caches:
            return self._cached_query(query)

    def _cached_query(self, query: str):
        queries = self._queries
        if query not in queries:
            queries[query] = self.ef([query])[0]
            while len(queries) > QUERY_CACHE:
                queries.popitem(last=False)
        return queries[query]

    def search(self, query: str, *, source_ids: list[str] | None = None, k: int = 8) -> list[Hit]:
        """Weighted reciprocal-rank fusion of dense (chroma) and BM25 rankings."""
        where = {"source_id": {"$in": list(source_ids)}} if source_ids else None
        try:
            total = self.collection.count()
            if total == 0:
                return []
            n_results = min(max(k * 3, 20), total)
            if self.lazy:  # the whole pool (of these sources, or of the store), then its BM25 shortlist
                pool = self._pool(source_ids or [], where, total)
                lexical = pool.lexical.scores(query)
                dense = self._lazy_dense(query, pool, lexical, n_results)
            else:
                dense = self.collection.query(query_embeddings=[self._embed_query(query)], n_results=n_results,
                                              where=where, include=["documents", "metadatas", "distances"])
                if source_ids:
                    pool = self._pool(source_ids, where, total)
                else:
                    docs = dense["documents"][0]
                    pool = _Pool(dense["ids"][0], docs, dense["metadatas"][0], _Lexical(docs), total)
                lexical = pool.lexical.scores(query)
        except StoreError:
            raise
        except Exception as e:
            raise StoreError(f"{self.data_dir / 'chroma'}: search failed ({e.__class__.__name__}: {e})") from None
        position = {i: n for n, i in enumerate(pool.ids)}
        dense_rank = {i: r for r, i in enumerate(dense["ids"][0]) if i in position}
        dense_score = {i: 1 - d for i, d in zip(dense["ids"][0], dense["distances"][0])}
        matched = np.flatnonzero(lexical > 0)  # pool order; the stable sort keeps it among equal scores
        lexical_rank = {pool.ids[n]: r for r, n in enumerate(sorted(matched, key=lambda n: -lexical[n]))}
        w = self.lexical_weight
        fused = {i: (1 - w) / (60 + dense_rank[i]) if i in dense_rank else 0.0 for i in {**dense_rank, **lexical_rank}}
        for i, r in lexical_rank.items():
            fused[i] += w / (60 + r)

        def order(i: str) -> tuple:
            meta = pool.metas[position[i]]
            return -fused.get(i, 0.0), meta["source_id"], meta["k"]

        chosen = sorted(fused, key=order)[:k]
        if len(chosen) < k:  # too few matches: the rest of the pool in source order, as a full sort would give
            chosen += sorted((i for i in pool.ids if i not in fused), key=order)[:k - len(chosen)]
        hits = []
        for i in chosen:
            n = position[i]
            text, meta = pool.docs[n], pool.metas[n]
            hits.append(Hit(source_id=meta["source_id"], k=int(meta["k"]), text=text, start=int(meta["start"]),
                            end=int(meta["end"]), score=fused.get(i, 0.0), dense_score=dense_score.get(i, 0.0),
                            lexical_score=float(lexical[n])))
        return hits

    def count(self) -> int:
        return self.collection.count()
