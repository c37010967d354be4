"""Scorers: one function per measure, (Outcome) -> Score | None (None: does not apply to this case).

The checker's own rules decide grounding, leakage and duplication (agent.checks), so what the
agent checks and what the eval measures cannot drift apart.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

from agent.checks.claims import SUPPORT_CODES
from agent.checks.debris import DEBRIS_CODES
from agent.checks.leakage import LEAKAGE_CODES
from agent.checks.meaning import changed_hedge
from agent.checks.purpose import PURPOSE_SECTIONS, find_off_purpose
from agent.checks.repetition import REPETITION_CODES
from agent.checks.run import check_brief
from agent.checks.tables import TABLE_DUPLICATION_CODES
from agent.result import BriefResult
from agent.schema import Brief, CheckReport, Contract, Passage
from agent.text import has_words

from evals.dataset import Case

DUPLICATION_CODES = TABLE_DUPLICATION_CODES | REPETITION_CODES


class Score(Contract):
    value: float
    explanation: str = ""


@dataclass
class Outcome:
    """What one case produced: a result, or the error that stopped it."""

    case: Case
    status: str  # published | rejected | failed | error
    result: BriefResult | None = None
    error: str | None = None
    wall_s: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def brief(self) -> Brief | None:
        return self.result.brief if self.result else None

    @cached_property
    def passages(self) -> dict[str, Passage]:
        """The cited passages the document carries, as checker passages."""
        quoted = self.result.passages if self.result else {}
        return {pid: Passage(id=pid, source_id=q.source_id, text=q.text, start=q.start, end=q.end)
                for pid, q in quoted.items()}

    @cached_property
    def recheck(self) -> CheckReport:
        """The checker run again over the final brief: the measure, not the agent's own verdict."""
        assert self.brief is not None
        return check_brief(self.brief, self.passages)


def brief_text(brief: Brief) -> str:
    """Every word a reader sees in the brief's sections (not the source line)."""
    parts = [brief.headline, brief.dek, brief.trend.name, brief.trend.description, brief.veracity.label]
    parts += [s.text for sentences in brief.cited_sections().values() for s in sentences]
    return "\n".join(parts)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"').replace("–", "-")
    return " ".join(text.split())


def _claims(brief: Brief) -> list[tuple[str, int, object]]:
    return [(section, i, s) for section, sentences in brief.cited_sections().items()
            for i, s in enumerate(sentences) if s.kind != "notice"]


# --- the scorers -------------------------------------------------------------------------


def format_complete(o: Outcome) -> Score | None:
    """Every house-format section present and non-empty (punctuation alone counts as empty)."""
    b = o.brief
    if b is None:
        return None
    cited = {key: any(has_words(s.text) for s in sentences) for key, sentences in b.cited_sections().items()}
    body = next(iter(cited))  # the first cited section, shown under the dek
    present = {"headline": has_words(b.headline), "dek": has_words(b.dek), body: cited.pop(body),
               "trend": has_words(b.trend.name), "veracity": has_words(b.veracity.label), **cited,
               "disclaimer": has_words(b.disclaimer), "sources line": bool(b.sources)}
    missing = [name for name, ok in present.items() if not ok]
    return Score(value=1 - len(missing) / len(present), explanation=f"all {len(present)} sections present"
                 if not missing else "missing or empty: " + ", ".join(missing))


def citations_valid(o: Outcome) -> Score | None:
    """Share of citations that name a real passage; an uncited claim counts as one bad citation."""
    if o.brief is None:
        return None
    claims = _claims(o.brief)
    if not claims:
        return None
    total = bad = 0
    unknown: list[str] = []
    for _, _, s in claims:
        if not s.citations:
            total, bad = total + 1, bad + 1
            unknown.append("(none)")
        for c in s.citations:
            total += 1
            if c not in o.passages:
                bad += 1
                unknown.append(c)
    return Score(value=1 - bad / total, explanation=f"{total - bad}/{total} citations resolve"
                 + (f"; bad: {', '.join(unknown[:6])}" if unknown else ""))


def grounded_sentences(o: Outcome) -> Score | None:
    """Share of cited sentences the checker finds supported by the passages they cite."""
    if o.brief is None:
        return None
    claims = _claims(o.brief)
    if not claims:
        return None
    failing = {(v.section, v.sentence_index): v.code for v in o.recheck.violations
               if v.code in SUPPORT_CODES and v.severity == "error"}
    bad = [f"{section}[{i}] {failing[(section, i)]}" for section, i, _ in claims if (section, i) in failing]
    return Score(value=1 - len(bad) / len(claims), explanation=f"{len(claims) - len(bad)}/{len(claims)} grounded"
                 + (f"; {'; '.join(bad[:4])}" if bad else ""))


def _count(o: Outcome, codes: frozenset[str], what: str) -> Score | None:
    if o.brief is None:
        return None
    found = [v for v in o.recheck.violations if v.code in codes]
    detail = "; ".join(f"{v.code} in {v.section}: {v.text[:60]!r}" for v in found[:3])
    return Score(value=float(len(found)), explanation=f"{len(found)} {what}" + (f" ({detail})" if detail else ""))


def leakage_count(o: Outcome) -> Score | None:
    """Chatbot leakage, reasoning tags, template tokens and placeholders left in the brief."""
    return _count(o, LEAKAGE_CODES, "leakage violation(s)")


def duplication_count(o: Outcome) -> Score | None:
    """Duplicated table rows, repeated sentences and looping text left in the brief."""
    return _count(o, DUPLICATION_CODES, "duplication violation(s)")


def _mentioned(items: list[str | list[str]], text: str) -> tuple[list[str], list[str]]:
    folded = _fold(text)
    found, missing = [], []
    for item in items:
        options = [item] if isinstance(item, str) else item
        (found if any(_fold(x) in folded for x in options) else missing).append(" | ".join(options))
    return found, missing


def facts_mentioned(o: Outcome) -> Score | None:
    """Share of the case's must_mention and key_facts that the brief states."""
    items = o.case.expect.must_mention + o.case.key_facts
    if o.brief is None or not items:
        return None
    found, missing = _mentioned(items, brief_text(o.brief))
    return Score(value=len(found) / len(items), explanation=f"{len(found)}/{len(items)} mentioned"
                 + (f"; missing: {', '.join(missing[:6])}" if missing else ""))


def forbidden_absent(o: Outcome) -> Score | None:
    """Share of must_not_contain strings absent from everything the brief shows a reader."""
    items = o.case.expect.must_not_contain
    if o.brief is None or not items:
        return None
    b = o.brief
    everything = "\n".join([brief_text(b), b.disclaimer, b.veracity.rationale]
                           + [f"{r.outlet} {r.topic} {r.title}" for r in b.sources])
    found, _ = _mentioned(list(items), everything)
    return Score(value=1 - len(found) / len(items),
                 explanation="none present" if not found else "present: " + ", ".join(found))


def verdict_expected(o: Outcome) -> Score | None:
    """1 when the run ended as the case expects (published, rejected, or failed for lack of sources)."""
    if o.status == "error":
        return None
    ok = o.status == o.case.expect.verdict
    return Score(value=1.0 if ok else 0.0, explanation=f"{o.status} (expected {o.case.expect.verdict})")


_WORD = re.compile(r"\w+")


def rouge_l(o: Outcome) -> Score | None:
    """ROUGE-L F1 of headline, dek and body against the case's reference summary."""
    if o.brief is None or not o.case.reference:
        return None
    from rouge_score import rouge_scorer

    b = o.brief
    text = " ".join([b.headline, b.dek] + [s.text for p in b.body for s in p.sentences])
    scored = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True).score(o.case.reference, text)["rougeL"]
    return Score(value=scored.fmeasure, explanation=f"P {scored.precision:.2f} R {scored.recall:.2f} "
                 f"({len(_WORD.findall(text))} words vs {len(_WORD.findall(o.case.reference))})")


def section_purpose(o: Outcome) -> Score | None:
    """Share of who-benefits, nuance, what-this-means and watch sentences that answer their question (or say plainly there is none)."""
    if o.brief is None:
        return None
    total = sum(len(o.brief.cited_sections()[key]) for key in PURPOSE_SECTIONS)
    if not total:
        return None
    off = find_off_purpose(o.brief, o.brief.language)
    detail = "; ".join(f"{v.section}: {v.text[:50]!r}" for v in off[:3])
    return Score(value=1 - len(off) / total, explanation=f"{total - len(off)}/{total} on purpose"
                 + (f" (off: {detail})" if detail else ""))


def debris_count(o: Outcome) -> Score | None:
    """Fragments, dangling references, markup or JSON debris, speaker labels and footnote marks left in the brief."""
    return _count(o, DEBRIS_CODES, "debris violation(s)")


def _cited_text(o: Outcome, citations: list[str]) -> str:
    return " ".join(o.passages[c].text for c in citations if c in o.passages)


def dropped_attributions(o: Outcome) -> Score | None:
    """Cited sentences that state as fact what their source attributes or hedges ("said", "could", "has asked")."""
    if o.brief is None:
        return None
    dropped = []
    for sentences in o.brief.cited_sections().values():
        for s in sentences:
            if s.kind in ("notice", "computed") or not s.citations:
                continue
            if any(f.kind == "hedge-dropped" for f in changed_hedge(s.text, _cited_text(o, s.citations))):
                dropped.append(s.text)
    return Score(value=float(len(dropped)), explanation=f"{len(dropped)} attribution(s) or hedge(s) dropped"
                 + (f" ({dropped[0][:60]!r})" if dropped else ""))


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", _fold(text)).split())


def changed_share(o: Outcome) -> Score | None:
    """Share of cited sentences that are not their source's own words (rewritten rather than selected)."""
    if o.brief is None:
        return None
    cited = [s for sents in o.brief.cited_sections().values() for s in sents
             if s.kind not in ("notice", "computed") and s.citations]
    if not cited:
        return None
    changed = [s for s in cited if _norm(s.text) not in _norm(_cited_text(o, s.citations))]
    return Score(value=len(changed) / len(cited), explanation=f"{len(changed)}/{len(cited)} sentences rewritten")


def llm_calls(o: Outcome) -> Score | None:
    """Logical LLM calls the case needed (served from the cache or not)."""
    if o.result is None:
        return None
    u = o.result.usage
    cached = getattr(u, "cached_calls", 0)
    return Score(value=float(u.llm_calls), explanation=f"{u.llm_calls} calls ({cached} from cache, "
                 f"{u.http_attempts} HTTP attempts)")


def tokens(o: Outcome) -> Score | None:
    """Prompt plus completion tokens."""
    if o.result is None:
        return None
    u = o.result.usage
    return Score(value=float(u.prompt_tokens + u.completion_tokens),
                 explanation=f"{u.prompt_tokens} prompt + {u.completion_tokens} completion")


def wall_s(o: Outcome) -> Score | None:
    """Wall time of the case, ingest to check."""
    return Score(value=round(o.wall_s, 3), explanation=f"{o.wall_s:.1f} s") if o.status != "error" else None


@dataclass(frozen=True)
class Scorer:
    name: str
    fn: Callable[[Outcome], Score | None]
    higher_is_better: bool = True
    unit: str = ""  # "" for a 0..1 share; otherwise the unit of a raw count
    graded: bool = True  # colour 0..1 shares good/fair/poor in reports (not ROUGE: its scale differs)

    @property
    def description(self) -> str:
        return (self.fn.__doc__ or "").strip().splitlines()[0]


SCORERS: list[Scorer] = [
    Scorer("verdict_expected", verdict_expected),
    Scorer("format_complete", format_complete),
    Scorer("citations_valid", citations_valid),
    Scorer("grounded_sentences", grounded_sentences),
    Scorer("facts_mentioned", facts_mentioned),
    Scorer("forbidden_absent", forbidden_absent),
    Scorer("rouge_l", rouge_l, graded=False),
    Scorer("leakage_count", leakage_count, higher_is_better=False, unit="violations"),
    Scorer("duplication_count", duplication_count, higher_is_better=False, unit="violations"),
    Scorer("section_purpose", section_purpose),
    Scorer("debris_count", debris_count, higher_is_better=False, unit="violations"),
    Scorer("dropped_attributions", dropped_attributions, higher_is_better=False, unit="sentences"),
    Scorer("changed_share", changed_share, higher_is_better=False, graded=False),
    Scorer("llm_calls", llm_calls, higher_is_better=False, unit="calls"),
    Scorer("tokens", tokens, higher_is_better=False, unit="tokens"),
    Scorer("wall_s", wall_s, higher_is_better=False, unit="s"),
]


def by_name(scorers: list[Scorer] | None = None) -> dict[str, Scorer]:
    return {s.name: s for s in (scorers or SCORERS)}


def score_outcome(outcome: Outcome, scorers: list[Scorer]) -> dict[str, Score | None]:
    """Every scorer over one outcome; a scorer that crashes gives None and leaves its error in outcome.extra."""
    scores: dict[str, Score | None] = {}
    for scorer in scorers:
        try:
            scores[scorer.name] = scorer.fn(outcome)
        except Exception as e:  # a scorer bug must not hide the other scores
            scores[scorer.name] = None
            outcome.extra.setdefault("scorer_errors", {})[scorer.name] = f"{e.__class__.__name__}: {e}"
    return scores
