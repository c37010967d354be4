"""Shared fixtures: the fake OpenAI-compatible server on loopback, and a Chroma server for the server-mode cases."""

import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from agent.config import Store
from tests.fakes import FakeOpenAI, free_port

CHROMA = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")


@pytest.fixture
def fake_openai():
    with FakeOpenAI() as server:
        yield server
    server.check()  # a responder with no reply for a prompt fails the test by name


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    """`chroma run` on a free loopback port, one per test module; yields its Store settings."""
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen([CHROMA, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).read()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("chroma run did not start")
            time.sleep(0.2)
    yield Store(host="127.0.0.1", port=port)
    proc.terminate()
    proc.wait(10)
