"""Debris rules: footnote marks, speaker labels, markup, fragments, dangling openings; the deletion-only cleaner."""

import re

import pytest

from agent.checks.debris import DEBRIS_CODES, clean_source_sentence, find_debris, guess_language
from agent.checks.debris_words import has_finite_verb

# (text, language, expected cleaned sentence or None). Sentences are fictional.
CLEANED = [
    # footnote marks
    ("Port Carrow signed a water agreement with the province.4", "en",
     "Port Carrow signed a water agreement with the province."),
    ("The authority reported a loss[3].", "en", "The authority reported a loss."),
    ("The bridge toll was abolished in 2019.¹", "en", "The bridge toll was abolished in 2019."),
    ("Ticket prices doubled.[4, 5]", "en", "Ticket prices doubled."),
    ("“We are staying,” the fishermen said.5", "en", "“We are staying,” the fishermen said."),
    ("La planta abrirá en otoño.3", "es", "La planta abrirá en otoño."),
    ("Output rose to 2.3 tonnes.", "en", "Output rose to 2.3 tonnes."),  # after a digit it is a decimal
    ("Water prices rose to 4 percent in March.", "en", "Water prices rose to 4 percent in March."),
    ("Ship No.4 was the first to dock at the new quay.", "en", "Ship No.4 was the first to dock at the new quay."),
    # speaker and role labels
    ("INTERVIEWER: The plant opened in May.", "en", "The plant opened in May."),
    ("A: Construction starts in the autumn.", "en", "Construction starts in the autumn."),
    ("Respuesta: La obra empieza en otoño.", "es", "La obra empieza en otoño."),
    ("Specter: The sanctions hurt the regional economy.", "en", None),  # the speaker would be lost
    ("Specter: We will not give up.", "en", None),
    ("Q: Will the plant open on time?", "en", None),
    # markup, tags, entities, JSON and template debris
    ("**The board** approved the [plant](http://example.org/p) on <b>Tuesday</b> &amp; Wednesday.", "en",
     "The board approved the plant on Tuesday & Wednesday."),
    ("- The plant will cost 1.2 billion crowns.", "en", "The plant will cost 1.2 billion crowns."),
    ("## The museum reopened in June.", "en", "The museum reopened in June."),
    ("3. The council voted to extend the tram line.", "en", "The council voted to extend the tram line."),
    ("> Farmers in the valley rejected the offer.", "en", "Farmers in the valley rejected the offer."),
    ("The museum<br>reopened in June.</p>", "en", "The museum reopened in June."),
    ('{"text": "The board voted seven to two on Tuesday."}', "en", "The board voted seven to two on Tuesday."),
    ("The ferry resumed service in April. }}", "en", "The ferry resumed service in April."),
    ("}} The following is a corrected version of the text:", "en", None),
    ("The plant will cost 1.2 billion crowns.\\n", "en", "The plant will cost 1.2 billion crowns."),
    ("The harbour _finally_ reopened on Monday.", "en", "The harbour finally reopened on Monday."),
    ("PORT CARROW, March 3 (Meridian Wire) — The water authority approved a desalination plant.", "en",
     "The water authority approved a desalination plant."),
    ("PORT CARROW, March 3 (Meridian Wire) —", "en", None),
    ("Lisk, 3 de marzo (Agencia Sur) — El ayuntamiento aprobó el plan.", "es", "El ayuntamiento aprobó el plan."),
    ("BRAY (Coastline Ledger) - Ferry fares will fall in June.", "en", "Ferry fares will fall in June."),
    ("Photo: Elin Vasquez at the board meeting", "en", None),
    # leading connectives that refer back
    ("However, the board approved the plan on Tuesday.", "en", "The board approved the plan on Tuesday."),
    ("But the farmers disagree with the estimate.", "en", "The farmers disagree with the estimate."),
    ("And yet the board approved the budget.", "en", "The board approved the budget."),
    ("Also on Tuesday, the board approved the budget.", "en", "On Tuesday, the board approved the budget."),
    ("Meanwhile, water prices rose by a tenth.", "en", "Water prices rose by a tenth."),
    ("In addition, the plant will employ 80 people.", "en", "The plant will employ 80 people."),
    ("Moreover, the vote was closer than expected.", "en", "The vote was closer than expected."),
    ("Still, the museum drew 20,000 visitors.", "en", "The museum drew 20,000 visitors."),
    ("That said, the contract includes penalties for delay.", "en", "The contract includes penalties for delay."),
    ("Meanwhile, iPhone sales rose in March.", "en", "iPhone sales rose in March."),
    ("Sin embargo, el ayuntamiento aprobó el plan.", "es", "El ayuntamiento aprobó el plan."),
    ("Además, la planta empleará a 80 personas.", "es", "La planta empleará a 80 personas."),
    ("Por otra parte, los agricultores recurrirán la decisión.", "es", "Los agricultores recurrirán la decisión."),
    ("However, it was approved on Tuesday.", "en", None),  # the connective goes, the pronoun still dangles
    ("Además, ella dijo que la obra se retrasará.", "es", None),
    # fragments
    ("Sofia Lindqvist", "en", None),
    ("The renovation of the east wing", "en", None),
    ("Tuesday, March 3, 2026", "en", None),
    ("The plant approved by the board on Tuesday.", "en", None),
    ("La renovación del ala este.", "es", None),
    # openings whose referent is outside the sentence
    ("that cost was never explained.", "en", None),
    ("the visit lasted two days.", "en", None),
    ("This was the third vote in a year.", "en", None),
    ("It also said the plant would open in 2029.", "en", None),
    ("They said the plant would open in 2029.", "en", None),
    ("The renovation also added a café on the ground floor.", "en", None),
    ("Esta decisión fue criticada por los pescadores.", "es", None),
    ("Dijo que la planta abrirá en 2029.", "es", None),
    ("This year the reservoir fell to 41 percent of capacity.", "en",
     "This year the reservoir fell to 41 percent of capacity."),
    ("It is unclear whether the plant will open on time.", "en", "It is unclear whether the plant will open on time."),
    ("Este año el embalse bajó al 41 por ciento.", "es", "Este año el embalse bajó al 41 por ciento."),
    # quotes
    ("“We will build it by 2029,” Vasquez said.", "en", "“We will build it by 2029,” Vasquez said."),
    ("We will build it by 2029,” Vasquez said.", "en", None),  # starts mid-quote
    ("Vasquez said: “We will build it by 2029.", "en", None),  # ends mid-quote
    ("“We will build it by 2029.”", "en", None),  # a bare quotation: its speaker is elsewhere
    ('" The board voted seven to two.', "en", "The board voted seven to two."),
    ('The board voted seven to two. "', "en", "The board voted seven to two."),
    # shape
    ("12,400 | 13,900 | 15,200 (2024) | 9.1%", "en", None),
    ("The figures for each town are as follows:", "en", None),
    (("The plan, which the board approved after a long debate that lasted into the night and drew protests "
      "from shellfish farmers, anglers, residents of the old town and two opposition parties, would see the "
      "authority borrow 1.2 billion crowns from three banks over ten years to build a plant on the headland "
      "north of the harbour, near the old lighthouse and the ferry quay."), "en", None),
    # languages without word lists: only the language-independent cleaning
    ("Das Museum öffnete im Juni wieder.2", "de", "Das Museum öffnete im Juni wieder."),
    ("Das neue Museum am Hafen", "de", "Das neue Museum am Hafen"),
]


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text.casefold())


def _is_subsequence(small: list[str], big: list[str]) -> bool:
    it = iter(big)
    return all(word in it for word in small)


@pytest.mark.parametrize("text,language,expected", CLEANED)
def test_clean_source_sentence(text, language, expected):
    assert clean_source_sentence(text, language) == expected


@pytest.mark.parametrize("text,language,expected", [c for c in CLEANED if c[2]])
def test_cleaning_only_deletes(text, language, expected):
    out = clean_source_sentence(text, language)
    assert _is_subsequence(_words(out), _words(text)), out


PREFIXES = ["", "However, ", "Q: ", "- ", "## ", "}} ", "<p>", "**", "Also, ", "BRAY (Ledger) — ", "Specter: "]
CORES = ["The board approved the plan on Tuesday.", "Farmers in the valley rejected the offer,4 the union said.",
         "“We will build it by 2029,” Vasquez said.", "It also said the plant would open in 2029.",
         "La autoridad aprobó la planta[2] el martes.", "Sofia Lindqvist"]
SUFFIXES = ["", "[3]", "</p>", " }}", "**", "¹", '"}']


@pytest.mark.parametrize("core", CORES)
def test_every_combination_of_debris_is_cleaned_by_deletion_only_and_idempotently(core):
    kept = 0
    for prefix in PREFIXES:
        for suffix in SUFFIXES:
            text = prefix + core + suffix
            language = "es" if core.startswith("La ") else "en"
            out = clean_source_sentence(text, language)
            kept += out is not None
            if out is not None:
                assert _is_subsequence(_words(out), _words(text)), (text, out)
                assert clean_source_sentence(out, language) == out, (text, out)
                assert not find_debris(out, "body", language=language), (text, out)
    publishable = clean_source_sentence(core, "es" if core.startswith("La ") else "en") is not None
    assert kept >= (len(PREFIXES) - 2) * len(SUFFIXES) if publishable else kept == 0  # only the named speaker loses it


def test_subsequence_check_can_fail():
    assert not _is_subsequence(_words("the board rejected"), _words("the board approved"))
    assert not _is_subsequence(_words("voted board"), _words("board voted"))


def test_too_long_by_one_word():
    sixty = " ".join(["The board approved the plan"] + ["again"] * 55) + "."
    assert clean_source_sentence(sixty) == sixty
    assert clean_source_sentence(sixty.replace("plan", "plan now")) is None


# --- the checker: (text, section, allow_fragment, language, preceded, flagged span or None) per code -------

FOOTNOTE_MARKS = [
    ("The ferry service resumed in April with three daily crossings.4", "4"),
    ("The mill employed 340 people at its peak.[12]", "[12]"),
    ("Exports of timber fell sharply in the second quarter[3].", "[3]"),
    ("The bridge toll was abolished in 2019.¹", "¹"),
    ("Turnout reached a record high².", "²"),
    ("The treaty was signed in Lisbon,7 according to the archive.", "7"),
    ("“We are not leaving,” the fishermen said.5", "5"),
    ("She said the harbour was “too shallow for tankers.”3", "3"),
    ("The council met twice in May.[a]", "[a]"),
    ("The dam holds 40 million cubic metres.[citation needed]", "[citation needed]"),
    ("Ticket prices doubled.[4, 5]", "[4, 5]"),
    ("The library reopened on Monday.†", "†"),
    ("La planta abrirá en otoño.3", "3"),
    ("Die Brücke wurde 2019 eröffnet.2", "2"),
    ("Fishing quotas were cut by a tenth;8 the union objected.", "8"),
    ("Rainfall was below average in every month but June.³", "³"),
]
FOOTNOTE_CLEAN = [
    "Water prices rose to 4 percent in March.",
    "The vote was 7 to 2.",
    "Section 4.2 of the contract sets the penalty.",
    "The committee met at 10:30 on Tuesday.",
    "Ship No.4 was the first to dock.",
    "See p.12 of the report for the full table.",
    "The plant will cost 1.2 billion crowns.",
    "Inflation reached 3,4 percent in the euro area, the bank said.",
    "The G7 summit ended on Sunday.",
    "CO2 emissions fell by a fifth.",
    "The ferry carried 1,200 passengers in 2024.",
    "The mayor read the letter [sic] aloud.",
    "The council [of Port Carrow] voted against the plan.",
    "In 2029, 40 new homes will be connected.",
    "The score was 3-1 after extra time.",
    "Version 2.0 of the app launched on Friday.",
]


@pytest.mark.parametrize("text,mark", FOOTNOTE_MARKS)
def test_footnote_marks_are_flagged(text, mark):
    found = [v for v in find_debris(text, "body") if v.code == "footnote-mark"]
    assert [v.text for v in found] == [mark]
    assert text[found[0].start:found[0].end] == mark


@pytest.mark.parametrize("text", FOOTNOTE_CLEAN)
def test_numbers_are_not_footnote_marks(text):
    assert not [v for v in find_debris(text, "body", language="en") if v.code == "footnote-mark"]


SPEAKER_LABELS = [
    ("Specter: We will not back down on the tariffs.", "body", "Specter: "),
    ("Q: When will the plant open?", "body", "Q: "),
    ("A: Construction starts in the autumn.", "body", "A: "),
    ("INTERVIEWER: How many jobs will the plant create?", "body", "INTERVIEWER: "),
    ("User: Summarise the article.", "body", "User: "),
    ("Assistant: The plant will open in 2029.", "body", "Assistant: "),
    ("Elin Vasquez: The vote was a turning point.", "body", "Elin Vasquez: "),
    ("MODERATOR: Let us turn to the budget.", "body", "MODERATOR: "),
    ("Pregunta: ¿Cuándo abrirá la planta?", "body", "Pregunta: "),
    ("P: ¿Cuánto costará la obra?", "body", "P: "),
    ("Host: Welcome back to the programme.", "body", "Host: "),
    ("Speaker 2: I disagree with the figure.", "body", "Speaker 2: "),
    ("The plant opened. Vasquez: It was worth the wait.", "body", "Vasquez: "),
    ("Q: Is the plant safe?", "headline", "Q: "),
    ("KOWALSKI: “We have waited long enough.”", "body", "KOWALSKI: "),
    ("Entrevistador: ¿Qué pasará con el embalse?", "body", "Entrevistador: "),
]
NOT_SPEAKER_LABELS = [
    ("Brexit: the sequel", "headline"),
    ("Port Carrow: A city bets on seawater", "headline"),
    ("Drought: Coastal cities turn to the sea", "trend"),
    ("The minister said: “Prices will fall.”", "body"),
    ("Vasquez said: The vote was close.", "body"),
    ("The meeting starts at 10:30 on Monday.", "body"),
    ("A ratio of 3:1 favoured the coastal towns.", "body"),
    ("Her message was clear: the plant must open on time.", "body"),
    ("One question remains: who will pay for the pipes?", "body"),
    ("The report, “Water: A Scarce Resource”, drew criticism.", "body"),
    ("Q3 revenue rose by a tenth.", "body"),
    ("A spokesperson said the plant was safe.", "body"),
    ("Users complained about the new fares.", "body"),
    ("At 9:15 the ferry left the quay.", "body"),
    ("The host city, Bray, welcomed 30,000 visitors.", "body"),
    ("El alcalde dijo: «La planta abrirá en 2029».", "body"),
]


@pytest.mark.parametrize("text,section,label", SPEAKER_LABELS)
def test_speaker_labels_are_flagged(text, section, label):
    found = [v for v in find_debris(text, section, allow_fragment=section != "body") if v.code == "speaker-label"]
    assert [v.text for v in found] == [label]


@pytest.mark.parametrize("text,section", NOT_SPEAKER_LABELS)
def test_colons_that_are_not_speaker_labels(text, section):
    found = find_debris(text, section, allow_fragment=section != "body")
    assert not [v for v in found if v.code == "speaker-label"]


MARKUP = [
    ("}} The following is a corrected version of the text:", "}}"),
    ("The board approved the plan.}", "}"),
    ('{"headline": "Port Carrow approves plant"}', '{"headline": "'),
    ("## The plant will open in 2029.", "## "),
    ("* The plant will cost 1.2 billion crowns.", "* "),
    ("1. The board voted on Tuesday.", "1. "),
    ("> The museum reopened in June.", "> "),
    ("The **museum** reopened in June.", "**museum**"),
    ("The museum reopened in [June](https://example.org/june).", "[June](https://example.org/june)"),
    ("The museum<br>reopened in June.", "<br>"),
    ("The museum &amp; library reopened in June.", "&amp;"),
    ("The plant will open in 2029.\\n", "\\n"),
    ("Photo: Elin Vasquez at the board meeting.", "Photo:"),
    ("PORT CARROW, March 3 (Meridian Wire) — The water authority approved the plant.",
     "PORT CARROW, March 3 (Meridian Wire) — "),
    ("The board voted 7-2 [on Tuesday.", "["),
    ("The museum reopened in `June`.", "`June`"),
    ("<p>The museum reopened in June.", "<p>"),
    ("La planta abrirá en 2029. }}", "}}"),
    ('Das Museum öffnete im Juni wieder. {"', '{"'),
    ("**The ferry resumed service in April.", "**"),
    ("The ferry resumed service in April.__", "__"),
]
MARKUP_CLEAN = [
    "The council [of Port Carrow] voted against the plan.",
    "Temperatures fell to -5 degrees overnight.",
    "Sales rose 5% in the year to March.",
    "The firm's chief executive, Ana Ruiz, left in May.",
    "The vote was 7-2.",
    "The museum, which reopened in June, drew 20,000 visitors.",
    "The #1 priority is water, the mayor said.",
    "Fewer than 5 (<5) ships docked on Sunday.",
    "Salterra & Sons won the contract.",
    "The file was called water_plan_final.",
    "The mayor said the budget was “fair”.",
    "Two ministers - both Greens - opposed the plan.",
    "Port Carrow — a city of 80,000 — voted for the plant.",
    "NATO allies met in Brussels on Friday.",
    "The score was 2 - 1 at half time.",
    "—No vamos a permitirlo —dijo el alcalde.",
]


@pytest.mark.parametrize("text,span", MARKUP)
def test_markup_debris_is_flagged(text, span):
    found = [v for v in find_debris(text, "body") if v.code == "markup-debris"]
    assert span in [v.text for v in found], found
    assert all(text[v.start:v.end] == v.text for v in found)


@pytest.mark.parametrize("text", MARKUP_CLEAN)
def test_prose_punctuation_is_not_markup(text):
    assert not [v for v in find_debris(text, "body") if v.code == "markup-debris"]


def test_adjacent_debris_is_one_violation():
    found = find_debris("The ferry resumed service } { <br> in April.", "body", language="en")
    assert [(v.code, v.text) for v in found] == [("markup-debris", "} { <br>")]
    assert "HTML tag" in found[0].message and "brace" in found[0].message


def test_placeholders_are_left_to_the_leakage_rule():
    assert not find_debris("The deal is worth {amount} crowns, the board said.", "body", language="en")


FRAGMENTS = [
    ("Sofia Lindqvist", "en"),
    ("The renovation of the east wing", "en"),
    ("Tuesday, March 3, 2026", "en"),
    ("The plant approved by the board on Tuesday.", "en"),
    ("A new chapter for the harbour.", "en"),
    ("Record rainfall in the valley.", "en"),
    ("Port Carrow's new desalination plant.", "en"),
    ("The museum, reopened after four years.", "en"),
    ("More jobs, cheaper water and a cleaner bay.", "en"),
    ("Elin Vasquez, chair of the water authority.", "en"),
    ("The long-awaited renovation of the north wing.", "en"),
    ("In the wake of the drought.", "en"),
    ("Record ticket sales during the first week.", "en"),
    ("The plan backed by the union.", "en"),
    ("Un nuevo capítulo para el puerto.", "es"),
    ("La renovación del ala este.", "es"),
    ("Más empleo y agua más barata.", "es"),
    ("Sofia Lindqvist, directora del museo.", "es"),
    ("La visita de la ministra a la planta desaladora.", "es"),
    ("Una planta para desalar agua del mar.", "es"),
]
SENTENCES = [
    ("Vasquez declined to comment.", "en"),
    ("Prices soared.", "en"),
    ("Growers want the promise written into law.", "en"),
    ("The board approved the plant on Tuesday.", "en"),
    ("The museum reopens on Friday.", "en"),
    ("The plant will cost 1.2 billion crowns.", "en"),
    ("Officials expect the reservoir to refill by spring.", "en"),
    ("The shellfish farmers plan to challenge the decision in court.", "en"),
    ("The plant cost more than expected.", "en"),
    ("Construction began in 2024.", "en"),
    ("There were 12 bids for the contract.", "en"),
    ("The water authority's board voted seven to two.", "en"),
    ("Farmers in the valley have been asked to cut irrigation.", "en"),
    ("The minister said she was happy to help the families.", "en"),
    ("The sources do not say who would benefit.", "en"),
    ("La planta costará 40 millones de euros.", "es"),
    ("El ayuntamiento aprobó el plan el martes.", "es"),
    ("Los agricultores piden una cuota de riego vinculante.", "es"),
    ("Se espera que la obra termine en 2029.", "es"),
    ("Los pescadores recurrieron la decisión.", "es"),
    ("La empresa destina 40 millones a la obra.", "es"),
    ("El Gobierno regional financia la mitad del proyecto.", "es"),
    ("La policía detuvo a dos hombres cerca del puerto.", "es"),
    ("El informe recomienda prohibir los vuelos nocturnos.", "es"),
    ("Tourism accounts for a fifth of local jobs.", "en"),
    ("Water prices rose by a tenth.", "en"),
    ("Fares increased by 5 percent.", "en"),
    ("Salterra Engineering, the builder, declined to comment.", "en"),
    ("About 90,000 people ride the trains on a weekday.", "en"),
    ("The museum now displays a restored fishing boat.", "en"),
    ("Critics question the cost of the pipeline.", "en"),
    ("The two votes, taken together, illustrate a shift in the council.", "en"),
]


@pytest.mark.parametrize("text,language", FRAGMENTS)
def test_fragments_are_flagged(text, language):
    found = [v for v in find_debris(text, "body", language=language) if v.code == "fragment"]
    assert len(found) == 1 and found[0].text == text
    assert has_finite_verb(text, language) is False


@pytest.mark.parametrize("text,language", SENTENCES)
def test_sentences_with_a_finite_verb_are_not_fragments(text, language):
    assert not [v for v in find_debris(text, "body", language=language) if v.code == "fragment"]
    assert has_finite_verb(text, language) is True


@pytest.mark.parametrize("headline", ["Port Carrow's new desalination plant", "Drought in the valley",
                                      "Brexit: the sequel", "Sofia Lindqvist"])
def test_headlines_may_be_noun_phrases(headline):
    assert not find_debris(headline, "headline", allow_fragment=True, language="en")
    assert [v.code for v in find_debris(headline, "body", language="en")] == ["fragment"]


@pytest.mark.parametrize("text,language", [("Das neue Museum am Hafen", "de"), ("Dieser Plan wurde abgelehnt.", "de"),
                                           ("Sofia Lindqvist", None), ("港口的新工厂", None)])
def test_languages_without_word_lists_get_no_fragment_or_reference_rule(text, language):
    assert not find_debris(text, "body", language=language)
    assert has_finite_verb(text, language or "und") is None


DANGLING = [
    ("However, the board approved the plan.", "en", "However, "),
    ("Also, the museum will open a café.", "en", "Also, "),
    ("But the farmers disagree.", "en", "But "),
    ("Meanwhile, water prices rose.", "en", "Meanwhile, "),
    ("In addition, the plant will employ 80 people.", "en", "In addition, "),
    ("Moreover, the vote was close.", "en", "Moreover, "),
    ("That said, the board remains divided.", "en", "That said, "),
    ("Still, the board approved the plan.", "en", "Still, "),
    ("It also said the plant would open in 2029.", "en", "It"),
    ("They said the plant would open in 2029.", "en", "They"),
    ("He said the plant would be ready by 2029.", "en", "He"),
    ("This was the third vote in a year.", "en", "This"),
    ("These figures were disputed by the farmers.", "en", "These"),
    ("The renovation also added a café.", "en", "The renovation also"),
    ("that cost was never explained.", "en", "that"),
    ("the visit lasted two days.", "en", "the"),
    ("Sin embargo, el ayuntamiento aprobó el plan.", "es", "Sin embargo, "),
    ("Además, la planta empleará a 80 personas.", "es", "Además, "),
    ("Por otra parte, los agricultores recurrirán la decisión.", "es", "Por otra parte, "),
    ("Esta decisión fue criticada por los pescadores.", "es", "Esta"),
    ("Dijo que la planta abrirá en 2029.", "es", "Dijo"),
    ("La renovación también incluyó un café.", "es", "La renovación también"),
]
NOT_DANGLING = [
    ("The board, however, approved the plan.", "en", False),
    ("This year the reservoir fell to 41 percent.", "en", False),
    ("It is unclear whether the plant will open on time.", "en", False),
    ("“It will be expensive,” Vasquez said.", "en", False),
    ("Port Carrow also approved a second plant.", "en", False),
    ("Still photographs of the site were published.", "en", False),
    ("So far, 12 bids have been received.", "en", False),
    ("Butter prices rose in March.", "en", False),
    ("Andorra signed the agreement.", "en", False),
    ("Thisted council voted to close the school.", "en", False),
    ("The company that also owns the ferry objected.", "en", False),
    ("iPhone sales rose in March.", "en", False),
    ("van Gogh's paintings drew 20,000 visitors.", "en", False),
    ("It will open in 2029.", "en", True),  # an earlier sentence of the section comes first
    ("However, the farmers objected.", "en", True),
    ("Este año el embalse bajó al 41 por ciento.", "es", False),
    ("El alcalde, sin embargo, defendió el plan.", "es", False),
    ("Dieser Plan wurde abgelehnt.", "de", False),
]


@pytest.mark.parametrize("text,language,opening", DANGLING)
def test_dangling_openings_are_flagged(text, language, opening):
    found = [v for v in find_debris(text, "body", language=language) if v.code == "dangling-reference"]
    assert [v.text for v in found] == [opening]


@pytest.mark.parametrize("text,language,preceded", NOT_DANGLING)
def test_openings_that_resolve(text, language, preceded):
    found = find_debris(text, "body", language=language, preceded=preceded)
    assert not [v for v in found if v.code == "dangling-reference"]


def test_a_lower_case_start_dangles_even_after_another_sentence():
    assert [v.code for v in find_debris("the visit lasted two days.", "body", language="en", preceded=True)] == [
        "dangling-reference"]


def test_later_sentences_of_one_text_are_preceded():
    found = find_debris("The plant opened in May. It cost 1.2 billion crowns.", "dek", language="en")
    assert not found
    found = find_debris("It cost 1.2 billion crowns. The plant opened in May.", "dek", language="en")
    assert [(v.code, v.text, v.start) for v in found] == [("dangling-reference", "It", 0)]


def test_violations_carry_section_span_and_message():
    text = "Specter: However, the plan failed.4"
    found = find_debris(text, "who_benefits", language="en")
    assert {v.code for v in found} == {"speaker-label", "footnote-mark", "dangling-reference"}
    for v in found:
        assert v.section == "who_benefits" and v.code in DEBRIS_CODES and v.message
        assert text[v.start:v.end] == v.text


@pytest.mark.parametrize("text,language", [
    ("The board approved the plant on Tuesday after a long debate.", "en"),
    ("El ayuntamiento aprobó la planta el martes tras un largo debate.", "es"),
    ("Sofia Lindqvist", "und"),
    ("Der Hafen wurde am Dienstag geschlossen.", "und"),
])
def test_guess_language(text, language):
    assert guess_language(text) == language


def test_without_a_language_the_checker_guesses_from_the_text():
    assert [v.code for v in find_debris("The renovation of the east wing", "body")] == ["fragment"]
    assert not find_debris("Sofia Lindqvist", "body")  # too short to tell: say nothing


# --- wired into check_brief ------------------------------------------------------------------


def _brief(**changes):
    from agent.schema import Brief, Paragraph, Sentence, SourceRef, Trend, Veracity

    def s(text, kind="extracted"):
        return Sentence(text=text, citations=["S1:1"], kind=kind)

    brief = Brief(
        headline="Port Carrow's new desalination plant", dek="The water authority approved the plant on Tuesday.",
        body=[Paragraph(sentences=[s("The water authority approved the plant on Tuesday."),
                                   s("It will open in 2029.")])],
        trend=Trend(name="Coastal cities turn to the sea", description="Drought pushes towns towards desalination."),
        veracity=Veracity(label="Plausible", score=60, rationale="one source"),
        who_benefits=[s("Salterra Engineering won the contract to build the plant.")],
        nuance=[s("Shellfish farmers fear brine will harm the bay.")],
        what_this_means=[s("The plant will supply a third of the city's water.")],
        what_to_watch=[s("The board will set the new water tariff in May.")],
        disclaimer="Observations to monitor, not financial advice.",
        sources=[SourceRef(source_id="src-a", number=1, outlet="Meridian Wire", topic="plant approval")],
    )
    return brief.model_copy(update=changes)


def _debris(brief):
    from agent.checks.run import check_brief
    from agent.schema import Passage

    text = "The water authority approved the plant on Tuesday. It will open in 2029."
    report = check_brief(brief, {"S1:1": Passage(id="S1:1", source_id="src-a", text=text, start=0, end=len(text))})
    return [(v.code, v.section, v.sentence_index, v.text) for v in report.violations if v.code in DEBRIS_CODES]


def test_check_brief_allows_noun_phrase_headlines_and_trend_names_and_later_references():
    assert _debris(_brief()) == []


def test_check_brief_reports_debris_per_section_and_sentence():
    from agent.schema import Paragraph, Sentence

    brief = _brief(
        headline="However, as sanctions tightened, trade fell",
        body=[Paragraph(sentences=[Sentence(text="Sofia Lindqvist", citations=["S1:1"], kind="extracted"),
                                   Sentence(text="Specter: The plant will open in 2029.", citations=["S1:1"])])],
        what_to_watch=[Sentence(text="The board will set the water tariff in May.4", citations=["S1:1"])],
    )
    assert sorted(_debris(brief)) == [
        ("dangling-reference", "headline", 0, "However, "),
        ("footnote-mark", "what_to_watch", 0, "4"),
        ("fragment", "body", 0, "Sofia Lindqvist"),
        ("speaker-label", "body", 1, "Specter: "),
    ]


def test_check_brief_leaves_our_own_notices_alone_in_a_spanish_brief():
    from agent.schema import Paragraph, Sentence

    def es(text):
        return Sentence(text=text, citations=["S1:1"], kind="extracted")

    brief = _brief(
        headline="Port Carrow aprueba la planta desaladora", dek="La autoridad del agua aprobó la planta el martes.",
        body=[Paragraph(sentences=[es("La autoridad del agua aprobó la planta el martes."),
                                   es("La obra costará 1.200 millones de coronas.")])],
        trend=_brief().trend.model_copy(update={"name": "Ciudades costeras y desalación",
                                                "description": "La sequía empuja a las ciudades hacia el mar."}),
        who_benefits=[Sentence(text="The sources do not say who would benefit.", kind="notice")],
        nuance=[es("Los mariscadores temen que la salmuera dañe la bahía.")],
        what_this_means=[es("Además, la planta abastecerá a un tercio de la ciudad.")],
        what_to_watch=[es("La junta fijará la nueva tarifa en mayo.")],
    )
    assert _debris(brief) == [("dangling-reference", "what_this_means", 0, "Además, ")]
