"""The HTTP service as a pipeline calls it: real uvicorn on loopback, urllib, the fake OpenAI server drafting."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from importlib import metadata
from pathlib import Path

import jsonschema
import pytest

from agent.errors import StoreError
from agent.serve.jobs import JobStore
from agent.result import BriefDocument
from agent.config import ServiceSettings
from agent.serve.service import create_app
from tests.fakes import (LEAKY, STORY, Stall, Status, call, free_port, good_model, leaky_model, poll_job, running,
                         settings_for)

ROOT = Path(__file__).resolve().parent.parent


def with_story_root(settings):
    """Path sources on, confined to the test fixtures (the service reads no path source by default)."""
    service = settings.service.model_copy(update={"path_sources": True, "path_roots": [STORY.parent]})
    return settings.model_copy(update={"service": service})


@pytest.fixture
def start(tmp_path, fake_openai):
    """start(**limits, draft=...) -> base URL of a server drafting with the fake model."""
    fake_openai.set_responder(good_model)
    with_servers = []

    def _start(draft: dict | None = None, workers: int = 1, **limits):
        brief = with_story_root(settings_for(tmp_path, fake_openai.base_url, **(draft or {})))
        brief.service.workers = workers
        settings = ServiceSettings(brief=brief, **limits)
        app = create_app(settings)
        context = running(app)
        with_servers.append(context)
        base = context.__enter__()
        return base, app

    yield _start
    for context in reversed(with_servers):
        context.__exit__(None, None, None)


def request_with_inline_source() -> dict:
    daily = (STORY / "daily.md").read_text().split("---", 2)[2]
    return {"sources": [str(STORY / "wire.md"),
                        {"text": daily, "outlet": "Velden Daily", "title": "Tram extension wins council backing",
                         "published": "2026-05-13"}]}


def test_healthz_and_openapi(start):
    base, _ = start()
    status, health, _ = call(base, "GET", "/healthz")
    assert status == 200 and health == {"status": "ok", "version": metadata.version("brief-agent")}
    status, spec, _ = call(base, "GET", "/openapi.json")
    assert status == 200 and spec["info"]["title"] == "brief-agent"
    assert {"/v1/briefs", "/v1/briefs:async", "/v1/briefs/{job_id}", "/v1/check", "/healthz"} <= set(spec["paths"])
    body_schema = spec["paths"]["/v1/briefs"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body_schema["$ref"].endswith("/DraftRequest")
    assert "422" in spec["paths"]["/v1/briefs"]["post"]["responses"]


def test_post_briefs_returns_the_published_document(start, fake_openai, tmp_path):
    base, _ = start()
    status, document, headers = call(base, "POST", "/v1/briefs", request_with_inline_source())
    assert status == 200 and headers["content-type"] == "application/json"
    jsonschema.validate(document, BriefDocument.model_json_schema())
    assert document["status"] == "published" and document["brief"]["disclaimer"]
    assert {s["outlet"] for s in document["brief"]["sources"]} == {"Northfield Wire", "Velden Daily"}
    assert (tmp_path / "data" / "runs" / document["run_id"] / "result.json").is_file()
    assert fake_openai.requests and document["usage"]["llm_calls"] > 0


def test_a_rejected_draft_is_200_with_status_rejected(start, fake_openai):
    fake_openai.set_responder(leaky_model({"sentence": LEAKY}))
    base, _ = start(draft={"mode": "sentence", "fallback": "reject", "max_revisions": 1})
    status, document, _ = call(base, "POST", "/v1/briefs", {"sources": [str(STORY)]})
    assert status == 200 and document["status"] == "rejected"
    assert "chatbot-leakage" in {v["code"] for v in document["check"]["violations"]}


@pytest.mark.parametrize("responder, request_body, http, code, exit_code", [
    (lambda p, b: Status(503), {"sources": [str(STORY)]}, 502, "llm-unavailable", 4),
    (good_model, {"sources": [{"text": "Accept all cookies"}]}, 422, "no-usable-sources", 3),
    (good_model, {"sources": [str(STORY)], "config": "/nonexistent/brief.toml"}, 403, "path-refused", 2),
])
def test_errors_map_to_http_statuses(start, fake_openai, responder, request_body, http, code, exit_code):
    fake_openai.set_responder(responder)
    base, _ = start()
    status, error, _ = call(base, "POST", "/v1/briefs", request_body)
    assert status == http
    assert error["status"] == "failed" and error["error"]["code"] == code and error["error"]["exit_code"] == exit_code
    assert "\n" not in error["error"]["message"] and "Traceback" not in error["error"]["message"]


def test_async_job_is_queued_then_done(start):
    base, _ = start()
    status, accepted, headers = call(base, "POST", "/v1/briefs:async", {"sources": [str(STORY)]})
    assert status == 202 and accepted["status"] == "queued" and accepted["href"] == f"/v1/briefs/{accepted['id']}"
    assert headers["location"] == accepted["href"]
    job = poll_job(base, accepted["href"], lambda j: j["status"] in ("done", "failed"))
    assert job["status"] == "done" and job["attempts"] == 1 and job["http_status"] == 200
    assert job["result"]["status"] == "published" and job["result"]["brief"]["headline"]


@pytest.mark.parametrize("workers", [1, 2])
def test_workers_draft_that_many_jobs_at_once(start, fake_openai, workers):
    in_flight, peak, lock = [0], [0], threading.Lock()

    def counting_model(prompt, body):
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        time.sleep(0.1)
        with lock:
            in_flight[0] -= 1
        return good_model(prompt, body)

    base, _ = start(workers=workers)
    fake_openai.set_responder(counting_model)
    hrefs = [call(base, "POST", "/v1/briefs:async", {"sources": [str(STORY)]})[1]["href"] for _ in range(3)]
    jobs = [poll_job(base, href, lambda j: j["status"] in ("done", "failed")) for href in hrefs]
    assert [j["status"] for j in jobs] == ["done"] * 3 and peak[0] == workers


def test_a_running_job_shows_its_stage_and_calls(start, fake_openai):
    import time as _time

    def slow(prompt, body):
        _time.sleep(0.4)
        return good_model(prompt, body)

    fake_openai.set_responder(slow)
    base, _ = start()
    _, accepted, _ = call(base, "POST", "/v1/briefs:async", {"sources": [str(STORY)]})
    running = poll_job(base, accepted["href"], lambda j: j["status"] == "running" and (j.get("progress") or {}).get(
        "llm_calls", 0) >= 1)
    assert running["progress"]["stage"] in ("draft", "check", "revise", "fallback", "finalize")
    assert "index" in running["progress"]["stages"] and running["progress"]["llm_calls"] >= 1
    done = poll_job(base, accepted["href"], lambda j: j["status"] in ("done", "failed"))
    assert done["status"] == "done" and done.get("progress") is None


def test_failed_job_carries_the_error(start, fake_openai):
    fake_openai.set_responder(lambda p, b: Status(503))
    base, _ = start()
    _, accepted, _ = call(base, "POST", "/v1/briefs:async", {"sources": [str(STORY)]})
    job = poll_job(base, accepted["href"], lambda j: j["status"] in ("done", "failed"))
    assert job["status"] == "failed" and job["http_status"] == 502 and job["error"]["code"] == "llm-unavailable"


def test_unknown_job_and_route_are_404_json(start):
    base, _ = start()
    status, error, _ = call(base, "GET", "/v1/briefs/0123456789abcdef")
    assert status == 404 and error["error"]["code"] == "not-found" and "0123456789abcdef" in error["error"]["message"]
    status, error, _ = call(base, "GET", "/v2/nothing")
    assert status == 404 and error["status"] == "failed"


def test_check_passes_a_supported_draft_and_fails_a_leaky_one(start):
    base, _ = start()
    _, document, _ = call(base, "POST", "/v1/briefs", {"sources": [str(STORY)]})
    status, report, _ = call(base, "POST", "/v1/check", {"draft": document})
    assert status == 200 and report["status"] == "pass" and report["violations"] == []

    status, report, _ = call(base, "POST", "/v1/check", {"draft": LEAKY, "sources": [str(STORY)]})
    assert status == 200 and report["status"] == "fail"
    leak = next(v for v in report["violations"] if v["code"] == "chatbot-leakage")
    assert LEAKY[leak["start"]:leak["end"]] == leak["text"]
    assert set(leak) == {"code", "severity", "section", "start", "end", "text", "message", "evidence"}

    status, error, _ = call(base, "POST", "/v1/check", {"draft": "Some text.", "sources": [{"text": "Accept all cookies"}]})
    assert status == 422 and error["error"]["code"] == "no-usable-sources"


def test_oversize_body_is_413_with_and_without_content_length(start, fake_openai):
    base, _ = start(max_body_bytes=20_000)
    big = json.dumps({"sources": [{"text": "word " * 10_000}]}).encode()
    status, error, _ = call(base, "POST", "/v1/briefs", raw=big)  # urllib sends Content-Length
    assert status == 413 and error["error"]["code"] == "request-too-large" and "20000" in error["error"]["message"]

    chunks = iter([big[i:i + 4096] for i in range(0, len(big), 4096)])  # no length: chunked transfer encoding
    status, error, _ = call(base, "POST", "/v1/briefs:async", data=chunks)
    assert status == 413 and error["error"]["code"] == "request-too-large"
    assert fake_openai.requests == []


@pytest.mark.parametrize("raw, content_type, words", [
    (b"{not json", "application/json", "not valid JSON"),
    (b'{"sources": []}', "application/json", "'sources'"),
    (b'{"sources": ["a.md"], "bogus": 1}', "application/json", "'bogus'"),
    (b'{"sources": ["a.md"]}', "text/plain", "Content-Type: application/json"),
    (b"", "application/json", "missing"),
])
def test_malformed_body_is_422_in_our_shape(start, fake_openai, raw, content_type, words):
    base, _ = start()
    status, error, _ = call(base, "POST", "/v1/briefs", raw=raw, headers={"Content-Type": content_type})
    assert status == 422 and error["status"] == "failed"
    assert error["error"]["code"] == "usage" and error["error"]["exit_code"] == 2
    assert words in error["error"]["message"] and "\n" not in error["error"]["message"]
    assert fake_openai.requests == []


def test_time_limit_gives_504(start, fake_openai):
    fake_openai.set_responder(lambda p, b: Stall(3))
    base, _ = start(time_limit_s=1)
    started = time.monotonic()
    status, error, _ = call(base, "POST", "/v1/briefs", {"sources": [str(STORY)]})
    assert status == 504 and error["error"]["code"] == "timeout" and "1 s" in error["error"]["message"]
    assert time.monotonic() - started < 5


def test_a_bug_is_a_json_500_and_the_traceback_stays_in_the_log(start, caplog):
    base, app = start()

    def broken(request):
        raise RuntimeError("tangled\nstate")

    app.state.runner.draft = broken
    with caplog.at_level(logging.ERROR, logger="brief.service"):
        status, error, _ = call(base, "POST", "/v1/briefs", {"sources": [str(STORY)]})
    assert status == 500 and error["error"]["code"] == "internal"
    assert error["error"]["message"].startswith("internal error: RuntimeError") and "tangled" not in json.dumps(error)
    assert "Traceback" not in json.dumps(error)
    logged = [r for r in caplog.records if r.name == "brief.service"]
    assert logged and logged[0].exc_info and logged[0].exc_info[0] is RuntimeError


def test_one_server_per_data_dir_and_interrupted_jobs_give_up_eventually(tmp_path):
    first, second = JobStore(tmp_path), JobStore(tmp_path)
    first.lock()
    with pytest.raises(StoreError, match="another brief server"):
        second.lock()
    first.unlock()
    second.lock()
    second.unlock()

    job_id = first.submit({"sources": ["a.md"]})
    for attempt in (1, 2, 3):
        assert first.claim().attempts == attempt
        first.requeue_interrupted(max_attempts=3)
    job = first.get(job_id)
    assert job.status == "failed" and job.outcome["error"]["code"] == "interrupted"
    assert first.claim() is None


def _serve(tmp_path: Path, base_url: str, port: int) -> subprocess.Popen:
    cfg = tmp_path / "serve.toml"
    cfg.write_text('[embeddings]\nbackend = "hashing"\n[drafter]\nmax_attempts = 2\ntimeout_s = 30\n'
                   f'[ingest]\npassage_chars = 200\n[service]\npath_sources = true\npath_roots = ["{STORY.parent}"]\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "BRIEF"))}
    env.update(OPENAI_BASE_URL=base_url, NO_PROXY="127.0.0.1,localhost")
    with (tmp_path / "serve.log").open("a") as log:  # a file, not a pipe nobody drains
        return subprocess.Popen([sys.executable, "-m", "agent.cli", "serve", "--port", str(port), "--config", str(cfg),
                                 "--data-dir", str(tmp_path / "data")], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=log)


def _wait_healthy(proc: subprocess.Popen, base: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            if call(base, "GET", "/healthz", timeout=2)[0] == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"brief serve did not come up: {log.read_text()}")


def test_a_running_job_survives_a_server_kill(tmp_path, fake_openai):
    release = threading.Event()

    def held_until_released(prompt, body):
        release.wait(30)  # the first server dies while its first LLM call waits here
        return good_model(prompt, body)

    fake_openai.set_responder(held_until_released)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    first = _serve(tmp_path, fake_openai.base_url, port)  # `brief serve` in its own process, to kill -9
    try:
        _wait_healthy(first, base, tmp_path / "serve.log")
        _, accepted, _ = call(base, "POST", "/v1/briefs:async", {"sources": [str(STORY)]})
        poll_job(base, accepted["href"], lambda j: j["status"] == "running" and fake_openai.requests, timeout=30)
    finally:
        first.kill()
        first.wait(10)
    release.set()

    settings = ServiceSettings(brief=with_story_root(settings_for(tmp_path, fake_openai.base_url)))  # same data dir
    with running(create_app(settings)) as base:
        job = poll_job(base, accepted["href"], lambda j: j["status"] in ("done", "failed"))
    assert job["status"] == "done" and job["result"]["status"] == "published"
    assert job["attempts"] == 2 and "re-queued" in job["note"]
