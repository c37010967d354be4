"""Table rules and repetition, table-driven."""

import pytest

from agent.checks.repetition import find_looping, find_repetition
from agent.checks.tables import find_table_defects, repair_row_repeating_cells

HEADER = "| Port | Cargo | Change |\n|---|---|---|\n"


@pytest.mark.parametrize(
    "rows, codes",
    [
        ("| Lisk | Grain | up 4% |\n| Bray | Coal | down 2% |", []),
        ("| Lisk | Grain | up 4% |\n| Lisk | Grain | up 4% |", ["duplicate-table-row"]),
        ("| Lisk | Grain | up 4% |\n|  lisk | GRAIN | up 4%. |", ["duplicate-table-row"]),
        ("| Lisk | Grain | Lisk | Grain | up 4% |", ["table-row-repeats-cells"]),
        ("| Lisk | Grain |", ["table-column-mismatch"]),
        ("| Lisk | Grain | up 4% | ||", []),
    ],
)
def test_table_defects(rows, codes):
    found = find_table_defects(HEADER + rows)
    assert [v.code for v in found] == codes
    for v in found:
        assert (HEADER + rows)[v.start:v.end] == v.text
        assert v.severity == ("warning" if v.code == "table-column-mismatch" else "error")


def test_separator_with_trailing_empty_cells_is_not_a_defect():
    text = "| A | B | C | ||\n---|---|---|---|---|\n| x | y | z | ||\n| p | q | r |"
    assert find_table_defects(text) == []


def test_repair_collapses_the_repeated_run():
    assert repair_row_repeating_cells("Defence | Jets, radar | Defence | Jets, radar | Costly |") == "| Defence | Jets, radar | Costly |"
    assert repair_row_repeating_cells("| a | b | c |") is None


@pytest.mark.parametrize(
    "items, flagged",
    [
        ([("body", 0, "The council approved the tram line on Tuesday."),
          ("what_this_means", 0, "The council approved the tram line on Tuesday.")], [("what_this_means", 0)]),
        ([("body", 0, "The council approved the tram line on Tuesday."),
          ("body", 1, "the council approved the tram line, on Tuesday!")], [("body", 1)]),
        ([("body", 0, "The council approved the tram line on Tuesday."),
          ("body", 1, "Opposition members warned the budget could rise.")], []),
        ([("what_to_watch", 0, "Watch the vote."), ("what_to_watch", 1, "Watch the vote.")], []),
        ([("dek", 0, "The harbour board approved a new ferry terminal on Monday."),
          ("what_to_watch", 0, "The harbour board approved a new ferry terminal on Monday. Works start in May.")],
         [("what_to_watch", 0)]),
    ],
)
def test_repetition(items, flagged):
    assert [(v.section, v.sentence_index) for v in find_repetition(items)] == flagged


@pytest.mark.parametrize("text, looped", [
    ("The main figures were: the main figures were: the main figures were: the main", True),
    ("The board met, the board voted, and the board adjourned.", False),
])
def test_looping_text(text, looped):
    assert bool(find_looping(text, "trend")) == looped
