"""A BriefResult as an IPTC ninjs 3.3 news item (schemas/ninjs/), for newsroom systems that ingest ninjs.

A machine draft is never "usable" in ninjs terms: pubStatus is always "withheld" until an editor
publishes it. The checker's verdict and the veracity label go in edNote, the note for staff.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from agent.errors import UsageError
from agent.house_format import SECTIONS, TITLED_SECTIONS
from agent.result import BriefResult
from agent.schema import Brief, CheckReport, Sentence

NINJS_VERSION = "3.3"
NINJS_SCHEMA_URI = "http://www.iptc.org/std/ninjs/ninjs-schema_3.3.json#"
NINJS_SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schemas" / "ninjs" / "ninjs-schema_3.3.json"
# IPTC Digital Source Type: content made by a model trained on sampled content.
AI_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _started_at(result: BriefResult) -> str | None:
    """When the run began, from its manifest (None when the run folder is gone)."""
    try:
        manifest = json.loads((Path(result.run_dir) / "manifest.json").read_text(encoding="utf-8"))
    except (TypeError, OSError, ValueError):
        return None
    return manifest.get("started_at")


def _is_web_uri(url: str | None) -> bool:
    parsed = urlparse(url or "")
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def editorial_note(result: BriefResult, brief: Brief) -> str:
    """One paragraph for desk staff: why it is withheld, the checker's verdict, the veracity read."""
    report = result.report or CheckReport(status="pass")
    errors = [v for v in report.violations if v.severity == "error"]
    warnings = len(report.violations) - len(errors)
    run = f"brief-agent run {result.run_id}" if result.run_id else "brief-agent"
    if result.status == "published":
        head = f"Machine-drafted brief ({run}), withheld until an editor publishes it."
    elif result.status == "rejected":
        head = f"REJECTED by the checker: NOT FOR PUBLICATION ({run})."
    else:
        head = f"Draft with status '{result.status}': NOT FOR PUBLICATION ({run})."
    verdict = f"Checker: {report.status}, {len(errors)} error(s), {warnings} warning(s)"
    if errors:
        verdict += ": " + "; ".join(f"{v.code} [{v.section}] {v.message}" for v in errors[:5])
        verdict += f"; and {len(errors) - 5} more" if len(errors) > 5 else ""
    v = brief.veracity
    veracity = f"Veracity: {v.label} {v.score}/100{' (provisional)' if v.provisional else ''}: {v.rationale}"
    return " ".join(f"{head} {verdict}. {veracity}".split())


def _sentences(items: list[Sentence]) -> str:
    """Sentences as HTML text: quoted source sentences in <q>, notices in <em>, never citation ids."""
    out = []
    for s in items:
        text = escape(" ".join(s.text.split()))
        out.append(f"<q>{text}</q>" if s.kind == "extracted" else f"<em>{text}</em>" if s.kind == "notice" else text)
    return " ".join(out)


def body_html(result: BriefResult, brief: Brief) -> str:
    """The brief's body as clean HTML for newsroom systems: no passage ids, no internal markers, no headline."""
    parts = []
    if result.status != "published":
        problems = len(result.report.violations) if result.report else 0
        parts.append(f"<p><strong>{escape(result.status.upper())} DRAFT — NOT FOR PUBLICATION.</strong> "
                     f"The checker found {problems} problem{'s' if problems != 1 else ''}.</p>")
    parts += [f"<p>{_sentences(p.sentences)}</p>" for p in brief.body]
    t, v = brief.trend, brief.veracity
    parts.append(f"<p><strong>Part of a tracked trend{' (provisional)' if t.provisional else ''}:</strong> "
                 f"{escape(t.name)} — {escape(t.description)}</p>")
    parts.append(f"<p><strong>Veracity: {escape(v.label)} {v.score}/100</strong>"
                 f"{' (provisional)' if v.provisional else ''} — {escape(v.rationale)}</p>")
    for key in TITLED_SECTIONS:  # titled in English, as the rest of the ninjs body
        items = brief.section(key)
        parts.append(f"<h2>{escape(SECTIONS[key].title('en'))}</h2>")
        if SECTIONS[key].bullets:
            parts.append("<ul>" + "".join(f"<li>{_sentences([s])}</li>" for s in items) + "</ul>")
        else:
            parts.append(f"<p>{_sentences(items)}</p>")
    parts.append(f"<p><em>{escape(brief.disclaimer)}</em></p>")
    parts.append(f"<p>{escape(brief.source_line)}</p>")
    return "\n".join(parts)


def to_ninjs(result: BriefResult, *, now: datetime | None = None) -> dict[str, Any]:
    """The ninjs document of a drafted brief, published or rejected; pubStatus is always "withheld"."""
    brief = result.brief
    if brief is None:
        raise UsageError(f"no brief to export as ninjs (status {result.status})")
    exported = _timestamp(now or datetime.now(timezone.utc))
    body = body_html(result, brief)
    v = brief.veracity
    return {
        "uri": f"urn:brief-agent:{result.run_id or 'unsaved'}",
        "standard": {"name": "ninjs", "version": NINJS_VERSION, "schema": NINJS_SCHEMA_URI},
        "type": "text",
        "profile": "brief-agent-brief",
        "representationType": "full",
        "version": "1",
        "firstCreated": _started_at(result) or exported,
        "versionCreated": exported,
        "pubStatus": "withheld",
        "language": "en",
        "by": "brief-agent (machine-drafted from the sources below)",
        "headlines": [{"role": "main", "value": brief.headline}],
        "descriptions": [
            {"role": "summary", "contentType": "text/plain", "value": brief.dek},
            {"role": "veracity", "contentType": "text/plain",
             "value": f"{v.label} {v.score}/100{' (provisional)' if v.provisional else ''}: {v.rationale}"},
        ],
        "bodies": [{"role": "main", "contentType": "text/html", "charCount": len(body),
                    "wordCount": len(re.sub(r"<[^>]+>", " ", body).split()), "value": body}],
        "edNote": editorial_note(result, brief),
        "subjects": [{"name": brief.trend.name, "rel": "trend"}],
        "infoSources": [
            {"name": ref.outlet, "role": "source", "literal": ref.source_id,
             **({"uri": ref.url} if _is_web_uri(ref.url) else {})}
            for ref in brief.sources
        ],
        "digitalSourceType": {"name": "Trained algorithmic media", "uri": AI_SOURCE_TYPE},
    }
