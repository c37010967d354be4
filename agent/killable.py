"""Run a function in a warm child process under a wall-clock limit; past it the child is killed, not left running.

A thread cannot be stopped in Python, so CPU-bound work a client can make arbitrarily long (the
checker on a crafted draft) runs in child processes. Children start on first use and are reused;
one that overruns its limit is killed and a fresh one takes its place on the next call.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Callable


class TimedOut(Exception):
    """The call did not finish within its limit; its child process has been killed."""


class WorkerDied(Exception):
    """The child process exited during the call (killed by the OS, out of memory)."""


def _serve_calls(conn: Connection, preload: tuple[str, ...]) -> None:
    """Child loop: import what the calls need, say so, then one (function, args) at a time until the parent goes."""
    import importlib

    for module in preload:
        importlib.import_module(module)
    conn.send("ready")
    while True:
        try:
            fn, args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            outcome = (True, fn(*args))
        except Exception as e:  # handed to the parent, which re-raises it
            outcome = (False, e)
        try:
            conn.send(outcome)
        except Exception as e:  # an unpicklable result or exception
            conn.send((False, RuntimeError(f"{e.__class__.__name__}: {e}")))


@dataclass
class _Worker:
    process: Any
    conn: Connection


class KillablePool:
    """At most `size` child processes, each running one call at a time."""

    def __init__(self, size: int, preload: tuple[str, ...] = (), start_timeout_s: float = 300.0):
        self.size, self.preload, self.start_timeout_s = size, preload, start_timeout_s
        self._ctx = multiprocessing.get_context("spawn")  # never fork a process full of threads
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._live = 0
        self._lock = threading.Lock()
        self.killed = 0  # children killed at their limit (for tests and the service log)

    def _spawn(self) -> _Worker:
        """A new child, once it has imported `preload`: starting it does not count against any call's limit."""
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(target=_serve_calls, args=(child, self.preload), name="brief-check", daemon=True)
        process.start()
        child.close()
        worker = _Worker(process, parent)
        try:
            if parent.poll(self.start_timeout_s) and parent.recv() == "ready":
                return worker
        except (EOFError, OSError):
            pass
        process.kill()
        process.join(5)
        parent.close()
        raise WorkerDied(f"a worker process did not start within {self.start_timeout_s:g} s")

    def _take(self, timeout: float) -> tuple[_Worker, float]:
        """A free child and the time it took to start one (0 when one was idle)."""
        with self._lock:
            spawn = self._idle.empty() and self._live < self.size
            if spawn:
                self._live += 1
        if spawn:
            started = time.monotonic()
            try:
                return self._spawn(), time.monotonic() - started
            except BaseException:
                with self._lock:
                    self._live -= 1
                raise
        try:
            return self._idle.get(timeout=max(0.0, timeout)), 0.0
        except queue.Empty:
            raise TimedOut(f"no free worker within {timeout:g} s") from None

    def _discard(self, worker: _Worker) -> None:
        worker.process.kill()
        worker.process.join(5)
        worker.conn.close()
        with self._lock:
            self._live -= 1

    def call(self, fn: Callable[..., Any], args: tuple, timeout: float) -> Any:
        """fn(*args) in a child; TimedOut (child killed) past `timeout` s, waiting for a free child included."""
        deadline = time.monotonic() + timeout
        worker, starting = self._take(timeout)
        deadline += starting  # a cold start is the server's cost, not the call's
        try:
            worker.conn.send((fn, args))
            if not worker.conn.poll(max(0.0, deadline - time.monotonic())):
                self.killed += 1
                self._discard(worker)
                raise TimedOut(f"killed after {timeout:g} s")
            ok, value = worker.conn.recv()
        except (EOFError, OSError) as e:
            self._discard(worker)
            raise WorkerDied(f"the worker process died ({e.__class__.__name__})") from None
        except BaseException:
            if worker.process.is_alive() and not worker.conn.closed:
                self._idle.put(worker)
            raise
        self._idle.put(worker)
        if ok:
            return value
        raise value

    def close(self) -> None:
        while True:
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                return
            self._discard(worker)
