"""One plain function per graph step: (state, deps) -> partial update. No langgraph imports."""

from __future__ import annotations

from collections import defaultdict

from agent.checks.injection import instruction_family
from agent.checks.leakage import find_leakage
from agent.checks.repetition import find_repetition
from agent.checks.run import check_brief
from agent.draft.drafting import assemble_brief, extract_candidates, extract_fallback, select_passages
from agent.house_format import SECTIONS, SELECTION_ORDER, brief_language
from agent.errors import ContextTooLong, LLMOutputInvalid
from agent.checks.debris import clean_source_sentence
from agent.draft.extractive import MAX_CANDIDATE_PASSAGES
from agent.draft.faithful import compose_faithful, headline_faithful, story_date
from agent.model.llm_schemas import HeadlineDraft, SectionDraft, SentenceDraft, TrendDraft
from agent.draft.purposes import answers
from agent.prompting import render
from agent.analysis.independence import group_sources
from agent.schema import Passage, Sentence, Trend
from agent.state import BriefState, Deps, Status
from agent.text import split_sentences
from agent.analysis.veracity import key_claim_contradictions
from agent.draft.whole_brief import draft_whole, estimate_tokens, revise_whole, worded

__all__ = ["BriefState", "Deps", "retrieve", "add_disputes", "draft", "word_disputes", "draft_headline", "check",
           "revise", "fallback", "finalize", "first_draft"]  # BriefState stays importable here: old checkpoints name it

UNTRACKED = Trend(name="Untracked story", description="No trend has been matched to this story yet.")


# --- retrieve ---------------------------------------------------------------------------


def retrieve(state: BriefState, deps: Deps) -> dict:
    """Pick passages per section by hybrid search, capping how many one source may supply."""
    cfg = deps.settings.draft
    source_ids = [s.id for s in state.sources]
    numbers = {s.id: i for i, s in enumerate(state.sources, start=1)}
    topic = " ".join(s.title for s in state.sources if s.title)[:400] or next(iter(state.passages.values())).text[:400]
    selected: dict[str, list[str]] = {}
    used: set[str] = set()
    for name in SELECTION_ORDER:  # the specific sections pick first, so the body can't use up their passages
        spec = SECTIONS[name]
        hits = deps.store.search(f"{spec.query_hint} {topic}", source_ids=source_ids, k=cfg.passages_per_section * 3)
        ids = [f"S{numbers[h.source_id]}:{h.k}" for h in hits if f"S{numbers[h.source_id]}:{h.k}" in state.passages]
        selected[name] = select_passages(ids, state.passages, spec.count(cfg), cfg.max_passages_per_source, avoid=used)
        used.update(selected[name])
    return {"selected": {name: selected[name] for name in SECTIONS}, "groups": group_sources(state.sources),
            "language": brief_language([s.language for s in state.sources])}


# --- draft / revise ---------------------------------------------------------------------


def _sentence_call(deps: Deps, section: str, passage: Passage, feedback: list[str], previous: str) -> Sentence:
    messages = render(
        "draft_sentence.drafter", passage_id=passage.id, passage_text=passage.text,
        purpose=SECTIONS[section].purpose, feedback=feedback, previous=previous,
    )
    try:
        draft = deps.drafter.complete_json(f"draft_sentence.{section}", messages, SentenceDraft)
        return Sentence(text=" ".join(draft.sentence.split()), citations=[passage.id])
    except (LLMOutputInvalid, ContextTooLong):  # the model never gave valid output: fall back to the source itself
        return extract_fallback(section, passage, previous)


def _section_call(deps: Deps, state: BriefState, section: str, feedback: list[str]) -> list[Sentence]:
    passages = [state.passages[i] for i in state.selected[section]]
    outlets = {s.id: s.outlet for s in state.sources}
    spec = SECTIONS[section]
    count = len(passages) if spec.per_passage else spec.count(deps.settings.draft)
    budget = deps.drafter.context_budget()
    while True:  # pack to fit the model's context; shrink on a context-length error; never resend
        messages = render(
            "draft_section.drafter",
            passages=[{"id": p.id, "text": p.text, "outlet": outlets[p.source_id]} for p in passages],
            purpose=spec.purpose, count=count, feedback=feedback,
        )
        if budget and estimate_tokens(messages) > budget and len(passages) > 1:
            passages = passages[:-1]  # the lowest-ranked passage goes first
            continue
        try:
            draft = deps.drafter.complete_json(f"draft_section.{section}", messages, SectionDraft)
        except ContextTooLong:
            if len(passages) == 1:
                raise LLMOutputInvalid(f"draft_section.{section}: one passage is too long for the model") from None
            passages = passages[: len(passages) // 2]
            continue
        return [Sentence(text=" ".join(s.text.split()), citations=s.citations) for s in draft.sentences]


def _draft_section(state: BriefState, deps: Deps, section: str, feedback: dict[int, list[str]]) -> list[Sentence]:
    ids = state.selected.get(section, [])
    if not ids:
        return [Sentence(text=SECTIONS[section].notice, kind="notice")]
    current = state.sections.get(section, [])
    computed = [s for s in current if s.kind == "computed"]  # built by code: kept through revisions
    if deps.mode == "section":
        flat = [m for msgs in feedback.values() for m in msgs]
        try:
            return _section_call(deps, state, section, flat) + computed
        except (LLMOutputInvalid, ContextTooLong):
            return [extract_fallback(section, state.passages[i], "") for i in ids] + computed
    out: list[Sentence] = []
    for index, pid in enumerate(ids):
        if current and index < len(current) and index not in feedback:
            out.append(current[index])  # passed the checker: keep it, don't spend a call
            continue
        previous = current[index].text if index < len(current) else ""
        out.append(_sentence_call(deps, section, state.passages[pid], feedback.get(index, []), previous))
    return out + computed


def _summary(sections: dict[str, list[Sentence]]) -> str:
    return " ".join(s.text for s in sections.get("body", []) if s.kind != "notice")[:1500]


def _disputes(state: BriefState, every_passage: bool = False) -> list[Sentence]:
    """Disagreements on figures among the retrieved passages (or all of them, for a brief's usual handful)."""
    ids = list(state.passages) if every_passage else list(
        dict.fromkeys(pid for ids in state.selected.values() for pid in ids))
    return key_claim_contradictions(ids, state.passages, state.groups, {src.id: src.outlet for src in state.sources},
                                    language=state.language)


def _with_disputes(sections: dict[str, list[Sentence]], computed: list[Sentence]) -> dict[str, list[Sentence]]:
    if computed:  # disagreements on figures are computed from passages, not asked of the model
        sections["nuance"] = [s for s in sections["nuance"] if s.kind not in ("notice", "computed")] + computed
    return sections


def add_disputes(state: BriefState, deps: Deps) -> dict:
    """Disagreements on figures, computed from the passages before drafting (so the one-call draft can word them)."""
    every = deps.mode == "faithful" and len(state.passages) <= MAX_CANDIDATE_PASSAGES
    return {"disputes": _disputes(state, every_passage=every)}


def draft(state: BriefState, deps: Deps) -> dict:
    """First draft of every section, the computed disagreements joining the nuance (faithful mode: composed
    from source sentences, with the lead; section mode: one call that also writes headline, dek and trend)."""
    if deps.mode == "faithful":
        update = compose_faithful(state, deps)
    elif deps.mode == "section" and (update := draft_whole(state, deps, state.disputes)) is not None:
        update["sections"] = _with_disputes(update["sections"], update.pop("disputes"))
        return {**update, "drafted_whole": True}
    else:
        update = {"sections": {name: _draft_section(state, deps, name, {}) for name in SECTIONS}}
    update["sections"] = _with_disputes(update["sections"], state.disputes)
    return update


def word_disputes(state: BriefState, deps: Deps) -> dict:
    """The drafter words each computed disagreement, one call each, unless the one-call draft did
    (faithful mode keeps the computed line as it is)."""
    computed = [s for sents in state.sections.values() for s in sents if s.kind == "computed"]
    if deps.mode == "faithful" or state.drafted_whole or not computed:
        return {}
    return {"sections": {name: [_word_dispute(deps, state, s) if s.kind == "computed" else s for s in sents]
                         for name, sents in state.sections.items()}}


def draft_headline(state: BriefState, deps: Deps) -> dict:
    """Headline, dek and a provisional trend, from the drafted body (faithful mode: from the lead; nothing
    to do when the one-call draft wrote them)."""
    if deps.mode == "faithful":
        return headline_faithful(state, deps)
    if state.drafted_whole:
        return {}
    headline, dek = _headline_and_dek(state, deps, [])
    return {"headline": headline, "dek": dek, "trend": draft_trend(state.with_(headline=headline), deps)}


def first_draft(state: BriefState, deps: Deps) -> dict:
    """The draft stages in the order agent/graph.py wires them, outside the graph (node tests): one update."""
    update: dict = {}
    for stage in (add_disputes, draft, word_disputes, draft_headline):
        step = stage(state, deps)
        update.update(step)
        state = state.with_(**step)
    return update


def _word_dispute(deps: Deps, state: BriefState, fact: Sentence) -> Sentence:
    """The drafter words a computed disagreement; kept only if both outlets and every figure survive."""
    outlets = {s.id: s.outlet for s in state.sources}
    cited = [state.passages[c] for c in fact.citations if c in state.passages]
    messages = render("nuance.drafter", fact=fact.text,
                      passages=[{"id": p.id, "text": p.text, "outlet": outlets.get(p.source_id, "")} for p in cited])
    try:
        text = deps.drafter.complete_json("nuance", messages, SentenceDraft).sentence
    except (LLMOutputInvalid, ContextTooLong):
        return fact
    return worded(state, fact, text)


def _headline_and_dek(state: BriefState, deps: Deps, feedback: list[str]) -> tuple[str, str]:
    """Headline and dek from the drafted body; the fallback is the lead source's own title."""
    summary = _summary(state.sections)
    try:
        out = deps.drafter.complete_json(
            "headline", render("headline.drafter", summary=summary, feedback=feedback), HeadlineDraft)
        return " ".join(out.headline.split()).strip("\"' "), " ".join(out.dek.split())
    except (LLMOutputInvalid, ContextTooLong):
        return headline_fallback(state)


def headline_fallback(state: BriefState) -> tuple[str, str]:
    """The lead source's own title, and an opening source sentence the brief does not already use."""
    lead = state.sources[0]
    body = [s.text for s in state.sections.get("body", []) if s.kind != "notice"]
    items = [(name, i, s.text) for name, sents in state.sections.items() for i, s in enumerate(sents)]
    opening = [src.text[a:b] for src in state.sources for a, b in split_sentences(src.text)[:4]]
    headline = lead.title or (body[0][:100] if body else "Untitled brief")
    titles = [src.title for src in state.sources[1:] if src.title and src.title != headline]
    dek = next((t for t in opening + titles if 6 <= len(t.split()) <= 40 and "|" not in t
                and _clean_source_sentence(t) and not find_repetition([("dek", 0, t)] + items)), "")
    if not dek:  # every opening sentence is used already: another source's own title
        dek = next((t for t in titles if len(t.split()) >= 4 and _clean_source_sentence(t)), "")
    return headline, dek


def _clean_source_sentence(text: str) -> bool:
    """A source sentence the fallback may quote: no assistant talk and nothing addressed to the model."""
    return not find_leakage(text, "body") and instruction_family(text) is None


def draft_trend(state: BriefState, deps: Deps) -> Trend:
    """A tracked trend the story belongs to; else one the drafter proposes (stored only if valid, once published)."""
    if deps.trends is not None and (found := deps.trends.lookup(f"{state.headline}. {_summary(state.sections)}")):
        return found
    try:
        out = deps.drafter.complete_json("trend", render("trend.drafter", summary=_summary(state.sections)), TrendDraft)
        return Trend(name=" ".join(out.name.split()), description=" ".join(out.description.split()), provisional=True)
    except (LLMOutputInvalid, ContextTooLong):
        return UNTRACKED


def _rejected_texts(state: BriefState) -> list[str]:
    """Source sentences the last check failed (faithful mode composes again without them)."""
    out = list(state.excluded)
    for v in state.report.violations if state.report else []:
        if v.severity != "error":
            continue
        if v.section == "dek":
            out.append(state.dek)
        elif v.section in state.sections and v.sentence_index is not None and v.sentence_index < len(state.sections[v.section]):
            out.append(state.sections[v.section][v.sentence_index].text)
    return list(dict.fromkeys(out))


def revise(state: BriefState, deps: Deps) -> dict:
    """Send each failing sentence's violations back to the drafter; passing ones are kept (section mode: every
    failing sentence in one call; the headline only if it failed)."""
    if deps.mode == "faithful":  # no rewriting: compose again without the sentences that failed
        excluded = _rejected_texts(state)
        shortened = {k: ("" if v in excluded else v) for k, v in state.shortened.items()}  # "": keep the original
        update = compose_faithful(state.with_(shortened=shortened), deps, set(excluded))
        update["sections"] = _with_disputes(update["sections"], [s for s in state.sections.get("nuance", [])
                                                                 if s.kind == "computed" and s.text not in excluded])
        update |= headline_faithful(state.with_(**update), deps)  # deterministic from the lead: no new call
        return {**update, "excluded": excluded, "revision": state.revision + 1}
    failing: dict[str, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for v in state.report.violations if state.report else []:
        if v.severity == "error":
            failing[v.section][v.sentence_index if v.sentence_index is not None else 0].append(v.message)
    if deps.mode == "section" and (whole := revise_whole(state, deps, failing)) is not None:
        update = {**whole, "revision": state.revision + 1}
        if "trend" in failing:
            update["trend"] = UNTRACKED
        return update
    sections = dict(state.sections)
    for section in SECTIONS:
        if section in failing:
            sections[section] = _draft_section(state, deps, section, dict(failing[section]))
    update = {"sections": sections, "revision": state.revision + 1}
    if "headline" in failing or "dek" in failing:
        feedback = failing["headline"][0] + failing["dek"][0]
        update["headline"], update["dek"] = _headline_and_dek(state.with_(sections=sections), deps, feedback)
    if "trend" in failing:
        update["trend"] = UNTRACKED
    return update


def _fallback_candidates(state: BriefState, section: str, cited: list[Passage], attempted: str) -> list[Sentence]:
    """Source sentences of the cited passage (then of the section's other passages, then of any retrieved one),
    cleaned of debris, that answer the section's question."""
    out = []
    ids = [c.id for c in cited[:1]] + state.selected.get(section, []) + [p for ids in state.selected.values() for p in ids]
    pool = [state.passages[p] for p in dict.fromkeys(ids) if p in state.passages]  # cited, section's, then retrieved
    for passage in pool:
        for c in extract_candidates(section, passage, attempted):
            cleaned = clean_source_sentence(c.text, state.language)
            if (cleaned and _clean_source_sentence(cleaned)
                    and answers(section, cleaned, state.language, story_date=story_date(state.sources)) is not False):
                out.append(c.model_copy(update={"text": cleaned}))
    return out


def fallback(state: BriefState, deps: Deps) -> dict:
    """After the last revision, replace what still fails with source sentences or a notice."""
    failing: dict[str, set[int]] = defaultdict(set)
    for v in state.report.violations if state.report else []:
        if v.severity == "error":
            failing[v.section].add(v.sentence_index or 0)
    if deps.mode == "faithful":  # every candidate was a source sentence already: what still fails says so plainly
        sections = {}
        for section, sentences in state.sections.items():
            kept = [s for i, s in enumerate(sentences) if i not in failing.get(section, ())]
            sections[section] = kept or [Sentence(text=SECTIONS[section].notice_in(state.language), kind="notice")]
        return {"sections": sections, "fell_back": True}
    kept = [(name, i, s.text) for name, sents in state.sections.items()
            for i, s in enumerate(sents) if i not in failing.get(name, ()) and s.kind != "notice"]
    sections = {}
    for section, sentences in state.sections.items():
        fixed: list[Sentence] = []
        for index, sentence in enumerate(sentences):
            if index in failing.get(section, ()):
                cited = [state.passages[c] for c in sentence.citations if c in state.passages]
                sentence = next((c for c in _fallback_candidates(state, section, cited, sentence.text)
                                 if not find_repetition(kept + [(section, 99, c.text)])),
                                Sentence(text=SECTIONS[section].notice_in(state.language), kind="notice"))
                if sentence.kind != "notice":
                    kept.append((section, index, sentence.text))
            if sentence.kind != "notice" or not any(s.kind == "notice" for s in fixed):
                fixed.append(sentence)
        real = [s for s in fixed if s.kind != "notice"]
        sections[section] = real or fixed[:1] or [Sentence(text=SECTIONS[section].notice, kind="notice")]
    update: dict = {"sections": sections, "fell_back": True}
    if failing.get("headline") or failing.get("dek"):
        update["headline"], update["dek"] = headline_fallback(state.with_(sections=sections))
    if failing.get("trend"):
        update["trend"] = UNTRACKED
    return update


# --- check and finish -------------------------------------------------------------------


def check(state: BriefState, deps: Deps) -> dict:
    """Run every checker rule over the assembled brief."""
    brief = assemble_brief(state, deps.settings)
    return {"report": check_brief(brief, state.passages, judge=deps.judge)}


def finalize(state: BriefState, deps: Deps) -> dict:
    """Published only when the last check passed; anything else is a rejection."""
    passed = state.report is not None and state.report.status == "pass"
    return {"status": Status.PUBLISHED if passed else Status.REJECTED}
