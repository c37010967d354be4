"""Every reply we ask a model for, as the pydantic schema the retry layer validates it against.

No docstrings on the schemas: a docstring becomes the JSON schema's "description", which is sent to the
endpoint and is part of the reply cache's key, so it would change requests and miss recorded replies."""

from __future__ import annotations

from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, create_model


# draft_sentence, nuance: one sentence.
class SentenceDraft(BaseModel):
    sentence: str = Field(min_length=3, max_length=400)


class CitedSentence(BaseModel):
    text: str = Field(min_length=3, max_length=500)
    citations: list[str] = Field(min_length=1)


# draft_section: one section's cited sentences.
class SectionDraft(BaseModel):
    sentences: list[CitedSentence] = Field(min_length=1, max_length=8)


class HeadlineDraft(BaseModel):
    headline: str = Field(min_length=3, max_length=160)
    dek: str = Field(min_length=3, max_length=400)


class TrendDraft(BaseModel):
    name: str = Field(min_length=3, max_length=100)
    description: str = Field(min_length=3, max_length=300)


# compress: a sentence shortened by deletion (verified before use).
class Shortened(BaseModel):
    sentence: str = Field(min_length=3, max_length=500)


# judge_claim: the judge role's verdict on one claim.
class JudgeReply(BaseModel):
    supported: bool
    unsupported_part: str = Field("", max_length=400)


# ask: the debug path's answer.
class Answer(BaseModel):
    answer: str = Field(min_length=1, max_length=800)


class BriefDraft(BaseModel):
    """draft_brief: the whole brief in one call: each section asked for, headline, dek, trend and the
    worded disagreements (one per fact given, in order). `for_sections` narrows `sections` to the keys asked."""

    sections: dict[str, list[CitedSentence]]
    headline: str = Field(min_length=3, max_length=160)
    dek: str = Field(min_length=3, max_length=400)
    trend: TrendDraft
    disputes: list[str] = Field(default_factory=list)

    @classmethod
    def for_sections(cls, keys: tuple[str, ...], disputes: int) -> type["BriefDraft"]:
        return _brief_draft(keys, disputes)


class RevisionDraft(BaseModel):
    """revise_brief: one replacement per rejected sentence, in the order listed; headline and dek when asked."""

    sentences: list[CitedSentence] = Field(default_factory=list)
    headline: str | None = Field(default=None, min_length=3, max_length=160)
    dek: str | None = Field(default=None, min_length=3, max_length=400)

    @classmethod
    def for_failures(cls, sentences: int, headline: bool) -> type["RevisionDraft"]:
        return _revision_draft(sentences, headline)


@lru_cache(maxsize=64)
def _brief_draft(keys: tuple[str, ...], disputes: int) -> type[BriefDraft]:
    sections = create_model("DraftedSections", __config__=ConfigDict(extra="ignore"),
                            **{k: (list[CitedSentence], Field(min_length=1, max_length=8)) for k in keys})
    return create_model("BriefDraft", __base__=BriefDraft, sections=(sections, ...),
                        disputes=(list[str], Field(default_factory=list, min_length=disputes, max_length=disputes)))


@lru_cache(maxsize=64)
def _revision_draft(sentences: int, headline: bool) -> type[RevisionDraft]:
    text = (str, Field(min_length=3, max_length=400))
    return create_model("RevisionDraft", __base__=RevisionDraft,
                        sentences=(list[CitedSentence], Field(min_length=sentences, max_length=sentences)),
                        **({"headline": (str, Field(min_length=3, max_length=160)), "dek": text} if headline else {}))
