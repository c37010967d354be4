"""Leakage detector: recall on unseen phrasings, no false alarms on news prose or quoted speech."""

import pytest

from agent.checks.leakage import find_leakage, leakage_spans

LEAKY = [
    ("If you'd like, I can also help you expand this into a longer feature.", "offer of further help"),
    ("If you want, I could draft a shorter version for social media.", "offer of further help"),
    ("Let me know if you need any changes!", "offer of further help"),
    ("Just let me know!", "offer of further help"),
    ("Would you like me to add a timeline of events?", "offer of further help"),
    ("Do you want me to translate it into Spanish?", "offer of further help"),
    ("Feel free to ask if anything is unclear.", "offer of further help"),
    ("I can also summarize the key points for you if you like.", "offer of further help"),
    ("Happy to help further with the formatting.", "offer of further help"),
    ("Shall I convert it into bullet points?", "offer of further help"),
    ("Certainly! Here's a concise summary of the article.", "preamble"),
    ("Sure, here is the revised version of the brief.", "preamble"),
    ("Here is the corrected table:", "preamble"),
    ("Below is a summary of the main points.", "preamble"),
    ("As an AI language model, I cannot verify these claims.", "AI self-reference"),
    ("I'm just an AI, so I may be wrong.", "AI self-reference"),
    ("As of my last update, the project had not started.", "knowledge-cutoff talk"),
    ("My knowledge cutoff prevents me from knowing the outcome.", "knowledge-cutoff talk"),
    ("I hope this helps!", "closing filler"),
    ("Hope this helps with your story.", "closing filler"),
    ("I apologize for the confusion in my previous answer.", "apology"),
    ("(Word count: 212)", "word-count remark"),
    ("You are a helpful assistant that writes news briefs.", "prompt echo"),
    ("Reply with JSON only.", "prompt echo"),
    ("A dek of one sentence (at most 30 words) goes here.", "prompt echo"),
    ("<think>The user wants a summary.</think>", "reasoning tag"),
    ("The port reopened.<|im_end|>", "chat-template token"),
    ("[INST] Summarize the text [/INST]", "chat-template token"),
    ("The mayor, [Insert Name], opened the bridge.", "unfilled placeholder"),
    ("The deal is worth {amount} dollars.", "unfilled placeholder"),
    ("Signed, {{ author }}", "unfilled placeholder"),
]
CLEAN = [
    "'Certainly not,' the spokesman said when asked about a merger.",
    "\"Let me know when you land,\" she told him before the flight.",
    "The minister said she hoped the plan would help families in the north.",
    "The council will let residents know its decision in May.",
    "Officials can help farmers who apply before the deadline, the ministry said.",
    "Here, on the quay, fishermen unload their catch at dawn.",
    "The company apologised to customers after the outage on Monday.",
    "Analysts said the model of public funding was unlikely to change.",
    "The AI industry lobbied against the law, which passed 61 to 40.",
    "If approved, the plan would let the city borrow 300 million crowns.",
    "Sure enough, prices rose again in March.",
    "The report, which runs to 212 pages, was published on Friday.",
    "The union's leader said: \"I can help you, but only if you vote.\"",
    "The todo list of the committee was long.",
    "Growers want the promise written into law.",
    "Feel the difference, the advert said, and shoppers did.",
    "He asked whether the board would like to see the figures first.",
    "The museum hopes to attract 150,000 visitors a year.",
    "It is the third plant in the region, after Bray and Lisk.",
    "The brief was delivered to the court on Tuesday.",
]


@pytest.mark.parametrize("text, category", LEAKY)
def test_detects_assistant_text(text, category):
    found = leakage_spans(text)
    assert found, text
    assert category in {c for _, _, c in found}


@pytest.mark.parametrize("text", CLEAN)
def test_no_false_alarm_on_news_prose_or_quotes(text):
    assert leakage_spans(text) == []


def test_span_covers_the_offer_and_spares_the_news():
    text = "The port reopened on Monday. If you'd like, I can also turn this into a table. Just let me know! Ships resumed."
    (v,) = find_leakage(text, "body")
    assert text[v.start:v.end] == "If you'd like, I can also turn this into a table. Just let me know!"
    assert v.code == "chatbot-leakage" and v.section == "body"


def test_recall_and_false_positive_rate_on_this_table():
    recall = sum(bool(leakage_spans(t)) for t, _ in LEAKY) / len(LEAKY)
    false_positives = sum(bool(leakage_spans(t)) for t in CLEAN) / len(CLEAN)
    assert recall == 1.0 and false_positives == 0.0
