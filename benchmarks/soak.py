#!/usr/bin/env python3
"""Memory soak: N drafts in one process against the fake endpoint; RSS before and after, and where it went.

    python benchmarks/soak.py [--drafts 200] [--backend minilm-int8|minilm|hashing] [--trim] [--arena-max N]
                              [--tracemalloc] [--json-out FILE]

Each run is a fresh child process (so its memory is its own): one warm-up draft, then RSS and the
mapping breakdown (/proc/self/smaps: the brk heap, anonymous mappings such as glibc's per-thread
malloc arenas and native libraries' pools, file-backed pages such as sqlite's mmap) after draft 1,
every 25 drafts and at the end. Python's own heap comes from tracemalloc (--tracemalloc; it slows
the run) or from gc-tracked object counts.

--trim calls glibc's malloc_trim(0) after every draft (the fix draft_runner can apply: freed memory
goes back to the OS); --arena-max N sets MALLOC_ARENA_MAX for the child (fewer per-thread arenas).
Compare runs to see which part of the growth is fragmentation of freed memory and which is live.
Everything talks to 127.0.0.1 only and stops by itself.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def smaps_breakdown() -> dict[str, int]:
    """Resident kB by kind of mapping: heap (brk), anon (arenas, native pools, thread stacks), file, other."""
    out = {"heap": 0, "anon": 0, "file": 0, "other": 0}
    kind = "other"
    for line in Path("/proc/self/smaps").read_text().splitlines():
        parts = line.split()
        if not parts:
            continue
        if "-" in parts[0] and len(parts) >= 5 and not parts[0].endswith(":"):  # a mapping's header line
            name = parts[5] if len(parts) > 5 else ""
            kind = "heap" if name == "[heap]" else "anon" if not name else "file" if name.startswith("/") else "other"
        elif parts[0] == "Rss:":
            out[kind] += int(parts[1])
    return out


def thread_names() -> dict[str, int]:
    """Threads by name (/proc/self/task/*/comm): who started the threads a soak adds."""
    names: dict[str, int] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
        except OSError:
            continue
        names[name] = names.get(name, 0) + 1
    return dict(sorted(names.items()))


def malloc_trim() -> bool:
    try:
        return bool(ctypes.CDLL("libc.so.6").malloc_trim(0))
    except (OSError, AttributeError):
        return False


def soak(drafts: int, backend: str, trim: bool, trace: bool, faults: bool = False) -> dict:
    import random

    from agent.api import draft_brief
    from agent.config import load_settings
    from agent.errors import BriefError
    from agent.testing import STORY, FakeOpenAI, good_model

    rng = random.Random(7)

    def responder(prompt, body):
        if faults and rng.random() < 0.10:  # benchmarks/robustness.py's soak: 10% of replies are faults
            from benchmarks.robustness import SOAK_FAULTS

            return rng.choice(SOAK_FAULTS)
        return good_model(prompt, {**body, "messages": body["messages"][:2]})

    if trace:
        tracemalloc.start()
    samples = []
    began = time.monotonic()
    statuses: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="brief-soak-") as tmp, FakeOpenAI() as fake:
        fake.server.RequestHandlerClass.disable_nagle_algorithm = True
        fake.set_responder(responder)
        drafter = {"base_url": fake.base_url, "max_attempts": 3, "max_reasks": 2, "timeout_s": 0.3 if faults else 10,
                   "max_retry_after_s": 1}
        settings = {mode: load_settings(overrides={
            "data_dir": str(Path(tmp) / "data"), "embeddings": {"backend": backend}, "drafter": drafter,
            "draft": {"mode": mode}}, env={}) for mode in ("sentence", "section")}
        for i in range(drafts):
            try:
                status = draft_brief([STORY], config=settings["sentence" if i % 2 else "section"]).status
            except BriefError as e:  # an injected fault the run could not get past: a typed failure
                status = f"failed ({e.code})"
            statuses[status] = statuses.get(status, 0) + 1
            with fake._lock:  # the fake keeps every request: the harness's memory, not the agent's
                fake.requests.clear()
            if trim:
                malloc_trim()
            if i == 0 or (i + 1) % 25 == 0 or i == drafts - 1:
                gc.collect()
                samples.append({"draft": i + 1, "rss_kb": rss_kb(), **smaps_breakdown(),
                                "py_heap_kb": tracemalloc.get_traced_memory()[0] // 1024 if trace else None,
                                # tracemalloc's own tables (one entry per live block and per distinct traceback):
                                # in RSS, but not in the traced figure
                                "tracemalloc_kb": tracemalloc.get_tracemalloc_memory() // 1024 if trace else None,
                                "gc_objects": len(gc.get_objects()), "threads": len(os.listdir("/proc/self/task")),
                                "thread_names": thread_names()})
    return {"drafts": drafts, "backend": backend, "trim": trim, "faults": faults, "arena_max": os.environ.get("MALLOC_ARENA_MAX"),
            "elapsed_s": time.monotonic() - began, "statuses": statuses, "samples": samples}


def run_child(args, trim: bool, arena_max: int | None, out: Path) -> dict:
    env = dict(os.environ)
    if arena_max:
        env["MALLOC_ARENA_MAX"] = str(arena_max)
    cmd = [sys.executable, __file__, "--child", str(out), "--drafts", str(args.drafts), "--backend", args.backend]
    cmd += ["--trim"] if trim else []
    cmd += ["--tracemalloc"] if args.tracemalloc else []
    cmd += ["--faults"] if args.faults else []
    proc = subprocess.run(cmd, env=env, cwd=str(ROOT), capture_output=True, text=True)
    if proc.returncode != 0 or not out.exists():
        return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1][:300], "trim": trim,
                "arena_max": arena_max}
    return json.loads(out.read_text())


def describe(r: dict) -> list[str]:
    if "error" in r:
        return [f"trim={r['trim']} arena_max={r['arena_max']}: error {r['error']}"]
    first, last = r["samples"][0], r["samples"][-1]
    label = (f"{r['backend']}{', faults' if r.get('faults') else ''}, "
             f"{'malloc_trim after each draft' if r['trim'] else 'no trim'}, "
             f"MALLOC_ARENA_MAX={r['arena_max'] or 'default'}")
    lines = [f"{label}: {r['drafts']} drafts in {r['elapsed_s']:.0f} s, {r['statuses']}",
             f"  RSS after draft 1 {first['rss_kb'] / 1024:.0f} MB -> after draft {last['draft']} "
             f"{last['rss_kb'] / 1024:.0f} MB ({(last['rss_kb'] - first['rss_kb']) / 1024:+.1f} MB); "
             + ", ".join(f"{k} {(last[k] - first[k]) / 1024:+.1f}" for k in ("heap", "anon", "file")) + " MB",
             f"  gc objects {first['gc_objects']:,} -> {last['gc_objects']:,}; threads {first['threads']} -> "
             f"{last['threads']}" + (
                 f"; python heap {first['py_heap_kb'] / 1024:.1f} -> {last['py_heap_kb'] / 1024:.1f} MB, tracemalloc's "
                 f"own tables {first['tracemalloc_kb'] / 1024:.1f} -> {last['tracemalloc_kb'] / 1024:.1f} MB"
                 if first["py_heap_kb"] is not None else ""),
             "  RSS MB by draft: " + ", ".join(f"{s['draft']}: {s['rss_kb'] / 1024:.0f}" for s in r["samples"])]
    if "thread_names" in first:
        lines.append(f"  threads by name, after draft 1: {first['thread_names']}; at the end: {last['thread_names']}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drafts", type=int, default=200)
    parser.add_argument("--backend", default=None, help="[embeddings] backend (default: the config's default)")
    parser.add_argument("--trim", action="store_true", help="only the malloc_trim run")
    parser.add_argument("--arena-max", type=int, default=None, help="also a run with MALLOC_ARENA_MAX=N")
    parser.add_argument("--compare", action="store_true", help="as is, then with malloc_trim after each draft")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python's heap (slower)")
    parser.add_argument("--faults", action="store_true", help="10%% faulty replies and a 0.3 s timeout, as "
                        "benchmarks/robustness.py's soak")
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.backend is None:
        from agent.config import Embeddings

        args.backend = Embeddings().backend
    if args.child:
        args.child.write_text(json.dumps(soak(args.drafts, args.backend, args.trim, args.tracemalloc, args.faults)))
        return
    runs = [(args.trim, None)] + ([(True, None)] if args.compare and not args.trim else [])
    runs += [(args.trim, args.arena_max)] if args.arena_max else []
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, (trim, arena) in enumerate(runs):
            print(f"soak: {args.drafts} drafts, trim={trim}, MALLOC_ARENA_MAX={arena or 'default'} …", file=sys.stderr,
                  flush=True)
            results.append(run_child(args, trim, arena, Path(tmp) / f"soak-{n}.json"))
            for line in describe(results[-1]):
                print(line, flush=True)
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
