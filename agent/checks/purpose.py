"""Rule `off-purpose`: a sentence of a section with a purpose test (house_format.SectionSpec.test) that
does not answer its section's question (agent/draft/purposes.py; the drafter's selection uses the same tests)."""

from __future__ import annotations

from agent.checks.codes import Code
from agent.house_format import CITED_SECTIONS, SECTIONS
from agent.draft.purposes import answers
from agent.schema import Brief, Violation
from agent.text import content_words, overlap

_WHY = {  # what a sentence that fails each purpose test lacks
    "gain": "names no actor and what it gains",
    "dispute": "says nothing disputed, uncertain or one-sided",
    "implication": "gives no implication or context (or repeats a body fact)",
    "forward": "does not look ahead (no future step, date, plan or 'whether')",
}
PURPOSE_SECTIONS: tuple[str, ...] = tuple(s.key for s in CITED_SECTIONS if s.test)  # they must answer a question
PURPOSE_CODES = frozenset({Code.OFF_PURPOSE})


def find_off_purpose(brief: Brief, language: str) -> list[Violation]:
    story_date = max((r.published for r in brief.sources if r.published), default=None)
    body = [content_words(s.text) for p in brief.body for s in p.sentences if s.kind != "notice"]
    found = []
    for section in PURPOSE_SECTIONS:
        spec = SECTIONS[section]
        for index, sentence in enumerate(getattr(brief, section)):
            if sentence.kind in ("notice", "computed"):
                continue
            words = content_words(sentence.text)
            restates = any(overlap(words, b) >= 0.6 for b in body)
            if answers(section, sentence.text, language, story_date=story_date, restates=restates) is False:
                found.append(Violation(code=Code.OFF_PURPOSE, section=section, sentence_index=index, text=sentence.text,
                                       end=len(sentence.text), message=f"{spec.title('en')}: this sentence {_WHY[spec.test]}"))
    return found
