"""Turn a BriefResult into files: brief.* when published, INCOMPLETE-brief.* over budget, else REJECTED-brief.*."""

from __future__ import annotations

import json
from pathlib import Path

from agent.errors import UsageError
from agent.result import BriefResult
from agent.runs import write_all_atomic


def render_result(result: BriefResult, fmt: str) -> str:
    """One format of the result; a rejected draft always carries its banner and violations."""
    if fmt == "json":
        return result.document().model_dump_json(indent=2) + "\n"
    if fmt == "ninjs":
        from agent.output.ninjs import to_ninjs

        return json.dumps(to_ninjs(result), indent=2, ensure_ascii=False) + "\n"
    from agent.output.render import render_html, render_markdown

    if result.brief is None:  # e.g. the budget ran out before any section was drafted
        return f"No brief: {result.status} ({result.error or 'nothing was drafted'}).\n"
    renderer = render_html if fmt == "html" else render_markdown
    return renderer(result.brief, result.report, result.passages, status=result.status)


def write_outputs(result: BriefResult, directory: Path, *, ninjs: bool = False) -> list[Path]:
    """Write md, html and json (and ninjs.json if asked) atomically into `directory` and the run folder."""
    prefix = {"published": "brief", "budget_exceeded": "INCOMPLETE-brief"}.get(result.status, "REJECTED-brief")
    formats = ("md", "html", "json") if result.brief is not None else ("json",)
    rendered = {fmt: render_result(result, fmt) for fmt in formats}
    if ninjs and result.brief is not None:
        rendered["ninjs.json"] = render_result(result, "ninjs")
    written = []
    for target in filter(None, (Path(directory), result.run_dir)):
        try:  # all files of a target land together, or none does
            files = {target / f"{prefix}.{fmt}": text for fmt, text in rendered.items()}
            write_all_atomic(files)
            if target == Path(directory):
                written.extend(files)
                _remove_other_outcomes(target, prefix)
        except OSError as e:
            raise UsageError(f"{target}: cannot write output ({e.strerror or e})") from None
    return written


PREFIXES = ("brief", "REJECTED-brief", "INCOMPLETE-brief")
FORMATS = ("md", "html", "json", "ninjs.json")


def _remove_other_outcomes(directory: Path, prefix: str) -> None:
    """An earlier run's files of another outcome would sit beside this one's (a stale brief.md next to
    REJECTED-brief.md reads as published): remove them once the new set is in place. Each earlier
    run keeps its own copy in its run folder."""
    for other in PREFIXES:
        if other != prefix:
            for fmt in FORMATS:
                (directory / f"{other}.{fmt}").unlink(missing_ok=True)
