#!/usr/bin/env python3
"""Robustness figures against the fake model on loopback: test groups, attempts per call, data loss,
canary leaks, false blocks, and a bounded soak with random faults.

    python benchmarks/robustness.py [--quick] [--soak N] [--seed S] [--no-tests] [--security-only]

--quick: a 30-draft soak and one mode per injection case. The test groups run through pytest in a
subprocess (tests/test_bad_inputs.py, tests/test_endpoint_faults.py, tests/test_injection.py without
its end-to-end matrix, which runs here instead so that leaks can be counted by category and position).
Everything talks to 127.0.0.1 only and stops by itself (the soak also stops at --max-minutes).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter, defaultdict
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.api import draft_brief  # noqa: E402
from agent.config import ModelRole  # noqa: E402
from agent.errors import BriefError, LLMOutputInvalid, LLMUnavailable  # noqa: E402
from agent.model.llm import LLMClient  # noqa: E402
from agent.output.publish import write_outputs  # noqa: E402
from agent.testing import (MSGS, STORY, City, EmptyBody200, EmptyChoices, FakeClock, FakeOpenAI, Html200,  # noqa: E402
                           Stall, Status, Truncated, good_model)
from agent.testing.attacks import ATTACKS, BENIGN, CANARY, leaked, run_case, sources_for  # noqa: E402
from agent.testing.cli_runner import cli  # noqa: E402
from agent.testing.harness import CONFIG, failing_replace, settings, write_old_output  # noqa: E402
from agent.testing.samples import sample_result  # noqa: E402

GROUPS = [("bad inputs", ["tests/test_bad_inputs.py"]),
          ("endpoint faults", ["tests/test_endpoint_faults.py"]),
          ("injection (rule, ingest, prompts)", ["tests/test_injection.py", "-k", "not injected_payload"]),
          ("security (issue 16)", ["tests/test_security.py", "tests/test_injection_languages.py",
                                   "tests/test_repetition.py", "tests/test_killable.py"])]


def table(title: str, header: list[str], rows: list[list]) -> None:
    cells = [header] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    print(f"\n{title}")
    for n, row in enumerate(cells):
        print("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        if n == 0:
            print("  " + "  ".join("-" * w for w in widths))


@contextlib.contextmanager
def quiet():
    """Silence library warnings printed by chromadb and friends during the runs."""
    with open(os.devnull, "w") as null, contextlib.redirect_stderr(null):
        yield


# --- 1. test groups ----------------------------------------------------------------------------


def run_groups() -> list[list]:
    rows = []
    for name, args in GROUPS:
        started = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=ROOT,
                              capture_output=True, text=True, timeout=1800)
        summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-200:]
        counts = {k: int(v) for v, k in re.findall(r"(\d+) (passed|failed|xfailed|xpassed|skipped|errors?)", summary)}
        total = sum(counts.values())
        rows.append([name, f"{counts.get('passed', 0)}/{total}", counts.get("failed", 0) + counts.get("error", 0)
                     + counts.get("errors", 0), counts.get("xfailed", 0), counts.get("xpassed", 0),
                     counts.get("skipped", 0), f"{time.monotonic() - started:.0f} s"])
    return rows


def resume_rows() -> list[list]:
    """tests/test_resume.py kills a child after its first LLM call and at the start of each node, then
    resumes; each case asserts that no answered request is sent again and that the brief equals an
    uninterrupted run's."""
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA",
                           "tests/test_resume.py", "-k", "killed"], cwd=ROOT, capture_output=True, text=True, timeout=900)
    rows = []
    for line in proc.stdout.splitlines():
        m = re.match(r"(PASSED|FAILED|ERROR) tests/test_resume.py::(\S+)", line)
        if m:
            rows.append([m.group(2), "0 repeated calls, same brief" if m.group(1) == "PASSED" else m.group(1)])
    failed = sum(1 for r in rows if r[1] != "0 repeated calls, same brief")
    rows.append(["work lost on resume", "0 repeated LLM calls in every case" if rows and not failed
                 else f"{failed} case(s) failed"])
    return rows


# --- 2. attempts per logical call ------------------------------------------------------------

FAULTS = {
    "5xx burst x2": [Status(500), Status(503)],
    "429 Retry-After 0": [Status(429, {"Retry-After": "0"})],
    "stall before headers": [Stall(1.0)],
    "stall mid-body": [Stall(1.0, "body")],
    "HTML page, 200": [Html200()],
    "empty body, 200": [EmptyBody200()],
    "no choices": [EmptyChoices()],
    "truncated": [Truncated()],
    "prose": ["The council voted."],
    "503 forever": [Status(503)] * 10,
    "503,503,HTML x3 (re-asks)": [Status(503), Status(503), Html200()] * 3,
}


def attempts_matrix(calls: int) -> tuple[list[list], list[int]]:
    rows, everything = [], []
    role = ModelRole(max_attempts=3, max_reasks=2, timeout_s=0.4, max_retry_after_s=1, structured_output="json_object")
    with FakeOpenAI() as fake:
        for kind, script in FAULTS.items():
            per_call, outcomes = [], Counter()
            for i in range(calls):
                name = f"{kind}-{i}"
                fake.enqueue(name, *script, {"city": "Velden"})
                # the backoffs are recorded, not slept: the schedule is not what is measured here
                llm = LLMClient(role, base_url=fake.base_url, api_key=None, clock=FakeClock())
                try:
                    llm.complete_json(name, MSGS, City)
                    outcomes["ok"] += 1
                except LLMUnavailable:
                    outcomes["unavailable"] += 1
                except LLMOutputInvalid:
                    outcomes["invalid"] += 1
                per_call.append(fake.attempts(name))
            everything += per_call
            over = sum(a > role.max_attempts for a in per_call)
            rows.append([kind, max(per_call), f"{statistics.mean(per_call):.1f}", over,
                         " ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))])
    return rows, everything


# --- 3. data lost: the previous output folder after a failed run -------------------------------


def _replace_failing_at(n: int):
    import agent.runs

    return mock.patch.object(agent.runs.os, "replace", failing_replace(n))


def data_loss() -> list[list]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI() as fake:
        base = Path(tmp)

        def scenario(name: str, run) -> None:
            work = base / re.sub(r"\W+", "-", name)
            work.mkdir()
            before = write_old_output(work / "out")
            code = run(work)
            after = {p.name: p.read_bytes() for p in (work / "out").iterdir()}
            rows.append([name, code, "yes" if after == before else "NO: " + ", ".join(
                sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k)))])

        def draft_cli(work: Path, responder=None, config: str = CONFIG, sources: Path = STORY) -> int:
            fake.set_responder(responder)
            return cli(work, ["draft", str(sources), "-o", str(work / "out")], fake.base_url, config=config).exit_code

        empty = base / "empty-src"
        empty.mkdir()
        (empty / "banner.md").write_text("Accept all cookies\nShare this article\n")
        scenario("no usable sources (exit 3)", lambda w: draft_cli(w, sources=empty))
        scenario("malformed config (exit 2)", lambda w: draft_cli(w, config="[drafter]\ntemprature = 1\n"))
        scenario("401 from the endpoint (exit 4)", lambda w: draft_cli(w, lambda p, b: Status(401)))
        scenario("503 forever (exit 4)", lambda w: draft_cli(w, lambda p, b: Status(503)))

        def enospc(n: int):
            def run(work: Path) -> str:
                with _replace_failing_at(n):
                    try:
                        write_outputs(sample_result(), work / "out")
                        return "0"
                    except BriefError as e:
                        return str(e.exit_code)
            return run

        scenario("disk full on the first file (exit 2)", enospc(1))
        scenario("disk full on the second file (exit 2)", enospc(2))
    return rows


# --- 4. canary leaks and false blocks -----------------------------------------------------------


def injection_matrix(quick: bool) -> tuple[list[list], list[list], int, int]:
    combos = [("ingest", "section"), ("raw", "sentence")] + ([] if quick else [("raw", "section")])
    by_case: dict[tuple, Counter] = defaultdict(Counter)
    leaks = runs = 0
    for attack in ATTACKS:
        for path, mode in combos:
            if attack.html and path == "raw":
                continue
            with tempfile.TemporaryDirectory() as tmp, FakeOpenAI() as fake:
                outcome = run_case(Path(tmp), fake, sources_for(Path(tmp), attack, path), mode)
            key = (attack.category, attack.position)
            runs += 1
            by_case[key][outcome.status] += 1
            by_case[key]["runs"] += 1
            by_case[key]["delivered"] += outcome.delivered
            by_case[key]["stripped at ingest"] += outcome.removed_at_ingest
            if leaked(outcome):
                by_case[key]["leaks"] += 1
                leaks += 1
    rows = [[cat, pos, c["runs"], c["published"], c["rejected"], c["stripped at ingest"], c["delivered"], c["leaks"]]
            for (cat, pos), c in by_case.items()]
    benign = []
    for name, text in BENIGN:
        for path, mode in [("ingest", "section"), ("raw", "sentence"), ("raw", "section")]:
            with tempfile.TemporaryDirectory() as tmp, FakeOpenAI() as fake:
                outcome = run_case(Path(tmp), fake, sources_for(Path(tmp), None, path, text=text), mode)
            benign.append([name, f"{path}/{mode}", outcome.status, "no" if outcome.status == "published" else "FALSE BLOCK"])
    return rows, benign, leaks, runs


# --- 5. soak ------------------------------------------------------------------------------------

SOAK_FAULTS = [Status(500), Status(502), Status(503), Status(429, {"Retry-After": "0"}), Html200(), EmptyBody200(),
               EmptyChoices(), Truncated(), Stall(0.6), Stall(0.6, "body"), "Sure! Here is the sentence you asked for."]


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _fds() -> tuple[int, int]:
    fds = os.listdir("/proc/self/fd")
    sockets = 0
    for fd in fds:
        with contextlib.suppress(OSError):
            sockets += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
    return len(fds), sockets


def _connections(port: int) -> int:
    """Established TCP connections to the fake server's port, client side (loopback)."""
    count = 0
    for line in Path("/proc/self/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        remote, state = fields[2], fields[3]
        if state == "01" and int(remote.split(":")[1], 16) == port:
            count += 1
    return count


def soak(n: int, seed: int, max_minutes: float) -> dict:
    rng = random.Random(seed)
    injected = Counter()

    def responder(prompt, body):
        if rng.random() < 0.10:
            fault = rng.choice(SOAK_FAULTS)
            injected[type(fault).__name__ if not isinstance(fault, str) else "prose"] += 1
            return fault
        return good_model(prompt, {**body, "messages": body["messages"][:2]})

    outcomes, typed, crashes, attempts, messages = Counter(), Counter(), [], [], []
    deadline = time.monotonic() + max_minutes * 60
    tracemalloc.start()
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI() as fake:
        fake.set_responder(responder)
        port = fake.server.server_address[1]
        cfg = {mode: settings(Path(tmp), fake.base_url, draft={"mode": mode}, drafter={"timeout_s": 0.3})
               for mode in ("sentence", "section")}
        first_mem = first_rss = fds_start = None
        started = time.monotonic()
        done = requests = 0
        for i in range(n):
            if time.monotonic() > deadline:
                break
            try:
                with quiet():
                    result = draft_brief([STORY], config=cfg["sentence" if i % 2 else "section"])
                outcomes[result.status] += 1
                attempts += [json.loads(line)["attempts"]
                             for line in (result.run_dir / "llm_calls.jsonl").read_text().splitlines()]
            except BriefError as e:
                outcomes["failed (typed)"] += 1
                typed[e.code] += 1
                messages.append(f"draft {i + 1}: {e.one_line()}"[:160])
            except Exception as e:  # a crash: an exception the error tree does not cover
                outcomes["crashed"] += 1
                crashes.append(f"{e.__class__.__name__}: {e}"[:160])
            done += 1
            with fake._lock:  # the fake keeps every request; that is the harness's memory, not the agent's
                requests += len(fake.requests)
                fake.requests.clear()
            if i == 0:  # measured after one warm-up draft: imports, store and caches exist by then
                gc.collect()
                first_mem, first_rss, fds_start = tracemalloc.get_traced_memory()[0], _rss_kb(), _fds()
        elapsed = time.monotonic() - started
        gc.collect()
        last_mem, last_rss = tracemalloc.get_traced_memory()[0], _rss_kb()
        fds_end = _fds()
        connections = _connections(port)
    tracemalloc.stop()
    return dict(done=done, elapsed=elapsed, outcomes=dict(outcomes), typed=dict(typed), crashes=crashes, attempts=attempts,
                injected=dict(injected), messages=messages, first_mem=first_mem, last_mem=last_mem, first_rss=first_rss, last_rss=last_rss,
                fds_start=fds_start, fds_end=fds_end, connections=connections, requests=requests)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30-draft soak, one mode per injection case")
    parser.add_argument("--soak", type=int, default=None, help="drafts in the soak (default 200; 30 with --quick)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--max-minutes", type=float, default=30.0, help="the soak stops here even if drafts remain")
    parser.add_argument("--no-tests", action="store_true", help="skip the pytest groups")
    parser.add_argument("--soak-child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--security-only", action="store_true", help="only the security rows (issue 16)")
    args = parser.parse_args()
    if args.security_only:
        from benchmarks.security import print_rows

        print_rows(table, quick=args.quick)
        return
    if args.soak_child is not None:
        with quiet():
            figures = soak(args.soak_child, args.seed, args.max_minutes)
        print(json.dumps(figures))
        return
    n = args.soak if args.soak is not None else (30 if args.quick else 200)
    started = time.monotonic()

    if not args.no_tests:
        table("Test groups (pytest)", ["group", "passed", "failed", "xfailed (known bugs)", "xpassed", "skipped", "time"],
              run_groups())

    rows, everything = attempts_matrix(5 if args.quick else 20)
    table("HTTP attempts per logical call, counted at the server (max_attempts=3, max_reasks=2)",
          ["fault script", "max", "mean", "calls over 3", "outcomes"], rows)
    print(f"  all calls: max {max(everything)}, mean {statistics.mean(everything):.2f}")

    table("Data lost: previous output folder after a failed run", ["scenario", "exit", "intact"], data_loss())

    with quiet():
        rows, benign, leaks, runs = injection_matrix(args.quick)
    table(f"Canary leaks into a published brief ({CANARY}, attacker link, system prompt), by category and position",
          ["category", "position", "runs", "published", "rejected", "stripped at ingest", "model saw it", "leaks"], rows)
    print(f"  total: {leaks} leaks in {runs} runs")
    table("False blocks on benign controls (reports on prompt injection, compliant model)",
          ["control", "path/mode", "status", "false block"], benign)

    table("Resume after a kill (repeated requests counted at the fake server)", ["case", "result"], resume_rows())

    from benchmarks.security import print_rows  # path escapes, metadata injection, checker times, redaction

    print_rows(table, quick=args.quick)

    # the soak runs in a fresh process, so its memory and descriptors are its own
    proc = subprocess.run([sys.executable, __file__, "--soak-child", str(n), "--seed", str(args.seed),
                           "--max-minutes", str(args.max_minutes)], cwd=ROOT, capture_output=True, text=True,
                          timeout=args.max_minutes * 60 + 300)
    if proc.returncode != 0:
        print(f"\nsoak process failed (exit {proc.returncode}): {proc.stderr.strip()[-600:]}")
        return
    s = json.loads(proc.stdout.strip().splitlines()[-1])
    outcomes = s["outcomes"]
    ok = outcomes.get("published", 0) + outcomes.get("rejected", 0)
    rows = [
        ["drafts", f"{s['done']} in {s['elapsed']:.0f} s ({s['requests']} HTTP requests, faults injected: "
                   + ", ".join(f"{k} {v}" for k, v in sorted(s["injected"].items())) + ")"],
        ["success (a checked result)", f"{ok}/{s['done']} ({ok / max(1, s['done']):.0%}): "
                                       + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))],
        ["typed failures", ", ".join(f"{k} {v}" for k, v in sorted(s["typed"].items())) or "0"],
        ["crashes (untyped exceptions)", len(s["crashes"])],
        ["attempts per call", f"max {max(s['attempts'], default=0)}, mean {statistics.mean(s['attempts'] or [0]):.2f}"],
        ["python heap (tracemalloc) after draft 1 -> end", f"{s['first_mem'] / 1e6:.1f} MB -> {s['last_mem'] / 1e6:.1f} MB"],
        ["RSS after draft 1 -> end", f"{s['first_rss'] / 1e3:.0f} MB -> {s['last_rss'] / 1e3:.0f} MB"],
        ["open fds (sockets) after draft 1 -> end", f"{s['fds_start'][0]} ({s['fds_start'][1]}) -> {s['fds_end'][0]} ({s['fds_end'][1]})"],
        ["connections to the fake server at the end", s["connections"]],
    ]
    table(f"Soak: {n} drafts, 10% random faults at the fake server (seed {args.seed})", ["measure", "value"], rows)
    for crash in s["crashes"][:5]:
        print(f"  crash: {crash}")
    for message in s["messages"][:5]:
        print(f"  typed failure: {message}")
    print(f"\ntotal {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
