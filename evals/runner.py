"""Run a dataset through draft_brief, cases in parallel, one row per case; a failing case never stops the run."""

from __future__ import annotations

import shutil
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import Field

from agent.config import Settings, load_settings
from agent.errors import BriefError, NoUsableSources
from agent.schema import Contract

from evals.dataset import Case, Gate, load_cases, load_dataset_config, resolve
from evals.gate import GateResult, evaluate_gate, merge_gate, validate_gate
from evals.scorers import SCORERS, Outcome, Scorer, score_outcome

Status = Literal["published", "rejected", "failed", "budget_exceeded", "error"]


class CaseRow(Contract):
    """One line of results.jsonl."""

    id: str
    status: Status
    expected: str
    scores: dict[str, float | None]
    explanations: dict[str, str] = Field(default_factory=dict)
    error: str | None = None
    wall_s: float = 0.0
    llm_calls: int = 0
    cached_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    case_dir: str
    run_dir: str | None = None
    brief_file: str | None = Field(None, description="brief.md or REJECTED-brief.md in case_dir.")
    headline: str | None = None
    violations: list[dict] = Field(default_factory=list, description="The agent's own check: code, section, message.")


class EvalSummary(Contract):
    """summary.json."""

    dataset: str
    cases: int
    counts: dict[str, int]
    means: dict[str, float | None]
    scored: dict[str, int] = Field(description="Cases each scorer applied to.")
    wall_s: float
    llm_calls_made: int = Field(description="Calls that reached a model (not served from the cache).")
    llm_calls_cached: int
    prompt_tokens: int
    completion_tokens: int
    cache_mode: str
    cache_dir: str
    concurrency: int
    config: str | None = None
    started_at: str
    gate: GateResult | None = None
    checker: dict | None = None


@dataclass
class EvalOptions:
    dataset: Path
    out: Path
    config: Path | None = None
    concurrency: int = 1
    replay: bool = False
    cache_dir: Path | None = None
    judge: bool = False
    checker: bool = False
    min_score: dict[str, float] = field(default_factory=dict)  # from --min-score, over the dataset's gate
    max_score: dict[str, float] = field(default_factory=dict)
    progress: bool = True
    env: dict | None = None  # for tests: the environment settings are read from


@dataclass
class EvalRun:
    rows: list[CaseRow]
    summary: EvalSummary
    gate: Gate
    scorers: list[Scorer] = field(default_factory=list)


def _case_settings(options: EvalOptions, config: Path | None, case_dir: Path, cache_dir: Path) -> Settings:
    mode = "replay" if options.replay else "use"
    return load_settings(config, overrides={"data_dir": str(case_dir / "data"),
                                            "cache": {"mode": mode, "dir": str(cache_dir)}}, env=options.env)


def _sources(case: Case) -> list:
    """The case's inline records as given, its paths resolved from the repository root."""
    return [resolve(s) if isinstance(s, str) else s for s in case.sources]


def run_case(case: Case, settings: Settings, case_dir: Path, scorers: list[Scorer]) -> CaseRow:
    """Draft one case, write its brief files into case_dir, score it; errors become an error row."""
    from agent.api import draft_brief
    from agent.output.publish import write_outputs

    started = time.monotonic()
    result, error, status, brief_file = None, None, "error", None
    try:
        result = draft_brief(_sources(case), config=settings)
        status = result.status
        written = write_outputs(result, case_dir)
        brief_file = next((p.name for p in written if p.suffix == ".md"), None)
    except NoUsableSources as e:
        status, error = "failed", e.one_line()
    except BriefError as e:
        error = f"{e.code} (exit {e.exit_code}): {e.one_line()}"
    except Exception as e:  # a bug in the agent: recorded, and the other cases go on
        error = f"internal error: {e.__class__.__name__}: {e}"
    outcome = Outcome(case=case, status=status, result=result, error=error, wall_s=time.monotonic() - started)
    scores = score_outcome(outcome, scorers)
    explanations = {k: s.explanation for k, s in scores.items() if s is not None}
    explanations.update({k: f"scorer error: {v}" for k, v in outcome.extra.get("scorer_errors", {}).items()})
    u = result.usage if result else None
    return CaseRow(
        id=case.id, status=status, expected=case.expect.verdict, error=error, wall_s=round(outcome.wall_s, 3),
        scores={k: (round(s.value, 4) if s is not None else None) for k, s in scores.items()},
        explanations=explanations, case_dir=str(case_dir), brief_file=brief_file,
        run_dir=str(result.run_dir) if result and result.run_dir else None,
        headline=result.brief.headline if result and result.brief else None,
        llm_calls=u.llm_calls if u else 0, cached_calls=getattr(u, "cached_calls", 0) if u else 0,
        prompt_tokens=u.prompt_tokens if u else 0, completion_tokens=u.completion_tokens if u else 0,
        violations=[{"code": v.code, "severity": v.severity, "section": v.section, "message": v.message}
                    for v in (result.report.violations if result and result.report else [])],
    )


def summarize(rows: list[CaseRow], scorers: list[Scorer], **fields) -> EvalSummary:
    """Mean of each scorer over the cases it applied to, status counts, and LLM use."""
    means, scored = {}, {}
    for s in scorers:
        values = [r.scores[s.name] for r in rows if r.scores.get(s.name) is not None]
        scored[s.name] = len(values)
        means[s.name] = round(sum(values) / len(values), 4) if values else None
    counts = {status: sum(r.status == status for r in rows)
              for status in ("published", "rejected", "failed", "budget_exceeded", "error")}
    cached = sum(r.cached_calls for r in rows)
    return EvalSummary(cases=len(rows), counts=counts, means=means, scored=scored,
                       llm_calls_made=sum(r.llm_calls for r in rows) - cached, llm_calls_cached=cached,
                       prompt_tokens=sum(r.prompt_tokens for r in rows),
                       completion_tokens=sum(r.completion_tokens for r in rows), **fields)


def _cache_dir(options: EvalOptions, from_dataset: Path | None, settings: Settings) -> Path:
    if options.cache_dir is not None:
        return Path(options.cache_dir).resolve()
    if from_dataset is not None:
        return resolve(from_dataset)
    if settings.cache.dir is not None:
        return Path(settings.cache.dir).resolve()
    return (options.out / "llm-cache").resolve()


def _progress(enabled: bool):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=Console(stderr=True), disable=not enabled, transient=False)


def run_eval(options: EvalOptions) -> EvalRun:
    """Every case of the dataset, at most `concurrency` at a time, sharing one LLM cache."""
    started, started_at = time.monotonic(), time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    cases = load_cases(options.dataset)
    dataset_cfg = load_dataset_config(options.dataset)
    config = options.config or (resolve(dataset_cfg.config) if dataset_cfg.config else None)
    out = Path(options.out).resolve()
    cache_dir = _cache_dir(options, dataset_cfg.cache_dir, load_settings(config, env=options.env))
    base = _case_settings(options, config, out / "judge", cache_dir)  # also validates the config before any case
    gate = merge_gate(dataset_cfg.gate, options.min_score, options.max_score)
    known = [s.name for s in SCORERS] + (["judge_rubric"] if options.judge else [])
    validate_gate(gate, known)  # before the run: a typo must not cost an hour
    scorers = list(SCORERS)
    if options.judge:
        from agent.deps import build_eval_judge
        from evals.judge import rubric_scorer

        scorers.append(rubric_scorer(build_eval_judge(base)))

    def one(case: Case) -> CaseRow:
        case_dir = out / "cases" / case.id
        if (case_dir / "data").exists():  # a rerun into the same folder starts the case afresh
            shutil.rmtree(case_dir)
        case_dir.mkdir(parents=True, exist_ok=True)
        return run_case(case, _case_settings(options, config, case_dir, cache_dir), case_dir, scorers)

    rows: dict[str, CaseRow] = {}
    with _progress(options.progress) as progress, ThreadPoolExecutor(max_workers=max(1, options.concurrency)) as pool:
        task = progress.add_task(f"eval {Path(options.dataset).name}", total=len(cases))
        futures = {pool.submit(one, case): case for case in cases}
        for future in as_completed(futures):
            row = future.result()
            rows[row.id] = row
            progress.update(task, advance=1, description=f"eval {Path(options.dataset).name}: {row.id} {row.status}")
    ordered = [rows[c.id] for c in cases]
    checker = None
    if options.checker:
        from evals.checker_bench import run_checker_bench

        checker = run_checker_bench()
    summary = summarize(ordered, scorers, dataset=str(options.dataset), wall_s=round(time.monotonic() - started, 3),
                        cache_mode="replay" if options.replay else "use", cache_dir=str(cache_dir),
                        concurrency=options.concurrency, config=str(config) if config else None,
                        started_at=started_at, checker=checker)
    summary.gate = evaluate_gate(summary.means, summary.counts["error"], gate)
    return EvalRun(rows=ordered, summary=summary, gate=gate, scorers=scorers)
