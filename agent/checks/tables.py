"""Pipe-table defects: duplicated rows, rows copying their own label or the header, column mismatches."""

from __future__ import annotations

import re

from agent.checks.codes import Code
from agent.schema import Violation
from agent.text import normalize_for_compare

TABLE_CODES = frozenset({Code.DUPLICATE_TABLE_ROW, Code.TABLE_ROW_REPEATS_CELLS, Code.TABLE_COLUMN_MISMATCH})
TABLE_DUPLICATION_CODES = TABLE_CODES - {Code.TABLE_COLUMN_MISMATCH}  # a short row is a warning, not a copy
_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|*[\s|]*$")
_LETTER = re.compile(r"[^\W\d_]")


def is_table_row(line: str) -> bool:
    return line.count("|") >= 2 and not _SEPARATOR.match(line)


def cells(line: str) -> list[str]:
    """Cell texts of a row; empty trailing cells (from '||' padding) dropped."""
    parts = [c.strip() for c in line.strip().strip("|").split("|")]
    while parts and not parts[-1]:
        parts.pop()
    return parts


def _z_function(keys: list[str]) -> list[int]:
    """z[k] = length of the longest common prefix of keys and keys[k:] (linear time)."""
    n = len(keys)
    z = [0] * n
    left = right = 0
    for k in range(1, n):
        if k < right:
            z[k] = min(right - k, z[k - left])
        while k + z[k] < n and keys[z[k]] == keys[k + z[k]]:
            z[k] += 1
        if k + z[k] > right:
            left, right = k, k + z[k]
    return z


def _wordy(keys: list[str]) -> bool:
    """Some cell holds words, not only figures or blanks: copied figures are ordinary ('0 | 0 | 0')."""
    return any(_LETTER.search(k) for k in keys)


def repeated_run(parts: list[str], header: list[str] | None = None) -> tuple[int, int] | None:
    """(start, size) of a run of cells that is debris, else None; linear in the row's length.

    Debris is: the row's label run copied right after itself ('Lisk | Grain | Lisk | Grain'), every
    value cell copying the label, or an immediate repeat that makes the row wider than the header
    ('Airport Line | no service | no service' under two columns). A value repeated inside a row of
    the header's width ('Q1 | 0 | 0 | 0', 'Bread | loaf | 1.20 | 1.20') is normal.
    """
    keys = [normalize_for_compare(p) for p in parts]
    n = len(keys)
    if n < 2 or not keys[0]:
        return None
    if _wordy(keys[:1]) and all(k == keys[0] for k in keys[1:]):
        return 0, 1
    z = _z_function(keys)
    first_other = next((m for m, k in enumerate(keys) if k != keys[0]), n)  # the run needs two distinct cells
    first_word = next((m for m, k in enumerate(keys) if _LETTER.search(k)), n)  # and a cell of words
    for size in range(max(2, first_other + 1, first_word + 1), n // 2 + 1):
        if z[size] >= size:
            return 0, size
    if header is not None and n > len(header):
        size = n - len(header)
        same = [keys[m] == keys[m + size] and bool(keys[m]) for m in range(n - size)]
        streak = 0
        for m, ok in enumerate(same):
            streak = streak + 1 if ok else 0
            if streak >= size:
                return m - size + 1, size
    return None


def copies_header(parts: list[str], header: list[str]) -> bool:
    """Every value cell repeats the header's cell above it (the header pasted in under a new label)."""
    keys = [normalize_for_compare(p) for p in parts]
    heads = [normalize_for_compare(h) for h in header]
    return (len(keys) == len(heads) >= 3 and keys[0] != heads[0]
            and keys[1:] == heads[1:] and _wordy(heads[1:]))


def repair_row_repeating_cells(row: str, header: list[str] | None = None) -> str | None:
    """Collapse the repeated run of cells ('A | B | A | B | C |' -> '| A | B | C |')."""
    parts = cells(row)
    found = repeated_run(parts, header)
    if found is None and header is None:  # flagged against a header we were not given: drop the first copy
        keys = [normalize_for_compare(p) for p in parts]
        found = next(((m, 1) for m in range(len(keys) - 1) if keys[m] and keys[m] == keys[m + 1]), None)
    if found is None:
        return None
    start, size = found
    if size == 1 and start == 0 and len(parts) > 2:  # every value cell copies the label: keep one copy
        return "| " + " | ".join(parts[:2]) + " |"
    parts = parts[:start + size] + parts[start + 2 * size:]
    return "| " + " | ".join(parts) + " |"


def table_row_defect_lines(text: str) -> list[tuple[int, str, int]]:
    """(line index, defect code, earlier line index or -1) for every defective row in `text`."""
    defects: list[tuple[int, str, int]] = []
    seen: dict[str, int] = {}
    header: list[str] | None = None
    for i, line in enumerate(text.split("\n")):
        if not is_table_row(line):
            if not _SEPARATOR.match(line):
                seen, header = {}, None  # a new table starts after prose
            continue
        parts = cells(line)
        key = normalize_for_compare(" | ".join(parts))
        if key in seen:
            defects.append((i, Code.DUPLICATE_TABLE_ROW, seen[key]))
            continue
        seen[key] = i
        if header is None:
            if repeated_run(parts) is not None and len(parts) >= 3:
                defects.append((i, Code.TABLE_ROW_REPEATS_CELLS, -1))
            else:
                header = parts
        elif repeated_run(parts, header) is not None or copies_header(parts, header):
            defects.append((i, Code.TABLE_ROW_REPEATS_CELLS, -1))
        elif len(parts) != len(header):
            defects.append((i, Code.TABLE_COLUMN_MISMATCH, -1))
    return defects


def find_table_defects(text: str, section: str = "body") -> list[Violation]:
    """Violations with spans for each defective table row."""
    starts, pos = [], 0
    lines = text.split("\n")
    for line in lines:
        starts.append(pos)
        pos += len(line) + 1
    out = []
    for i, code, earlier in table_row_defect_lines(text):
        message = {
            Code.DUPLICATE_TABLE_ROW: f"table row duplicates line {earlier + 1}",
            Code.TABLE_ROW_REPEATS_CELLS: "table row copies its own label or the header into its cells",
            Code.TABLE_COLUMN_MISMATCH: "table row has a different number of cells from the header",
        }[code]
        out.append(Violation(code=code, section=section, start=starts[i], end=starts[i] + len(lines[i]),
                             text=lines[i], message=message,
                             severity="warning" if code == Code.TABLE_COLUMN_MISMATCH else "error"))
    return out
