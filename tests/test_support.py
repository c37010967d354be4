"""Citation and claim-support rules, table-driven."""

import pytest

from agent.checks.claims import check_citations
from agent.checks.support import numbers_in
from agent.schema import Passage, Sentence

PASSAGES = {
    "S1:1": Passage(id="S1:1", source_id="a", start=0, end=10, text=(
        "The Corvel Water Authority approved a 1.2 billion dollar desalination plant on 4 March 2026, "
        "raising capacity by 13.4% to serve two districts, said director Mara Ilves.")),
    "S2:1": Passage(id="S2:1", source_id="b", start=0, end=10, text=(
        "Critics in Lanmouth said the plant would cost $1.4 billion, not the official figure.")),
}


@pytest.mark.parametrize(
    "sentence, codes",
    [
        (Sentence(text="The authority approved the plant.", citations=["S1:1"]), []),
        (Sentence(text="Capacity rises 13.4 percent under director Mara Ilves.", citations=["S1:1"]), []),
        (Sentence(text="The plant serves 2 districts at a cost of 1.2 billion dollars.", citations=["S1:1"]), []),
        (Sentence(text="One district gets the water first.", citations=["S1:1"]), []),
        (Sentence(text="Critics put the cost at $1.4 billion.", citations=["S2:1"]), []),
        (Sentence(text="Critics put the cost at $1.6 billion.", citations=["S2:1"]), ["unsupported-number"]),
        (Sentence(text="The plant was approved in 2025.", citations=["S1:1"]), ["unsupported-number"]),
        (Sentence(text="The plant was approved.", citations=[]), ["missing-citation"]),
        (Sentence(text="The plant was approved.", citations=["S9:9"]), ["unknown-citation"]),
        (Sentence(text="Minister Tomas Brandt backed the plant.", citations=["S1:1"]), ["unsupported-name", "unsupported-content"]),
        (Sentence(text="The authority is a charity that feeds vulnerable communities worldwide.", citations=["S1:1"]),
         ["unsupported-content"]),
        (Sentence(text="Director Mara Ilves said the approved desalination plant raises capacity.", citations=["S1:1"]), []),
        (Sentence(text='Ilves called it "a historic day for the coast".', citations=["S1:1"]), ["unsupported-content", "unsupported-quote"]),
        (Sentence(text="The sources do not say.", kind="notice"), []),
    ],
)
def test_check_citations(sentence, codes):
    found = [v.code for v in check_citations("body", [sentence], PASSAGES)]
    assert found == codes


def test_unsupported_number_span_points_at_the_number():
    text = "Critics put the cost at $1.6 billion."
    (v,) = check_citations("body", [Sentence(text=text, citations=["S2:1"])], PASSAGES)
    assert text[v.start:v.end].startswith("1.6")
    assert v.evidence and v.evidence[0].passage == "S2:1"


@pytest.mark.parametrize("text, value", [("13.4%", 13.4), ("1,200", 1200.0), ("two", 2.0), ("3 million", 3e6)])
def test_numbers_in_normalizes(text, value):
    assert any(value in vals for _, _, vals in numbers_in(text))
