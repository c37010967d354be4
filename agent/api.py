"""The Python API, the use cases every entry point calls: load_corpus(), draft_brief(), resume_brief(),
draft_from_request() and check_draft(). Their parts are built in agent.deps."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from agent.config import Settings, load_settings
from agent.deps import build_call_log, build_claim_judge, build_drafter, build_registry, build_store
from agent.draft.drafting import assemble_brief
from agent.errors import BudgetExceeded, LLMOutputInvalid, NoUsableSources
from agent.sources.fetch import Fetcher, is_url
from agent.sources.ingest import load_sources, split_passages
from agent.serve.json_step import DraftRequest, InlineSource, inline_source
from agent.model.llm_cache import build_cache
from agent.progress import NO_PROGRESS, Progress, report_ingest
from agent.result import BriefDocument, BriefResult, QuotedPassage, Skipped
from agent.runs import RunFolder
from agent.schema import CheckReport, Passage, Source
from agent.state import BriefState, Deps

if TYPE_CHECKING:
    from agent.model.llm import LLMClient
    from agent.store import PassageStore

SourceInput = Path | str | Source | InlineSource
"""A folder, file, http(s) URL, cleaned Source record or inline record."""


@dataclass(frozen=True)
class Corpus:
    """Sources ready to draft from or check against: the cleaned sources, their passages by id, what was skipped."""

    sources: list[Source]
    passages: dict[str, Passage]
    skipped: list[Skipped]


def passages_of(sources: Sequence[Source], passage_chars: int) -> dict[str, Passage]:
    """Every source's passages by id; a source's number (S1, S2, ...) is its place in `sources`."""
    return {p.id: p for number, source in enumerate(sources, start=1)
            for p in split_passages(source, number, passage_chars)}


def load_corpus(inputs: Sequence[SourceInput], settings: Settings, *, stdin_text: str | None = None,
                progress: Progress = NO_PROGRESS) -> Corpus:
    """Records (Source and inline) first, in their order, then files, folders and URLs, then stdin; each cleaned
    and split into passages. Raises NoUsableSources, naming the first reasons, when none is usable."""
    progress.stage("ingest")
    records: list[Source] = []
    skipped: list[Skipped] = []
    inline_count = 0
    for item in inputs:
        if isinstance(item, InlineSource):
            built = inline_source(item, inline_count, settings.ingest)
            (skipped if isinstance(built, Skipped) else records).append(built)
            inline_count += 1
        elif isinstance(item, Source):
            records.append(item)
    paths = [item if is_url(item) else Path(item) for item in inputs
             if isinstance(item, (str, Path))]  # Path() would mangle a URL's '//'
    ingested = load_sources(paths, settings.ingest, stdin_text=stdin_text,
                            fetcher=Fetcher.from_settings(settings, progress)) if paths or stdin_text else None
    sources = records + (ingested.sources if ingested else [])
    skipped += [Skipped(origin=str(s.path), reason=s.reason) for s in (ingested.skipped if ingested else [])]
    if not sources:
        reasons = "; ".join(f"{s.origin}: {s.reason}" for s in skipped[:3]) or "no sources were given"
        raise NoUsableSources(f"no usable sources ({reasons})")
    report_ingest(progress, sources)
    return Corpus(sources=sources, passages=passages_of(sources, settings.ingest.passage_chars), skipped=skipped)


def sources_key(sources: list[Source]) -> str:
    """The same set of sources, in any order, gives the same key (a rerun links to its trend once)."""
    return hashlib.sha256("\n".join(sorted(s.id for s in sources)).encode()).hexdigest()[:16]


def _settings(config: Settings | Path | None) -> Settings:
    return config if isinstance(config, Settings) else load_settings(config)


def draft_brief(
    sources: Sequence[SourceInput],
    *,
    config: Settings | Path | None = None,
    stdin_text: str | None = None,
    store: PassageStore | None = None,
    drafter: LLMClient | None = None,
    progress: Progress | None = None,
    on_run: Callable[[str], None] | None = None,
) -> BriefResult:
    """Draft and check a brief; raises NoUsableSources, LLMError or StoreError when it can't go on.

    `on_run(run_id)` is told the run folder as soon as it exists (the service's jobs resume from it)."""
    started = time.monotonic()
    settings = _settings(config)
    progress = progress or NO_PROGRESS
    corpus = load_corpus(sources, settings, stdin_text=stdin_text, progress=progress)
    run = RunFolder.create(settings.data_dir, corpus.sources, settings)
    run.save_sources(corpus.sources)
    if on_run is not None:
        on_run(run.run_id)
    return _execute(run, settings, corpus, started, store=store, drafter=drafter, resume=False, progress=progress)


def resume_brief(run_id: str, *, config: Settings | Path | None = None, store: PassageStore | None = None,
                 drafter: LLMClient | None = None, progress: Progress | None = None) -> BriefResult:
    """Continue a crashed or killed run from its last checkpoint; finished LLM calls come from its cache."""
    started = time.monotonic()
    settings = _settings(config)
    run = RunFolder.open(settings.data_dir, run_id)
    if (run.path / "result.json").is_file():
        done = BriefDocument.model_validate_json((run.path / "result.json").read_text(encoding="utf-8"))
        if done.status in ("published", "rejected"):  # finished: nothing to resume
            return BriefResult(**{**done.model_dump(exclude={"check"}), "report": done.check, "run_dir": run.path})
    sources = run.load_sources()
    corpus = Corpus(sources=sources, passages=passages_of(sources, settings.ingest.passage_chars), skipped=[])
    return _execute(run, settings, corpus, started, store=store, drafter=drafter, resume=True,
                    progress=progress or NO_PROGRESS)


def draft_from_request(request: DraftRequest, settings: Settings, *,
                       confine: Callable[[list[str]], list[Path | str]] | None = None,
                       store: PassageStore | None = None, progress: Progress | None = None,
                       on_run: Callable[[str], None] | None = None) -> BriefResult:
    """What `brief draft --json -` and POST /v1/briefs do with a request: draft from its inline records, paths
    and URLs. `settings` already answer the request's `config`; `confine` maps its path and URL strings to what
    may be read (the service's path policy), else they are read as given."""
    strings = [s for s in request.sources if isinstance(s, str)]
    inline = [s for s in request.sources if isinstance(s, InlineSource)]
    return draft_brief([*inline, *(confine(strings) if confine is not None else strings)], config=settings,
                       store=store, progress=progress, on_run=on_run)


def check_draft(draft: str, sources: Sequence[SourceInput] = (), *, config: Settings | Path | None = None,
                use_judge: bool = True) -> CheckReport:
    """What `brief check` and POST /v1/check do: every checker rule on a draft (brief.json, brief.md or .html, or
    text), its claims against the sources' passages when there are any (and the judge layer when configured and
    `use_judge`)."""
    from agent.checks import draft_check  # chromadb (bm25 lives in agent.store): on first use, not at start-up
    from agent.checks.learned_leakage import use_leakage_embedder

    settings = _settings(config)
    if settings.embeddings.backend == "hashing":  # the learned leakage layer reads MiniLM vectors only
        use_leakage_embedder(None)
    passages = load_corpus(sources, settings).passages if sources else None
    judge = build_claim_judge(settings) if passages is not None and use_judge else None
    try:
        return draft_check.check_draft(draft, passages, judge=judge)
    finally:
        if judge is not None:
            judge.client.close()


def _execute(run: RunFolder, settings: Settings, corpus: Corpus, started: float, *, store: PassageStore | None,
             drafter: LLMClient | None, resume: bool, progress: Progress = NO_PROGRESS) -> BriefResult:
    from agent.checkpoints import open_checkpointer  # langgraph: on first use, not at start-up
    from agent.graph import build_graph

    sources, passages, skipped = corpus.sources, corpus.passages, corpus.skipped
    call_log = build_call_log(settings, run.path / "llm_calls.jsonl", on_record=lambda t: progress.llm_call(
        t.llm_calls, t.prompt_tokens + t.completion_tokens, t.cost))
    progress.stage("index")
    store = store or build_store(settings)
    store.index(sources, list(passages.values()), **({"progress": progress.embedded} if progress is not NO_PROGRESS else {}))
    cache = build_cache(settings, run.path)
    own_drafter = drafter is None
    drafter = drafter or build_drafter(settings, call_log, cache)
    mode = settings.draft.mode
    if mode == "auto":
        mode = "faithful" if settings.drafter.is_weak else "section"
    judge = build_claim_judge(settings, call_log, cache)
    registry = build_registry(settings)
    deps = Deps(settings=settings, store=store, drafter=drafter, mode=mode, judge=judge, trends=registry)
    status_override, error = None, None
    with open_checkpointer(run.path, settings.state.postgres_dsn) as (saver, thread_id):
        graph = build_graph(deps, checkpointer=saver)
        cfg = {"configurable": {"thread_id": thread_id}, "recursion_limit": 50}
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
    usage = totals.model_copy(update={"cost": round(totals.cost, 6), "wall_s": round(time.monotonic() - started, 3)})
    result = BriefResult(status=status_override or state.status, brief=brief, report=state.report, passages=quoted,
                         usage=usage, run_dir=run.path, run_id=run.run_id, skipped_sources=skipped,
                         source_groups=state.groups, error=error)
    run.finish(result)
    return result
