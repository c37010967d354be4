"""Check a draft from outside the graph: a brief JSON, or Markdown / plain text as one body section."""

from __future__ import annotations

import json

from pydantic import ValidationError

from agent.checks.leakage import find_leakage
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
    leaked = [(v.start, v.end) for v in violations if v.code in ("chatbot-leakage", "reasoning-tag", "chat-template-token")]
    claims = []
    for index, (a, b) in enumerate(spans if pool else []):
        if any(a < end and start < b for start, end in leaked):
            continue  # already flagged as assistant text; support is moot
        sentence = text[a:b]
        best = _best_passages(sentence, pool)
        if not best:
            violations.append(Violation(code="unsupported-content", section="body", start=a, end=b, text=sentence,
                                        message="no passage of the sources matches this sentence"))
            continue
        verdict, found = assess_sentence("body", index, sentence, best, judge=judge)
        claims.append(verdict)
        for v in found:
            violations.append(v.model_copy(update={"start": a + v.start, "end": a + v.end}))
    return CheckReport.from_violations(violations, claims)


def check_draft(raw: str, passages: dict[str, Passage] | None = None, *, judge: Judge | None = None) -> CheckReport:
    """A brief JSON (Brief or brief.json document) gets every rule; anything else is text."""
    stripped = raw.lstrip()
    if not stripped.startswith("{"):
        return check_text(raw, passages, judge=judge)
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as e:
        raise UsageError(f"draft is not valid JSON ({e.msg} at line {e.lineno})") from None
    try:
        if "brief" in data:
            document = BriefDocument.model_validate(data)
            if document.brief is None:
                raise UsageError("draft document has no brief")
            brief = document.brief
            carried = {pid: Passage(id=pid, source_id=q.source_id, text=q.text, start=q.start, end=q.end)
                       for pid, q in document.passages.items()}
        else:
            brief, carried = Brief.model_validate(data), {}
    except ValidationError as e:
        first = e.errors()[0]
        raise UsageError(f"draft JSON: key '{'.'.join(map(str, first['loc']))}': {first['msg']}") from None
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
