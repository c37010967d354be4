"""Cooperative cancellation: abandoned work stops at its next check instead of running on in a thread.

The service runs each draft inside `cancel_scope(event)`; past the time limit it sets the event, and
the draft stops at the next LLM call, the next wait for a reply, the next indexed batch or the next
ingested file. The scope is a context variable, so LangGraph's worker threads (which copy the
context) see it too. Outside a scope (the CLI, tests) every check is a no-op.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

POLL_S = 0.1
_scope: ContextVar[threading.Event | None] = ContextVar("brief_cancel_scope", default=None)


class Cancelled(BaseException):
    """Not an Exception, so no `except Exception` on the way up (chromadb wrappers, retries) swallows it."""


@contextmanager
def cancel_scope(event: threading.Event) -> Iterator[None]:
    token = _scope.set(event)
    try:
        yield
    finally:
        _scope.reset(token)


def raise_if_cancelled() -> None:
    event = _scope.get()
    if event is not None and event.is_set():
        raise Cancelled("the work was abandoned (time limit)")


def wait(done: threading.Event, timeout: float) -> bool:
    """done.wait(timeout), but raising Cancelled as soon as the scope is cancelled."""
    event = _scope.get()
    if event is None:
        return done.wait(timeout)
    remaining = timeout
    while remaining > 0:
        if done.wait(min(POLL_S, remaining)):
            return True
        raise_if_cancelled()
        remaining -= POLL_S
    return done.is_set()
