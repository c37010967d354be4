"""Briefs per minute with 1, 2 and 4 draft workers: `brief serve --workers N` against an instant fake endpoint.

The fake OpenAI-compatible server runs in its own process (tests.fake_openai with the benchmark's
well-behaved model), so it takes no CPU time from the service it measures. Each run starts a fresh
`brief serve` (hashing embeddings, its own data dir), queues JOBS async drafts with distinct sources and
times the queue from the first submit to the last finished job.

    python benchmarks/throughput.py [--jobs 12] [--workers 1,2,4]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
SCALING_TARGET = 1.5  # 2 workers give at least 1.5x the briefs per minute of 1

FAKE_SERVER = """
import sys, time
sys.path[:0] = [{root!r}]
from tests.fake_openai import FakeOpenAI
from benchmarks.pipeline import bench_model
with FakeOpenAI() as fake:
    fake.set_responder(bench_model)
    print(fake.base_url, flush=True)
    sys.stdin.read()  # until the benchmark closes our stdin
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(base: str, method: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(base + path, data=json.dumps(body).encode() if body is not None else None,
                                     method=method, headers={"Content-Type": "application/json"})
    with DIRECT.open(request, timeout=30) as r:
        return json.loads(r.read())


def _sources(n: int) -> list[dict]:
    story = ROOT / "tests" / "fixtures" / "story"
    out = []
    for path in sorted(story.glob("*.md")):
        head, body = path.read_text().split("---", 2)[1:]
        meta = dict(line.split(": ", 1) for line in head.strip().splitlines())
        out.append({"text": body.strip() + f"\n\nFiled for desk item {n}.", "outlet": meta["outlet"],
                    "title": meta["title"], "published": meta["published"]})
    return out


def briefs_per_minute(workers: int, jobs: int, base_url: str, tmp: Path) -> dict:
    """One fresh `brief serve --workers N`; the queue's briefs per minute once the server is up and warm."""
    data = tmp / f"w{workers}"
    cfg = tmp / f"w{workers}.toml"
    cfg.write_text('[embeddings]\nbackend = "hashing"\n[drafter]\ntimeout_s = 30\n[ingest]\npassage_chars = 200\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "BRIEF"))}
    env.update(OPENAI_BASE_URL=base_url, NO_PROXY="127.0.0.1,localhost", PYTHONPATH=str(ROOT))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with (tmp / f"w{workers}.log").open("w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "agent.cli", "serve", "--port", str(port), "--workers",
                                 str(workers), "--config", str(cfg), "--data-dir", str(data)], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _call(base, "GET", "/healthz")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"brief serve did not start: {(tmp / f'w{workers}.log').read_text()[-500:]}")
                time.sleep(0.1)
        _call(base, "POST", "/v1/briefs", {"sources": _sources(-1)})  # warm: imports, store, first draft
        started = time.perf_counter()
        hrefs = [_call(base, "POST", "/v1/briefs:async", {"sources": _sources(n)})["href"] for n in range(jobs)]
        pending = set(hrefs)
        statuses = []
        while pending:
            for href in list(pending):
                job = _call(base, "GET", href)
                if job["status"] in ("done", "failed"):
                    pending.discard(href)
                    statuses.append(job["result"]["status"] if job["status"] == "done" else job["error"]["code"])
            time.sleep(0.02)
        seconds = time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait(30)
    return {"workers": workers, "jobs": jobs, "seconds": seconds, "per_minute": jobs * 60 / seconds,
            "published": statuses.count("published")}


def measure(worker_counts=(1, 2, 4), jobs: int = 12) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="brief-throughput-") as tmp:
        fake = subprocess.Popen([sys.executable, "-c", FAKE_SERVER.format(root=str(ROOT))],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        try:
            base_url = fake.stdout.readline().strip()
            return [briefs_per_minute(n, jobs, base_url, Path(tmp)) for n in worker_counts]
        finally:
            fake.stdin.close()
            fake.wait(10)


def worker_rows(figures: list[dict]) -> list[dict]:
    """The benchmark's target rows (pipeline.py's shape): briefs per minute at each worker count, and the scaling."""
    one = next((f for f in figures if f["workers"] == 1), None)
    rows = []
    for f in figures:
        ratio = f["per_minute"] / one["per_minute"] if one else float("nan")
        passed = None if f["workers"] == 1 else (ratio >= SCALING_TARGET if f["workers"] == 2 else None)
        rows.append({"target": f"briefs per minute, {f['workers']} worker(s)",
                     "value": f"{f['per_minute']:.1f} (x{ratio:.2f} of 1 worker)",
                     "limit": f">= x{SCALING_TARGET} at 2 workers" if f["workers"] == 2 else "(report)",
                     "pass": passed if f["published"] == f["jobs"] else False,
                     "note": f"{f['jobs']} async jobs, {f['published']} published, {f['seconds']:.1f} s; brief serve "
                             f"--workers {f['workers']}, instant fake endpoint in its own process"
                             + ("; 4 workers on 2 cores: reported, no target" if f["workers"] == 4 else "")})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=12)
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args()
    for row in worker_rows(measure([int(w) for w in args.workers.split(",")], args.jobs)):
        verdict = "-" if row["pass"] is None else ("PASS" if row["pass"] else "FAIL")
        print(f"{row['target']}: {row['value']}  [{row['limit']}] {verdict}  ({row['note']})")


if __name__ == "__main__":
    main()
