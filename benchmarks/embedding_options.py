#!/usr/bin/env python3
"""Embedding options side by side: cold-index speed and retrieval quality (MRR), in one run.

    python benchmarks/embedding_options.py [--only NAME,...] [--json-out FILE]

Speed, each option in a fresh process (imports done, no model loaded, empty store): ingest 10
synthetic sources of ~2,000 words (benchmarks/pipeline.py's generator), open the store, index, and
ask the 5 section queries retrieve asks — the part of a cold brief that depends on the embedder
(lazy options embed at query time, so the queries are in). PASS/FAIL against 2 s.
Quality, in the same process afterwards: 48 queries (24 paraphrases with few shared words, 24
keyword queries) over 24 fictional passages (tests/fixtures/retrieval/mrr.json) hidden among the
same ~400 synthetic passages; PassageStore.search (hybrid fusion, as drafting uses it), k = 10.
"section hits as numpy": the share of the baseline's top-18 hits for the 5 section queries that an
option returns too (what retrieve hands to drafting).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FIXTURE = ROOT / "tests" / "fixtures" / "retrieval" / "mrr.json"
COLD_TARGET_S = 2.0

# name -> [embeddings] overrides, plus "blas_threads" for the numpy path's thread check
OPTIONS: dict[str, dict] = {
    "numpy": {"backend": "minilm", "dense": "eager"},  # the baseline: exact fp32, every passage at index time
    "numpy 2-threads": {"backend": "minilm", "dense": "eager", "blas_threads": 2},
    "numpy batch-8": {"backend": "minilm", "dense": "eager", "batch_size": 8},
    "numpy 128-tok": {"backend": "minilm", "dense": "eager", "max_tokens": 128},
    "numpy lazy": {"backend": "minilm", "dense": "lazy"},
    "int8": {"backend": "minilm-int8", "dense": "eager"},
    "int8 128-tok": {"backend": "minilm-int8", "dense": "eager", "max_tokens": 128},
    "int8 lazy": {"backend": "minilm-int8", "dense": "lazy"},
    "int8 lazy-24": {"backend": "minilm-int8", "dense": "lazy", "lazy_candidates": 24},
    "int8 lazy 128-tok": {"backend": "minilm-int8", "dense": "lazy", "max_tokens": 128},
    "hashing": {"backend": "hashing", "dense": "eager"},  # no model: the floor
}
# the rows benchmarks/pipeline.py --quick shows (speed only)
PIPELINE_OPTIONS = ["numpy", "numpy 128-tok", "numpy lazy", "int8", "int8 128-tok", "int8 lazy"]


def _settings(data_dir: Path, option: dict):
    from agent.config import load_settings

    embeddings = {k: v for k, v in option.items() if k != "blas_threads"}
    return load_settings(overrides={"data_dir": str(data_dir), "embeddings": embeddings}, env={})


def _counting(store) -> list[int]:
    """Count the texts the store's embedder is asked for (passages and queries)."""
    counted = [0]
    ef = store.ef
    original = type(ef).__call__

    class Counting(type(ef)):  # chromadb calls ef(...) through the class: wrap the instance's class
        def __call__(self, input):
            counted[0] += len(input)
            return original(self, input)

    ef.__class__ = Counting
    return counted


def cold_index(option: dict, corpus: Path, data_dir: Path) -> dict:
    """Ingest + store open + index + retrieve's 5 queries, timed; in a fresh process for a cold figure."""
    from agent.model import embeddings
    from agent.api import passages_of
    from agent.deps import build_store
    from agent.house_format import SECTIONS, SELECTION_ORDER
    from agent.sources.ingest import load_sources

    if option.get("blas_threads", 1) > 1:
        embeddings.ONE_THREAD_UP_TO_CPUS = 0  # let OpenBLAS use its threads for batches
    settings = _settings(data_dir, option)
    began = time.perf_counter()
    sources = load_sources([corpus], settings.ingest).sources
    passages = passages_of(sources, settings.ingest.passage_chars)
    ingested = time.perf_counter()
    store = build_store(settings)
    counted = _counting(store)
    store.index(sources, list(passages.values()))
    indexed = time.perf_counter()
    topic = " ".join(s.title for s in sources if s.title)[:400]
    k = settings.draft.passages_per_section * 3
    hits = [[f"{h.source_id}:{h.k}" for h in store.search(f"{SECTIONS[name].query_hint} {topic}",
                                                          source_ids=[s.id for s in sources], k=k)]
            for name in SELECTION_ORDER]
    done = time.perf_counter()
    return {"passages": len(passages), "embedded": counted[0], "section_hits": hits, "ingest_s": ingested - began,
            "index_s": indexed - ingested, "retrieve_s": done - indexed, "total_s": done - began,
            "embed_s": (indexed - ingested) + (done - indexed)}


def quality(option: dict, corpus: Path, data_dir: Path, k: int = 10) -> dict:
    """MRR@k and hit@1 of the fixture's queries, its passages among the synthetic corpus's."""
    from agent.api import passages_of
    from agent.deps import build_store
    from agent.sources.ingest import load_sources
    from agent.schema import Passage, Source, content_id

    fixture = json.loads(FIXTURE.read_text(encoding="utf-8"))
    settings = _settings(data_dir, option)
    distractors = load_sources([corpus], settings.ingest).sources
    sources, names = list(distractors), {}
    passages = list(passages_of(distractors, settings.ingest.passage_chars).values())
    for n, (name, text) in enumerate(fixture["passages"].items(), start=len(sources) + 1):
        src = Source(id=content_id(text), outlet=name, text=text)
        sources.append(src)
        names[src.id] = name
        passages.append(Passage(id=f"S{n}:1", source_id=src.id, text=text, start=0, end=len(text)))
    store = build_store(settings)
    store.index(sources, passages)
    ids = [s.id for s in sources]
    ranks: dict[str, list[int | None]] = {"paraphrase": [], "keyword": []}
    for query in fixture["queries"]:
        hits = store.search(query["q"], source_ids=ids, k=k)
        found = [names.get(h.source_id) for h in hits]
        ranks[query["kind"]].append(found.index(query["id"]) + 1 if query["id"] in found else None)

    def mrr(rs: list) -> float:
        return sum(1 / r for r in rs if r) / len(rs)

    every = ranks["paraphrase"] + ranks["keyword"]
    return {"mrr_paraphrase": mrr(ranks["paraphrase"]), "mrr_keyword": mrr(ranks["keyword"]), "mrr": mrr(every),
            "hit1": sum(1 for r in every if r == 1) / len(every), "queries": len(every), "ranks": ranks}


def child(name: str, corpus: Path, tmp: Path, speed_only: bool = False) -> dict:
    option = OPTIONS[name]
    out = {"name": name, "option": option, "load_before": os.getloadavg()[0]}
    out.update(cold_index(option, corpus, tmp / "cold"))
    if not speed_only:
        out.update(quality(option, corpus, tmp / "quality"))
    out["load_after"] = os.getloadavg()[0]
    return out


def run_option(name: str, corpus: Path, tmp: Path, speed_only: bool = False) -> dict:
    """One option in a fresh process (cold: no model loaded, empty store)."""
    folder = tmp / f"opt-{list(OPTIONS).index(name)}{'-speed' if speed_only else ''}"
    folder.mkdir(parents=True, exist_ok=True)
    result = folder / "result.json"
    proc = subprocess.run([sys.executable, __file__, "--child", name, "--corpus", str(corpus), "--tmp", str(folder)]
                          + (["--speed-only"] if speed_only else []), capture_output=True, text=True, cwd=str(ROOT))
    if proc.returncode != 0 or not result.exists():
        return {"name": name, "error": (proc.stderr.strip().splitlines() or ["no output"])[-1][:300]}
    return json.loads(result.read_text())


def describe(option: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in option.items())


def agreement(hits: list[list[str]], baseline: list[list[str]]) -> float:
    """Share of the baseline's hits for the 5 section queries that these hits hold too (what drafting sees)."""
    return sum(len(set(a) & set(b)) for a, b in zip(hits, baseline)) / max(1, sum(len(b) for b in baseline))


def table(results: list[dict]) -> tuple[list[str], list[list[str]]]:
    headers = ["option", "[embeddings]", "passages embedded", "index s", "retrieve s", "cold s (ingest+index+retrieve)",
               "passages/s", "MRR paraphrase", "MRR keyword", "MRR all", "hit@1", "section hits as numpy", "<= 2 s"]
    baseline = next((r["section_hits"] for r in results if r["name"] == "numpy" and "section_hits" in r), None)
    rows = []
    for r in results:
        if "error" in r:
            rows.append([r["name"], "", "error: " + r["error"]] + [""] * (len(headers) - 3))
            continue
        rate = r["embedded"] / r["embed_s"] if r["embed_s"] > 0 and r["embedded"] else 0.0
        rows.append([r["name"], describe(OPTIONS.get(r["name"], {})), f"{r['embedded']} of {r['passages']}", f"{r['index_s']:.2f}", f"{r['retrieve_s']:.2f}",
                     f"{r['total_s']:.2f}", f"{rate:.0f}", f"{r['mrr_paraphrase']:.3f}", f"{r['mrr_keyword']:.3f}",
                     f"{r['mrr']:.3f}", f"{r['hit1']:.2f}",
                     f"{agreement(r['section_hits'], baseline):.0%}" if baseline else "",
                     "PASS" if r["total_s"] <= COLD_TARGET_S else "FAIL"])
    return headers, rows


def print_table(headers: list[str], rows: list[list[str]], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title, title_justify="left")
    for h in headers:
        t.add_column(h, justify="left" if h in ("option", "[embeddings]") else "right", no_wrap=h == "option")
    for row in rows:
        t.add_row(*[{"PASS": "[green]PASS[/green]", "FAIL": "[red]FAIL[/red]"}.get(c, c) for c in row])
    Console(width=200).print(t)


def write_corpus(folder: Path) -> Path:
    from benchmarks.pipeline import write_corpus as synthetic

    return synthetic(folder, 10, 2000, seed=11)  # the pipeline benchmark's "10 x 2,000 words" corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated option names (default: all)")
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--tmp", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--speed-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        (args.tmp / "result.json").write_text(json.dumps(child(args.child, args.corpus, args.tmp, args.speed_only)))
        return
    names = [n.strip() for n in args.only.split(",")] if args.only else list(OPTIONS)
    unknown = [n for n in names if n not in OPTIONS]
    if unknown:
        sys.exit(f"unknown option(s): {', '.join(unknown)}; known: {', '.join(OPTIONS)}")
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="brief-embed-") as tmp:
        corpus = write_corpus(Path(tmp) / "corpus")
        results = []
        for name in names:
            print(f"running {name} …", file=sys.stderr, flush=True)
            results.append(run_option(name, corpus, Path(tmp)))
    headers, rows = table(results)
    print_table(headers, rows, "Embedding options: cold 10 x 2,000 words, and MRR@10 on 48 fixture queries")
    loads = [x for r in results for x in (r.get("load_before"), r.get("load_after")) if x is not None]
    print(f"{time.perf_counter() - began:.0f} s on {len(os.sched_getaffinity(0))} cores; 1-minute load average "
          f"{min(loads, default=0):.1f}-{max(loads, default=0):.1f}")
    if args.json_out:
        args.json_out.write_text(json.dumps({"results": results}, indent=1))


if __name__ == "__main__":
    main()
