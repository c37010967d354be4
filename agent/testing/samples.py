"""A small finished brief and its quoted passages: for rendering, checking and output-writing cases."""

from __future__ import annotations

from pathlib import Path

from agent.result import BriefResult, QuotedPassage
from agent.schema import Brief, CheckReport, Paragraph, Sentence, SourceRef, Trend, Veracity

BRIEF = Brief(
    headline="Lisk approves ferry terminal",
    dek="The harbour board backs an 85 million crown project.",
    body=[Paragraph(sentences=[
        Sentence(text="The Lisk harbour board approved a ferry terminal on Monday.", citations=["S1:1"]),
        Sentence(text="The terminal will open in 2028.", citations=["S1:1"], kind="extracted"),
    ]), Paragraph(sentences=[Sentence(text="Fishermen fear <script>alert(1)</script> closures.", citations=["S2:1"])])],
    trend=Trend(name="Harbours Rebuild for Ferries", description="Coastal towns invest in ferry links."),
    veracity=Veracity(label="Corroborated", score=74, rationale="two independent sources", provisional=False),
    who_benefits=[Sentence(text="Ferry operators gain a larger terminal.", citations=["S1:1"])],
    nuance=[Sentence(text="The sources do not describe any dispute or uncertainty.", kind="notice")],
    what_this_means=[Sentence(text="Lisk bets on ferries.", citations=["S2:1"])],
    what_to_watch=[Sentence(text="Whether works start in spring.", citations=["S1:1"]),
                   Sentence(text="How the quay closure is managed.", citations=["S2:1"])],
    disclaimer="Observations to monitor, not financial advice.",
    sources=[SourceRef(source_id="a", number=1, outlet="Lisk Post", topic="terminal vote"),
             SourceRef(source_id="b", number=2, outlet="Quay Weekly", topic="fishermen")],
)
PASSAGES = {"S1:1": QuotedPassage(source_id="a", text="The Lisk harbour board approved a ferry terminal on Monday.", start=0, end=60),
            "S2:1": QuotedPassage(source_id="b", text="Fishermen fear closures of the north quay.", start=0, end=42)}


def sample_result() -> BriefResult:
    """BRIEF as a published result."""
    return BriefResult(status="published", brief=BRIEF, report=CheckReport(status="pass"), passages=PASSAGES)


def job_sources(story: Path, n: int) -> list[dict]:
    """A story folder's sources as inline JSON-step records, made job n's own by a line naming it (so each
    job's sources key differs): the service tests' and the throughput benchmark's queue of distinct jobs."""
    sources = []
    for path in sorted(story.glob("*.md")):
        head, body = path.read_text().split("---", 2)[1:]
        meta = dict(line.split(": ", 1) for line in head.strip().splitlines())
        sources.append({"text": body.strip() + f"\n\nFiled for desk item {n}.", "outlet": meta["outlet"],
                        "title": meta["title"], "published": meta["published"]})
    return sources
