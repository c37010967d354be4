"""The service on loopback for tests and benchmarks: real uvicorn in a thread, and urllib calls to it."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from agent.config import ServiceSettings
from agent.testing.harness import settings_for

DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only, whatever the environment says


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base: str, method: str, path: str, body=None, *, raw: bytes | None = None, data=None,
         headers: dict | None = None, timeout: float = 60) -> tuple[int, dict, dict]:
    """One request; returns (HTTP status, JSON body, headers) for successes and errors alike."""
    if data is None:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with DIRECT.open(request, timeout=timeout) as r:
            return r.status, json.loads(r.read()), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read()), dict(e.headers)


def poll_job(base: str, href: str, until, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, job, _ = call(base, "GET", href, timeout=10)
        assert status == 200, job
        if until(job):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job never reached the state: {job}")


@contextmanager
def running(app):
    """The app under a real uvicorn server in a thread, on a free loopback port."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_config=None,
                                           access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(10)


def service_settings(tmp_path: Path, base_url: str, *, draft: dict | None = None, limits: dict | None = None,
                     **service) -> ServiceSettings:
    brief = settings_for(tmp_path, base_url, **(draft or {}))
    brief = brief.model_copy(update={"service": brief.service.model_copy(update=service)})
    return ServiceSettings(brief=brief, api_tokens=[], **(limits or {}))
