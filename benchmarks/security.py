"""Security figures for benchmarks/robustness.py (issue 16): path escapes, metadata injection, checker
worst-case times, secret redaction. Everything runs against 127.0.0.1 and temp folders.

    python benchmarks/security.py            # these rows alone (robustness.py prints them too)
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHECK_BOUND_S = {1: 5.0, 10: 60.0}  # stated bounds for one check of a draft of 1 MB / 10 MB (2-core machine)
ROW_BOUND_S = 2.0  # one 10,000-cell table row
CHECK_KILL_S = 600.0  # a measurement still running then is killed and reported as over the bound


def path_escape_rows() -> list[list]:
    """Every escape attempt against a server with path sources on and one root: status and files read."""
    import agent.sources.ingest
    from agent.serve.service import create_app
    from agent.testing import STORY, FakeOpenAI, good_model
    from agent.testing.attacks import ESCAPES
    from agent.testing.service import call, running, service_settings

    rows = []
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI() as fake:
        tmp = Path(tmp)
        root = tmp / "root"
        (root / "story").mkdir(parents=True)
        (root / "story" / "wire.md").write_text((STORY / "wire.md").read_text())
        (root / "passwd.md").symlink_to("/etc/passwd")
        (root / "etc").symlink_to("/etc")
        fake.set_responder(good_model)
        attempts = {**{name: make(root) for name, make in ESCAPES.items()},
                    "data dir runs": str(tmp / "data" / "runs"), "data dir": str(tmp / "data")}
        opened: list[str] = []
        real = agent.sources.ingest._read

        def recording(path, limit):
            opened.append(str(path))
            return real(path, limit)

        settings = service_settings(tmp, fake.base_url, path_sources=True, path_roots=[root, tmp / "data"])
        with mock.patch.object(agent.sources.ingest, "_read", recording), running(create_app(settings)) as base:
            for name, item in attempts.items():
                for route, body in (("/v1/briefs", {"sources": [item]}),
                                    ("/v1/check", {"draft": "A draft sentence.", "sources": [item]})):
                    before = len(opened)
                    status, answer, _ = call(base, "POST", route, body)
                    rows.append([name, route, status, answer.get("error", {}).get("code", answer.get("status")),
                                 len(opened) - before])
            before = len(opened)
            status, answer, _ = call(base, "POST", "/v1/briefs", {"sources": [str(root)]})  # the control
            rows.append(["control: the root itself (symlinks inside skipped)", "/v1/briefs", status,
                         answer.get("status"), len(opened) - before])
            control_calls = len(fake.requests)
            off = service_settings(tmp / "off", fake.base_url)
        with mock.patch.object(agent.sources.ingest, "_read", recording), running(create_app(off)) as base:
            before = len(opened)
            status, answer, _ = call(base, "POST", "/v1/briefs", {"sources": [str(STORY)]})
            rows.append(["any path, path sources off (default)", "/v1/briefs", status,
                         answer.get("error", {}).get("code"), len(opened) - before])
        rows.append(["LLM requests made for refused requests", "", "", "", len(fake.requests) - control_calls])
    return rows


def metadata_rows() -> list[list]:
    """Poisoned outlet/title/topic/url through both drafting modes: links, pixels, canaries published."""
    from agent.api import draft_brief
    from agent.output.publish import write_outputs
    from agent.testing import FakeOpenAI, good_model, settings_for
    from agent.testing.attacks import POISONED_META, poisoned_sources

    rows = []
    for mode in ("section", "sentence"):
        with tempfile.TemporaryDirectory() as tmp, FakeOpenAI() as fake:
            tmp = Path(tmp)
            fake.set_responder(good_model)
            result = draft_brief([poisoned_sources(tmp / "src", POISONED_META)],
                                 config=settings_for(tmp, fake.base_url, mode=mode))
            written = write_outputs(result, tmp / "out", ninjs=True)
            texts = {p.name: p.read_text(encoding="utf-8") for p in written}
            texts["prompts"] = json.dumps([b for _, b, _ in fake.requests], ensure_ascii=False)
            texts["registry"] = "".join(p.read_text(errors="replace") for p in (tmp / "data").glob("trends*")
                                        if p.is_file())
            links = sum(t.count("evil.example") + t.count("![") + t.lower().count("javascript:") for t in texts.values())
            canaries = sum(t.count("CANARY-7781") for t in texts.values())
            rows.append([mode, result.status, ", ".join(sorted(texts)), links, canaries])
    return rows


def _draft_of(shape: str, size: int) -> str:
    rng = random.Random(7)
    words = "council harbour tram line extension budget million euros approved said spokesperson district".split()
    if shape == "prose, distinct sentences":
        out, n = [], 0
        while n < size:
            s = " ".join(rng.choice(words) for _ in range(rng.randint(8, 20))).capitalize() + f" {rng.randint(1, 10**6)}."
            out.append(s)
            n += len(s) + 1
        return " ".join(out)
    if shape == "one line, no full stop":
        return "word " * (size // 5)
    if shape == "one sentence repeated":
        return "The council approved the tram line extension on Tuesday. " * (size // 57)
    raise ValueError(shape)


def _time_check(raw: str) -> float:
    """CPU seconds of the checker on `raw` (in a child process)."""
    from agent.checks.draft_check import check_draft

    started = time.process_time()
    check_draft(raw)
    return time.process_time() - started


def checker_rows(sizes: tuple[int, ...] = (1, 10)) -> list[list]:
    """Worst-case shapes at 1 MB and 10 MB, and 10,000-cell table rows, each in a killable child."""
    from agent.killable import KillablePool, TimedOut

    pool = KillablePool(1)
    rows = []

    def measure(label: str, raw: str, bound: float) -> None:
        try:
            seconds = pool.call(_time_check, (raw,), CHECK_KILL_S)
            rows.append([label, f"{len(raw) / 1e6:.1f} MB", f"{seconds:.1f} s", f"{bound:g} s",
                         "holds" if seconds <= bound else "FAILS"])
        except TimedOut:
            rows.append([label, f"{len(raw) / 1e6:.1f} MB", f"> {CHECK_KILL_S:g} s (killed)", f"{bound:g} s", "FAILS"])

    try:
        for mb in sizes:
            for shape in ("prose, distinct sentences", "one line, no full stop", "one sentence repeated"):
                measure(shape, _draft_of(shape, mb * 1_000_000), CHECK_BOUND_S[mb])
        for name, cells in (("10k-cell row, distinct cells", [f"c{i}" for i in range(10_000)]),
                            ("10k-cell row, one value", ["x"] * 10_000),
                            ("10k-cell row, period 7", [f"p{i % 7}" for i in range(10_000)])):
            measure(name, "| " + " | ".join(cells) + " |", ROW_BOUND_S)
    finally:
        pool.close()
    return rows


def redaction_rows() -> list[list]:
    """An endpoint URL with userinfo and an api_key, failing: where the secret could surface, hits counted."""
    from agent.serve.service import create_app
    from agent.testing import FakeOpenAI, Status
    from agent.testing.attacks import LISK_ARTICLE
    from agent.testing.service import call, running, service_settings

    rows = []
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI() as fake:
        tmp = Path(tmp)
        fake.set_responder(lambda p, b: Status(503))
        secret = fake.base_url.replace("http://", "http://agent:PASSWORD-S3CRET@") + "?api_key=KEY-S3CRET"
        with running(create_app(service_settings(tmp / "svc", secret))) as base:
            _, error, _ = call(base, "POST", "/v1/briefs", {"sources": [{"text": LISK_ARTICLE, "outlet": "Lisk Post"}]})
            _, accepted, _ = call(base, "POST", "/v1/briefs:async", {"sources": [{"text": LISK_ARTICLE, "outlet": "Lisk"}]})
            deadline = time.monotonic() + 60
            job = {}
            while time.monotonic() < deadline and job.get("status") not in ("done", "failed"):
                time.sleep(0.2)
                job = call(base, "GET", accepted["href"])[1]
        body = json.dumps(error) + json.dumps(job)
        rows.append(["HTTP error bodies (sync 502, async job)", body.count("S3CRET"), body.count("127.0.0.1")])
        cfg = tmp / "cli.toml"
        cfg.write_text(f'[embeddings]\nbackend = "hashing"\n[drafter]\nbase_url = "{secret}"\nmax_attempts = 2\n')
        (tmp / "src.md").write_text(LISK_ARTICLE)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "BRIEF"))}
        proc = subprocess.run([sys.executable, "-m", "agent.cli", "draft", str(tmp / "src.md"), "-o", str(tmp / "out"),
                               "--config", str(cfg), "--data-dir", str(tmp / "cli-data")], cwd=ROOT,
                              env={**env, "NO_PROXY": "127.0.0.1"}, capture_output=True, text=True, timeout=300)
        rows.append([f"CLI stdout + stderr (exit {proc.returncode})", (proc.stdout + proc.stderr).count("S3CRET"), "-"])
        for label, folder in (("service data dir files", tmp / "svc" / "data"), ("CLI data dir files", tmp / "cli-data")):
            files = [p for p in folder.rglob("*") if p.is_file()]
            names = sorted({p.name for p in files if p.suffix in (".json", ".jsonl", ".sqlite3")})
            rows.append([f"{label} ({len(files)}: {', '.join(names)})",
                         sum(p.read_bytes().count(b"S3CRET") for p in files), "-"])
    return rows


def print_rows(table, quick: bool = False) -> None:
    """The security tables, printed with robustness.py's `table` helper."""
    table("Path escapes against brief serve (path sources on, one root; then off)",
          ["attempt", "route", "HTTP", "code", "files read"], path_escape_rows())
    table("Metadata injection (outlet link, title <img>/<a>, topic pixel, javascript: url) -> published",
          ["mode", "status", "checked", "links/pixels", "canaries"], metadata_rows())
    table("Checker worst-case time (CPU, one child process; the service caps drafts at 2 MB and 30 s)",
          ["draft", "size", "time", "bound", ""], checker_rows((1,) if quick else (1, 10)))
    table("Secret redaction: endpoint http://agent:PASSWORD-S3CRET@…?api_key=KEY-S3CRET failing",
          ["where", "secret hits", "internal address hits"], redaction_rows())


if __name__ == "__main__":
    from benchmarks.robustness import table

    print_rows(table, quick="--quick" in sys.argv)
