"""The graph's state and the seams its nodes call through: what a run carries from step to step,
and what a node needs of the drafter, the store and the judge."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Literal, Protocol, TypedDict, TypeVar

from pydantic import BaseModel

from agent.config import Settings
from agent.house_format import SECTION_KEYS
from agent.analysis.independence import SourceGroup
from agent.schema import CheckReport, Passage, Sentence, Source, Trend

if TYPE_CHECKING:
    from agent.checks.claims import Judge
    from agent.analysis.trends import TrendRegistry

T = TypeVar("T", bound=BaseModel)


class Status(StrEnum):
    """Where a run stands; str-valued, so serialised state, checkpoints and brief.json read it as text."""

    DRAFTING = "drafting"
    PUBLISHED = "published"
    REJECTED = "rejected"


# One list of sentences per section of the house format, keyed by the spec (agent/house_format.py).
Sections = TypedDict("Sections", {key: list[Sentence] for key in SECTION_KEYS}, total=False)  # type: ignore[misc]
# Passage ids retrieval chose for each section, keyed the same way.
Selection = TypedDict("Selection", {key: list[str] for key in SECTION_KEYS}, total=False)  # type: ignore[misc]


@dataclass
class BriefState:
    """Graph state: inputs (sources, passages), drafts in progress, and the verdict."""

    sources: list[Source]
    passages: dict[str, Passage]
    selected: Selection = field(default_factory=dict)  # type: ignore[assignment]
    groups: list[SourceGroup] = field(default_factory=list)
    sections: Sections = field(default_factory=dict)  # type: ignore[assignment]
    headline: str = ""
    dek: str = ""
    trend: Trend | None = None
    report: CheckReport | None = None
    revision: int = 0
    fell_back: bool = False
    status: Status = Status.DRAFTING
    language: str = "en"
    dek_citations: list[str] = field(default_factory=list)  # the passage the dek (the lead sentence) comes from
    shortened: dict[str, str] = field(default_factory=dict)  # verified model shortenings, so revisions reuse them
    excluded: list[str] = field(default_factory=list)  # source sentences the checker rejected (faithful mode)
    lead: Sentence | None = None  # faithful mode: the lead source sentence the headline and dek come from
    disputes: list[Sentence] = field(default_factory=list)  # disagreements on figures, computed before drafting
    drafted_whole: bool = False  # section mode: one call wrote the sections, headline, dek, trend and disputes

    def with_(self, **changes: object) -> "BriefState":
        """A copy with some fields replaced (a node's view of the state after an earlier stage)."""
        return BriefState(**{**self.__dict__, **changes})


class Drafter(Protocol):
    """What nodes need of the drafter model: schema-validated replies and the prompt size it takes."""

    def complete_json(self, prompt_name: str, messages: list[dict], schema: type[T]) -> T: ...

    def context_budget(self) -> int | None: ...


class PassageSearch(Protocol):
    """What retrieval needs of the store: ranked hits (source_id, k) for a query over some sources."""

    def search(self, query: str, *, source_ids: list[str], k: int) -> list: ...


@dataclass
class Deps:
    """What nodes need from outside: settings, the store and the drafter model."""

    settings: Settings
    store: PassageSearch | None
    drafter: Drafter
    mode: Literal["faithful", "sentence", "section"] = "faithful"
    judge: "Judge | None" = None  # the checker's judge layer, when it is on
    trends: "TrendRegistry | None" = None  # the tracked trends a story may belong to
