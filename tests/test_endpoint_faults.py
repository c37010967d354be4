"""Endpoint, store and disk faults beyond tests/test_llm.py. In every LLM case the invariant holds:
HTTP attempts per logical call <= drafter.max_attempts, counted at the fake server."""

from __future__ import annotations

import errno
import json
import multiprocessing
import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from email.utils import formatdate
from pathlib import Path

import pytest

from agent.api import draft_brief
from agent.config import load_settings
from agent.errors import LLMOutputInvalid, LLMUnavailable, UsageError
from agent.output.publish import write_outputs
from tests.fakes import (MSGS, STORY, City, EmptyBody200, EmptyChoices, FakeClock, Html200, Stall, Status, cli, client,
                         failing_replace, good_model, sample_result, settings, write_old_output)

ROOT = Path(__file__).resolve().parent.parent
OK = {"city": "Velden"}


def ask(fake, clock: FakeClock | None = None, **role):
    """One logical call; returns (outcome, the backoff waits it asked for, HTTP attempts seen by the server)."""
    clock = clock or FakeClock()
    llm = client(fake, clock=clock, **role)
    try:
        outcome = llm.complete_json("q", MSGS, City)
    except (LLMUnavailable, LLMOutputInvalid) as e:
        outcome = e
    attempts = fake.attempts("q")
    assert attempts <= llm.role.max_attempts, f"{attempts} HTTP attempts for one logical call"
    return outcome, clock.sleeps, attempts


def backoff(waits: list[float]) -> bool:
    """Each wait is the jittered exponential backoff for its attempt: half to all of 0.5 s, 1 s, 2 s, ..."""
    return all(0.25 * 2 ** n <= w <= 0.5 * 2 ** n for n, w in enumerate(waits))


# --- retry-after, bursts, refusals ------------------------------------------------------------


@pytest.mark.parametrize(
    "headers, low, high",
    [
        ({"Retry-After": "1"}, 1.0, 1.0),
        ({"retry-after-ms": "300"}, 0.3, 0.3),
        ({"Retry-After": "HTTP-DATE+2"}, 2.0, 2.0),  # an HTTP date two seconds ahead of the (fake) clock
        ({"Retry-After": "soon"}, 0.25, 0.5),  # unreadable: ordinary backoff
        ({}, 0.25, 0.5),
    ],
    ids=["seconds", "milliseconds", "http-date", "garbage", "absent"],
)
def test_429_waits_as_asked_then_succeeds(fake_openai, headers, low, high):
    clock = FakeClock()
    if headers.get("Retry-After") == "HTTP-DATE+2":
        headers = {"Retry-After": formatdate(clock.time() + 2, usegmt=True)}
    fake_openai.enqueue("q", Status(429, headers), OK)
    outcome, waits, attempts = ask(fake_openai, clock)
    assert outcome == City(city="Velden") and attempts == 2
    assert len(waits) == 1 and low <= waits[0] <= high


@pytest.mark.parametrize("headers", [{"Retry-After": "86400"}, {"retry-after-ms": "600000"},
                                     {"Retry-After": "Fri, 01 Jan 2100 00:00:00 GMT"}],
                         ids=["a-day", "ten-minutes-ms", "year-2100"])
def test_absurd_retry_after_fails_fast_with_one_attempt(fake_openai, headers):
    fake_openai.set_responder(lambda name, body: Status(429, headers))
    outcome, waits, attempts = ask(fake_openai)
    assert isinstance(outcome, LLMUnavailable) and "retry after" in outcome.one_line()
    assert waits == [] and attempts == 1


@pytest.mark.parametrize("burst", [0, 1, 2, 3, 4])
def test_5xx_burst_is_ridden_out_only_within_the_attempt_budget(fake_openai, burst):
    codes = [500, 502, 503, 504]
    fake_openai.enqueue("q", *[Status(codes[i % 4]) for i in range(burst)], OK)
    outcome, waits, attempts = ask(fake_openai, max_attempts=3)
    if burst < 3:
        assert outcome == City(city="Velden") and attempts == burst + 1
    else:
        assert isinstance(outcome, LLMUnavailable) and attempts == 3 and "after 3 attempt(s)" in outcome.one_line()
    assert len(waits) == min(burst, 2) and backoff(waits)  # no wait after the last attempt


@pytest.mark.parametrize("fault", [Status(503), Status(502), Status(429, {"Retry-After": "0"})], ids=["503", "502", "429"])
def test_persistent_transport_fault_stops_at_max_attempts(fake_openai, fault):
    fake_openai.set_responder(lambda name, body: fault)
    outcome, waits, attempts = ask(fake_openai, max_attempts=4)
    assert isinstance(outcome, LLMUnavailable) and attempts == 4
    assert "\n" not in outcome.one_line()
    assert waits == [0.0] * 3 if fault.code == 429 else len(waits) == 3 and backoff(waits)


class ResetServer:
    """Loopback server that reads each request and answers with a TCP reset (SO_LINGER 0)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.attempts = 0
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.recv(65536)
            self.attempts += 1
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()

    def close(self) -> None:
        self.sock.close()


def test_connection_reset_every_time_stops_at_max_attempts():
    """The fake server's Reset stalls until the read timeout instead (its socket stays open); this one resets."""
    from agent.config import ModelRole
    from agent.model.llm import LLMClient

    server = ResetServer()
    try:
        clock = FakeClock()
        llm = LLMClient(ModelRole(max_attempts=3, timeout_s=5, structured_output="json_object"),
                        base_url=server.base_url, api_key=None, clock=clock)
        with pytest.raises(LLMUnavailable, match=r"connection error .* after 3 attempt\(s\)"):
            llm.complete_json("q", MSGS, City)
        assert server.attempts == 3 and len(clock.sleeps) == 2 and backoff(clock.sleeps)
    finally:
        server.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_connection_refused_is_typed_and_bounded():
    from agent.config import ModelRole
    from agent.model.llm import LLMClient

    clock = FakeClock()
    llm = LLMClient(ModelRole(max_attempts=3, timeout_s=1, structured_output="json_object"),
                    base_url=f"http://127.0.0.1:{_closed_port()}/v1", api_key=None, clock=clock)
    with pytest.raises(LLMUnavailable, match=r"connection error .* after 3 attempt\(s\)"):
        llm.complete_json("q", MSGS, City)
    assert len(clock.sleeps) == 2 and backoff(clock.sleeps)  # two jittered backoffs of at most 0.5 s and 1 s
    assert llm.usage.http_attempts == 3 and llm.usage.llm_calls == 1


@pytest.mark.parametrize("code", [401, 403])
def test_auth_failure_stops_the_whole_run_after_exactly_one_request(tmp_path, fake_openai, code):
    fake_openai.set_responder(lambda name, body: Status(code))
    with pytest.raises(LLMUnavailable, match=f"HTTP {code}"):
        draft_brief([STORY], config=settings(tmp_path, fake_openai.base_url))
    assert len(fake_openai.requests) == 1


# --- stalls -------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["headers", "body"])
def test_stall_times_out_within_the_budget(fake_openai, where):
    """The timeouts are real: waiting out the stall would end in a late reply or a dropped body, not "timeout"."""
    fake_openai.set_responder(lambda name, body: Stall(4, where))
    outcome, waits, attempts = ask(fake_openai, max_attempts=2, timeout_s=0.5)
    assert isinstance(outcome, LLMUnavailable) and "timeout" in outcome.one_line() and attempts == 2
    assert len(waits) == 1 and backoff(waits)  # one backoff between the two timeouts


class DripServer:
    """Loopback server sending a valid completion in small pieces: every read is quick, the whole is slow."""

    def __init__(self, pieces: int = 20, interval: float = 0.25):
        body = json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": "fake",
                           "choices": [{"index": 0, "finish_reason": "stop",
                                        "message": {"role": "assistant", "content": json.dumps(OK)}}]}).encode()
        self.body, self.pieces, self.interval = body, pieces, interval
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"

    def _serve(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, _, rest = data.partition(b"\r\n\r\n")
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
            while len(rest) < length:
                rest += conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                         + str(len(self.body)).encode() + b"\r\n\r\n")
            step = -(-len(self.body) // self.pieces)
            for i in range(0, len(self.body), step):
                time.sleep(self.interval)
                try:
                    conn.sendall(self.body[i:i + step])
                except OSError:
                    return

    def close(self) -> None:
        self.sock.close()


def test_trickled_reply_is_cut_off_at_the_timeout_budget():
    from agent.config import ModelRole
    from agent.model.llm import LLMClient

    """Every read is within the timeout, so only the whole-attempt deadline can cut it (the whole reply is valid)."""
    server = DripServer(pieces=20, interval=0.25)  # 5 s in total, 0.25 s between pieces
    try:
        llm = LLMClient(ModelRole(max_attempts=2, timeout_s=0.5, structured_output="json_object"),
                        base_url=server.base_url, api_key=None, clock=FakeClock())
        with pytest.raises(LLMUnavailable, match="timeout"):
            llm.complete_json("q", MSGS, City)
    finally:
        server.close()


# --- replies that are not replies -----------------------------------------------------------


@pytest.mark.parametrize("fault", [Html200(), EmptyBody200(), EmptyChoices()], ids=["html-200", "empty-200", "no-choices"])
def test_unusable_200_then_valid_reply_succeeds(fake_openai, fault):
    fake_openai.enqueue("q", fault, OK)
    outcome, _, attempts = ask(fake_openai)
    assert outcome == City(city="Velden") and attempts == 2


@pytest.mark.parametrize("fault", [Html200(), EmptyBody200(), EmptyChoices()], ids=["html-200", "empty-200", "no-choices"])
def test_unusable_200_forever_ends_typed_within_the_budget(fake_openai, fault):
    fake_openai.set_responder(lambda name, body: fault)
    outcome, waits, attempts = ask(fake_openai, max_attempts=3, max_reasks=2)
    assert isinstance(outcome, LLMOutputInvalid) and attempts == 3 and waits == []  # a re-ask doesn't back off


def test_reasks_and_transport_retries_share_one_attempt_budget(fake_openai):
    fake_openai.enqueue("q", *[Status(503), Status(503), Html200()] * 3)
    ask(fake_openai, max_attempts=3, max_reasks=2)  # asserts attempts <= max_attempts


@pytest.mark.parametrize("fault", [Html200(), EmptyChoices(), Status(503), Status(429, {"Retry-After": "0"})],
                         ids=["html-200", "no-choices", "503", "429"])
def test_graph_under_one_fault_per_call_publishes_with_bounded_attempts(tmp_path, fake_openai, fault):
    seen: dict[str, int] = {}

    def flaky(prompt, body):
        key = prompt + json.dumps(body["messages"][:2], sort_keys=True)  # a re-ask repeats the first two
        seen[key] = seen.get(key, 0) + 1
        return fault if seen[key] == 1 else good_model(prompt, {**body, "messages": body["messages"][:2]})

    fake_openai.set_responder(flaky)
    cfg = settings(tmp_path, fake_openai.base_url, draft={"mode": "sentence"})
    result = draft_brief([STORY], config=cfg)
    assert result.status == "published"
    calls = [json.loads(line) for line in (result.run_dir / "llm_calls.jsonl").read_text().splitlines()]
    # every distinct request meets its fault once, then succeeds; a later call repeating a request exactly (a
    # revision round resending the same prompt) meets no fault, or is answered by the run's reply cache
    assert calls and all(c["ok"] and c["attempts"] <= cfg.drafter.max_attempts for c in calls)
    first_sent = [c for c in calls if c["attempts"] >= 2]
    assert first_sent and all(c["attempts"] == 2 for c in first_sent)
    assert sum(c["attempts"] for c in calls) == len(fake_openai.requests)


def test_random_transport_faults_keep_every_call_typed_and_within_budget(fake_openai):
    rng = random.Random(8)
    faults = [Status(500), Status(502), Status(503), Status(504), Status(429, {"Retry-After": "0"}), Stall(2)]
    fake_openai.set_responder(lambda name, body: rng.choice(faults) if rng.random() < 0.3 else OK)
    llm = client(fake_openai, clock=FakeClock(), max_attempts=3, timeout_s=0.3)  # backoffs recorded, not slept
    outcomes = {"ok": 0, "typed": 0}
    for i in range(60):
        name = f"q{i}"
        try:
            llm.complete_json(name, MSGS, City)
            outcomes["ok"] += 1
        except LLMUnavailable:
            outcomes["typed"] += 1
        assert 1 <= fake_openai.attempts(name) <= 3
    assert outcomes["ok"] >= 55 and llm.usage.llm_calls == 60


# --- the store under two writers -------------------------------------------------------------


def _store_settings(data_dir: str):
    return load_settings(overrides={"data_dir": data_dir, "embeddings": {"backend": "hashing"},
                                    "ingest": {"passage_chars": 200}}, env={})


def _index_worker(data_dir: str, paths: list[str], barrier, results, open_first: bool) -> None:
    """Open the store, wait for the other writer, index; report instead of raising."""
    try:
        from agent.api import passages_of
        from agent.deps import build_store
        from agent.sources.ingest import load_sources

        cfg = _store_settings(data_dir)
        sources = load_sources([Path(p) for p in paths], cfg.ingest).sources
        passages = list(passages_of(sources, cfg.ingest.passage_chars).values())
        if not open_first:
            barrier.wait(timeout=60)
        store = build_store(cfg)
        if open_first:
            barrier.wait(timeout=60)
        stats = store.index(sources, passages)
        results.put(("ok", stats.passages_added, stats.passages_skipped))
    except Exception as e:
        barrier.abort()
        results.put(("error", f"{e.__class__.__name__}: {e}"[:300], 0))


def _race(data_dir: Path, jobs: list[list[str]], open_first: bool) -> list[tuple]:
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(len(jobs)), ctx.Queue()
    procs = [ctx.Process(target=_index_worker, args=(str(data_dir), job, barrier, results, open_first)) for job in jobs]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    return outcomes


@pytest.mark.parametrize("split", ["same sources", "overlapping sources"])
def test_two_processes_indexing_one_store_both_succeed_without_duplicates(tmp_path, split):
    from agent.api import passages_of
    from agent.deps import build_store
    from agent.sources.ingest import load_sources

    files = sorted(str(p) for p in STORY.glob("*.md"))
    cfg = _store_settings(str(tmp_path / "data"))
    build_store(cfg)  # the store exists; both writers then index at the same moment
    outcomes = _race(tmp_path / "data", [files, files] if split == "same sources" else [files[:2], files[1:]], True)
    assert all(o[0] == "ok" for o in outcomes), outcomes
    expected = passages_of(load_sources([Path(f) for f in files], cfg.ingest).sources, 200)
    stored = build_store(cfg).collection.get(include=["metadatas"])
    keys = [(m["source_id"], m["k"]) for m in stored["metadatas"]]
    assert len(keys) == len(set(keys)) == len(expected)
    assert sum(o[1] for o in outcomes) == len(expected)


def test_two_processes_creating_one_store_at_once_both_succeed(tmp_path):
    files = sorted(str(p) for p in STORY.glob("*.md"))
    outcomes = _race(tmp_path / "data", [files, files, files], False)
    assert all(o[0] == "ok" for o in outcomes), outcomes


# --- writing the output ---------------------------------------------------------------------


@pytest.fixture
def old_output(tmp_path):
    out = tmp_path / "out"
    return out, write_old_output(out)


def _fail_nth_replace(monkeypatch, n: int) -> None:
    import agent.runs

    monkeypatch.setattr(agent.runs.os, "replace", failing_replace(n))


def test_disk_full_on_the_first_file_is_one_line_and_keeps_the_old_brief(monkeypatch, old_output):
    out, before = old_output
    _fail_nth_replace(monkeypatch, 1)
    with pytest.raises(UsageError, match="cannot write output \\(No space left on device\\)"):
        write_outputs(sample_result(), out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no partial file, no temp file left


def test_disk_full_part_way_keeps_the_old_brief_whole(monkeypatch, old_output):
    out, before = old_output
    _fail_nth_replace(monkeypatch, 2)
    with pytest.raises(UsageError):
        write_outputs(sample_result(), out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_disk_full_on_write_leaves_no_temp_file(monkeypatch, old_output):
    import agent.runs

    out, before = old_output
    real = os.fdopen

    class FullFile:
        def __init__(self, fd, *args, **kwargs):
            self.fh = real(fd, *args, **kwargs)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def write(self, text):
            self.fh.write(text[:10])
            self.fh.flush()
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(agent.runs.os, "fdopen", FullFile)
    with pytest.raises(UsageError, match="No space left on device"):
        write_outputs(sample_result(), out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_read_only_output_folder_via_cli_exits_2_and_writes_nothing(tmp_path, fake_openai, monkeypatch):
    import agent.runs

    fake_openai.set_responder(good_model)
    out = tmp_path / "out"
    out.mkdir()
    real = tempfile.mkstemp

    def mkstemp(*args, dir=None, **kwargs):
        if Path(dir) == out:
            raise PermissionError(errno.EACCES, "Permission denied", str(out))
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(agent.runs.tempfile, "mkstemp", mkstemp)
    result = cli(tmp_path, ["draft", str(STORY), "-o", str(out)], fake_openai.base_url)
    assert result.exit_code == 2
    assert result.stderr.startswith("error:") and "cannot write output (Permission denied)" in result.stderr
    assert list(out.iterdir()) == []


def test_really_read_only_output_folder_as_an_unprivileged_user(tmp_path, fake_openai):
    if os.geteuid() == 0 and not shutil.which("setpriv"):
        pytest.skip("running as root, where a read-only folder is still writable, and setpriv is not available")
    fake_openai.set_responder(good_model)
    base = Path(tempfile.mkdtemp(prefix="brief-ro-"))
    try:
        os.chmod(base, 0o777)
        (base / "out").mkdir(mode=0o555)
        os.chmod(base / "out", 0o555)
        cfg = base / "cfg.toml"
        cfg.write_text('[embeddings]\nbackend = "hashing"\n[drafter]\nmax_attempts = 2\ntimeout_s = 5\n'
                       '[ingest]\npassage_chars = 200\n')
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "BRIEF"))}
        env.update(OPENAI_BASE_URL=fake_openai.base_url, BRIEF_DATA_DIR=str(base / "data"), HOME=str(base))
        command = [sys.executable, "-m", "agent.cli", "draft", str(STORY), "-o", str(base / "out"), "--config", str(cfg)]
        if os.geteuid() == 0:
            command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
        proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr and proc.stderr.strip().count("\n") == 0
        assert "cannot write output (Permission denied)" in proc.stderr
        assert list((base / "out").iterdir()) == []
    finally:
        os.chmod(base / "out", 0o755)
        shutil.rmtree(base)


def test_written_brief_files_follow_the_umask(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    written = write_outputs(sample_result(), tmp_path / "out")
    assert all((p.stat().st_mode & 0o777) == (0o666 & ~umask) for p in written)
