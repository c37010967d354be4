"""Pydantic contracts for everything that crosses a boundary: sources, passages, briefs, checks."""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import date
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from agent.house_format import CITED_SECTIONS, SECTION_KEYS, SECTIONS
from agent.sources.metadata import plain_text, safe_url


class Contract(BaseModel):
    """Base for every contract: unknown fields are errors, so typos never pass silently."""

    model_config = ConfigDict(extra="forbid")


# --- sources and passages ---------------------------------------------------------------


class Removal(Contract):
    """One piece of text that cleaning took out of a source, and why."""

    reason: Literal[
        "chatbot-leakage",
        "duplicate-table-row",
        "table-row-repeats-cells",
        "invisible-characters",
        "web-boilerplate",
        "hidden-html",
        "oversize-truncated",
    ]
    text: str = Field(description="The removed text (shortened to 300 characters).")
    line: int | None = Field(default=None, description="1-based line in the decoded input.")


def content_id(text: str) -> str:
    """Stable source id from normalized content: same story text -> same id on any machine."""
    normalized = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    return "src-" + hashlib.sha256(normalized.encode("utf-8")).hexdigest()[:12]


class Source(Contract):
    """A cleaned source document and the record of what cleaning removed."""

    id: str = Field(description="Stable id from normalized cleaned content, e.g. src-1a2b3c4d5e6f.")
    outlet: str = "Unknown outlet"
    title: str = ""
    topic: str = Field(default="", description="Short topic shown in the source line: 'Outlet (topic)'.")
    url: str | None = None
    published: date | None = None
    language: str = "und"
    text: str
    removed: list[Removal] = Field(default_factory=list)
    origin: str = Field(default="", description="Where it came from: a path, 'stdin' or 'inline'.")
    content_sha256: str = Field(default="", description="Hash of the raw input bytes.")

    @field_validator("outlet", "title", "topic", mode="before")
    @classmethod
    def _plain_metadata(cls, value: object, info) -> str:
        """Metadata is data, never markup: links, images, HTML and control characters are stripped."""
        text = plain_text(value)
        return text or ("Unknown outlet" if info.field_name == "outlet" else "")

    @field_validator("url", mode="before")
    @classmethod
    def _plain_url(cls, value: object) -> str | None:
        """Only an http(s) URL with a host survives; anything else (javascript:, data:, userinfo) is None."""
        return safe_url(value)


class Passage(Contract):
    """A retrievable span of a cleaned source; `id` is 'S<source number>:<passage number>'."""

    id: str = Field(pattern=r"^S\d+:\d+$")
    source_id: str
    text: str
    start: int = Field(ge=0, description="Character offset into Source.text.")
    end: int = Field(ge=0)


# --- the brief ----------------------------------------------------------------------------


class Sentence(Contract):
    """One sentence of the brief with the passage ids it rests on."""

    text: str
    citations: list[str] = Field(default_factory=list)
    kind: Literal["drafted", "selected", "extracted", "computed", "notice"] = Field(
        default="drafted",
        description="drafted: written by the model; selected: a source sentence chosen for the section, "
        "cleaned of debris and at most shortened by verified deletion; extracted: a source sentence quoted as "
        "fallback; computed: built by code from the passages (e.g. a disagreement on a figure); "
        "notice: a plain statement that the sources do not support the section.",
    )


class Paragraph(Contract):
    sentences: list[Sentence]


class Trend(Contract):
    name: str
    description: str
    provisional: bool = Field(default=True, description="True until a trend registry confirms it.")


class VeracityFactor(Contract):
    """One term of the veracity score: its measure, its configured weight and the points it adds."""

    name: str = Field(description="base, lead, coverage, official, single-source or contradictions.")
    measure: float = Field(description="The factor's input: a share or level between 0 and 1.")
    weight: float = Field(description="Its weight from [veracity] in the config (negative for a penalty).")
    points: float = Field(description="measure × weight, rounded to 0.1.")
    note: str = Field(description="What was measured, in plain words.")


class Veracity(Contract):
    label: str
    score: int = Field(ge=0, le=100)
    rationale: str = Field(description="One line for the reader; the arithmetic is in `factors`.")
    provisional: bool = Field(default=True, description="True for the heuristic v1 score.")
    factors: list[VeracityFactor] = Field(default_factory=list, description="Each term of the score; they sum to it "
                                                                            "before clamping to 0..100.")


class SourceRef(Contract):
    """A source as the brief credits it: 'Outlet (topic)'."""

    source_id: str
    number: int = Field(ge=1, description="The N in passage ids SN:k.")
    outlet: str
    topic: str
    title: str = ""
    url: str | None = None
    published: date | None = None

    @property
    def credit(self) -> str:
        return f"{self.outlet} ({self.topic})" if self.topic else self.outlet


class _BriefContract(Contract):
    """What every brief does; its fields come from the house format (below)."""

    @property
    def source_line(self) -> str:
        n = len(self.sources)
        credits = " · ".join(s.credit for s in self.sources)
        return f"{n} source{'s' if n != 1 else ''} — Synthesized from: {credits}"

    def section(self, key: str) -> list[Sentence]:
        """One section's sentences, in order (the body's paragraphs flattened)."""
        if SECTIONS[key].paragraphs:
            return [s for p in getattr(self, key) for s in p.sentences]
        return getattr(self, key)

    def cited_sections(self) -> dict[str, list[Sentence]]:
        """Sections whose sentences must carry citations, flattened to sentence lists."""
        return {key: self.section(key) for key in SECTION_KEYS}


def _brief_fields() -> dict[str, tuple]:
    """brief.json's fields in their published order: headline, dek, the paragraph sections, trend and veracity,
    the titled sections in house-format order, then disclaimer, sources and language."""
    paragraphs = {s.key: (list[Paragraph], ...) for s in CITED_SECTIONS if s.paragraphs}
    titled = {s.key: (list[Sentence], ...) for s in CITED_SECTIONS if not s.paragraphs}
    return {"headline": (str, ...), "dek": (str, ...), **paragraphs, "trend": (Trend, ...),
            "veracity": (Veracity, ...), **titled, "disclaimer": (str, ...), "sources": (list[SourceRef], ...),
            "language": (str, Field("en", description="The brief's language (its labels follow it): the sources' own."))}


if TYPE_CHECKING:
    class Brief(_BriefContract):
        """Every section of the house format (fields per agent/house_format.py)."""

        headline: str
        dek: str
        trend: Trend
        veracity: Veracity
        disclaimer: str
        sources: list[SourceRef]
        language: str

        def __getattr__(self, key: str) -> list: ...
else:
    Brief = create_model("Brief", __base__=_BriefContract, __module__=__name__,
                         __doc__="Every section of the house format.", **_brief_fields())


# --- the checker --------------------------------------------------------------------------


class Evidence(Contract):
    passage: str
    quote: str
    start: int = 0
    end: int = 0


class Violation(Contract):
    code: str = Field(description="Reads like its message, e.g. 'duplicate-table-row'.")
    severity: Literal["error", "warning"] = "error"
    section: str
    start: int = 0
    end: int = 0
    text: str = ""
    message: str
    evidence: list[Evidence] = Field(default_factory=list)
    sentence_index: int | None = Field(default=None, description="Index within the section, if any.")


class ClaimVerdict(Contract):
    """One cited sentence's support verdict, with its evidence span and the layer that decided it."""

    section: str
    sentence_index: int
    supported: bool
    layer: Literal["deterministic", "judge"]
    alignment: float = Field(ge=0, le=1, description="Share of the sentence's content words found in the evidence.")
    evidence: list[Evidence] = Field(default_factory=list, description="The best-matching source sentence(s).")
    unsupported: str = Field("", description="The part the layer found unsupported, if any.")


class CheckReport(Contract):
    status: Literal["pass", "fail"]
    violations: list[Violation] = Field(default_factory=list)
    claims: list[ClaimVerdict] = Field(default_factory=list)

    @classmethod
    def from_violations(cls, violations: list[Violation], claims: list[ClaimVerdict] | None = None) -> "CheckReport":
        failed = any(v.severity == "error" for v in violations)
        return cls(status="fail" if failed else "pass", violations=violations, claims=claims or [])

    @field_validator("violations")
    @classmethod
    def _sorted(cls, v: list[Violation]) -> list[Violation]:
        return sorted(v, key=lambda x: (x.section, x.start, x.code))
