"""Time the table rules on long rows: the run detection must grow linearly with the row.

    python benchmarks/tables.py          # prints seconds per row size and the growth factor
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.checks.tables import find_table_defects  # noqa: E402


def row_of(kb: int) -> str:
    """A pipe-table row of about `kb` kilobytes, no two cells alike (the old rule's worst case)."""
    cells, size, i = [], 0, 0
    while size < kb * 1024:
        cell = f"cell {i}"
        cells.append(cell)
        size += len(cell) + 3
        i += 1
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    timings = {}
    for kb in (8, 16, 32, 63):
        text = "| a | b |\n|---|---|\n" + row_of(kb) + "\n| x | " + " | ".join(["0"] * (kb * 256)) + " y |"
        started = time.perf_counter()
        find_table_defects(text)
        timings[kb] = time.perf_counter() - started
        print(f"{kb:>3} KB row: {timings[kb] * 1000:8.1f} ms")
    growth = timings[63] / max(timings[8], 1e-9)
    print(f"63 KB / 8 KB time: x{growth:.1f} (linear would be about x7.9; the old cubic rule took 97 s at 63 KB)")
    print("target: 63 KB row under 1 s:", "holds" if timings[63] < 1.0 else "FAILS")


if __name__ == "__main__":
    main()
