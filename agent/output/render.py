"""Brief -> Markdown / self-contained HTML via jinja2 templates in agent/output/templates/."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from agent.house_format import SECTIONS, TITLED_SECTIONS, labels
from agent.schema import Brief, CheckReport

TEMPLATES = Path(__file__).resolve().parent / "templates"


@lru_cache(maxsize=2)
def _env(html: bool) -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html.j2"]) if html else False,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    return env


def _context(brief: Brief, report: CheckReport | None, passages: Mapping[str, Any] | None, status: str) -> dict:
    credits = {ref.source_id: ref.credit for ref in brief.sources}
    quotes = {}
    for pid, p in (passages or {}).items():
        text = " ".join(p.text.split())
        quotes[pid] = {"credit": credits.get(p.source_id, p.source_id),
                       "quote": text if len(text) <= 300 else text[:297] + "…"}
    label_class = brief.veracity.label.lower().split()[0] if brief.veracity.label else "unverified"
    words = labels(brief.language)
    n = len(brief.sources)
    source_line = (f"{n} {words.sources_one if n == 1 else words.sources_many} — {words.synthesized_from}: "
                   + " · ".join(r.credit for r in brief.sources))
    return dict(brief=brief, report=report, quotes=quotes, status=status, lang=brief.language, words=words,
                sections=[{"title": SECTIONS[key].title(brief.language), "items": brief.section(key),
                           "bullets": SECTIONS[key].bullets, "explained": SECTIONS[key].explained}
                          for key in TITLED_SECTIONS],
                source_line=source_line,
                explainer=words.explainer, label_class=label_class,
                violations=(report.violations if report else []))


def render_markdown(brief: Brief, report: CheckReport | None = None, passages: Mapping[str, Any] | None = None,
                    *, status: str = "published") -> str:
    return _env(False).get_template("brief.md.j2").render(**_context(brief, report, passages, status))


def render_html(brief: Brief, report: CheckReport | None = None, passages: Mapping[str, Any] | None = None,
                *, status: str = "published") -> str:
    return _env(True).get_template("brief.html.j2").render(**_context(brief, report, passages, status))
