"""The checker on its own (--checker): a SummEdits-style sample and the lead's seeded-defect self-test."""

from __future__ import annotations

import importlib.util
import json
import time
from functools import lru_cache
from pathlib import Path

from evals.dataset import ROOT

SUMMEDITS_SAMPLE = Path(__file__).resolve().parent / "datasets" / "summedits-sample.jsonl"


@lru_cache(maxsize=1)
def _summedits_benchmark():
    """benchmarks/summedits.py, so the sample is scored exactly as the full benchmark is."""
    path = ROOT / "benchmarks" / "summedits.py"
    spec = importlib.util.spec_from_file_location("brief_benchmarks_summedits", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def summedits_sample(path: Path = SUMMEDITS_SAMPLE, layers: tuple[str, ...] = ("deterministic", "facts only")) -> dict:
    """Balanced accuracy of the checker's deterministic layers on the sample, via the benchmark's predict()."""
    bench = _summedits_benchmark()
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    predictions = {layer: [bench.predict(r, layer) for r in rows] for layer in layers}
    out: dict = {"rows": len(rows), "consistent": sum(int(r["label"]) == 1 for r in rows), "layers": {}, "items": []}
    for layer, preds in predictions.items():
        out["layers"][layer] = round(bench.balanced_accuracy([(int(r["label"]), p) for r, p in zip(rows, preds)]), 4)
    for i, r in enumerate(rows):
        out["items"].append({"id": r["id"], "label": int(r["label"]), "summary": r["summary"],
                             "edit_types": json.loads(r.get("edit_types") or "[]"), "predicted": predictions[layers[0]][i]})
    return out


def seeded_defects(seed: int = 0, cases: int = 200) -> dict:
    """evals/seeded_defects.run_seeded_defects when it exists; otherwise says why it was skipped."""
    try:
        from evals.seeded_defects import run_seeded_defects
    except ImportError as e:
        return {"skipped": f"evals/seeded_defects.py not available ({e})"}
    return {"seed": seed, "cases": cases, "results": run_seeded_defects(seed=seed, cases=cases)}


def run_checker_bench() -> dict:
    started = time.monotonic()
    try:
        out = {"summedits": summedits_sample()}
    except Exception as e:  # benchmarks/summedits.py is shared with the checker work: report, don't crash
        out = {"summedits": {"skipped": f"error: {e.__class__.__name__}: {e}"}}
    try:
        out["seeded_defects"] = seeded_defects()
    except Exception as e:  # the self-test is someone else's module: report, don't crash the eval
        out["seeded_defects"] = {"skipped": f"error: {e.__class__.__name__}: {e}"}
    out["wall_s"] = round(time.monotonic() - started, 3)
    return out
