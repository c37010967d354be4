"""Pipe-table defects: duplicated rows, rows repeating their own cells, column mismatches."""

from __future__ import annotations

import re

from agent.schema import Violation
from agent.text import normalize_for_compare

_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|*[\s|]*$")


def is_table_row(line: str) -> bool:
    return line.count("|") >= 2 and not _SEPARATOR.match(line)


def cells(line: str) -> list[str]:
    """Cell texts of a row; empty trailing cells (from '||' padding) dropped."""
    parts = [c.strip() for c in line.strip().strip("|").split("|")]
    while parts and not parts[-1]:
        parts.pop()
    return parts


def repeated_run(parts: list[str]) -> int | None:
    """Length of a run of cells that repeats immediately (A B A B C -> 2), else None."""
    keys = [normalize_for_compare(p) for p in parts]
    for size in range(len(keys) // 2, 0, -1):
        for i in range(len(keys) - 2 * size + 1):
            if keys[i:i + size] == keys[i + size:i + 2 * size] and any(keys[i:i + size]):
                return size
    return None


def repair_row_repeating_cells(row: str) -> str | None:
    """Collapse the repeated run of cells ('A | B | A | B | C |' -> '| A | B | C |')."""
    parts = cells(row)
    size = repeated_run(parts)
    if size is None:
        return None
    keys = [normalize_for_compare(p) for p in parts]
    for i in range(len(keys) - 2 * size + 1):
        if keys[i:i + size] == keys[i + size:i + 2 * size]:
            parts = parts[:i + size] + parts[i + 2 * size:]
            return "| " + " | ".join(parts) + " |"
    return None


def table_row_defect_lines(text: str) -> list[tuple[int, str, int]]:
    """(line index, defect code, earlier line index or -1) for every defective row in `text`."""
    defects: list[tuple[int, str, int]] = []
    seen: dict[str, int] = {}
    header_width: int | None = None
    for i, line in enumerate(text.split("\n")):
        if not is_table_row(line):
            if not _SEPARATOR.match(line):
                seen, header_width = {}, None  # a new table starts after prose
            continue
        parts = cells(line)
        key = normalize_for_compare(" | ".join(parts))
        if key in seen:
            defects.append((i, "duplicate-table-row", seen[key]))
            continue
        seen[key] = i
        if repeated_run(parts) is not None and len(parts) >= 3:
            defects.append((i, "table-row-repeats-cells", -1))
        elif header_width is None:
            header_width = len(parts)
        elif len(parts) != header_width:
            defects.append((i, "table-column-mismatch", -1))
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
            "duplicate-table-row": f"table row duplicates line {earlier + 1}",
            "table-row-repeats-cells": "table row repeats its own cells",
            "table-column-mismatch": "table row has a different number of cells from the header",
        }[code]
        out.append(Violation(code=code, section=section, start=starts[i], end=starts[i] + len(lines[i]),
                             text=lines[i], message=message,
                             severity="warning" if code == "table-column-mismatch" else "error"))
    return out
