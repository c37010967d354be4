"""argv -> API -> stdout + exit code. Progress and errors go to stderr; nothing else on stdout."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from agent.api import check_draft, draft_brief, draft_from_request, load_corpus, resume_brief
from agent.ask import answer_question
from agent.config import ServiceSettings, Settings, load_settings
from agent.deps import build_registry, build_store
from agent.errors import EXIT_BUDGET, EXIT_REJECTED, BriefError, NoUsableSources, UsageError
from agent.sources.fetch import FetchFailed, Fetcher
from agent.serve.json_step import error_document, parse_request
from agent.progress import ConsoleProgress, Progress, WarningsOnly
from agent.output.publish import render_result, write_outputs
from agent.result import BriefResult, Skipped, export_brief_schema
from agent.schema import Source

# Imported where used, to keep `brief --help` fast: agent.sources.feeds (feedparser), agent.checks.draft_check (chromadb),
# agent.serve.service (fastapi, uvicorn) and the evals harness.

# rich_markup_mode=None: help texts are plain text, so "[prices]" or "[[trend]]" is shown, not eaten as markup.
app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None,
                  help="Turn a pile of sources into a checked, cited editorial brief.")
err = Console(stderr=True, markup=False)  # paths, reasons and "[section]" names are never markup

ConfigOpt = Annotated[Optional[Path], typer.Option("--config", "-c", help="TOML file layered over configs/default.toml.")]
DataDirOpt = Annotated[Optional[Path], typer.Option("--data-dir", help="Store and run folders (default .brief-data).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary on stderr: errors and warnings only.")]
ProgressOpt = Annotated[bool, typer.Option("--progress", help="Progress on stderr even when it is no terminal (also with --json).")]


def _settings(config: Path | None, data_dir: Path | None = None, **overrides: Any) -> Settings:
    layer: dict[str, Any] = {k: v for k, v in overrides.items() if v is not None}
    if data_dir is not None:
        layer["data_dir"] = str(data_dir)
    return load_settings(config, overrides=layer)


def _watch(settings: Settings, quiet: bool, forced: bool) -> AbstractContextManager[Progress]:
    """The progress display on stderr (a context manager): on a terminal, or when asked; never with --quiet."""
    if quiet or not (forced or err.is_terminal):
        return nullcontext(WarningsOnly(err))  # a source cut at the size limit is always said
    return ConsoleProgress(err, settings.budget)


def _fail(e: BriefError) -> None:
    err.print(f"[red]error:[/red] {escape(e.one_line())}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(e.exit_code)


@app.command()
def index(
    paths: Annotated[list[str], typer.Argument(help="Folders, files or http(s) URLs of sources.")],
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    quiet: QuietOpt = False,
    show_progress: ProgressOpt = False,
) -> None:
    """Ingest and clean sources, index their passages, and say what cleaning removed."""
    try:
        settings = _settings(config, data_dir)
        with _watch(settings, quiet, show_progress) as progress:
            corpus = load_corpus(paths, settings, progress=progress)
            for s in corpus.skipped:
                err.print(f"skipped {s.origin}: {s.reason}", highlight=False, soft_wrap=True)
            progress.stage("index")
            stats = build_store(settings).index(corpus.sources, list(corpus.passages.values()),
                                                progress=progress.embedded)
    except BriefError as e:
        _fail(e)
    for s in corpus.sources:
        print(f"{s.origin}: {s.outlet} — {s.title or '(untitled)'} [{s.id}, {s.language}]")
        for r in s.removed:
            line = f" line {r.line}" if r.line else ""
            print(f"  removed ({r.reason}{line}): {r.text[:100]}")
    print(f"indexed {len(corpus.sources)} sources, {len(corpus.passages)} passages "
          f"({stats.passages_added} newly embedded, {stats.passages_skipped} already in the store)")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="A question about the sources.")],
    sources: Annotated[list[str], typer.Option("--sources", "-s", help="Folders, files or http(s) URLs of sources.")],
    k: Annotated[int, typer.Option(help="Passages to give the model.")] = 3,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Debug: answer one question from the top passages, printing the passage ids used."""
    try:
        answer, used = answer_question(question, sources, _settings(config, data_dir), k=k)
    except BriefError as e:
        _fail(e)
    print(answer)
    print("passages: " + ", ".join(used))


@app.command()
def draft(
    paths: Annotated[Optional[list[str]], typer.Argument(help="Folders, files or http(s) URLs of sources ('-' reads stdin).")] = None,
    feed: Annotated[Optional[list[str]], typer.Option("--feed", help="An RSS or Atom feed URL, or a name from [feeds] (repeatable).")] = None,
    since: Annotated[Optional[str], typer.Option("--since", help="Only feed items this recent, e.g. 24h, 90m, 2d.")] = None,
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, help="At most this many items per feed (newest first).")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write brief.md/.html/.json here.")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="md | html | json | ninjs (stdout when no -o; with -o, ninjs adds brief.ninjs.json).")] = "md",
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    json_step: Annotated[bool, typer.Option("--json", help="Read a JSON request on stdin ('-'); print one JSON result.")] = False,
    max_tokens: Annotated[Optional[int], typer.Option("--max-tokens-per-brief", help="Stop at this many tokens (exit 7).")] = None,
    max_cost: Annotated[Optional[float], typer.Option("--max-cost", help="Stop at this cost from [prices] (exit 7).")] = None,
    quiet: QuietOpt = False,
    show_progress: ProgressOpt = False,
) -> None:
    """Draft a checked brief. Exit 0 published, 6 rejected (REJECTED-brief.*), 7 over budget."""
    budget = _budget(max_tokens, max_cost)
    if json_step:
        _draft_json_step(config, data_dir, budget, show_progress and not quiet)
        return
    _check_format(fmt)
    paths = paths or []
    if not paths and not feed:
        _fail(UsageError("give sources (folders, files, URLs, '-') or --feed"))
    stdin_text = sys.stdin.read() if "-" in paths else None
    files = [p for p in paths if p != "-"]  # strings: draft_brief tells URLs from paths
    try:
        settings = _settings(config, data_dir, budget=budget)
        with _watch(settings, quiet, show_progress) as progress:
            from_feeds, skipped = _feed_sources(feed or [], settings, since, limit, progress)
            if feed and not from_feeds and not files and stdin_text is None:
                raise NoUsableSources("no usable sources from the feed(s) ("
                                      + ("; ".join(f"{s.origin}: {s.reason}" for s in skipped[:3]) or "no items") + ")")
            result = draft_brief([*from_feeds, *files], config=settings, stdin_text=stdin_text, progress=progress)
        result.skipped_sources[:0] = skipped
    except BriefError as e:
        _fail(e)
    _report(result, output, fmt, quiet)


def _feed_sources(feeds: list[str], settings: Settings, since: str | None, limit: int | None,
                  progress: Progress) -> tuple[list[Source], list[Skipped]]:
    """Sources from the feeds' items (seen items from the cache), and what was skipped; says what each feed brought."""
    if not feeds:
        return [], []
    from agent.sources.feeds import feed_sources, parse_since  # feedparser: only when feeds are read

    progress.stage("feeds")
    ingested, reads = feed_sources(feeds, settings, since=parse_since(since), limit=limit,
                                   fetcher=Fetcher.from_settings(settings, progress))
    for read in reads:
        new = sum(not i.seen for i in read.items)
        err.print(f"feed {read.title}: {len(read.items)} item(s), {new} new, {len(read.items) - new} from the cache"
                  + (f", {read.left_out} left out by --since/--limit" if read.left_out else ""), highlight=False)
    return ingested.sources, [Skipped(origin=s.path, reason=s.reason) for s in ingested.skipped]


FORMATS = ("md", "html", "json", "ninjs")


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        err.print(f"error: --format must be md, html, json or ninjs, not '{fmt}'")
        raise typer.Exit(2)


def _budget(max_tokens: int | None, max_cost: float | None) -> dict[str, float] | None:
    """The [budget] layer from the command line, or None when no cap was given."""
    caps = {"max_tokens_per_brief": max_tokens, "max_cost": max_cost}
    return {k: v for k, v in caps.items() if v is not None} or None


def _exit_for(status: str) -> None:
    """Exit by the result's status: 0 published, 6 rejected, 7 over budget."""
    code = {"rejected": EXIT_REJECTED, "budget_exceeded": EXIT_BUDGET}.get(status)
    if code is not None:
        raise typer.Exit(code)


def _report(result: BriefResult, output: Path | None, fmt: str, quiet: bool = False) -> None:
    """Write or print the result, say what happened on stderr, and exit by its status."""
    try:
        written = write_outputs(result, output, ninjs=fmt == "ninjs") if output is not None else []
    except BriefError as e:
        _fail(e)
    for s in result.skipped_sources:
        err.print(f"skipped {s.origin}: {s.reason}", highlight=False, soft_wrap=True)
    u = result.usage
    if not quiet:
        err.print(f"{result.status}: {u.llm_calls} LLM calls, {u.prompt_tokens}+{u.completion_tokens} tokens, "
                  f"{u.wall_s:.1f} s; run folder {result.run_dir}", highlight=False)
    if output is None:
        sys.stdout.write(render_result(result, fmt))
    elif not quiet:
        for path in written:
            err.print(f"wrote {path}", highlight=False, soft_wrap=True)
    if result.status == "rejected":
        for v in (result.report.violations if result.report else [])[:10]:
            err.print(f"  {v.code} [{v.section}]: {v.message}", highlight=False)
    if result.status == "budget_exceeded":
        err.print(f"  {result.error}; resume with a larger budget: brief resume {result.run_id}", highlight=False)
    _exit_for(result.status)


@app.command()
def resume(
    run_id: Annotated[str, typer.Argument(help="The run folder name under <data_dir>/runs.")],
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write brief.md/.html/.json here.")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="md | html | json | ninjs (stdout when no -o).")] = "md",
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    max_tokens: Annotated[Optional[int], typer.Option("--max-tokens-per-brief", help="New token cap (exit 7).")] = None,
    max_cost: Annotated[Optional[float], typer.Option("--max-cost", help="New cost cap (exit 7).")] = None,
    quiet: QuietOpt = False,
    show_progress: ProgressOpt = False,
) -> None:
    """Continue a crashed, killed or over-budget run; finished LLM calls are not repeated."""
    _check_format(fmt)
    try:
        settings = _settings(config, data_dir, budget=_budget(max_tokens, max_cost))
        with _watch(settings, quiet, show_progress) as progress:
            result = resume_brief(run_id, config=settings, progress=progress)
    except BriefError as e:
        _fail(e)
    _report(result, output, fmt, quiet)


def _draft_json_step(config: Path | None, data_dir: Path | None, budget: dict[str, float] | None = None,
                     show_progress: bool = False) -> None:
    """Pipeline mode: nothing but the result (or the error) as one JSON object on stdout."""
    try:
        request = parse_request(sys.stdin.read())
        settings = _settings(request.config or config, data_dir, budget=budget)
        with _watch(settings, not show_progress, True) as progress:  # stderr only: stdout is the JSON
            result = draft_from_request(request, settings, progress=progress)
    except BriefError as e:
        print(error_document(e))
        raise typer.Exit(e.exit_code)
    print(result.document().model_dump_json())
    _exit_for(result.status)


@app.command()
def check(
    draft_path: Annotated[Path, typer.Argument(metavar="DRAFT", help="brief.json, Markdown or plain text ('-' for stdin).")],
    sources: Annotated[Optional[list[str]], typer.Option("--sources", "-s", help="Check claims against these (paths or URLs).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Check a draft: exit 0 when it passes, 6 when it fails."""
    try:
        settings = _settings(config)
        try:
            raw = sys.stdin.read() if str(draft_path) == "-" else draft_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise UsageError(f"{draft_path}: cannot read draft ({getattr(e, 'strerror', None) or e.__class__.__name__})") from None
        report = check_draft(raw, sources or [], config=settings)
    except BriefError as e:
        _fail(e)
    if as_json:
        from agent.checks.draft_check import report_json  # chromadb: only when checking

        print(json.dumps(report_json(report), indent=2, ensure_ascii=False))
    else:
        for v in report.violations:
            print(f"{v.severity} {v.code} [{v.section} {v.start}-{v.end}]: {v.message}")
        print(f"{report.status}: {len(report.violations)} violation(s)")
    if report.status == "fail":
        raise typer.Exit(EXIT_REJECTED)


feeds_app = typer.Typer(help="Named outlet feeds (the [feeds] table of the config).", no_args_is_help=True,
                        rich_markup_mode=None)
app.add_typer(feeds_app, name="feeds")


@feeds_app.command("list")
def feeds_list(config: ConfigOpt = None, data_dir: DataDirOpt = None) -> None:
    """Every named feed, its URL and how many of its items were already fetched."""
    from agent.sources.feeds import SeenItems  # feedparser: only for feed commands

    try:
        settings = _settings(config, data_dir)
    except BriefError as e:
        _fail(e)
    if not settings.feeds:
        err.print("no feeds configured: add a [feeds] table (name = URL) to a config file", markup=False)
    seen = SeenItems(settings.data_dir)
    for name, url in sorted(settings.feeds.items()):
        print(f"{name}\t{url}\t{len(seen.data.get(url, {}))} item(s) seen")


@feeds_app.command("check")
def feeds_check(
    feeds: Annotated[Optional[list[str]], typer.Argument(help="Feed names or URLs (default: every named feed).")] = None,
    since: Annotated[Optional[str], typer.Option("--since", help="Only items this recent, e.g. 24h.")] = None,
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, help="At most this many items per feed.")] = None,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """What each feed would bring in now: its items, new or already seen. Fetches only the feeds."""
    from agent.sources.feeds import SeenItems, parse_since, read_feed, resolve_feed  # feedparser: only for feed commands

    try:
        settings = _settings(config, data_dir)
        window = parse_since(since)
        names = feeds or sorted(settings.feeds)
        if not names:
            raise UsageError("no feeds configured and none given: brief feeds check URL, or a [feeds] table")
        targets = [resolve_feed(n, settings.feeds) for n in names]
    except BriefError as e:
        _fail(e)
    fetcher, seen, failed = Fetcher.from_settings(settings), SeenItems(settings.data_dir), 0
    for label, url in targets:
        try:
            read = read_feed(label, url, fetcher, seen, since=window, limit=limit)
        except FetchFailed as e:
            failed += 1
            print(f"{label}: cannot read the feed: {e}")
            continue
        new = sum(not i.seen for i in read.items)
        print(f"{label} — {read.title}: {len(read.items)} item(s), {new} new"
              + (f", {read.left_out} left out by --since/--limit" if read.left_out else "")
              + (" (feed unchanged since last read)" if read.unchanged else ""))
        for item in read.items:
            when = item.published.strftime("%Y-%m-%d %H:%M") if item.published else "undated         "
            print(f"  {'seen' if item.seen else 'new '}  {when}  {item.outlet} — {item.title or '(untitled)'}  {item.url}")
    if failed:
        raise typer.Exit(3)


trends_app = typer.Typer(help="The tracked-trend registry.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(trends_app, name="trends")


@trends_app.command("list")
def trends_list(config: ConfigOpt = None, data_dir: DataDirOpt = None) -> None:
    """Every trend with how many briefs it links."""
    try:
        registry = build_registry(_settings(config, data_dir))
    except BriefError as e:
        _fail(e)
    for record in sorted(registry.records.values(), key=lambda r: (-len(r.briefs), r.name)):
        print(f"{record.name} — {len(record.briefs)} brief(s){' (seed)' if record.seeded else ''}")


def match_name(name: str, names: list[str], what: str, see: str) -> str:
    """The one name meant: exact, else case-insensitive, else a unique case-insensitive prefix."""
    if name in names:
        return name
    folded = name.casefold().strip()
    for candidates in ([n for n in names if n.casefold() == folded], [n for n in names if n.casefold().startswith(folded)]):
        if len(candidates) == 1:
            return candidates[0]
        if len(candidates) > 1:
            shown = ", ".join(f"'{n}'" for n in sorted(candidates)[:5])
            raise UsageError(f"'{name}' matches {len(candidates)} {what}s ({shown}); give more of the name")
    raise UsageError(f"no {what} named '{name}' (see: {see})")


@trends_app.command("show")
def trends_show(
    name: Annotated[str, typer.Argument(help="The trend's name, any case, or a unique start of it.")],
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """One trend and the briefs linked to it."""
    try:
        registry = build_registry(_settings(config, data_dir))
        record = registry.records[match_name(name, list(registry.records), "trend", "brief trends list")]
    except BriefError as e:
        _fail(e)
    print(f"{record.name}\n{record.description}")
    for b in record.briefs:
        print(f"  {b.linked_on} {b.run_id}: {b.headline}")


@trends_app.command("seed")
def trends_seed(path: Path, config: ConfigOpt = None, data_dir: DataDirOpt = None) -> None:
    """Load seed trends from a TOML file of [[trend]] name/description tables."""
    try:
        count = build_registry(_settings(config, data_dir)).seed(path)
    except BriefError as e:
        _fail(e)
    print(f"seeded {count} trend(s)")


@app.command()
def schema(output: Annotated[Optional[Path], typer.Argument(help="Write the JSON Schema to this file (default: stdout).")] = None) -> None:
    """Print (or write) the JSON Schema of brief.json."""
    if output is None:  # the one exporter writes files: let it write one we print
        with tempfile.TemporaryDirectory() as tmp:
            export_brief_schema(Path(tmp) / "brief.schema.json")
            sys.stdout.write((Path(tmp) / "brief.schema.json").read_text(encoding="utf-8"))
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    export_brief_schema(output)
    err.print(f"wrote {output}", highlight=False, soft_wrap=True)


# --- brief eval: the evaluation harness (evals/) ----------------------------------------------

class _EvalGroup(TyperGroup):
    """`brief eval DATASET ...` is short for `brief eval run DATASET ...`."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


eval_app = typer.Typer(cls=_EvalGroup, no_args_is_help=True, help="Evaluate the agent on a dataset of cases.",
                       rich_markup_mode=None)
app.add_typer(eval_app, name="eval")


@eval_app.command("run")
def eval_run(
    dataset: Annotated[Path, typer.Argument(help="JSONL of cases, e.g. evals/datasets/smoke.jsonl.")],
    config: ConfigOpt = None,
    concurrency: Annotated[int, typer.Option("--concurrency", "-j", min=1, help="Cases at a time.")] = 1,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Run folder (default out/eval/<dataset>-<time>).")] = None,
    replay: Annotated[bool, typer.Option("--replay", help="Answer only from the LLM cache; a miss fails the case.")] = False,
    cache_dir: Annotated[Optional[Path], typer.Option("--cache-dir", help="Shared LLM cache (default: the dataset's .toml, else <output>/llm-cache).")] = None,
    min_score: Annotated[Optional[list[str]], typer.Option("--min-score", help="scorer=value: the mean must reach it (repeatable).")] = None,
    max_score: Annotated[Optional[list[str]], typer.Option("--max-score", help="scorer=value: the mean must not exceed it.")] = None,
    checker: Annotated[bool, typer.Option("--checker", help="Also run the checker on the SummEdits sample and seeded defects.")] = False,
    judge: Annotated[bool, typer.Option("--judge", help="Add the rubric grade from the judge role's model.")] = False,
) -> None:
    """Run, score and report every case; exit 0 when the gate holds, 1 when a threshold fails."""
    from evals.gate import parse_thresholds
    from evals.report import print_report, write_reports
    from evals.runner import EvalOptions, run_eval

    out = output or Path("out/eval") / f"{dataset.stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    try:
        options = EvalOptions(dataset=dataset, out=out, config=config, concurrency=concurrency, replay=replay,
                              cache_dir=cache_dir, judge=judge, checker=checker,
                              min_score=parse_thresholds(min_score), max_score=parse_thresholds(max_score, "--max-score"))
        run = run_eval(options)
        written = write_reports(run, out)
    except BriefError as e:
        _fail(e)
    print_report(run, Console(width=200 if not sys.stdout.isatty() else None))
    for path in written:
        err.print(f"wrote {path}", highlight=False, soft_wrap=True)
    if not run.summary.gate.passed:
        raise typer.Exit(1)


@eval_app.command("compare")
def eval_compare(
    a: Annotated[Path, typer.Argument(help="Earlier run folder (or its results.jsonl).")],
    b: Annotated[Path, typer.Argument(help="Later run folder.")],
) -> None:
    """Per-scorer deltas from run A to run B, and the cases that got worse."""
    from evals.compare import compare_runs, format_comparison

    try:
        lines = format_comparison(*compare_runs(a, b))
    except BriefError as e:
        _fail(e)
    print("\n".join(lines))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port.")] = 8000,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    time_limit: Annotated[float, typer.Option("--time-limit", min=1, help="Seconds per draft, then 504.")] = 300.0,
    max_body: Annotated[int, typer.Option("--max-body-bytes", min=1, help="Larger request bodies get 413.")] = 10_000_000,
    workers: Annotated[Optional[int], typer.Option(min=1, max=64, help="Drafts at once against a remote endpoint "
                                                   "(default: [service] workers; the embedded model runs one).")] = None,
) -> None:
    """Serve the HTTP API: POST /v1/briefs, /v1/briefs:async, /v1/check; GET /v1/briefs/ID, /healthz."""
    from agent.serve.service import serve as run_server  # fastapi and uvicorn: only for the server

    try:
        brief = _settings(config, data_dir, service={"workers": workers} if workers else None)
        settings = ServiceSettings(brief=brief, time_limit_s=time_limit, max_body_bytes=max_body)
        run_server(settings, host, port)
    except BriefError as e:
        _fail(e)


def main() -> None:
    """Console entry point: BriefErrors become one line and an exit code, never a traceback."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except BriefError as e:  # raised outside a command's own handler
        err.print(f"error: {e.one_line()}", highlight=False)
        sys.exit(e.exit_code)
    except Exception as e:  # a bug: one line unless debugging
        if os.environ.get("BRIEF_DEBUG"):
            raise
        err.print(f"internal error: {e.__class__.__name__}: {e} (set BRIEF_DEBUG=1 for a traceback)", highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
