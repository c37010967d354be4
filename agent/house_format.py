"""The house format, said once: every section in order with its title per language, purpose,
retrieval hint, notice, count setting and length limits. Drafter, assembly, templates, checker
and scorers read it from here."""

from __future__ import annotations

from dataclasses import dataclass, field

LANGUAGES = ("en", "es")  # languages whose labels ship; others fall back to English


@dataclass(frozen=True)
class SectionSpec:
    key: str
    titles: dict[str, str]
    purpose: str  # what the section answers (also the drafter's instruction)
    query_hint: str  # words that pull passages for this section out of the store
    notices: dict[str, str]  # said plainly when the sources hold nothing that answers the section
    count_setting: str | None = None  # the [draft] setting that holds how many sentences it gets
    default_count: int = 1
    per_passage: bool = False  # section mode drafts one sentence per retrieved passage (the count caps the passages)
    bullets: bool = False
    test: str | None = None  # the purpose test a sentence must pass (agent/draft/purposes.py), None: no test
    explained: bool = False  # the veracity explainer follows this section in the rendered brief
    paragraphs: bool = False  # shown untitled, in paragraphs, under the dek (the body); else titled after the panel

    def title(self, language: str) -> str:
        return self.titles.get(language, self.titles["en"])

    def notice_in(self, language: str) -> str:
        return self.notices.get(language, self.notices["en"])

    @property
    def notice(self) -> str:
        return self.notices["en"]

    def count(self, draft_settings: object) -> int:
        return int(getattr(draft_settings, self.count_setting)) if self.count_setting else self.default_count


CITED_SECTIONS: tuple[SectionSpec, ...] = (
    SectionSpec(
        key="body", titles={"en": "Summary", "es": "Resumen"},
        purpose="the main facts of the story: who did what, when and where, with the key figures",
        query_hint="announced said reported agreed decision figures",
        notices={"en": "The sources do not support a summary of this story.",
                 "es": "Las fuentes no permiten resumir esta historia."},
        count_setting="body_sentences", default_count=5, paragraphs=True),
    SectionSpec(
        key="who_benefits", titles={"en": "If true, who benefits", "es": "Si es cierto, quién se beneficia"},
        purpose="If true, who benefits: which people, companies or institutions gain if this is true, and what they gain",
        query_hint="benefit gain profit win awarded contract revenue jobs funding savings",
        notices={"en": "The sources do not say who would benefit.",
                 "es": "Las fuentes no dicen quién se beneficiaría."},
        test="gain"),
    SectionSpec(
        key="nuance", titles={"en": "The nuance", "es": "El matiz"},
        purpose="The nuance: what is confirmed, and what is disputed, uncertain or claimed by only one side",
        query_hint="however disputed unclear critics questioned differ estimate not confirmed",
        notices={"en": "The sources do not describe any dispute or uncertainty.",
                 "es": "Las fuentes no describen ninguna disputa ni incertidumbre."},
        test="dispute", explained=True),
    SectionSpec(
        key="what_this_means", titles={"en": "What this means", "es": "Qué significa"},
        purpose="What this means: the implication or wider context of the story, not a repeat of its facts",
        query_hint="significance implications broader first largest region years shift part of",
        notices={"en": "The sources do not discuss the wider significance.",
                 "es": "Las fuentes no analizan el alcance más amplio."},
        test="implication"),
    SectionSpec(
        key="what_to_watch", titles={"en": "What to watch", "es": "Qué vigilar"},
        purpose="What to watch: an upcoming step, decision or deadline worth monitoring",
        query_hint="next expected will plans deadline vote review due later this year whether",
        notices={"en": "The sources name no next steps to watch.",
                 "es": "Las fuentes no mencionan próximos pasos que vigilar."},
        count_setting="watch_bullets", default_count=2, per_passage=True, bullets=True, test="forward"),
)
SECTIONS: dict[str, SectionSpec] = {s.key: s for s in CITED_SECTIONS}
SECTION_KEYS: tuple[str, ...] = tuple(SECTIONS)
# Retrieval order: the specific sections pick passages first, so the body can't use up theirs.
SELECTION_ORDER: tuple[str, ...] = ("what_to_watch", "who_benefits", "nuance", "what_this_means", "body")
# Composition order (faithful mode): the narrowest purpose test chooses its source sentences first.
COMPOSITION_ORDER: tuple[str, ...] = ("who_benefits", "what_to_watch", "nuance", "what_this_means", "body")
# The titled sections: every section but the body, which the brief shows untitled under the dek.
TITLED_SECTIONS: tuple[str, ...] = tuple(s.key for s in CITED_SECTIONS if not s.paragraphs)


@dataclass(frozen=True)
class Limits:
    headline_words: int = 16
    dek_words: int = 40
    trend_name_words: int = 10
    sentence_words: int = 60


LIMITS = Limits()
SHORT_FIELDS = ("headline", "dek", "trend")


@dataclass(frozen=True)
class Labels:
    """The fixed lines around the sections, per language."""

    trend: str
    provisional: str
    veracity: str
    sources_one: str
    sources_many: str
    synthesized_from: str
    rejected: str
    explainer: str
    untracked_name: str
    untracked_description: str
    disclaimer: str
    dispute: str  # the computed nuance line: {first} and {second} outlets, {a} and {b} their figures
    someone: str
    another: str
    extra: dict[str, str] = field(default_factory=dict)


LABELS: dict[str, Labels] = {
    "en": Labels(
        trend="Part of a tracked trend", provisional="provisional", veracity="Veracity",
        sources_one="source", sources_many="sources", synthesized_from="Synthesized from",
        rejected="DRAFT — NOT FOR PUBLICATION",
        explainer=("An open-source-intelligence read of how likely the story is true, with its nuance: it weighs "
                   "independent corroboration and contradictions among the sources, not the standing of any outlet."),
        untracked_name="Untracked story", untracked_description="No tracked trend matches this story yet.",
        disclaimer="Observations to monitor, not financial advice.",
        dispute="Sources disagree on a figure: {first} gives {a}, {second} {b}.", someone="one source",
        another="another"),
    "es": Labels(
        trend="Parte de una tendencia", provisional="provisional", veracity="Veracidad",
        sources_one="fuente", sources_many="fuentes", synthesized_from="Sintetizado a partir de",
        rejected="BORRADOR — NO PUBLICAR",
        explainer=("Una lectura de inteligencia de fuentes abiertas sobre la probabilidad de que la historia sea "
                   "cierta: pondera la corroboración independiente y las contradicciones entre las fuentes, no el "
                   "prestigio de ningún medio."),
        untracked_name="Historia sin tendencia", untracked_description="Ninguna tendencia seguida coincide aún con esta historia.",
        disclaimer="Observaciones para seguir, no asesoramiento financiero.",
        dispute="Las fuentes discrepan en una cifra: {first} da {a}; {second}, {b}.", someone="una fuente",
        another="otra"),
}


def labels(language: str) -> Labels:
    return LABELS.get(language, LABELS["en"])


def title(section: str, language: str = "en") -> str:
    return SECTIONS[section].title(language)


def brief_language(languages: list[str]) -> str:
    """The brief follows its sources: the most common known language, English when none is known."""
    known = [lang for lang in languages if lang in LANGUAGES]
    return max(sorted(set(known)), key=known.count) if known else "en"


DISPUTE_PREFIXES: tuple[str, ...] = tuple(words.dispute.split(":")[0] + ":" for words in LABELS.values())
