"""Cost of the leakage check with its learned layer: model load, a brief's sentences cold, the same re-checked.

    python benchmarks/leakage.py          # prints seconds; the layer's quality figures are in
                                          # agent/checks/data/leakage_stats.json (see LEAKAGE-CARD.md)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.checks.leakage import find_leakage, leakage_spans  # noqa: E402
from agent.checks.learned_leakage import score_sentences  # noqa: E402
from agent.config import load_settings  # noqa: E402
from agent.sources.ingest import load_sources  # noqa: E402
from agent.text import split_sentences  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    settings = load_settings()
    sources = load_sources([ROOT / "examples" / "harbor-desalination"], settings.ingest).sources
    text = " ".join(s.text for s in sources)
    sentences = [text[a:b] for a, b in split_sentences(text)][:25]
    brief = " ".join(sentences)  # about the size of a brief's cited sentences
    started = time.perf_counter()
    leakage_spans(brief)
    patterns = time.perf_counter() - started
    started = time.perf_counter()
    if score_sentences(["A first sentence loads the model."]) is None:
        print("learned layer off (no MiniLM package, or BRIEF_LEARNED_LEAKAGE=off)")
        return
    load = time.perf_counter() - started
    started = time.perf_counter()
    find_leakage(brief)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    find_leakage(brief)
    warm = time.perf_counter() - started
    print(f"patterns only, {len(sentences)} sentences: {patterns * 1000:.1f} ms")
    print(f"learned layer: model load {load:.2f} s (once per process)")
    print(f"find_leakage, {len(sentences)} new sentences: {cold * 1000:.0f} ms; re-checked (cached): {warm * 1000:.1f} ms")


if __name__ == "__main__":
    main()
