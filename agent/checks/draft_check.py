"""Check a draft from outside the graph: brief.json, the project's brief.md / brief.html, or any text as one body."""

from __future__ import annotations

import json
import re

from pydantic import ValidationError

from agent.checks.brief_text import parse_brief_html, parse_brief_markdown
from agent.checks.codes import Code
from agent.checks.leakage import ASSISTANT_TEXT_CODES, find_leakage
from agent.checks.repetition import find_looping, find_repetition
from agent.checks.run import check_brief
from agent.checks.claims import Judge, assess_sentence
from agent.checks.tables import find_table_defects, is_table_row
from agent.errors import UsageError
from agent.result import BriefDocument
from agent.schema import Brief, CheckReport, Passage, Violation
from agent.store import bm25
from agent.text import split_sentences

REPORT_KEYS = {"code", "severity", "section", "start", "end", "text", "message", "evidence"}


def _best_passages(sentence: str, passages: list[Passage], k: int = 2) -> list[Passage]:
    scores = bm25(sentence, [p.text for p in passages])
    ranked = sorted(range(len(passages)), key=lambda i: -scores[i])
    return [passages[i] for i in ranked[:k] if scores[i] > 0]


def check_text(text: str, passages: dict[str, Passage] | None = None, *, judge: Judge | None = None) -> CheckReport:
    """Leakage and structure always; claim support against the best-matching passages when given."""
    violations = find_leakage(text, "body") + find_table_defects(text, "body") + find_looping(text, "body")
    spans = [(a, b) for a, b in split_sentences(text) if not is_table_row(text[a:b]) and len(text[a:b].split()) >= 4]
    for v in find_repetition([("body", i, text[a:b]) for i, (a, b) in enumerate(spans)]):
        a, b = spans[v.sentence_index]
        violations.append(v.model_copy(update={"start": a, "end": b}))
    pool = list((passages or {}).values())
    leaked = [(v.start, v.end) for v in violations if v.code in ASSISTANT_TEXT_CODES]
    claims = []
    for index, (a, b) in enumerate(spans if pool else []):
        if any(a < end and start < b for start, end in leaked):
            continue  # already flagged as assistant text; support is moot
        sentence = text[a:b]
        best = _best_passages(sentence, pool)
        if not best:
            violations.append(Violation(code=Code.UNSUPPORTED_CONTENT, section="body", start=a, end=b, text=sentence,
                                        message="no passage of the sources matches this sentence"))
            continue
        verdict, found = assess_sentence("body", index, sentence, best, judge=judge)
        claims.append(verdict)
        for v in found:
            violations.append(v.model_copy(update={"start": a + v.start, "end": a + v.end}))
    return CheckReport.from_violations(violations, claims)


_NOT_JSON = object()


def _json(raw: str) -> object:
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return _NOT_JSON


def _brief_from_json(data: object) -> tuple[Brief, dict[str, Passage]]:
    """A Brief (and the passages a brief.json carries); UsageError for JSON that is no brief document."""
    if not isinstance(data, dict) or not ({"brief", *Brief.model_fields} & set(data)):
        kind = type(data).__name__ if not isinstance(data, dict) else "an object with no brief field"
        raise UsageError(f"draft is JSON ({kind}), not a brief document: give brief.json, Markdown or text")
    try:
        if "brief" in data:
            document = BriefDocument.model_validate(data)
            if document.brief is None:
                raise UsageError("draft document has no brief")
            return document.brief, {pid: Passage(id=pid, source_id=q.source_id, text=q.text, start=q.start, end=q.end)
                                    for pid, q in document.passages.items()}
        return Brief.model_validate(data), {}
    except ValidationError as e:
        first = e.errors()[0]
        raise UsageError(f"draft JSON: key '{'.'.join(map(str, first['loc']))}': {first['msg']}") from None


def _credit_given_sources(brief: Brief, passages: dict[str, Passage]) -> Brief:
    """A brief read back from Markdown/HTML names its sources by number: give them the ingested ids."""
    ids = {int(pid[1:].split(":")[0]): p.source_id for pid, p in passages.items() if re.match(r"^S\d+:", pid)}
    return brief.model_copy(update={"sources": [r.model_copy(update={"source_id": ids.get(r.number, r.source_id)})
                                                for r in brief.sources]})


def check_draft(raw: str, passages: dict[str, Passage] | None = None, *, judge: Judge | None = None) -> CheckReport:
    """brief.json, the project's own brief.md / brief.html (section by section), or any text as one body.

    JSON is read only when the whole draft parses as JSON; JSON that is not a brief document, and an
    empty draft, are usage errors (exit 2), never a pass.
    """
    if not raw.strip():
        raise UsageError("draft is empty: nothing to check")
    data = _json(raw)
    if data is not _NOT_JSON:
        brief, carried = _brief_from_json(data)
    else:
        parsed = parse_brief_markdown(raw) or parse_brief_html(raw)
        if parsed is None:
            return check_text(raw, passages, judge=judge)
        brief, carried = (_credit_given_sources(parsed, passages) if passages else parsed), {}
    if passages is None and not carried:  # without sources only the text rules can run
        texts = [("headline", brief.headline), ("dek", brief.dek)] + [
            (name, s.text) for name, sents in brief.cited_sections().items() for s in sents]
        violations = [v for name, t in texts for v in find_leakage(t, name) + find_table_defects(t, name)]
        return CheckReport.from_violations(violations)
    return check_brief(brief, passages or carried, judge=judge)


def report_json(report: CheckReport) -> dict:
    """The documented `brief check --json` shape."""
    return {"status": report.status,
            "violations": [v.model_dump(include=REPORT_KEYS) for v in report.violations],
            "claims": [c.model_dump() for c in report.claims]}
