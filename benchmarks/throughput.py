"""Briefs per minute with 1, 2 and 4 draft workers, and with 2 replicas: `brief serve` against an instant fake endpoint.

The fake OpenAI-compatible server runs in its own process (tests.fake_openai with the benchmark's
well-behaved model), so it takes no CPU time from the service it measures. Each run starts a fresh
`brief serve` (hashing embeddings, its own data dir), queues JOBS async drafts with distinct sources and
times the queue from the first submit to the last finished job. Workers are threads of one process, which
overlap waiting on the endpoint; replicas (processes sharing PostgreSQL and a Chroma server) also use more cores.

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
sys.path.insert(0, str(ROOT))
from agent.testing.samples import job_sources  # noqa: E402
from agent.testing.scripted import STORY  # noqa: E402

DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
SCALING_TARGET = 1.5  # 2 workers give at least 1.5x the briefs per minute of 1

FAKE_SERVER = """
import sys, time
sys.path[:0] = [{root!r}]
from agent.testing import FakeOpenAI
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


def _start_server(name: str, workers: int, config: str, base_url: str, tmp: Path) -> tuple[subprocess.Popen, str]:
    cfg = tmp / f"{name}.toml"
    cfg.write_text('[embeddings]\nbackend = "hashing"\n[drafter]\ntimeout_s = 30\n[ingest]\npassage_chars = 200\n' + config)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "BRIEF"))}
    env.update(OPENAI_BASE_URL=base_url, NO_PROXY="127.0.0.1,localhost", PYTHONPATH=str(ROOT))
    port = _free_port()
    with (tmp / f"{name}.log").open("w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "agent.cli", "serve", "--port", str(port), "--workers",
                                 str(workers), "--config", str(cfg), "--data-dir", str(tmp / name)], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=log)
    return proc, f"http://127.0.0.1:{port}"


def _wait_up(proc: subprocess.Popen, base: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            _call(base, "GET", "/healthz")
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"brief serve did not start: {log.read_text()[-500:]}") from None
            time.sleep(0.1)


def queue_rate(label: str, servers: list[tuple[int, str]], jobs: int, base_url: str, tmp: Path) -> dict:
    """Fresh `brief serve` processes, (workers, extra config) each, warmed by one draft; the shared queue's
    briefs per minute from the first submit to the last finished job."""
    started_servers = [_start_server(f"{label}-{n}", w, c, base_url, tmp) for n, (w, c) in enumerate(servers)]
    try:
        for n, (proc, base) in enumerate(started_servers):
            _wait_up(proc, base, tmp / f"{label}-{n}.log")
            _call(base, "POST", "/v1/briefs", {"sources": job_sources(STORY, -1 - n)})  # warm: imports, store, first draft
        bases = [base for _, base in started_servers]
        started = time.perf_counter()
        hrefs = [_call(bases[n % len(bases)], "POST", "/v1/briefs:async", {"sources": job_sources(STORY, n)})["href"]
                 for n in range(jobs)]
        pending, statuses = set(hrefs), []
        while pending:
            for href in list(pending):
                job = _call(bases[0], "GET", href)
                if job["status"] in ("done", "failed"):
                    pending.discard(href)
                    statuses.append(job["result"]["status"] if job["status"] == "done" else job["error"]["code"])
            time.sleep(0.02)
        seconds = time.perf_counter() - started
    finally:
        for proc, _ in started_servers:
            proc.terminate()
        for proc, _ in started_servers:
            proc.wait(30)
    return {"label": label, "workers": sum(w for w, _ in servers), "replicas": len(servers), "jobs": jobs,
            "seconds": seconds, "per_minute": jobs * 60 / seconds, "published": statuses.count("published")}


def briefs_per_minute(workers: int, jobs: int, base_url: str, tmp: Path) -> dict:
    """One `brief serve --workers N` (SQLite queue, embedded store)."""
    return queue_rate(f"w{workers}", [(workers, "")], jobs, base_url, tmp)


def replicas_per_minute(replicas: int, jobs: int, base_url: str, tmp: Path) -> dict | None:
    """`replicas` processes of `brief serve --workers 1` on one PostgreSQL and one Chroma server (None if
    PostgreSQL cannot start here): threads share one interpreter, replicas use every core."""
    sys.path.insert(0, str(ROOT))
    from agent.testing.postgres import Postgres

    pg = Postgres()
    if pg.start() is not None:
        pg.stop()
        return None
    chroma_port = _free_port()
    chroma = subprocess.Popen([str(Path(sys.executable).parent / "chroma"), "run", "--path", str(tmp / "chroma"),
                               "--host", "127.0.0.1", "--port", str(chroma_port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                DIRECT.open(f"http://127.0.0.1:{chroma_port}/api/v2/heartbeat", timeout=1).read()
                break
            except OSError:
                if chroma.poll() is not None or time.monotonic() > deadline:
                    return None
                time.sleep(0.2)
        shared = (f'[store]\nhost = "127.0.0.1"\nport = {chroma_port}\n'
                  f'[state]\npostgres_dsn = "{pg.dsn}"\n')
        return queue_rate(f"r{replicas}", [(1, shared)] * replicas, jobs, base_url, tmp)
    finally:
        chroma.terminate()
        chroma.wait(10)
        pg.stop()


def measure(worker_counts=(1, 2, 4), jobs: int = 12, replicas: int = 2) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="brief-throughput-") as tmp:
        fake = subprocess.Popen([sys.executable, "-c", FAKE_SERVER.format(root=str(ROOT))],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        try:
            base_url = fake.stdout.readline().strip()
            figures = [briefs_per_minute(n, jobs, base_url, Path(tmp)) for n in worker_counts]
            if replicas and (shared := replicas_per_minute(replicas, jobs, base_url, Path(tmp))) is not None:
                figures.append(shared)
            return figures
        finally:
            fake.stdin.close()
            fake.wait(10)


def worker_rows(figures: list[dict]) -> list[dict]:
    """The benchmark's target rows (pipeline.py's shape): briefs per minute per setup, and the scaling at 2."""
    one = next((f for f in figures if f["workers"] == 1 and f["replicas"] == 1), None)
    rows = []
    for f in figures:
        ratio = f["per_minute"] / one["per_minute"] if one else float("nan")
        scaled = f["workers"] == 2 and f["replicas"] == 1
        if f["replicas"] > 1:
            what, how = (f"{f['replicas']} replicas x 1 worker", "brief serve processes on one PostgreSQL and one "
                         "Chroma server (agent.testing.postgres, chroma run), all on this machine's cores: "
                         "replicas are for more machines, so reported, no target")
        else:
            what, how = f"{f['workers']} worker(s)", f"one brief serve --workers {f['workers']} (threads)"
        rows.append({"target": f"briefs per minute, {what}",
                     "value": f"{f['per_minute']:.1f} (x{ratio:.2f} of 1 worker)",
                     "limit": f">= x{SCALING_TARGET}" if scaled else "(report)",
                     "pass": (ratio >= SCALING_TARGET if scaled else None) if f["published"] == f["jobs"] else False,
                     "note": f"{f['jobs']} async jobs, {f['published']} published, {f['seconds']:.1f} s; {how}; "
                             "instant fake endpoint in its own process"
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
