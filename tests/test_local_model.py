"""The real embedded model: started on loopback, answering a structured question."""

import importlib.util
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from pydantic import BaseModel

from agent.config import load_settings
from agent.errors import EmbeddedModelCrashed
from agent.model.llm import CallLog, LLMClient
from agent.model.local_model import EmbeddedModel, locate_gguf

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

    code = ("from agent.config import LocalModel; from agent.model.local_model import shared_embedded_model; "
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


def _default_build() -> bool:
    flags = Path(__file__).resolve().parent.parent / ".venv" / ".llama-build-flags"
    return not flags.is_file() or "GGML_NATIVE=ON" not in flags.read_text()


@pytest.mark.skipif(not _default_build(), reason="native build chosen with BRIEF_NATIVE_BUILD=1")
def test_default_build_has_no_amx_or_avx512():
    """The portable baseline: AMX (llama.cpp issue 20824 segfaults) and AVX-512 are not compiled in."""
    import llama_cpp

    info = llama_cpp.llama_print_system_info().decode()
    assert "AVX2 = 1" in info or "NEON = 1" in info, info  # the baseline really is in
    assert "AMX" not in info and "AVX512" not in info, info


def _crash_during_request(model: EmbeddedModel) -> None:
    """Kill the server with SIGSEGV the moment the request reaches it (a native crash mid-inference)."""
    def killer():
        time.sleep(0.3)
        model.process.send_signal(signal.SIGSEGV)
    threading.Thread(target=killer, daemon=True).start()


def test_a_crashed_embedded_server_is_named_and_not_retried():
    settings = load_settings(env={})
    with EmbeddedModel(settings.local_model) as model:
        llm = LLMClient(settings.drafter, base_url=model.base_url, api_key=None, call_log=CallLog(), embedded=True,
                        server=model)
        _crash_during_request(model)
        messages = [{"role": "user", "content": "Write a long story about a lighthouse keeper. " * 20}]
        with pytest.raises(EmbeddedModelCrashed) as caught:
            llm.complete_text("story", messages)
    message = caught.value.one_line()
    assert message.startswith("embedded model crashed (SIGSEGV)"), message
    assert str(model.log_path) in message
    assert caught.value.exit_code == 4
    assert llm.usage.http_attempts == 1  # no retries against a dead process


def test_a_crashed_embedded_server_is_restarted_once_when_allowed():
    settings = load_settings(env={})
    with EmbeddedModel(settings.local_model) as model:
        llm = LLMClient(settings.drafter, base_url=model.base_url, api_key=None, call_log=CallLog(), embedded=True,
                        server=model, restarts=1)
        first_url = llm.base_url
        model.process.send_signal(signal.SIGKILL)
        model.process.wait(5)
        assert llm.ping()  # restarted, then answered
        assert llm.base_url != first_url and model.process.poll() is None
        model.process.send_signal(signal.SIGKILL)
        model.process.wait(5)
        with pytest.raises(EmbeddedModelCrashed, match=r"crashed \(SIGKILL\) before a request"):
            llm.complete_text("again", [{"role": "user", "content": "Say OK."}])


def test_cli_names_a_crash_mid_run_and_exits_4(tmp_path):
    """The whole CLI on the embedded model; the server is killed with SIGSEGV once drafting has begun."""
    import subprocess
    import sys

    env = {**os.environ, "BRIEF_DATA_DIR": str(tmp_path / "data")}
    env.pop("OPENAI_BASE_URL", None)
    config = tmp_path / "sentence.toml"  # the model writes every sentence: many calls, so the crash is mid-run
    config.write_text('[draft]\nmode = "sentence"\n', encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "agent.cli", "draft", "examples/harbor-desalination",
                             "-o", str(tmp_path / "out"), "--config", str(config)],
                            cwd=Path(__file__).resolve().parent.parent, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    server = _wait_for_child(proc.pid, "llama_cpp.server", timeout_s=120)
    calls = tmp_path / "data" / "runs"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not any(calls.glob("*/llm_calls.jsonl")):
        time.sleep(0.2)  # wait until at least one call has finished: the crash is mid-run
    os.kill(server, signal.SIGSEGV)
    _, stderr = proc.communicate(timeout=120)
    lines = [line for line in stderr.splitlines() if "embedded model crashed" in line]
    assert proc.returncode == 4, stderr[-2000:]
    assert lines and "(SIGSEGV)" in lines[0] and "log: " in lines[0], stderr[-2000:]
    assert "Traceback" not in stderr
    assert not (tmp_path / "out" / "brief.md").exists()


def _wait_for_child(parent: int, marker: str, timeout_s: float) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == parent and marker in (stat.parent / "cmdline").read_text():
                    return int(stat.parent.name)
            except (OSError, IndexError, ValueError):
                continue
        time.sleep(0.2)
    pytest.fail(f"no {marker} child of {parent} within {timeout_s} s")
