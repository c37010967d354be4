"""check_brief: every checker rule over a Brief, as one CheckReport."""

from __future__ import annotations

from agent.checks.codes import Code
from agent.checks.context import CheckContext, context_for
from agent.checks.debris import find_debris, guess_language
from agent.checks.injection import find_injection
from agent.checks.echo import find_prompt_echo
from agent.checks.leakage import find_leakage
from agent.checks.repetition import find_looping, find_repetition
from agent.checks.claims import Judge, check_claims
from agent.checks.support import check_free_text_facts
from agent.checks.purpose import find_off_purpose
from agent.checks.tables import find_table_defects
from agent.house_format import LIMITS, SHORT_FIELDS
from agent.schema import Brief, CheckReport, Passage, Violation
from agent.text import has_words

HEADLINE_MAX_WORDS, DEK_MAX_WORDS, TREND_NAME_MAX_WORDS = LIMITS.headline_words, LIMITS.dek_words, LIMITS.trend_name_words
NOUN_PHRASE_FIELDS = ("headline", "trend")  # may be verbless: "Port Carrow's new desalination plant"


def _text_rules(section: str, text: str, index: int | None, language: str = "und") -> list[Violation]:
    leakage = find_leakage(text, section)
    found = leakage + find_table_defects(text, section) + find_looping(text, section)
    found += find_debris(text, section, allow_fragment=section in NOUN_PHRASE_FIELDS, language=language,
                         preceded=bool(index))
    if not leakage:  # an echo of our prompt only matters when the text is not already flagged
        found += find_prompt_echo(text, section, short=section in SHORT_FIELDS)
    return [v.model_copy(update={"sentence_index": index}) for v in found]


def check_brief(brief: Brief, passages: dict[str, Passage], *, judge: Judge | None = None,
                context: CheckContext | None = None) -> CheckReport:
    """Leakage, tables, repetition, citations and claim support; pass only with no errors.

    `context`: the run's precomputed indexes over `passages` (agent.checks.context); by default the
    cached one for these passages, built on the run's first check."""
    context = context or context_for(passages)
    violations: list[Violation] = []
    claims = []
    written = [s.text for sentences in brief.cited_sections().values() for s in sentences if s.kind != "notice"]
    language = guess_language(" ".join([brief.headline, brief.dek, *written]))
    if not brief.sources:
        violations.append(Violation(code=Code.NO_SOURCES, section="sources", message="the brief cites no source"))
    for section, text in (("headline", brief.headline), ("dek", brief.dek),
                          ("trend", f"{brief.trend.name}. {brief.trend.description}")):
        if not has_words(text):  # "..." or "-" is as empty as nothing
            violations.append(Violation(code=Code.EMPTY_SECTION, section=section, message=f"{section} is empty"))
        violations.extend(_text_rules(section, text, 0, language))
    credited = {r.source_id for r in brief.sources}
    used = context.passages_of(credited)  # headline/dek may draw on any passage of the credited sources
    used += [Passage(id=f"S{r.number}:0", source_id=r.source_id, text=r.title, start=0, end=0)
             for r in brief.sources if r.title]  # a source's own title is evidence for the headline
    for section in ("headline", "dek"):
        violations.extend(v for v in check_free_text_facts(section, getattr(brief, section), used)
                          if v.code != Code.UNSUPPORTED_CONTENT)  # headlines may frame; facts must still hold
    for section, text, limit in (("headline", brief.headline, HEADLINE_MAX_WORDS), ("dek", brief.dek, DEK_MAX_WORDS),
                                 ("trend", brief.trend.name, TREND_NAME_MAX_WORDS)):
        if len(text.split()) > limit:
            violations.append(Violation(code=Code.TOO_LONG, section=section, sentence_index=0, text=text,
                                        message=f"{section} has {len(text.split())} words (at most {limit})"))
    items: list[tuple[str, int, str]] = [("dek", 0, brief.dek)]
    for section, sentences in brief.cited_sections().items():
        if not sentences:
            violations.append(Violation(code=Code.EMPTY_SECTION, section=section, message=f"{section} is empty"))
        if section == "body" and sentences and all(s.kind == "notice" for s in sentences):
            violations.append(Violation(code=Code.UNSUPPORTED_BRIEF, section=section,
                                        message="the sources support no sentence of the body"))
        for index, sentence in enumerate(sentences):
            violations.extend(_text_rules(section, sentence.text, index,
                                          language if sentence.kind not in ("notice", "computed") else "und"))  # ours
            if sentence.kind != "notice":
                items.append((section, index, sentence.text))
        found, verdicts = check_claims(section, sentences, passages, judge=judge)
        violations.extend(found)
        claims.extend(verdicts)
    violations.extend(find_repetition(items))
    violations.extend(find_injection(brief, passages, payload=context.payload))
    violations.extend(find_off_purpose(brief, brief.language if brief.language != "und" else language))
    return CheckReport.from_violations(violations, claims)
