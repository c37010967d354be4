#!/usr/bin/env python3
"""Balanced accuracy of the deterministic claim-support layer on SummEdits: summedits.py DIR

Each summary is checked as a one-sentence draft against passages of its document, with the same
rules the checker uses (numbers, names, quotes, content-word support). The judge layer is not
built yet, so only the deterministic layer is reported.
"""

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.checks.support import unsupported_facts  # noqa: E402
from agent.ingest import split_passages  # noqa: E402
from agent.schema import Source, content_id  # noqa: E402

RULES = ("unsupported-number", "unsupported-name", "unsupported-quote", "unsupported-content")


def predict(doc: str, summary: str, rules: tuple[str, ...]) -> int:
    """1 (consistent) when no enabled rule fires against the whole document."""
    source = Source(id=content_id(doc), text=doc)
    passages = split_passages(source, 1, 100_000)
    found = unsupported_facts("body", 0, summary, passages)
    return 0 if any(v.code in rules for v in found) else 1


def balanced_accuracy(pairs: list[tuple[int, int]]) -> float:
    pos = [p for y, p in pairs if y == 1]
    neg = [p for y, p in pairs if y == 0]
    tpr = sum(pos) / len(pos) if pos else 0.0
    tnr = sum(1 - p for p in neg) / len(neg) if neg else 0.0
    return (tpr + tnr) / 2


def main(folder: Path) -> None:
    started = time.perf_counter()
    layers = {"all rules": RULES, "facts only (no content)": RULES[:3]}
    print(f"{'domain':<14} {'rows':>5} " + " ".join(f"{name:>24}" for name in layers))
    means = {name: [] for name in layers}
    for path in sorted(folder.glob("summedits_*.json")):
        rows = json.loads(path.read_text())
        domain = path.stem.removeprefix("summedits_")
        scores = []
        for name, rules in layers.items():
            pairs = [(int(r["label"]), predict(r["doc"], r["summary"], rules)) for r in rows]
            scores.append(balanced_accuracy(pairs))
            means[name].append(scores[-1])
        print(f"{domain:<14} {len(rows):>5} " + " ".join(f"{s * 100:>23.1f}%" for s in scores))
    print(f"{'mean':<14} {'':>5} " + " ".join(f"{sum(v) / len(v) * 100:>23.1f}%" for v in means.values()))
    print(f"reference (full benchmark): SummaC-Conv 57.1, QAFactEval 65.5, GPT-4 82.1; {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        raise SystemExit(2)
    main(Path(sys.argv[1]))
