"""Report an eval run: terminal tables, results.jsonl, summary.json and a self-contained report.html."""

from __future__ import annotations

import json
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from rich.console import Console
from rich.table import Table

from agent.errors import UsageError
from agent.runs import write_atomic

from evals.runner import CaseRow, EvalRun, EvalSummary
from evals.scorers import SCORERS, Scorer

TEMPLATES = Path(__file__).resolve().parent / "templates"
SHORT = {"verdict_expected": "verdict", "format_complete": "format", "citations_valid": "cites",
         "grounded_sentences": "grounded", "facts_mentioned": "facts", "forbidden_absent": "forbid",
         "rouge_l": "rougeL", "leakage_count": "leak", "duplication_count": "dup", "llm_calls": "calls",
         "tokens": "tokens", "wall_s": "secs", "judge_rubric": "judge"}


def fmt(value: float | None, scorer: Scorer | None = None) -> str:
    if value is None:
        return "–"
    if scorer is not None and scorer.unit:
        return f"{value:.1f}" if scorer.unit == "s" or value != int(value) else f"{int(value)}"
    return f"{value:.2f}"


def grade(value: float | None, scorer: Scorer | None) -> str:
    """good / fair / poor for colouring; '' when a raw cost has no natural bar."""
    if value is None or scorer is None or not scorer.graded:
        return ""
    if scorer.unit == "violations":
        return "good" if value == 0 else "poor"
    if scorer.unit:
        return ""
    return "good" if value >= 0.9 else "fair" if value >= 0.6 else "poor"


# --- files -------------------------------------------------------------------------------


def write_reports(run: EvalRun, out: Path) -> list[Path]:
    """results.jsonl, summary.json and report.html in `out`."""
    out = Path(out)
    results = out / "results.jsonl"
    write_atomic(results, "".join(row.model_dump_json() + "\n" for row in run.rows))
    summary = out / "summary.json"
    write_atomic(summary, run.summary.model_dump_json(indent=2) + "\n")
    html = out / "report.html"
    write_atomic(html, render_html(run))
    return [results, summary, html]


def load_run(path: Path) -> tuple[list[CaseRow], EvalSummary | None]:
    """A run folder (or its results.jsonl) back as rows and, when present, the summary."""
    path = Path(path)
    results = path / "results.jsonl" if path.is_dir() else path
    try:
        rows = [CaseRow.model_validate_json(line) for line in results.read_text(encoding="utf-8").splitlines()
                if line.strip()]
    except OSError as e:
        raise UsageError(f"{results}: cannot read eval results ({e.strerror or e})") from None
    except ValueError as e:
        raise UsageError(f"{results}: not eval results ({str(e).splitlines()[0]})") from None
    summary_path = results.parent / "summary.json"
    summary = EvalSummary.model_validate_json(summary_path.read_text(encoding="utf-8")) if summary_path.exists() else None
    return rows, summary


# --- HTML --------------------------------------------------------------------------------


def _brief_markdown(row: CaseRow) -> str:
    if not row.brief_file:
        return ""
    try:
        return (Path(row.case_dir) / row.brief_file).read_text(encoding="utf-8")
    except OSError:
        return ""


def nested_table(data: dict) -> tuple[list[str], list[list[str]]]:
    """A dict of dicts (row -> column -> value) as a header and rows; anything else as key/value rows."""
    def cell(v) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    inner = [v for v in data.values() if isinstance(v, dict)]
    if inner and all(isinstance(v, dict) for v in data.values()):
        columns: list[str] = []
        for v in inner:
            columns += [k for k in v if k not in columns]
        return ["", *columns], [[str(k), *(cell(v.get(c, "")) for c in columns)] for k, v in data.items()]
    for value in data.values():  # a wrapper such as {"types": {...}, "cases": 200}: the table inside it
        if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            return nested_table(value)
    return ["key", "value"], [[str(k), cell(v) if not isinstance(v, (dict, list)) else json.dumps(v)]
                              for k, v in data.items()]


def render_html(run: EvalRun) -> str:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html.j2"]), trim_blocks=True, lstrip_blocks=True)
    scorers = run.scorers or SCORERS
    seeded = (run.summary.checker or {}).get("seeded_defects") or {}
    seeded_table = nested_table(seeded["results"]) if isinstance(seeded.get("results"), dict) else None
    return env.get_template("report.html.j2").render(
        run=run, s=run.summary, scorers=scorers, short=SHORT, fmt=fmt, grade=grade,
        markdown={row.id: _brief_markdown(row) for row in run.rows}, seeded=seeded, seeded_table=seeded_table)


# --- terminal ----------------------------------------------------------------------------


def print_report(run: EvalRun, console: Console) -> None:
    """Per-case scores, then per-scorer means, LLM use, checker figures and the gate."""
    scorers, s = run.scorers or SCORERS, run.summary
    cases = Table(title=f"{s.dataset}: {s.cases} case(s)", show_lines=False, pad_edge=False)
    cases.add_column("case", overflow="fold")
    cases.add_column("status")
    for scorer in scorers:
        cases.add_column(SHORT.get(scorer.name, scorer.name), justify="right")
    styles = {"good": "green", "fair": "yellow", "poor": "red", "": ""}
    for row in run.rows:
        mark = "" if row.status == row.expected else f" (≠{row.expected})"
        status = f"[{'red' if row.status == 'error' or mark else 'default'}]{row.status}{mark}[/]"
        cells = []
        for scorer in scorers:
            value = row.scores.get(scorer.name)
            style = styles[grade(value, scorer)]
            cells.append(f"[{style}]{fmt(value, scorer)}[/]" if style else fmt(value, scorer))
        cases.add_row(row.id, status, *cells)
    console.print(cases)
    for row in run.rows:
        if row.error:
            console.print(f"  {row.id}: {row.error}", highlight=False, soft_wrap=True)
    means = Table(title="mean per scorer")
    for name in ("scorer", "mean", "cases", "what it measures"):
        means.add_column(name, justify="right" if name in ("mean", "cases") else "left")
    for scorer in scorers:
        means.add_row(scorer.name, fmt(s.means.get(scorer.name), scorer), str(s.scored.get(scorer.name, 0)),
                      scorer.description)
    console.print(means)
    counts = ", ".join(f"{n} {k}" for k, n in s.counts.items() if n)
    console.print(f"{counts}; wall {s.wall_s:.1f} s; LLM calls made {s.llm_calls_made}, from cache "
                  f"{s.llm_calls_cached} (cache {s.cache_mode}: {s.cache_dir}); tokens "
                  f"{s.prompt_tokens}+{s.completion_tokens}", highlight=False, soft_wrap=True)
    if s.checker:
        _print_checker(s.checker, console)
    if s.gate is not None:
        if s.gate.passed:
            console.print(f"gate: passed ({'; '.join(s.gate.checked)})", highlight=False, soft_wrap=True)
        else:
            console.print(f"[red]gate: FAILED[/red]: {'; '.join(s.gate.failures)}", highlight=False, soft_wrap=True)


def _print_checker(checker: dict, console: Console) -> None:
    se = checker.get("summedits") or {}
    if se:
        layers = ", ".join(f"{k} {v * 100:.1f}%" for k, v in se["layers"].items())
        console.print(f"checker on summedits-sample ({se['rows']} rows, {se['consistent']} consistent): "
                      f"balanced accuracy {layers}", highlight=False, soft_wrap=True)
    seeded = checker.get("seeded_defects") or {}
    if "skipped" in seeded:
        console.print(f"seeded defects: skipped ({seeded['skipped']})", highlight=False, soft_wrap=True)
    elif isinstance(seeded.get("results"), dict):
        header, rows = nested_table(seeded["results"])
        table = Table(title=f"seeded defects (seed {seeded['seed']}, {seeded['cases']} cases)")
        for h in header:
            table.add_column(h or "defect")
        for r in rows:
            table.add_row(*r)
        console.print(table)

