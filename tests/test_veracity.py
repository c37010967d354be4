"""Veracity ordering on constructed corpora: independence, syndication, contradiction."""

from agent.config import load_settings
from agent.analysis.independence import canonical_url, group_sources
from agent.schema import Passage, Sentence, Source, Veracity, content_id
from agent.text import split_sentences
from agent.analysis.veracity import assess_claim, contradiction_sentences, score_veracity
from tests.fakes import STORIES

CFG = load_settings(env={}).veracity
CLAIM = "The Orsk port authority approved a 300 million euro dredging plan on Monday."


def corpus(*names: str, text_of=STORIES.get, urls=None):
    sources, passages = [], {}
    for n, name in enumerate(names, start=1):
        text = text_of(name)
        src = Source(id=content_id(text + str(n) if urls else text), outlet=f"Outlet {name}", text=text,
                     url=(urls or {}).get(n))
        sources.append(src)
        passages[f"S{n}:1"] = Passage(id=f"S{n}:1", source_id=src.id, text=text, start=0, end=len(text))
    return sources, passages


def score(sources, passages):
    groups = group_sources(sources)
    group_of = {sid: g.group_id for g in groups for sid in g.source_ids}
    claim = assess_claim(Sentence(text=CLAIM, citations=["S1:1"]), passages, group_of)
    cited = {s.id for s in sources}
    return score_veracity([claim], groups, cited, CFG), claim


def syndicated_copy(name: str) -> str:
    return STORIES["wire"].replace("officials said", "officials told reporters") + " (Reporting by the wire desk.)"


def test_three_independent_agreeing_sources_beat_one():
    one, _ = score(*corpus("wire"))
    three, claim = score(*corpus("wire", "daily", "radio"))
    assert len(claim.supporting_groups) == 3
    assert three.score > one.score
    assert three.label in ("Corroborated", "Confirmed") and one.label == "Unverified"


def test_syndicated_copies_score_like_one_source():
    one, _ = score(*corpus("wire"))
    sources, passages = corpus("a", "b", "c", text_of=syndicated_copy, urls={1: "https://x.example/a", 2: None, 3: None})
    groups = group_sources(sources)
    assert len(groups) == 1 and groups[0].reason == "near-duplicate text"
    copies, _ = score(sources, passages)
    assert copies.score == one.score
    assert "syndicated" in copies.rationale


def test_contradiction_lowers_the_score_and_is_stated_with_both_sources():
    agreeing, _ = score(*corpus("wire", "daily", "radio"))
    sources, passages = corpus("wire", "daily", "radio", "rival")
    disputed, claim = score(sources, passages)
    assert disputed.score < agreeing.score
    assert claim.contradictions and "contradicted" in disputed.rationale
    (nuance,) = contradiction_sentences([claim], passages, {s.id: s.outlet for s in sources})
    assert nuance.citations == ["S1:1", "S4:1"]
    assert "Outlet wire gives 300 million euro" in nuance.text and "Outlet rival 450 million euro" in nuance.text


def test_canonical_url_drops_tracking():
    assert canonical_url("http://www.x.example/a/?utm_source=tw&id=3#top") == canonical_url("https://x.example/a?id=3")


# --- claim matching ------------------------------------------------------------------------
import re  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from agent.analysis.independence import SourceGroup  # noqa: E402
from agent.text import detect_language, figures_in, number_spans  # noqa: E402
from agent.analysis.claim_match import match_claim  # noqa: E402
from agent.analysis.veracity import brief_veracity, key_claim_contradictions  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("claim, other, verdict", [
    # the same event in other words
    (CLAIM, "On Monday the port authority in Orsk signed off on its dredging plan, worth 300 million euro.", "support"),
    # the same people and place, another event
    (CLAIM, "The Orsk port authority elected a new chair on Monday, officials said.", "unrelated"),
    # the same event with another figure for the same quantity
    (CLAIM, "The Orsk port authority approved a dredging plan on Monday whose true cost is 450 million euro.",
     "contradict"),
    # a negated event is not support
    (CLAIM, "The Orsk port authority did not approve the 300 million euro dredging plan on Monday.", "unrelated"),
    ("El consejo regional aprobó el martes un plan de riego de 40 millones de euros para el valle de Arenal.",
     "El consejo regional no aprobó el martes el plan de riego de 40 millones de euros del valle de Arenal.",
     "unrelated"),
    # a figure of the same unit, too far apart to be the same quantity
    (CLAIM, "The Orsk port authority approved the dredging plan and a 5 billion euro budget for the docks.", "support"),
    # another place
    (CLAIM, "The Varna port authority approved a 300 million euro dredging plan on Monday.", "unrelated"),
    # rise vs fall is not support
    ("Water bills for households in Port Carrow are expected to rise by about 6 percent from 2027.",
     "Household water bills in Port Carrow will fall by about 6 percent from 2027, the authority said.", "unrelated"),
    ("Water bills for households in Port Carrow are expected to rise by about 6 percent from 2027.",
     "Port Carrow households should expect water bills to rise by roughly 6 percent in 2027.", "support"),
    # Spanish: figures are language-independent, and so is the direction of the decision
    ("El consejo regional aprobó el martes un plan de riego de 40 millones de euros para el valle de Arenal.",
     "El plan de riego del valle de Arenal costará 55 millones de euros, según la asociación de regantes.", "contradict"),
    ("El consejo regional aprobó el martes un plan de riego de 40 millones de euros para el valle de Arenal.",
     "El plan de riego del valle de Arenal costará 55 millones, según la asociación de regantes.", "contradict"),
    ("El consejo regional aprobó el martes un plan de riego de 40 millones de euros para el valle de Arenal.",
     "El consejo regional rechazó el martes el plan de riego para el valle de Arenal.", "unrelated"),
    ("El consejo regional aprobó el martes un plan de riego de 40 millones de euros para el valle de Arenal.",
     "El martes, el consejo regional dio luz verde al plan de riego del valle de Arenal, de 40 millones de euros.",
     "support"),
    # a contrast: the other source gives the claim's figure and its own
    ("The plant will cost 1.2 billion crowns, authority chair Elin Vasquez said.",
     "A cost review puts the price of the plant at 1.4 billion crowns, above the 1.2 billion crowns Vasquez announced.",
     "contradict"),
    # a change from one value to another is not a dispute of the new value
    ("The plant will cost 1.2 billion crowns, authority chair Elin Vasquez said.",
     "The cost of the plant rose to 1.2 billion crowns from 1.0 billion crowns, authority chair Vasquez said.",
     "support"),
])
def test_claims_match_on_event_entities_figures_and_direction(claim, other, verdict):
    assert match_claim(claim, other).verdict == verdict, match_claim(claim, other)


@pytest.mark.parametrize("text, expected", [
    ("1.2 billion crowns", [(1.2e9, "crown")]),
    ("40 millones de euros", [(4e7, "euro")]),
    ("1,2 millones de euros", [(1.2e6, "euro")]),
    ("unos 1.200 millones de euros", [(1.2e9, "euro")]),
    ("2.500 mil millones de euros", [(2.5e12, "euro")]),
    ("3.000 viviendas", [(3000, "vivienda")]),
    ("6 percent", [(6, "percent")]), ("6 por ciento", [(6, "percent")]), ("el 12,5 % del agua", [(12.5, "percent")]),
    ("€40m and $3.5bn", [(4e7, "euro"), (3.5e9, "dollar")]),
    ("$1.4 billion, not €900 million", [(1.4e9, "dollar"), (9e8, "euro")]),
    ("150,000 cubic metres a day", [(150_000, "cubic metre")]),
    ("200.000 metros cúbicos al día", [(200_000, "cubic metre")]),
    ("1,250.5 tonnes or 1.250,5 toneladas", [(1250.5, "tonne"), (1250.5, "tonne")]),
    ("seven votes to two", [(7, "vote"), (2, "")]),
    ("it opens in 2029", [(2029, "")]),
])
def test_one_figure_parser_reads_english_and_european_formats(text, expected):
    assert [(f.value, f.unit) for f in figures_in(text)] == expected


def test_figure_rates_and_shares_keep_quantities_apart():
    daily, yearly = figures_in("150,000 cubic metres a day"), figures_in("30 million cubic metres a year")
    assert (daily[0].per, yearly[0].per) == ("day", "year")
    assert figures_in("40 percent of its electricity")[0].of == "electricity"
    assert figures_in("1.2 billion")[0].values == {1.2, 1.2e9}
    assert number_spans("a 7 percent rise")[0] == (2, 11, {7.0})


@pytest.mark.parametrize("text, lang", [
    ("The harbour board approved a new ferry terminal on Monday, the chair said.", "en"),
    ("El ayuntamiento aprobó el proyecto el lunes, según fuentes de la alcaldía.", "es"),
    ("Le conseil a approuvé le projet mardi, selon le maire, et les travaux commencent en mai.", "fr"),
    ("Der Stadtrat hat das Projekt am Dienstag genehmigt, und die Arbeiten beginnen im Mai.", "de"),
    ("A câmara aprovou o projeto na terça-feira e não há data para as obras.", "pt"),
    ("Il consiglio ha approvato il progetto martedì e i lavori della strada iniziano a maggio.", "it"),
    ("Port Carrow 2029", "und"),
])
def test_detect_language_by_stopwords(text, lang):
    assert detect_language(text) == lang


# --- a dispute between two Spanish sources ------------------------------------------------
ARENAL = {
    "Diario del Valle": "El consejo regional aprobó el martes un plan de riego de 40 millones de euros para el valle "
                        "de Arenal. Las obras empezarán en otoño, según la consejera Marta Ibarra.",
    "La Gaceta Agraria": "El plan de riego del valle de Arenal costará 55 millones de euros, según un informe interno "
                         "de la asociación de regantes. La asociación pide más control del gasto.",
}


def test_a_spanish_figure_dispute_is_found_stated_and_scored():
    sources, passages = [], {}
    for n, (outlet, text) in enumerate(ARENAL.items(), start=1):
        src = Source(id=content_id(text), outlet=outlet, text=text, language="es")
        sources.append(src)
        passages[f"S{n}:1"] = Passage(id=f"S{n}:1", source_id=src.id, text=text, start=0, end=len(text))
    groups = group_sources(sources)
    (dispute,) = key_claim_contradictions(list(passages), passages, groups, {s.id: s.outlet for s in sources})
    assert dispute.citations == ["S1:1", "S2:1"]
    assert "Diario del Valle gives 40 millones de euros" in dispute.text
    assert "La Gaceta Agraria 55 millones de euros" in dispute.text
    lead = Sentence(text=ARENAL["Diario del Valle"].split(". ")[0] + ".", citations=["S1:1"])
    v = brief_veracity([lead], [dispute], passages, groups, {s.id for s in sources}, CFG)
    assert v.label == "Disputed" and "contradicted" in v.rationale and "40 millones de euros" in v.rationale



def test_the_checker_reads_a_computed_dispute_with_the_parser_that_built_it():
    from agent.checks.claims import check_claims

    sources, passages = [], {}
    for n, (outlet, text) in enumerate(ARENAL.items(), start=1):
        src = Source(id=content_id(text), outlet=outlet, text=text, language="es")
        sources.append(src)
        passages[f"S{n}:1"] = Passage(id=f"S{n}:1", source_id=src.id, text=text, start=0, end=len(text))
    (dispute,) = key_claim_contradictions(list(passages), passages, group_sources(sources),
                                          {s.id: s.outlet for s in sources}, language="es")
    violations, (verdict,) = check_claims("nuance", [dispute], passages)
    assert violations == [] and verdict.supported
    moved = dispute.model_copy(update={"text": dispute.text.replace("55 millones", "65 millones")})
    assert [(v.code, v.text) for v in check_claims("nuance", [moved], passages)[0]] == [
        ("unsupported-number", "65 millones")]


@pytest.mark.parametrize("text, span, values", [
    ("Critics put the cost at $1.6 billion.", "1.6 billion", {1.6, 1.6e9}),  # a scale word after a currency sign
    ("€40 million", "40 million", {40, 4e7}),
    ("capacity up 13.4% to serve", "13.4%", {13.4}),
    ("1.2 billion crowns", "1.2 billion", {1.2, 1.2e9}),  # the span stops before the unit noun
    ("40 millones de euros", "40 millones", {40, 4e7}),
    ("40 boats sank", "40", {40}),
    ("two districts", "two", {2}),
    ("1,200 homes", "1,200", {1200}),
    ("1.200 viviendas", "1.200", {1200}),  # one reading of a European thousands point, wherever it is checked
])
def test_number_spans_are_the_number_its_scale_and_percent_sign(text, span, values):
    start, end, found = number_spans(text)[0]
    assert (text[start:end], found) == (span, values)

# --- the calibration's worked examples (docs/veracity.md shows these rows) ----------------
OSTRA = {
    "Baltic Wire": "The Ostra Port Authority approved a 90 million euro ferry terminal on Thursday, its chair Ines "
                   "Koval said. The terminal will handle 12 sailings a day from 2028.",
    "Ostra Daily": "Ostra's port authority on Thursday approved plans for a ferry terminal costing 90 million euro. "
                   "Local hotels expect more summer visitors.",
    "Coast Radio": "Board members of the Ostra Port Authority voted on Thursday to approve the 90 million euro ferry "
                   "terminal. Two members abstained.",
    "Harbour Gazette": "The Ostra Port Authority has approved a ferry terminal worth 90 million euro, the authority "
                       "announced on Thursday. Construction of the terminal will be tendered in May.",
    "Ostra Port Authority": "The board of the Ostra Port Authority today approved a 90 million euro ferry terminal "
                            "for the north quay. Construction of the terminal will be put out to tender in May.",
    "Ostra Ledger": "The Ostra Port Authority approved the ferry terminal on Thursday, but an internal estimate puts "
                    "its cost at 120 million euro.",
}
COPY = "The Ostra Port Authority approved a 90 million euro ferry terminal on Thursday, its chair Ines Koval said. " \
       "The terminal will handle 12 sailings a day from 2028. ({})"
EXAMPLES = [
    ("One outlet", ["Baltic Wire"]),
    ("The official release alone", ["Ostra Port Authority"]),
    ("Two independent outlets", ["Baltic Wire", "Ostra Daily"]),
    ("One wire story in three syndicated copies", ["Baltic Wire", "copy:Reprint One", "copy:Reprint Two"]),
    ("Four independent outlets report the approval", ["Baltic Wire", "Ostra Daily", "Coast Radio", "Harbour Gazette"]),
    ("Three outlets, one of them with another cost", ["Baltic Wire", "Ostra Daily", "Ostra Ledger"]),
    ("The official release and four outlets", ["Ostra Port Authority", "Baltic Wire", "Ostra Daily", "Coast Radio",
                                                "Harbour Gazette"]),
]


def worked_example(outlets: list[str]) -> Veracity:
    """The brief's key claims are the first source's two sentences; disputes are computed as the drafter does."""
    sources, passages = [], {}
    for n, outlet in enumerate(outlets, start=1):
        name, _, copy_of = outlet.partition(":")
        text = COPY.format(copy_of) if copy_of else OSTRA[outlet]
        src = Source(id=content_id(text), outlet=copy_of or name, text=text)
        sources.append(src)
        passages[f"S{n}:1"] = Passage(id=f"S{n}:1", source_id=src.id, text=text, start=0, end=len(text))
    groups = group_sources(sources)
    first = passages["S1:1"].text
    body = [Sentence(text=first[a:b], citations=["S1:1"]) for a, b in split_sentences(first)]
    disputes = key_claim_contradictions(list(passages), passages, groups, {s.id: s.outlet for s in sources})
    return brief_veracity(body, disputes, passages, groups, {s.id for s in sources}, CFG)


def example_rows() -> list[str]:
    rows = []
    for name, outlets in EXAMPLES:
        v = worked_example(outlets)
        factors = " · ".join(f"{f.name} {f.points:+g}" for f in v.factors if f.points)
        rows.append(f"| {name} | {factors} | {v.score} | {v.label} | {v.rationale} |")
    return rows


def test_worked_examples_meet_the_calibration():
    v = {name: worked_example(outlets) for name, outlets in EXAMPLES}
    assert v["One outlet"].label == "Unverified"
    assert v["The official release alone"].label == "Plausible"
    assert v["Two independent outlets"].label == "Plausible"
    assert v["One wire story in three syndicated copies"].score == v["One outlet"].score
    assert v["Four independent outlets report the approval"].label in ("Corroborated", "Confirmed")
    assert v["Three outlets, one of them with another cost"].score < v["Four independent outlets report the approval"].score
    assert "contradicted" in v["Three outlets, one of them with another cost"].rationale
    assert v["The official release and four outlets"].label == "Confirmed"


def test_more_agreeing_outlets_never_lower_the_score():
    outlets = ["Baltic Wire", "Ostra Daily", "Coast Radio", "Harbour Gazette", "Ostra Port Authority"]
    scores = [worked_example(outlets[:k]).score for k in range(1, len(outlets) + 1)]
    assert scores == sorted(scores) and scores[0] < scores[-1]


def test_rationale_is_one_line_and_the_factors_add_up():
    for _, outlets in EXAMPLES:
        v = worked_example(outlets)
        assert "\n" not in v.rationale and v.rationale.startswith(v.label + ":")
        assert not re.search(r"[+−-]\d", v.rationale)  # no arithmetic for the reader
        assert round(max(0, min(100, sum(f.measure * f.weight for f in v.factors)))) == v.score
        assert abs(sum(f.points for f in v.factors) - sum(f.measure * f.weight for f in v.factors)) < 0.5


def test_the_veracity_doc_shows_the_computed_worked_examples():
    doc = (ROOT / "docs" / "veracity.md").read_text(encoding="utf-8").split("## Worked examples")[1]
    table = [ln for ln in doc.splitlines() if ln.startswith("| ") and not ln.startswith("| example")
             and not ln.startswith("| ---")]
    assert table == example_rows(), "\n".join(example_rows())


def test_the_reader_gets_one_line_and_brief_json_and_the_run_folder_get_the_factors(tmp_path, fake_openai):
    import json

    from agent.api import draft_brief
    from agent.output.render import render_markdown
    from tests.fakes import model_with_nuance, settings_for, write_corpus

    fake_openai.set_responder(model_with_nuance("{first} puts the plan at {a}, while {second} says it will cost {b}."))
    result = draft_brief([write_corpus(tmp_path / "src")], config=settings_for(tmp_path, fake_openai.base_url,
                                                                                mode="section"))
    v = result.brief.veracity
    line = next(ln for ln in render_markdown(result.brief).splitlines() if ln.startswith("**Veracity"))
    assert line.endswith(v.rationale) and v.rationale.startswith(f"{v.label}:")
    assert "base" not in line and "(+" not in line, line  # no arithmetic for the reader
    document = json.loads(result.document().model_dump_json())
    assert [f["name"] for f in document["brief"]["veracity"]["factors"]] == [
        "base", "lead", "coverage", "official", "single-source", "contradictions"]
    saved = json.loads((result.run_dir / "result.json").read_text(encoding="utf-8"))
    assert saved["brief"]["veracity"]["factors"] == document["brief"]["veracity"]["factors"]
