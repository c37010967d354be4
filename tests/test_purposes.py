"""Section purpose tests: each section's sentences must answer its question (selection and checker)."""

from datetime import date

import pytest

from agent.draft.purposes import answers

STORY = date(2026, 3, 4)

CASES = [
    # what to watch: forward-looking, not a past event
    ("what_to_watch", "The council will vote on the budget in June.", True),
    ("what_to_watch", "Whether the ferry keeps its winter timetable depends on a review due in September.", True),
    ("what_to_watch", "The operator plans to add two sailings a day from May.", True),
    ("what_to_watch", "The mine is expected to reopen next spring.", True),
    ("what_to_watch", "Construction could start before the end of 2027.", True),
    ("what_to_watch", "The new terminal opens in 2028.", True),
    ("what_to_watch", "The council voted 31 to 9 on Tuesday.", False),
    ("what_to_watch", "The bridge was closed to lorries last winter.", False),
    ("what_to_watch", "The museum reopened in 2024 after a renovation.", False),
    ("what_to_watch", "Ticket sales rose by a fifth last year.", False),
    ("what_to_watch", "Interest has grown due to the new trade routes.", False),  # "due to": because of
    ("what_to_watch", "The report is due in November.", True),
    ("what_to_watch", "In early 2022 the ministry planned to buy 1 million tonnes of grain.", False),  # past by 2026
    ("what_to_watch", "In 2025 the ministry said it would decide in 2027.", True),
    ("what_to_watch", "El pleno votará la reforma en octubre.", True),
    # who benefits: an actor and what it gains
    ("who_benefits", "The contract went to Norrland Cables, which was awarded 40 million crowns.", True),
    ("who_benefits", "Households will get cheaper heating under the new tariff.", True),
    ("who_benefits", "Passengers will save 5 crowns a trip under the subsidy.", True),
    # a gain word beside a loss word is not a benefit (conservative: such a sentence is not chosen)
    ("who_benefits", "The subsidy lets the operator cut fares while keeping its revenue.", False),
    ("who_benefits", "Local builders stand to win most of the repair work.", True),
    ("who_benefits", "The rail union secured a pay rise of 4 percent for drivers.", True),
    ("who_benefits", "Farmers will receive 30 percent less irrigation water this summer.", False),
    ("who_benefits", "The reservoir stood at 41 percent of capacity on Sunday.", False),
    ("who_benefits", "The vote was postponed to October.", False),
    ("who_benefits", "It rained heavily in the north.", False),
    ("who_benefits", "La constructora Ebro fue adjudicada con un contrato de 40 millones.", True),
    # what this means: implication or context, not a plain fact
    ("what_this_means", "The decision makes it the third city in the region to ban night flights.", True),
    ("what_this_means", "The closure leaves the valley without a hospital for the first time since 1950.", True),
    ("what_this_means", "The cut could put pressure on other operators to lower their fares.", True),
    ("what_this_means", "The museum's visitors came on the first weekend.", False),
    ("what_this_means", "The board approved the plan by seven votes to two.", False),
    # the nuance: something disputed or uncertain
    ("nuance", "Critics say the estimate leaves out the cost of the new pipeline.", True),
    ("nuance", "The figure has not been confirmed by the ministry.", True),
    ("nuance", "The plant opened on Monday.", False),
]


SPANISH = {"El pleno votará la reforma en octubre.", "La constructora Ebro fue adjudicada con un contrato de 40 millones."}


@pytest.mark.parametrize("section,sentence,expected", CASES)
def test_each_section_answers_its_question(section, sentence, expected):
    language = "es" if sentence in SPANISH else "en"
    assert answers(section, sentence, language, story_date=STORY) is expected


def test_a_restatement_is_not_what_this_means():
    assert answers("what_this_means", "The decision makes it the first city to do so.", restates=True) is False


@pytest.mark.parametrize("section", ["what_to_watch", "who_benefits", "what_this_means", "nuance"])
def test_an_unknown_language_abstains(section):
    assert answers(section, "Der Stadtrat wird im Juni abstimmen.", "de") is None
