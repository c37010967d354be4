"""Tracked trends: a persistent registry (chromadb + trends.json) that links briefs across runs."""

from __future__ import annotations

import json
import tomllib
from datetime import date
from pathlib import Path

import chromadb
from chromadb.config import Settings as ChromaSettings
from pydantic import Field

from agent.errors import ConfigError, StoreError
from agent.runs import write_atomic
from agent.schema import Brief, Contract, Trend


class LinkedBrief(Contract):
    run_id: str
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
            if item["name"] not in self.records:
                self.records[item["name"]] = TrendRecord(name=item["name"], description=item["description"], seeded=True)
                self._add(item["name"], f"seed:{item['name']}", f"{item['name']}. {item['description']}")
        self._save()
        return len(seeds)

    def match(self, summary: str) -> tuple[str | None, float]:
        if self.collection.count() == 0:
            return None, 0.0
        hit = self.collection.query(query_texts=[summary], n_results=1, include=["metadatas", "distances"])
        similarity = 1 - hit["distances"][0][0]
        return (hit["metadatas"][0][0]["trend"], similarity) if similarity >= self.threshold else (None, similarity)

    def assign(self, brief: Brief, run_id: str) -> Trend:
        """The brief's trend: an existing one it matches, else the one it proposes (stored)."""
        summary = brief_summary(brief)
        name, _ = self.match(summary)
        if name is None:
            proposed = brief.trend
            name = proposed.name if proposed.name != "Untracked story" else " ".join(brief.headline.split()[:6])
            description = proposed.description if proposed.name != "Untracked story" else brief.dek
            self.records.setdefault(name, TrendRecord(name=name, description=description))
        record = self.records[name]
        if all(b.run_id != run_id for b in record.briefs):
            record.briefs.append(LinkedBrief(run_id=run_id, headline=brief.headline, linked_on=date.today()))
        self._add(name, f"brief:{run_id}", summary)
        self._save()
        return Trend(name=record.name, description=record.description, provisional=False)
