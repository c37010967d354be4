"""The `brief ask` debug path: retrieve a few passages and ask the drafter one question."""

from __future__ import annotations

from pathlib import Path


from agent.config import Settings
from agent.errors import NoUsableSources
from agent.llm_schemas import Answer
from agent.prompting import render


def answer_question(question: str, paths: list[Path | str], settings: Settings, *, k: int = 3) -> tuple[str, list[str]]:
    """Index the sources, retrieve k passages, ask; returns (answer, passage ids used)."""
    from agent.api import _drafter, _passages, _store
    from agent.fetch import Fetcher
    from agent.ingest import load_sources
    from agent.llm import CallLog
    from agent.runs import RunFolder

    ingested = load_sources(paths, settings.ingest, fetcher=Fetcher.from_settings(settings))
    if not ingested.sources:
        raise NoUsableSources("no usable sources in " + ", ".join(map(str, paths)))
    passages = _passages(ingested.sources, settings.ingest.passage_chars)
    store = _store(settings)
    store.index(ingested.sources, list(passages.values()))
    numbers = {s.id: n for n, s in enumerate(ingested.sources, start=1)}
    hits = store.search(question, source_ids=list(numbers), k=k)
    used = [f"S{numbers[h.source_id]}:{h.k}" for h in hits]
    run = RunFolder.create(settings.data_dir, ingested.sources, settings)
    drafter = _drafter(settings, CallLog(run.path / "llm_calls.jsonl"))
    messages = render("ask.drafter", question=question,
                      passages=[{"id": pid, "text": passages[pid].text} for pid in used])
    return drafter.complete_json("ask", messages, Answer).answer, used
