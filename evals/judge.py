"""The optional rubric judge: a scorer that asks the judge role's model (never the drafter) to grade."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from pydantic import Field

from agent.prompting import datamark, render_messages
from agent.schema import Contract

from evals.scorers import Outcome, Score, Scorer

if TYPE_CHECKING:
    from agent.model.llm import LLMClient

TEMPLATES = Path(__file__).resolve().parent / "templates"


class RubricVerdict(Contract):
    score: int = Field(ge=1, le=5)
    reason: str = ""


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, autoescape=False)
    env.filters["datamark"] = datamark
    return env


def rubric_messages(brief_markdown: str, passages: list[tuple[str, str]]) -> list[dict[str, str]]:
    """The judge prompt as chat messages: roles split before the brief and passages are filled in, so
    "[[system]]" inside a graded brief or a source stays text in the user turn."""
    return render_messages(_env(), "judge_rubric.j2", brief=brief_markdown, passages=passages)


def rubric_scorer(client: LLMClient) -> Scorer:
    """A scorer over the published or rejected brief; 1..5 from the judge becomes 0..1 (the client: the judge role's,
    from agent.deps.build_eval_judge)."""

    def judge_rubric(o: Outcome) -> Score | None:
        """The judge model's rubric grade (1-5, as 0..1)."""
        if o.brief is None:
            return None
        from agent.output.render import render_markdown

        markdown = render_markdown(o.brief, None, o.result.passages, status=o.status)
        passages = [(pid, p.text) for pid, p in sorted(o.passages.items())]
        verdict = client.complete_json("eval_judge", rubric_messages(markdown, passages), RubricVerdict)
        return Score(value=(verdict.score - 1) / 4, explanation=f"{verdict.score}/5: {verdict.reason[:200]}")

    return Scorer("judge_rubric", judge_rubric)
