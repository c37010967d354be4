"""The Python API: draft_brief() runs ingest -> index -> graph and returns a BriefResult."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Sequence

from agent.config import DEFAULT_CONFIG, Settings, load_settings
from agent.drafting import assemble_brief
from agent.errors import BudgetExceeded, LLMOutputInvalid, NoUsableSources
from agent.fetch import Fetcher, is_url
from agent.progress import NO_PROGRESS, Progress, report_ingest
from agent.ingest import load_sources, split_passages
from agent.state import BriefState, Deps
from agent.result import BriefDocument, BriefResult, QuotedPassage, Skipped, Usage
from agent.runs import RunFolder
from agent.schema import Passage, Source


DEFAULT_SEED_TRENDS = DEFAULT_CONFIG.parent / "seed-trends.toml"


def _passages(sources: list[Source], passage_chars: int) -> dict[str, Passage]:
    passages: dict[str, Passage] = {}
    for number, source in enumerate(sources, start=1):
        for p in split_passages(source, number, passage_chars):
            passages[p.id] = p
    return passages


def _client(settings: Settings, role_name: str, call_log, cache=None):
    """A model role's client: the configured endpoint, or the embedded model started on demand."""
    from agent.llm import LLMClient

    role = getattr(settings, role_name)
    base_url, server = role.base_url, None
    if role.embedded:  # the embedded server's own context is the limit
        role = role.model_copy(update={"context_tokens": min(role.context_tokens, settings.local_model.context_tokens)})
        if settings.cache.mode == "replay":
            base_url = "http://127.0.0.1:9/v1"  # replay-only: every reply comes from the cache; never started
        else:
            from agent.local_model import shared_embedded_model

            server = shared_embedded_model(settings.local_model)
            base_url = server.base_url
    api_key = role.api_key.get_secret_value() if role.api_key else None
    return LLMClient(role, base_url=base_url, api_key=api_key, call_log=call_log, role_name=role_name,
                     embedded=role.embedded, cache=cache, budget=settings.budget, server=server,
                     restarts=1 if settings.local_model.restart_after_crash else 0)


def _drafter(settings: Settings, call_log, cache=None):
    return _client(settings, "drafter", call_log, cache)


def _judge(settings: Settings, call_log, cache=None):
    """The claim judge, when the checker's judge layer is on (settings.check.layers = "judge")."""
    if settings.check.layers != "judge":
        return None
    from agent.checks.claims import LLMJudge

    return LLMJudge(_client(settings, "judge", call_log, cache))


def _registry(settings: Settings):
    from agent.embeddings import build_embedding_function
    from agent.trends import TrendRegistry

    registry = TrendRegistry(settings.data_dir, build_embedding_function(settings.embeddings), settings.trends.threshold)
    if not registry.records:  # the shipped seed trends unless the config names its own
        registry.seed(settings.trends.seed_file or DEFAULT_SEED_TRENDS)
    return registry


def sources_key(sources: list[Source]) -> str:
    """The same set of sources, in any order, gives the same key (a rerun links to its trend once)."""
    return hashlib.sha256("\n".join(sorted(s.id for s in sources)).encode()).hexdigest()[:16]


def _store(settings: Settings):
    from agent.embeddings import build_embedding_function
    from agent.store import PassageStore

    return PassageStore(settings.data_dir, build_embedding_function(settings.embeddings),
                        lexical_weight=settings.embeddings.lexical_weight, server=settings.store)


def draft_brief(
    sources: Sequence[Path | str | Source],
    *,
    config: Settings | Path | None = None,
    stdin_text: str | None = None,
    store=None,
    drafter=None,
    progress: Progress | None = None,
    on_run=None,
) -> BriefResult:
    """Draft and check a brief; raises NoUsableSources, LLMError or StoreError when it can't go on.

    `on_run(run_id)` is told the run folder as soon as it exists (the service's jobs resume from it)."""
    started = time.monotonic()
    settings = config if isinstance(config, Settings) else load_settings(config)
    progress = progress or NO_PROGRESS
    progress.stage("ingest")
    records = [s for s in sources if isinstance(s, Source)]
    paths = [s if is_url(s) else Path(s) for s in sources if not isinstance(s, Source)]  # Path() would mangle '//'
    ingested = load_sources(paths, settings.ingest, stdin_text=stdin_text,
                            fetcher=Fetcher.from_settings(settings, progress)) if paths or stdin_text else None
    all_sources = records + (ingested.sources if ingested else [])
    skipped = [Skipped(origin=str(s.path), reason=s.reason) for s in (ingested.skipped if ingested else [])]
    if not all_sources:
        reasons = "; ".join(f"{s.origin}: {s.reason}" for s in skipped[:3]) or "no sources were given"
        raise NoUsableSources(f"no usable sources ({reasons})")
    report_ingest(progress, all_sources)
    run = RunFolder.create(settings.data_dir, all_sources, settings)
    run.save_sources(all_sources)
    if on_run is not None:
        on_run(run.run_id)
    return _execute(run, settings, all_sources, skipped, started, store=store, drafter=drafter, resume=False,
                    progress=progress)


def resume_brief(run_id: str, *, config: Settings | Path | None = None, store=None, drafter=None,
                 progress: Progress | None = None) -> BriefResult:
    """Continue a crashed or killed run from its last checkpoint; finished LLM calls come from its cache."""
    started = time.monotonic()
    settings = config if isinstance(config, Settings) else load_settings(config)
    run = RunFolder.open(settings.data_dir, run_id)
    if (run.path / "result.json").is_file():
        done = BriefDocument.model_validate_json((run.path / "result.json").read_text(encoding="utf-8"))
        if done.status in ("published", "rejected"):  # finished: nothing to resume
            return BriefResult(**{**done.model_dump(exclude={"check"}), "report": done.check, "run_dir": run.path})
    return _execute(run, settings, run.load_sources(), [], started, store=store, drafter=drafter, resume=True,
                    progress=progress or NO_PROGRESS)


def _execute(run: RunFolder, settings: Settings, sources: list[Source], skipped: list[Skipped], started: float,
             *, store, drafter, resume: bool, progress: Progress = NO_PROGRESS) -> BriefResult:
    from agent.checkpoints import open_checkpointer
    from agent.graph import build_graph
    from agent.llm import CallLog
    from agent.llm_cache import build_cache

    passages = _passages(sources, settings.ingest.passage_chars)
    call_log = CallLog(run.path / "llm_calls.jsonl", prices=settings.prices,
                       on_record=lambda t: progress.llm_call(t.calls, t.prompt_tokens + t.completion_tokens, t.cost))
    progress.stage("index")
    store = store or _store(settings)
    store.index(sources, list(passages.values()), **({"progress": progress.embedded} if progress is not NO_PROGRESS else {}))
    cache = build_cache(settings, run.path)
    own_drafter = drafter is None
    drafter = drafter or _drafter(settings, call_log, cache)
    mode = settings.draft.mode
    if mode == "auto":
        mode = "faithful" if settings.drafter.is_weak else "section"
    judge = _judge(settings, call_log, cache)
    registry = _registry(settings)
    deps = Deps(settings=settings, store=store, drafter=drafter, mode=mode, judge=judge, trends=registry)
    status_override, error = None, None
    with open_checkpointer(run.path) as saver:
        graph = build_graph(deps, checkpointer=saver)
        cfg = {"configurable": {"thread_id": run.run_id}, "recursion_limit": 50}
        start_input = None if resume and graph.get_state(cfg).values else BriefState(sources=sources, passages=passages)
        try:
            for event in graph.stream(start_input, cfg, stream_mode="tasks"):  # invoke(), with each node's start
                if "input" in event:
                    progress.stage(event["name"])
        except BudgetExceeded as e:  # stop gracefully: keep whatever the last finished step produced
            status_override, error = "budget_exceeded", e.one_line()
        finally:
            for client in ([drafter] if own_drafter else []) + ([judge.client] if judge is not None else []):
                client.close()  # no sockets left to the garbage collector (brief serve runs for days)
        values = graph.get_state(cfg).values
    log = getattr(drafter, "call_log", None)
    if mode != "faithful" and log is not None and log.drafting_calls and log.drafting_invalid == log.drafting_calls:
        raise LLMOutputInvalid(f"the model never gave valid output: all {log.drafting_calls} drafting calls failed "
                               f"validation (see {run.path / 'llm_calls.jsonl'})")
    state = BriefState(**values) if values else BriefState(sources=sources, passages=passages)
    brief = assemble_brief(state, settings) if state.sections else None
    if state.status == "published" and status_override is None:  # only checked briefs are linked; the brief is unchanged
        registry.link(brief, run.run_id, sources_key(sources))
    cited = {c for sents in brief.cited_sections().values() for s in sents for c in s.citations} if brief else set()
    quoted = {pid: QuotedPassage(source_id=p.source_id, text=p.text, start=p.start, end=p.end)
              for pid, p in passages.items() if pid in cited}
    totals = drafter.usage
    usage = Usage(llm_calls=totals.calls, cached_calls=totals.cached_calls, http_attempts=totals.attempts,
                  prompt_tokens=totals.prompt_tokens, completion_tokens=totals.completion_tokens,
                  cost=round(totals.cost, 6), wall_s=round(time.monotonic() - started, 3))
    result = BriefResult(status=status_override or state.status, brief=brief, report=state.report, passages=quoted,
                         usage=usage, run_dir=run.path, run_id=run.run_id, skipped_sources=skipped,
                         source_groups=state.groups, error=error)
    run.finish(result)
    return result
