#!/usr/bin/env python3
"""Balanced accuracy of the checker's claim-support layers on SummEdits-format files.

    python benchmarks/summedits.py DIR [--judge-limit N] [--no-judge] [--minilm]

DIR holds summedits_<domain>.json files (rows with doc, summary, label). Each summary is checked
as one cited sentence against its whole document, with the checker's own code
(agent.checks.claims.assess_sentence). Layers:
  deterministic   hard facts, meaning-change rules and the trained verifier (every row)
  facts only      numbers, names and quotes, nothing else (every row)
  facts+meaning   numbers, names, quotes and the meaning-change rules (every row)
  layered         deterministic, then the judge for sentences the rules cannot decide
  judge alone     the judge model on every row
The judge layers run on the first N rows of each domain (the embedded model needs seconds per
row); the deterministic layer is also reported on that subsample so the columns compare.
--minilm gives the verifier MiniLM sentence similarities (its "minilm" variant).
Note: the verifier was trained on three quarters of these rows (training/train_verifier.py holds out one
document per domain), so the deterministic figure here is partly in-sample; the training script prints
the held-out figure.
Published reference points on the full benchmark: SummaC-Conv 57.1, QAFactEval 65.5, GPT-4 82.1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.checks.claims import HARD_FACTS, assess_sentence  # noqa: E402

FACTS = ("unsupported-number", "unsupported-name", "unsupported-quote")
EMBED = None  # set by --minilm
from agent.schema import Passage  # noqa: E402


def passage(doc: str) -> list[Passage]:
    return [Passage(id="S1:1", source_id="doc", text=doc, start=0, end=len(doc))]


def predict(row: dict, layer: str, judge=None) -> int:
    """1 (consistent) or 0 for one row under one layer."""
    if layer == "judge alone":
        reply = judge(row["summary"], row["doc"])
        return int(bool(reply and reply.supported))
    verdict, found = assess_sentence("body", 0, row["summary"], passage(row["doc"]),
                                     judge=judge if layer == "layered" else None, embed=EMBED)
    if layer == "facts only":
        return 0 if any(v.code in FACTS for v in found) else 1
    if layer == "facts+meaning":
        return 0 if any(v.code in HARD_FACTS for v in found) else 1
    return int(verdict.supported)


def balanced_accuracy(pairs: list[tuple[int, int]]) -> float:
    pos = [p for y, p in pairs if y == 1]
    neg = [p for y, p in pairs if y == 0]
    tpr = sum(pos) / len(pos) if pos else 0.0
    tnr = sum(1 - p for p in neg) / len(neg) if neg else 0.0
    return (tpr + tnr) / 2


def build_judge():
    from agent.config import load_settings
    from agent.deps import build_claim_judge
    from agent.model.llm import CallLog

    settings = load_settings(overrides={"check": {"layers": "judge"}})
    log = CallLog()
    return build_claim_judge(settings, log), log


def table(title: str, rows_by_domain: dict[str, list[dict]], layers: list[str], judge=None) -> None:
    print(f"\n{title}")
    print(f"{'domain':<14} {'rows':>5} " + " ".join(f"{name:>14}" for name in layers))
    means: dict[str, list[float]] = {name: [] for name in layers}
    for domain, rows in rows_by_domain.items():
        scores = []
        for name in layers:
            pairs = [(int(r["label"]), predict(r, name, judge)) for r in rows]
            scores.append(balanced_accuracy(pairs))
            means[name].append(scores[-1])
        print(f"{domain:<14} {len(rows):>5} " + " ".join(f"{s * 100:>13.1f}%" for s in scores), flush=True)
    print(f"{'mean':<14} {'':>5} " + " ".join(f"{sum(v) / len(v) * 100:>13.1f}%" for v in means.values()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--judge-limit", type=int, default=10, help="rows per domain for the judge layers")
    parser.add_argument("--no-judge", action="store_true", help="deterministic layers only")
    parser.add_argument("--minilm", action="store_true", help="the verifier's MiniLM variant")
    args = parser.parse_args()
    if args.minilm:
        global EMBED
        from agent.model.embeddings import MiniLMEmbedding
        EMBED = MiniLMEmbedding()
    data = {p.stem.removeprefix("summedits_"): json.loads(p.read_text())
            for p in sorted(args.folder.glob("summedits_*.json"))}
    if not data:
        raise SystemExit(f"{args.folder}: no summedits_*.json files")
    started = time.perf_counter()
    table("All rows, deterministic layers", data, ["deterministic", "facts only", "facts+meaning"])
    print(f"({time.perf_counter() - started:.1f} s)")
    if not args.no_judge:
        judge, log = build_judge()
        started = time.perf_counter()
        sample = {d: rows[: args.judge_limit] for d, rows in data.items()}
        table(f"First {args.judge_limit} rows per domain, with the judge (embedded model unless "
              "BRIEF_JUDGE_BASE_URL is set)", sample, ["deterministic", "layered", "judge alone"], judge)
        t = log.totals
        print(f"({time.perf_counter() - started:.1f} s, {t.llm_calls} judge calls, {t.prompt_tokens}+{t.completion_tokens} tokens)")
    print("reference (full benchmark): SummaC-Conv 57.1, QAFactEval 65.5, GPT-4 82.1")


if __name__ == "__main__":
    main()
