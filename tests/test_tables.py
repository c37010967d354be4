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


CLEAN_TABLES = [
    "| Quarter | North | South | West |\n|---|---|---|---|\n| Q1 | 0 | 0 | 0 |\n| Q2 | 3 | 1 | 2 |",
    "| Region | 2024 | 2025 | 2026 |\n|---|---|---|---|\n| North | n/a | n/a | 1.2 |\n| South | 0.8 | 0.9 | 1.1 |",
    "| Item | Unit | Price 2025 | Price 2026 |\n|---|---|---|---|\n| Bread | loaf | 1.20 | 1.20 |\n| Milk | litre | 0.95 | 1.05 |",
    "| Candidate | Round 1 | Round 2 |\n|---|---|---|\n| A. Moreau | 31.2% | 31.2% |\n| B. Laine | 28.0% | 40.1% |",
    "| Line | Mon | Tue | Wed | Thu |\n|---|---|---|---|---|\n| Harbour | closed | closed | closed | open |",
    "| Ward | Seats | Won |\n|---|---|---|\n| Eastgate | 4 | 4 |\n| Westgate | 3 | 3 |",
    "| Site | Status | Owner |\n|---|---|---|\n| Quay 1 | open | city |\n| Quay 2 | open | city |",
    "| Team | P | W | D | L |\n|---|---|---|---|---|\n| Lisk | 0 | 0 | 0 | 0 |",
    "| Q1 | 0 | 0 | 0 |",
]
DEFECTIVE_TABLES = [
    ("| Port | Cargo | Change |\n|---|---|---|\n| Lisk | Grain | up 4% |\n| Lisk | Grain | up 4% |", "duplicate-table-row"),
    ("| Port | Cargo | Change |\n|---|---|---|\n| Lisk | Lisk | Lisk |", "table-row-repeats-cells"),
    ("| Port | Cargo | Change |\n|---|---|---|\n| Lisk | Grain | Lisk | Grain | up 4% |", "table-row-repeats-cells"),
    ("| Port | Cargo | Change |\n|---|---|---|\n| Bray | Cargo | Change |", "table-row-repeats-cells"),
    ("| Port | Cargo | Change |\n|---|---|---|\n| Port | Cargo | Change |", "duplicate-table-row"),
    ("| Line | Service during strike |\n|---|---|\n| Airport Line | no service | no service |", "table-row-repeats-cells"),
    ("| Line | Service |\n|---|---|\n| Valley Line | buses |\n| VALLEY LINE | Buses. |", "duplicate-table-row"),
    ("| Port | Cargo | Change |\n|---|---|---|\n| Lisk | Grain | up 4% |\n| Lisk |", "table-column-mismatch"),
]


@pytest.mark.parametrize("table", CLEAN_TABLES)
def test_rows_repeating_a_value_are_normal(table):
    assert find_table_defects(table) == []


@pytest.mark.parametrize("table, code", DEFECTIVE_TABLES)
def test_duplicated_rows_and_copied_labels_or_headers_are_flagged(table, code):
    assert [v.code for v in find_table_defects(table)] == [code]


def test_repair_drops_the_copy_that_widened_the_row():
    assert repair_row_repeating_cells("| Airport Line | no service | no service |", ["Line", "Service"]) \
        == "| Airport Line | no service |"
    assert repair_row_repeating_cells("| Airport Line | no service | no service |") == "| Airport Line | no service |"
    assert repair_row_repeating_cells("| Bread | loaf | 1.20 | 1.20 |", ["Item", "Unit", "2025", "2026"]) is None


def test_a_very_long_row():
    """Correctness on a 60 KB row (the timing itself is printed by benchmarks/tables.py)."""
    row = "| " + " | ".join(f"cell {i}" for i in range(8000)) + " |"
    assert [v.code for v in find_table_defects("| a | b |\n|---|---|\n" + row)] == ["table-column-mismatch"]
    doubled = "| " + " | ".join([f"c{i}" for i in range(3000)] * 2) + " |"
    assert [v.code for v in find_table_defects(doubled)] == ["table-row-repeats-cells"]


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
