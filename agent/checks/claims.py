"""Claim support per cited sentence: deterministic rules decide what they can, the judge the rest.

Layers, in order:
1. Hard facts — numbers, names and quoted text missing from the cited passages, and meaning changes
   (a reversed direction, a dropped hedge or attribution, a figure moved to another noun, a swapped
   actor, a shifted date: agent/checks/meaning.py) — are errors decided deterministically (the judge
   cannot overrule a figure that is not in the source, or a rise told as a fall).
2. The trained verifier (agent/checks/verifier.py): the probability that the passages carry the
   sentence, from alignment, fact matches, meaning findings and, when an embedding function is
   passed, MiniLM similarities. Below its trained threshold the sentence is `unsupported-content`.
3. With a judge, sentences below the verifier's `confident` cut-off are sent to the judge role's
   model with a MiniCheck-style "is every part of this claim substantiated by the document"
   question. A judge that fails (no valid reply) leaves the deterministic verdict in place.
"""

from __future__ import annotations

from typing import Iterable, Protocol


from agent.checks.codes import Code
from agent.checks.meaning import Finding, meaning_changes
from agent.checks.support import FACT_CODES, MIN_CONTENT_SUPPORT, content_support, unsupported_facts
from agent.checks.verifier import Embed, verify_claim
from agent.errors import LLMOutputInvalid
from agent.model.llm_schemas import JudgeReply
from agent.prompting import render
from agent.schema import ClaimVerdict, Evidence, Passage, Sentence, Violation
from agent.text import alignment_stem, alignment_stems, alignment_words, split_sentences

HARD_FACTS = (Code.UNSUPPORTED_NUMBER, Code.UNSUPPORTED_NAME, Code.UNSUPPORTED_QUOTE, Code.MEANING_CHANGED)
# Everything that says a cited sentence is not carried by its passages (the eval's grounding measure).
SUPPORT_CODES = FACT_CODES | {Code.MEANING_CHANGED, Code.UNSUPPORTED_CLAIM, Code.MISSING_CITATION,
                              Code.UNKNOWN_CITATION}


class Judge(Protocol):
    def __call__(self, claim: str, document: str) -> JudgeReply | None: ...


class LLMJudge:
    """The judge role's model behind the claim prompt; None when it gives no valid reply."""

    def __init__(self, client, max_document_chars: int = 6000):
        self.client, self.max_document_chars = client, max_document_chars

    def __call__(self, claim: str, document: str) -> JudgeReply | None:
        messages = render("judge_claim.judge", claim=claim, document=document[: self.max_document_chars])
        try:
            return self.client.complete_json("judge_claim", messages, JudgeReply)
        except LLMOutputInvalid:
            return None


def best_span(text: str, cited: list[Passage]) -> list[Evidence]:
    """The source sentence that shares the most content words with `text`, with source offsets."""
    words = {alignment_stem(w) for w in alignment_words(text)}
    best: tuple[float, Evidence] | None = None
    for p in cited:
        for a, b in split_sentences(p.text) or [(0, len(p.text))]:
            sentence = p.text[a:b]
            have = alignment_stems(sentence)
            score = len(words & have) / (len(words) or 1)
            if best is None or score > best[0]:
                best = (score, Evidence(passage=p.id, quote=sentence, start=p.start + a, end=p.start + b))
    return [best[1]] if best else []


def meaning_violations(section: str, index: int, text: str, cited: list[Passage],
                       findings: list[Finding]) -> list[Violation]:
    """Meaning-change findings as `meaning-changed` errors, each with the source span it contradicts."""
    out = []
    for f in findings:
        offset, evidence = 0, []
        for p in cited:  # the rules saw the passages joined by one space
            a, b = f.source_span
            if offset <= a < offset + len(p.text) + 1:
                a, b = a - offset, min(b - offset, len(p.text))
                evidence = [Evidence(passage=p.id, quote=p.text[a:b], start=p.start + a, end=p.start + b)]
                break
            offset += len(p.text) + 1
        start, end = f.claim_span
        out.append(Violation(code=Code.MEANING_CHANGED, section=section, sentence_index=index, start=start, end=end,
                             text=text[start:end], evidence=evidence, message=f"{f.kind}: {f.message}"))
    return out


def assess_sentence(section: str, index: int, text: str, cited: list[Passage], *, judge: Judge | None = None,
                    computed: bool = False, embed: Embed | None = None) -> tuple[ClaimVerdict, list[Violation]]:
    """The verdict for one cited sentence and the violations that explain a failure."""
    evidence_text = " ".join(p.text for p in cited)
    findings = [] if computed else meaning_changes(text, evidence_text)
    probability, verifier, _ = verify_claim(text, evidence_text, findings=findings, embed=embed)
    found = unsupported_facts(section, index, text, cited, content_supported=probability >= verifier.threshold)
    found += meaning_violations(section, index, text, cited, findings)
    if computed:  # code-built wording and outlet names: only its figures must hold
        found = [v for v in found if v.code not in (Code.UNSUPPORTED_CONTENT, Code.UNSUPPORTED_NAME)]
    alignment, _ = content_support(text, evidence_text)
    span = best_span(text, cited)
    hard = [v for v in found if v.code in HARD_FACTS]
    soft = [v for v in found if v.code not in HARD_FACTS]
    verdict = dict(section=section, sentence_index=index, alignment=round(alignment, 3), evidence=span)
    if hard:
        return ClaimVerdict(supported=False, layer="deterministic", unsupported=", ".join(v.text for v in hard),
                            **verdict), found
    if judge is None or computed or probability >= verifier.confident:
        return ClaimVerdict(supported=not soft, layer="deterministic",
                            unsupported=soft[0].message if soft else "", **verdict), found
    reply = judge(text, evidence_text)
    if reply is None:  # the judge failed: keep the deterministic verdict
        return ClaimVerdict(supported=not soft, layer="deterministic", **verdict), found
    if reply.supported:
        return ClaimVerdict(supported=True, layer="judge", **verdict), []
    part = reply.unsupported_part.strip() or text
    return ClaimVerdict(supported=False, layer="judge", unsupported=part, **verdict), [Violation(
        code=Code.UNSUPPORTED_CLAIM, section=section, sentence_index=index, start=0, end=len(text), text=text,
        evidence=[Evidence(passage=p.id, quote=p.text[:300], start=p.start, end=p.end) for p in cited],
        message=f"the judge found this not substantiated by the cited passage(s): '{part[:160]}'")]


def check_claims(section: str, sentences: list[Sentence], passages: dict[str, Passage], *,
                 judge: Judge | None = None, embed: Embed | None = None) -> tuple[list[Violation], list[ClaimVerdict]]:
    """Citations must exist and carry the sentence: violations plus one verdict per cited sentence."""
    violations: list[Violation] = []
    verdicts: list[ClaimVerdict] = []
    for index, sentence in enumerate(sentences):
        if sentence.kind == "notice":
            continue
        where = dict(section=section, sentence_index=index, text=sentence.text)
        if not sentence.citations:
            violations.append(Violation(code=Code.MISSING_CITATION, message="sentence cites no passage", **where))
            continue
        unknown = [c for c in sentence.citations if c not in passages]
        if unknown:
            violations.append(Violation(
                code=Code.UNKNOWN_CITATION, message=f"cites unknown passage(s): {', '.join(unknown)}", **where))
        cited = [passages[c] for c in sentence.citations if c in passages]
        if cited:
            verdict, found = assess_sentence(section, index, sentence.text, cited, judge=judge,
                                             computed=sentence.kind == "computed", embed=embed)
            verdicts.append(verdict)
            violations.extend(found)
    return violations, verdicts


def check_citations(section: str, sentences: Iterable[Sentence], passages: dict[str, Passage]) -> list[Violation]:
    """Sentences need citations, citations must exist, and facts must occur in what is cited (no judge)."""
    return check_claims(section, list(sentences), passages)[0]


__all__ = ["HARD_FACTS", "MIN_CONTENT_SUPPORT", "SUPPORT_CODES", "Judge", "JudgeReply", "LLMJudge", "assess_sentence",
           "best_span", "check_citations", "check_claims", "meaning_violations"]
