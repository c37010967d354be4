"""The `brief ask` debug path: retrieve a few passages and ask the drafter one question."""

from __future__ import annotations

from pathlib import Path

from agent.api import load_corpus
from agent.config import Settings
from agent.deps import build_call_log, build_drafter, build_store
from agent.model.llm_schemas import Answer
from agent.prompting import render
from agent.runs import RunFolder


def answer_question(question: str, paths: list[Path | str], settings: Settings, *, k: int = 3) -> tuple[str, list[str]]:
    """Index the sources, retrieve k passages, ask; returns (answer, passage ids used)."""
    corpus = load_corpus(paths, settings)
    store = build_store(settings)
    store.index(corpus.sources, list(corpus.passages.values()))
    numbers = {s.id: n for n, s in enumerate(corpus.sources, start=1)}
    hits = store.search(question, source_ids=list(numbers), k=k)
    used = [f"S{numbers[h.source_id]}:{h.k}" for h in hits]
    run = RunFolder.create(settings.data_dir, corpus.sources, settings)
    drafter = build_drafter(settings, build_call_log(settings, run.path / "llm_calls.jsonl"))
    messages = render("ask.drafter", question=question,
                      passages=[{"id": pid, "text": corpus.passages[pid].text} for pid in used])
    return drafter.complete_json("ask", messages, Answer).answer, used
