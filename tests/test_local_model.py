"""The real embedded model: started on loopback, answering a structured question."""

import importlib.util
import os
import time

import pytest
from pydantic import BaseModel

from agent.config import load_settings
from agent.llm import CallLog, LLMClient
from agent.local_model import EmbeddedModel, locate_gguf

pytestmark = [
    pytest.mark.embedded,
    pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python not installed (run ./scripts/setup)"),
]


class Place(BaseModel):
    city: str


def test_gguf_ships_in_its_package():
    path = locate_gguf()
    assert path.suffix == ".gguf" and path.stat().st_size > 50_000_000


def test_embedded_model_gives_a_validated_structured_answer():
    settings = load_settings(env={})
    with EmbeddedModel(settings.local_model) as model:
        llm = LLMClient(settings.drafter, base_url=model.base_url, api_key=None, call_log=CallLog(), embedded=True)
        messages = [{"role": "user", "content": (
            "Passage: The new tram depot opened in Velden on Monday. The mayor of Velden cut the ribbon.\n"
            'Which city is the passage about? Reply as {"city": "..."}')}]
        started = time.monotonic()
        answer = llm.complete_json("extract_city", messages, Place)
        elapsed = time.monotonic() - started
    assert "velden" in answer.city.lower()
    usage = llm.usage
    print(f"\nembedded model: startup {model.startup_s:.2f} s, {usage.prompt_tokens} prompt + "
          f"{usage.completion_tokens} completion tokens in {elapsed:.2f} s")
    assert model.process is None  # stopped on exit


@pytest.mark.embedded
def test_embedded_server_dies_with_a_killed_parent():
    import signal
    import subprocess
    import sys
    import time

    code = ("from agent.config import LocalModel; from agent.local_model import shared_embedded_model; "
            "import sys, time; m = shared_embedded_model(LocalModel()); print(m.process.pid, flush=True); time.sleep(60)")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    child_pid = int(parent.stdout.readline())
    parent.send_signal(signal.SIGKILL)
    parent.wait(10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(child_pid, 0)
            with open(f"/proc/{child_pid}/stat") as fh:
                if fh.read().split()[2] == "Z":
                    break
        except (ProcessLookupError, FileNotFoundError):
            break
        time.sleep(0.2)
    else:
        os.kill(child_pid, signal.SIGKILL)
        pytest.fail("the embedded server outlived its killed parent")
