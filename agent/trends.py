"""Tracked trends: a persistent registry (chromadb + trends.json) that links briefs across runs."""

from __future__ import annotations

import json
import re
import tomllib
from datetime import date
from pathlib import Path

import chromadb
from chromadb.config import Settings as ChromaSettings
from pydantic import Field

from agent.errors import ConfigError, StoreError
from agent.metadata import plain_text
from agent.runs import write_atomic
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


class TrendRegistry:
    """Match a brief to the closest trend above `threshold`, or record the trend it proposes."""

    def __init__(self, data_dir: Path, embedding_function, threshold: float = 0.45):
        self.path = Path(data_dir) / "trends.json"
        self.threshold = threshold
        try:
            client = chromadb.PersistentClient(path=str(Path(data_dir) / "chroma"),
                                               settings=ChromaSettings(anonymized_telemetry=False))
            self.collection = client.get_or_create_collection(
                f"trends-{embedding_function.name()}", embedding_function=embedding_function,
                metadata={"hnsw:space": "cosine"})
        except Exception as e:
            raise StoreError(f"{data_dir}: cannot open the trend registry ({e.__class__.__name__}: {e})") from None
        self.records: dict[str, TrendRecord] = {}
        if self.path.exists():
            data = json.loads(self.path.read_text(encoding="utf-8"))
            self.records = {name: TrendRecord.model_validate(r) for name, r in data.items()}

    def _save(self) -> None:
        write_atomic(self.path, json.dumps({n: r.model_dump(mode="json") for n, r in self.records.items()}, indent=2))

    def _add(self, name: str, doc_id: str, text: str) -> None:
        self.collection.upsert(ids=[doc_id], documents=[text], metadatas=[{"trend": name}])

    def seed(self, path: Path) -> int:
        """Load seed trends from a TOML file with [[trend]] name/description tables."""
        try:
            seeds = tomllib.loads(path.read_text(encoding="utf-8")).get("trend", [])
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise ConfigError(f"{path}: cannot read seed trends ({e})") from None
        for item in seeds:
            if not isinstance(item, dict) or not {"name", "description"} <= set(item):
                raise ConfigError(f"{path}: each [[trend]] needs 'name' and 'description'")
            name, description = valid_trend_name(str(item["name"]), ""), plain_text(item["description"])
            if name is None or not description or _LINK.search(str(item["description"])):
                raise ConfigError(f"{path}: trend {str(item['name'])[:40]!r} must be a plain name of at most 10 words "
                                  "and a plain description, with no links")
            if name not in self.records:
                self.records[name] = TrendRecord(name=name, description=description, seeded=True)
                self._add(name, f"seed:{name}", f"{name}. {description}")
        self._save()
        return len(seeds)

    def match(self, summary: str) -> tuple[str | None, float]:
        if self.collection.count() == 0:
            return None, 0.0
        hit = self.collection.query(query_texts=[summary], n_results=1, include=["metadatas", "distances"])
        similarity = 1 - hit["distances"][0][0]
        name = hit["metadatas"][0][0]["trend"]
        if similarity < self.threshold or name not in self.records:
            return None, similarity
        return name, similarity

    def lookup(self, summary: str) -> Trend | None:
        """The tracked trend a story really belongs to (similarity at the threshold or above), or None."""
        name, _ = self.match(summary)
        if name is None:
            return None
        record = self.records[name]
        return Trend(name=record.name, description=record.description, provisional=False)

    def link(self, brief: Brief, run_id: str, key: str) -> bool:
        """Record a published brief under the trend it carries; `key` (its sources' hash) links it once only.
        A trend the registry doesn't hold is stored only if it is a valid proposal (a short plain phrase that
        is not the headline). Nothing here changes the brief."""
        trend = brief.trend
        name = valid_trend_name(trend.name, brief.headline)
        if name is None:
            return False
        if name not in self.records:
            description = plain_text(trend.description)
            if not description or _LINK.search(trend.description):
                return False
            self.records[name] = TrendRecord(name=name, description=description)
            self._add(name, f"trend:{name}", f"{name}. {description}")
        record = self.records[name]
        if any(b.run_id == run_id or b.key == key for b in record.briefs):
            return False
        record.briefs.append(LinkedBrief(run_id=run_id, key=key, headline=brief.headline, linked_on=date.today()))
        self._add(name, f"brief:{key}", brief_summary(brief))
        self._save()
        return True

    def assign(self, brief: Brief, run_id: str) -> Trend:
        """The trend a brief belongs to (lookup, else its own valid proposal), linked under `run_id`."""
        found = self.lookup(brief_summary(brief))
        if found is not None:
            brief = brief.model_copy(update={"trend": found})
        self.link(brief, run_id, run_id)
        name = valid_trend_name(brief.trend.name, brief.headline)
        record = self.records.get(name or "")
        return Trend(name=record.name, description=record.description, provisional=False) if record else brief.trend


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
