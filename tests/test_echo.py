"""Prompt echo and empty-looking fields: seen in real runs of the small model, now caught."""

import pytest

from agent.checks.echo import find_prompt_echo
from agent.checks.leakage import find_leakage

ECHOES = [
    ("headline", "The story matters"),
    ("body", "The main facts of the story: who did what, when and where, with key figures, in this section."),
    ("what_to_watch", "One upcoming step, decision or deadline worth monitoring is the vote."),
    ("body", "Keep names and numbers exactly as written: the council approved the plan."),
]
CLEAN = [
    ("headline", "Port Carrow approves seawater desalination plant"),
    ("headline", "Why the ferry subsidy matters to Skerra families"),
    ("body", "The council approved the tram line on Tuesday by nine votes to four."),
    ("what_to_watch", "The board votes on the budget on 3 March."),
    ("nuance", "Critics questioned whether the plant would be ready by 2029."),
]


@pytest.mark.parametrize("section,text", ECHOES)
def test_echo_of_our_own_instructions_is_leakage(section, text):
    (v,) = find_prompt_echo(text, section, short=section == "headline")
    assert v.code == "chatbot-leakage" and "prompt echo" in v.message


@pytest.mark.parametrize("section,text", CLEAN)
def test_news_prose_is_not_an_echo(section, text):
    assert find_prompt_echo(text, section, short=section == "headline") == []


def test_a_lone_brace_is_reply_debris():
    assert [v.code for v in find_leakage("The operator said so. } The main points follow.")] == ["unfilled-placeholder"]
    assert find_leakage("Prices rose 4% (against 3% forecast) in 2025.") == []
