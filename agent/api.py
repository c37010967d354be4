"""The Python API: draft_brief() runs ingest -> index -> graph and returns a BriefResult."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Sequence

from agent.config import Settings, load_settings
from agent.drafting import assemble_brief
from agent.errors import NoUsableSources
from agent.ingest import load_sources, split_passages
from agent.nodes import BriefState, Deps
from agent.result import BriefResult, QuotedPassage, Skipped, Usage
from agent.runs import RunFolder
from agent.schema import Passage, Source


def _passages(sources: list[Source], passage_chars: int) -> dict[str, Passage]:
    passages: dict[str, Passage] = {}
    for number, source in enumerate(sources, start=1):
        for p in split_passages(source, number, passage_chars):
            passages[p.id] = p
    return passages


def _drafter(settings: Settings, call_log):
    """The drafter client: the configured endpoint, or the embedded model started on demand."""
    from agent.llm import LLMClient

    role = settings.drafter
    base_url = role.base_url
    if role.embedded:
        from agent.local_model import shared_embedded_model

        base_url = shared_embedded_model(settings.local_model).base_url
    api_key = role.api_key.get_secret_value() if role.api_key else None
    return LLMClient(role, base_url=base_url, api_key=api_key, call_log=call_log,
                     role_name="drafter", embedded=role.embedded)


def _registry(settings: Settings):
    from agent.embeddings import build_embedding_function
    from agent.trends import TrendRegistry

    registry = TrendRegistry(settings.data_dir, build_embedding_function(settings.embeddings), settings.trends.threshold)
    if settings.trends.seed_file and not registry.records:
        registry.seed(settings.trends.seed_file)
    return registry


def draft_brief(
    sources: Sequence[Path | str | Source],
    *,
    config: Settings | Path | None = None,
    stdin_text: str | None = None,
    store=None,
    drafter=None,
) -> BriefResult:
    """Draft and check a brief; raises NoUsableSources, LLMError or StoreError when it can't go on."""
    from agent.embeddings import build_embedding_function
    from agent.graph import build_graph
    from agent.llm import CallLog
    from agent.store import PassageStore

    started = time.monotonic()
    settings = config if isinstance(config, Settings) else load_settings(config)
    records = [s for s in sources if isinstance(s, Source)]
    paths = [Path(s) for s in sources if not isinstance(s, Source)]
    ingested = load_sources(paths, settings.ingest, stdin_text=stdin_text) if paths or stdin_text else None
    all_sources = records + (ingested.sources if ingested else [])
    skipped = [Skipped(origin=str(s.path), reason=s.reason) for s in (ingested.skipped if ingested else [])]
    if not all_sources:
        reasons = "; ".join(f"{s.origin}: {s.reason}" for s in skipped[:3]) or "no input given"
        raise NoUsableSources(f"no usable sources ({reasons})")

    passages = _passages(all_sources, settings.ingest.passage_chars)
    run = RunFolder.create(settings.data_dir, all_sources, settings)
    call_log = CallLog(run.path / "llm_calls.jsonl")
    store = store or PassageStore(settings.data_dir, build_embedding_function(settings.embeddings),
                                  lexical_weight=settings.embeddings.lexical_weight)
    store.index(all_sources, list(passages.values()))
    drafter = drafter or _drafter(settings, call_log)
    mode = settings.draft.mode
    if mode == "auto":
        mode = "sentence" if settings.drafter.embedded else "section"
    deps = Deps(settings=settings, store=store, drafter=drafter, mode=mode)

    final = build_graph(deps).invoke(BriefState(sources=all_sources, passages=passages),
                                     {"recursion_limit": 50})
    state = BriefState(**final) if isinstance(final, dict) else final
    brief = assemble_brief(state, settings)
    if state.status == "published":  # only checked briefs join the trend registry
        brief = brief.model_copy(update={"trend": _registry(settings).assign(brief, run.run_id)})
    cited = {c for sents in brief.cited_sections().values() for s in sents for c in s.citations}
    quoted = {pid: QuotedPassage(source_id=p.source_id, text=p.text, start=p.start, end=p.end)
              for pid, p in passages.items() if pid in cited}
    totals = drafter.usage
    usage = Usage(llm_calls=totals.calls, http_attempts=totals.attempts,
                  prompt_tokens=totals.prompt_tokens, completion_tokens=totals.completion_tokens,
                  wall_s=round(time.monotonic() - started, 3))
    result = BriefResult(status=state.status, brief=brief, report=state.report, passages=quoted,
                         usage=usage, run_dir=run.path, run_id=run.run_id, skipped_sources=skipped,
                         source_groups=state.groups)
    run.finish(result)
    return result
