"""Trend registry: related briefs share a trend, unrelated ones get a new one, it persists, and concurrent
writers (threads, or replicas on one Chroma server) lose nothing."""

import json
import threading
from pathlib import Path

import pytest

from agent.config import Store
from agent.model.embeddings import HashingEmbedding, MiniLMEmbedding
from agent.errors import ConfigError
from agent.analysis.trends import TrendRegistry
from tests.fakes import BRIEF
from agent.schema import Paragraph, Sentence, Trend

ROOT = Path(__file__).resolve().parent.parent


def brief(headline: str, body: str, trend: str = "Untracked story"):
    return BRIEF.model_copy(update={
        "headline": headline, "dek": body.split(".")[0] + ".",
        "body": [Paragraph(sentences=[Sentence(text=s.strip() + ".", citations=["S1:1"]) for s in body.split(".") if s.strip()])],
        "trend": Trend(name=trend, description="Drought pushes regions toward new water supplies."),
    })


DESAL = brief("Coastal city approves desalination plant", "The water authority approved a seawater desalination plant. "
              "It will end summer water restrictions. The reservoir will release water for farm irrigation.", "Water Scarcity Deepens")
RATION = brief("Farmers face irrigation cuts as reservoir falls", "Growers will get a third less irrigation water this summer. "
               "The reservoir is at its lowest level in years after drought. Farmers want water from the new desalination plant.")
MUSEUM = brief("Maritime museum reopens after renovation", "The museum reopened with a restored merchant ship. "
               "A new glass hall and a children's gallery opened to visitors.")


def test_related_briefs_share_a_trend_unrelated_gets_its_own_and_it_persists(tmp_path):
    registry = TrendRegistry(tmp_path, MiniLMEmbedding())
    first = registry.assign(DESAL, "run-1")
    assert first.name == "Water Scarcity Deepens" and not first.provisional
    assert registry.assign(RATION, "run-2").name == first.name
    reopened = TrendRegistry(tmp_path, MiniLMEmbedding())  # a new process would do the same
    other = reopened.assign(MUSEUM, "run-3")
    assert other.name != first.name
    assert [b.run_id for b in reopened.records[first.name].briefs] == ["run-1", "run-2"]


def test_seed_trends_are_matched(tmp_path):
    registry = TrendRegistry(tmp_path, MiniLMEmbedding())
    assert registry.seed(ROOT / "configs" / "seed-trends.toml") == 2
    assert registry.assign(RATION, "run-9").name == "Regional Water Security Under Strain"


def test_bad_seed_file_names_the_file(tmp_path):
    bad = tmp_path / "seeds.toml"
    bad.write_text("[[trend]]\nname = 'x'\n")
    with pytest.raises(ConfigError, match="seeds.toml"):
        TrendRegistry(tmp_path, MiniLMEmbedding()).seed(bad)


def test_the_same_sources_link_to_a_trend_once(tmp_path):
    registry = TrendRegistry(tmp_path, MiniLMEmbedding())
    assert registry.link(DESAL, "run-1", key="sources-a") is True
    assert registry.link(DESAL, "run-2", key="sources-a") is False  # a rerun of the same sources
    assert registry.link(DESAL, "run-3", key="sources-b") is True
    assert [b.run_id for b in registry.records["Water Scarcity Deepens"].briefs] == ["run-1", "run-3"]


@pytest.mark.parametrize("name,description", [
    ("Coastal city approves desalination plant", "The headline is not a trend."),  # the story's own headline
    ("CANARY-7781 Trend https://evil.example/c7781", "Poisoned."),
    ("[Water](https://evil.example/phish)", "A link in the name."),
    ("Water Trend", "See https://evil.example/c7781 for more."),
    ("Untracked story", "Not a trend at all."),
    ("One two three four five six seven eight nine ten eleven", "Too long for a trend name."),
])
def test_an_invalid_trend_is_never_stored(tmp_path, name, description):
    registry = TrendRegistry(tmp_path, MiniLMEmbedding())
    poisoned = DESAL.model_copy(update={"trend": Trend(name=name, description=description)})
    assert registry.link(poisoned, "run-1", key="k") is False
    assert registry.records == {}
    stored = registry.collection.get(include=["documents", "metadatas"])
    assert stored["ids"] == [] and "evil.example" not in str(stored)


def test_a_seed_file_with_a_link_is_refused(tmp_path):
    bad = tmp_path / "seeds.toml"
    bad.write_text("[[trend]]\nname = 'Water'\ndescription = 'Read https://evil.example/x'\n")
    with pytest.raises(ConfigError, match="no links"):
        TrendRegistry(tmp_path, MiniLMEmbedding()).seed(bad)


def test_lookup_finds_the_seeded_trend_a_story_belongs_to_and_nothing_for_an_unrelated_one(tmp_path):
    registry = TrendRegistry(tmp_path, MiniLMEmbedding(), threshold=0.35)
    registry.seed(ROOT / "configs" / "seed-trends.toml")
    water = registry.lookup("Farmers face irrigation cuts as reservoir falls. Growers will get a third less "
                            "irrigation water this summer after the drought.")
    assert water is not None and water.name == "Regional Water Security Under Strain"
    assert registry.lookup("Maritime museum reopens after renovation. The museum reopened with a restored "
                           "merchant ship and a new glass hall.") is None


def test_an_old_trends_json_is_imported_once(tmp_path):
    old = {"Water Scarcity Deepens": {"name": "Water Scarcity Deepens", "description": "Drought everywhere.",
                                      "seeded": True, "briefs": [{"run_id": "run-1", "key": "k1", "headline": "Dry",
                                                                  "linked_on": "2026-05-01"}]}}
    (tmp_path / "trends.json").write_text(json.dumps(old))
    registry = TrendRegistry(tmp_path, HashingEmbedding())
    assert registry.records["Water Scarcity Deepens"].seeded
    assert [b.run_id for b in registry.records["Water Scarcity Deepens"].briefs] == ["run-1"]
    assert not (tmp_path / "trends.json").exists() and (tmp_path / "trends.json.imported").exists()
    assert registry.link(DESAL, "run-2", key="k1") is False  # the imported key still links once only


def _race(registries: list[TrendRegistry], per_writer: int) -> list[bool]:
    """Each registry links its own briefs in its own thread, all proposing one new trend at the same moment."""
    go, results, lock = threading.Barrier(len(registries)), [], threading.Lock()

    def write(n: int, registry: TrendRegistry) -> None:
        go.wait()
        for i in range(per_writer):
            linked = registry.link(DESAL, f"run-{n}-{i}", key=f"sources-{n}-{i}")
            linked_again = registry.link(DESAL, f"run-x{n}-{i}", key="sources-shared")  # one key for everyone
            with lock:
                results.extend([linked, linked_again])

    threads = [threading.Thread(target=write, args=(n, r)) for n, r in enumerate(registries)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def _check_race(registry: TrendRegistry, writers: int, per_writer: int, results: list[bool]) -> None:
    records = registry.records
    assert list(records) == ["Water Scarcity Deepens"]  # one trend, however many proposed it at once
    keys = [b.key for b in records["Water Scarcity Deepens"].briefs]
    assert sorted(k for k in keys if k != "sources-shared") == sorted(
        f"sources-{n}-{i}" for n in range(writers) for i in range(per_writer))  # no link lost
    assert keys.count("sources-shared") == 1 and results.count(True) == writers * per_writer + 1  # and none twice


def test_concurrent_writers_on_one_data_dir_lose_nothing(tmp_path):
    registries = [TrendRegistry(tmp_path, HashingEmbedding()) for _ in range(3)]
    results = _race(registries, per_writer=6)
    _check_race(TrendRegistry(tmp_path, HashingEmbedding()), 3, 6, results)


def test_two_replicas_share_one_registry_on_the_chroma_server(tmp_path, chroma_server):
    server = Store(**{**chroma_server.model_dump(), "collection_prefix": f"t-{tmp_path.name}-"})
    a = TrendRegistry(tmp_path / "replica-a", HashingEmbedding(), server=server)  # two machines' data dirs
    b = TrendRegistry(tmp_path / "replica-b", HashingEmbedding(), server=server)
    results = _race([a, b], per_writer=5)
    _check_race(b, 2, 5, results)
    assert a.records == b.records and not (tmp_path / "replica-a" / "chroma").exists()
