"""Tracked trends: a registry in one chromadb collection (embedded, or the Chroma server) that links briefs across runs.

Every record is a document whose id is derived from its content, written with `add`, which keeps the first
writer's document when the id exists: so two replicas (or threads) writing at once never lose each other's
links, and the same trend or the same sources are recorded once, with no read-modify-write of a shared file.

    trend:<name hash>   "<name>. <description>"   {kind: trend, trend, description, seeded, at}
    brief:<key>         the brief's summary         {kind: brief, trend, run_id, key, headline, linked_on, at}

A data dir's old trends.json (the registry before it moved into the store) is imported once, then renamed.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import tomllib
from datetime import date
from pathlib import Path

import chromadb
from chromadb.config import Settings as ChromaSettings
from pydantic import Field

from agent.errors import ConfigError, StoreError
from agent.sources.metadata import plain_text
from agent.schema import Brief, Contract, Trend


class LinkedBrief(Contract):
    run_id: str
    key: str = Field("", description="Hash of the brief's sources: the same sources link once only.")
    headline: str
    linked_on: date


class TrendRecord(Contract):
    name: str
    description: str
    seeded: bool = False
    briefs: list[LinkedBrief] = Field(default_factory=list)


def brief_summary(brief: Brief) -> str:
    """What a brief is about, for matching: headline, dek and body."""
    body = " ".join(s.text for p in brief.body for s in p.sentences if s.kind != "notice")
    return f"{brief.headline}. {brief.dek} {body}"[:2000]


def _trend_id(name: str) -> str:
    return "trend:" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:24]


def _brief_id(key: str) -> str:
    return "brief:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]


def open_collection(data_dir: Path, name: str, embedding_function, server=None):
    """A cosine collection in the Chroma server named by `server` (a config Store with a host), else embedded in data_dir."""
    settings = ChromaSettings(anonymized_telemetry=False)
    if server is not None and server.host:
        client = chromadb.HttpClient(host=server.host, port=server.port, settings=settings)
    else:
        client = chromadb.PersistentClient(path=str(Path(data_dir) / "chroma"), settings=settings)
    return client.get_or_create_collection(name, embedding_function=embedding_function, metadata={"hnsw:space": "cosine"})


class TrendRegistry:
    """Match a brief to the closest trend above `threshold`, or record the trend it proposes."""

    def __init__(self, data_dir: Path, embedding_function, threshold: float = 0.45, server=None):
        self.threshold = threshold
        prefix = server.collection_prefix if server is not None and server.host else ""
        where = f"{server.host}:{server.port}" if server is not None and server.host else str(data_dir)
        try:
            self.collection = open_collection(data_dir, f"{prefix}trend-registry-{embedding_function.name()}",
                                              embedding_function, server)
        except Exception as e:
            raise StoreError(f"{where}: cannot open the trend registry ({e.__class__.__name__}: {e})") from None
        self._import_legacy(Path(data_dir) / "trends.json")

    def _import_legacy(self, path: Path) -> None:
        """Records of the registry's earlier home, a JSON file in the data dir, added once (ids make it idempotent)."""
        if not path.is_file():
            return
        try:
            records = [TrendRecord.model_validate(r) for r in json.loads(path.read_text(encoding="utf-8")).values()]
        except (OSError, ValueError) as e:
            raise StoreError(f"{path}: cannot import the old trend registry ({e.__class__.__name__})") from None
        for record in records:
            self._add_trend(record.name, record.description, record.seeded)
            for b in record.briefs:
                self._add_brief(record.name, b.run_id, b.key or b.run_id, b.headline, f"{record.name}. {b.headline}",
                                b.linked_on)
        path.replace(path.with_name("trends.json.imported"))

    def _write(self, doc_id: str, text: str, meta: dict) -> None:
        try:
            self.collection.add(ids=[doc_id], documents=[text], metadatas=[{**meta, "at": time.time()}])
        except Exception as e:
            raise StoreError(f"trend registry write failed ({e.__class__.__name__}: {e})") from None

    def _add_trend(self, name: str, description: str, seeded: bool) -> None:
        self._write(_trend_id(name), f"{name}. {description}",
                    {"kind": "trend", "trend": name, "description": description, "seeded": seeded})

    def _add_brief(self, name: str, run_id: str, key: str, headline: str, summary: str, linked_on: date) -> None:
        self._write(_brief_id(key), summary, {"kind": "brief", "trend": name, "run_id": run_id, "key": key,
                                              "headline": headline, "linked_on": linked_on.isoformat()})

    def _get(self, **query) -> list[dict]:
        try:
            got = self.collection.get(include=["metadatas"], **query)
        except Exception as e:
            raise StoreError(f"trend registry read failed ({e.__class__.__name__}: {e})") from None
        return sorted(got["metadatas"], key=lambda m: m.get("at", 0.0))

    def _trend(self, name: str) -> dict | None:
        found = self._get(ids=[_trend_id(name)])
        return found[0] if found else None

    @property
    def records(self) -> dict[str, TrendRecord]:
        """Every trend with its linked briefs, in the order they were recorded."""
        records = {m["trend"]: TrendRecord(name=m["trend"], description=m["description"], seeded=bool(m["seeded"]))
                   for m in self._get(where={"kind": "trend"})}
        for m in self._get(where={"kind": "brief"}):
            if m["trend"] in records:
                records[m["trend"]].briefs.append(LinkedBrief(run_id=m["run_id"], key=m["key"], headline=m["headline"],
                                                              linked_on=date.fromisoformat(m["linked_on"])))
        return records

    def seed(self, path: Path) -> int:
        """Load seed trends from a TOML file with [[trend]] name/description tables."""
        try:
            seeds = tomllib.loads(path.read_text(encoding="utf-8")).get("trend", [])
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise ConfigError(f"{path}: cannot read seed trends ({e})") from None
        checked = []
        for item in seeds:
            if not isinstance(item, dict) or not {"name", "description"} <= set(item):
                raise ConfigError(f"{path}: each [[trend]] needs 'name' and 'description'")
            name, description = valid_trend_name(str(item["name"]), ""), plain_text(item["description"])
            if name is None or not description or _LINK.search(str(item["description"])):
                raise ConfigError(f"{path}: trend {str(item['name'])[:40]!r} must be a plain name of at most 10 words "
                                  "and a plain description, with no links")
            checked.append((name, description))
        for name, description in checked:  # an existing trend keeps its description (add keeps the first)
            self._add_trend(name, description, seeded=True)
        return len(seeds)

    def match(self, summary: str) -> tuple[str | None, float]:
        try:
            if self.collection.count() == 0:
                return None, 0.0
            hit = self.collection.query(query_texts=[summary], n_results=1, include=["metadatas", "distances"])
        except Exception as e:
            raise StoreError(f"trend registry search failed ({e.__class__.__name__}: {e})") from None
        similarity = 1 - hit["distances"][0][0]
        name = hit["metadatas"][0][0]["trend"]
        if similarity < self.threshold or self._trend(name) is None:
            return None, similarity
        return name, similarity

    def lookup(self, summary: str) -> Trend | None:
        """The tracked trend a story really belongs to (similarity at the threshold or above), or None."""
        name, _ = self.match(summary)
        record = self._trend(name) if name is not None else None
        if record is None:
            return None
        return Trend(name=record["trend"], description=record["description"], provisional=False)

    def link(self, brief: Brief, run_id: str, key: str) -> bool:
        """Record a published brief under the trend it carries; `key` (its sources' hash) links it once only.
        A trend the registry doesn't hold is stored only if it is a valid proposal (a short plain phrase that
        is not the headline). Nothing here changes the brief. False when nothing new was linked."""
        trend = brief.trend
        name = valid_trend_name(trend.name, brief.headline)
        if name is None:
            return False
        if self._trend(name) is None:
            description = plain_text(trend.description)
            if not description or _LINK.search(trend.description):
                return False
            self._add_trend(name, description, seeded=False)  # a concurrent proposal of the same name: first wins
        if self._get(ids=[_brief_id(key)]) or self._get(where={"$and": [{"kind": "brief"}, {"run_id": run_id}]}):
            return False
        self._add_brief(name, run_id, key, brief.headline, brief_summary(brief), date.today())
        linked = self._get(ids=[_brief_id(key)])  # a concurrent writer of the same key may have won
        return bool(linked) and linked[0]["run_id"] == run_id

    def assign(self, brief: Brief, run_id: str) -> Trend:
        """The trend a brief belongs to (lookup, else its own valid proposal), linked under `run_id`."""
        found = self.lookup(brief_summary(brief))
        if found is not None:
            brief = brief.model_copy(update={"trend": found})
        self.link(brief, run_id, run_id)
        name = valid_trend_name(brief.trend.name, brief.headline)
        record = self._trend(name) if name else None
        return Trend(name=record["trend"], description=record["description"], provisional=False) if record else brief.trend


_LINK = re.compile(r"https?://|www\.|\]\(|<[a-z/]", re.I)
UNTRACKED_NAMES = {"untracked story", "historia sin tendencia"}


def valid_trend_name(name: str, headline: str) -> str | None:
    """A trend name fit to store: plain text, no link, at most 10 words, not the story's own headline."""
    clean = plain_text(name)
    words = clean.split()
    if (not clean or clean.casefold() in UNTRACKED_NAMES or _LINK.search(name) or not 1 <= len(words) <= 10
            or clean.casefold().rstrip(".") == headline.casefold().rstrip(".")):
        return None
    return clean
