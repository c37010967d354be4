"""The checker's seeded-defect self-test holds its targets (a smaller run than the benchmark's)."""

import pytest

from evals.seeded_defects import plant, run_seeded_defects


@pytest.fixture(scope="module")
def result():
    return run_seeded_defects(seed=3, cases=60)


def test_leakage_recall_and_false_positive_rate(result):
    row = result["types"]["leakage"]
    assert row["recall"] >= 0.95 and row["false_positive_rate"] <= 0.02, result["misses"]


@pytest.mark.parametrize("kind", ["duplicate-table-row", "repeated-sentence", "table-row-repeats-cells"])
def test_structural_defects_are_always_caught(result, kind):
    assert result["types"][kind]["recall"] == 1.0, result["misses"]
    assert result["types"][kind]["false_positive_rate"] == 0.0


def test_a_planted_duplicate_row_really_duplicates_an_earlier_row():
    import random

    from agent.text import normalize_for_compare

    draft = plant(random.Random(0), "duplicate-table-row")
    a, b = draft.span
    planted = draft.text[a:b]
    earlier = [line for line in draft.text[:a].splitlines() if line.startswith("|")]
    assert planted.startswith("|") and planted.count("|") == 4
    assert normalize_for_compare(planted) in {normalize_for_compare(line) for line in earlier}
