"""Section mode for a capable endpoint: the whole brief in one structured call (every section,
headline, dek, trend and the wording of each computed disagreement), and every rejected sentence
revised in one more call. None from either means "use the per-section path" (agent/nodes.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.checks.leakage import find_leakage
from agent.checks.support import numbers_in
from agent.errors import ContextTooLong, LLMOutputInvalid
from agent.house_format import SECTIONS
from agent.model.llm_schemas import BriefDraft, RevisionDraft
from agent.prompting import render
from agent.schema import Passage, Sentence, Trend

if TYPE_CHECKING:
    from agent.state import BriefState, Deps


def estimate_tokens(messages: list[dict]) -> int:
    """A conservative token estimate (3 characters a token) without a tokenizer."""
    return sum(len(m["content"]) for m in messages) // 3 + 8 * len(messages)


def _passage_items(state: "BriefState", ids: list[str]) -> list[dict]:
    outlets = {s.id: s.outlet for s in state.sources}
    return [{"id": pid, "text": state.passages[pid].text, "outlet": outlets[state.passages[pid].source_id]}
            for pid in dict.fromkeys(ids) if pid in state.passages]


def _sentences(drafted: list) -> list[Sentence]:
    return [Sentence(text=" ".join(s.text.split()), citations=s.citations) for s in drafted]


def wording_kept(fact: Sentence, text: str, cited: list[Passage], outlets: dict[str, str]) -> bool:
    """A worded disagreement is kept only if both outlets and every figure of the computed fact survive."""
    names = {outlets.get(p.source_id, "") for p in cited} - {""}
    want = [vals for _, _, vals in numbers_in(fact.text)]
    have = [vals for _, _, vals in numbers_in(text)]
    keeps_figures = all(any(w & h for h in have) for w in want)
    return keeps_figures and all(n.casefold() in text.casefold() for n in names) and not find_leakage(text, "nuance")


def worded(state: "BriefState", fact: Sentence, text: str) -> Sentence:
    outlets = {s.id: s.outlet for s in state.sources}
    cited = [state.passages[c] for c in fact.citations if c in state.passages]
    text = " ".join(text.split())
    return fact.model_copy(update={"text": text}) if wording_kept(fact, text, cited, outlets) else fact


def _fits(deps: "Deps", messages: list[dict]) -> bool:
    budget = deps.drafter.context_budget()
    return not budget or estimate_tokens(messages) <= budget


def draft_whole(state: "BriefState", deps: "Deps", disputes: list[Sentence]) -> dict | None:
    """Every section with passages, the headline, dek and trend, and the disputes worded: one call."""
    asked = [key for key in SECTIONS if state.selected.get(key)]
    if not asked:
        return None
    sections = [{"key": key, "purpose": SECTIONS[key].purpose, "passage_ids": state.selected[key],
                 "count": (len(state.selected[key]) if SECTIONS[key].per_passage
                           else SECTIONS[key].count(deps.settings.draft))} for key in asked]
    messages = render("draft_brief.drafter", sections=sections, disputes=[d.text for d in disputes],
                      passages=_passage_items(state, [pid for key in asked for pid in state.selected[key]]))
    if not _fits(deps, messages):
        return None  # the per-section path packs each section's passages to fit
    try:
        out = deps.drafter.complete_json("draft_brief", messages, BriefDraft.for_sections(tuple(asked), len(disputes)))
    except (LLMOutputInvalid, ContextTooLong):
        return None
    drafted = {key: (_sentences(getattr(out.sections, key)) if key in asked
                     else [Sentence(text=SECTIONS[key].notice, kind="notice")]) for key in SECTIONS}
    trend = Trend(name=" ".join(out.trend.name.split()), description=" ".join(out.trend.description.split()),
                  provisional=True)
    return {"sections": drafted, "headline": " ".join(out.headline.split()).strip("\"' "),
            "dek": " ".join(out.dek.split()), "trend": trend,
            "disputes": [worded(state, fact, text) for fact, text in zip(disputes, out.disputes)]}


def revise_whole(state: "BriefState", deps: "Deps", failing: dict[str, dict[int, list[str]]]) -> dict | None:
    """Every rejected drafted sentence (and the headline and dek, if rejected) rewritten in one call."""
    targets = [(key, index, problems) for key in SECTIONS for index, problems in sorted(failing.get(key, {}).items())
               if index < len(state.sections.get(key, [])) and state.sections[key][index].kind != "computed"
               and state.selected.get(key)]
    headline_problems = failing.get("headline", {}).get(0, []) + failing.get("dek", {}).get(0, [])
    if not targets and not headline_problems:
        return None
    ids = [c for key, index, _ in targets for c in state.sections[key][index].citations]
    ids += [pid for key, _, _ in targets for pid in state.selected[key]]
    if headline_problems:
        ids += [c for s in state.sections.get("body", []) for c in s.citations]
    messages = render("revise_brief.drafter", passages=_passage_items(state, ids), headline=state.headline,
                      dek=state.dek, headline_problems=headline_problems,
                      failing=[{"key": key, "purpose": SECTIONS[key].purpose, "text": state.sections[key][index].text,
                                "problems": problems} for key, index, problems in targets])
    if not _fits(deps, messages):
        return None
    try:
        out = deps.drafter.complete_json("revise_brief", messages,
                                         RevisionDraft.for_failures(len(targets), bool(headline_problems)))
    except (LLMOutputInvalid, ContextTooLong):
        return None
    sections = {key: list(sents) for key, sents in state.sections.items()}
    for (key, index, _), new in zip(targets, _sentences(out.sentences)):
        sections[key][index] = new
    update: dict = {"sections": sections}
    if headline_problems:
        update["headline"], update["dek"] = " ".join(out.headline.split()).strip("\"' "), " ".join(out.dek.split())
    return update
