"""Every reply we ask a model for, as the pydantic schema the retry layer validates it against."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SentenceDraft(BaseModel):
    """draft_sentence, nuance: one sentence."""

    sentence: str = Field(min_length=3, max_length=400)


class CitedSentence(BaseModel):
    text: str = Field(min_length=3, max_length=500)
    citations: list[str] = Field(min_length=1)


class SectionDraft(BaseModel):
    """draft_section: one section's cited sentences."""

    sentences: list[CitedSentence] = Field(min_length=1, max_length=8)


class HeadlineDraft(BaseModel):
    headline: str = Field(min_length=3, max_length=160)
    dek: str = Field(min_length=3, max_length=400)


class TrendDraft(BaseModel):
    name: str = Field(min_length=3, max_length=100)
    description: str = Field(min_length=3, max_length=300)


class Shortened(BaseModel):
    """compress: a sentence shortened by deletion (verified before use)."""

    sentence: str = Field(min_length=3, max_length=500)


class JudgeReply(BaseModel):
    """judge_claim: the judge role's verdict on one claim."""

    supported: bool
    unsupported_part: str = Field("", max_length=400)


class Answer(BaseModel):
    """ask: the debug path's answer."""

    answer: str = Field(min_length=1, max_length=800)
