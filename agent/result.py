"""The outcome of one run, as returned by the Python API and written as brief.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import Field

from agent.analysis.independence import SourceGroup
from agent.schema import Brief, CheckReport, Contract

Status = Literal["published", "rejected", "failed", "budget_exceeded"]


class Usage(Contract):
    llm_calls: int = 0
    cached_calls: int = Field(0, description="Logical calls answered entirely from the reply cache.")
    http_attempts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = Field(0.0, description="From the [prices] table; 0 for models without a price.")
    wall_s: float = 0.0


class QuotedPassage(Contract):
    """A cited passage as carried in the document, so a reader can verify without the sources."""

    source_id: str
    text: str
    start: int
    end: int


class Skipped(Contract):
    origin: str
    reason: str


class BriefDocument(Contract):
    """brief.json: the brief, its check report and the passages it cites, in one document."""

    status: Status
    brief: Brief | None = None
    check: CheckReport | None = None
    passages: dict[str, QuotedPassage] = Field(default_factory=dict)
    run_id: str | None = None
    usage: Usage | None = None
    skipped_sources: list[Skipped] = Field(default_factory=list)
    source_groups: list[SourceGroup] = Field(default_factory=list, description="Syndicated copies share a group.")
    error: str | None = None


class BriefResult(Contract):
    """What draft_brief() returns: status, brief, violations, usage and the run folder."""

    status: Status
    brief: Brief | None = None
    report: CheckReport | None = None
    passages: dict[str, QuotedPassage] = Field(default_factory=dict)
    usage: Usage = Field(default_factory=Usage)
    run_dir: Path | None = None
    run_id: str | None = None
    skipped_sources: list[Skipped] = Field(default_factory=list)
    source_groups: list[SourceGroup] = Field(default_factory=list)
    error: str | None = None

    def document(self) -> BriefDocument:
        return BriefDocument(
            status=self.status, brief=self.brief, check=self.report, passages=self.passages,
            run_id=self.run_id, usage=self.usage, skipped_sources=self.skipped_sources,
            source_groups=self.source_groups, error=self.error,
        )


def export_brief_schema(path: Path) -> None:
    """Write the JSON Schema of the brief document (Brief + CheckReport) to `path`."""
    path.write_text(json.dumps(BriefDocument.model_json_schema(), indent=2) + "\n", encoding="utf-8")
