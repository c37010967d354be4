"""What a run is doing, for whoever watches: a small observer the API calls at its stage boundaries.

The API takes any object with these four methods (NO_PROGRESS by default). The CLI shows them on
stderr (ConsoleProgress); the HTTP service can keep a StageRecord per job and show its snapshot().
Stages: ingest, index, then the graph's nodes (agent/graph.py: retrieve, draft, ..., check, revise, fallback, finalize).
"""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol, Sequence

from agent.config import Budget


class Progress(Protocol):
    def stage(self, name: str) -> None:
        """A stage starts (the previous one has finished)."""

    def embedded(self, done: int, total: int) -> None:
        """Passages embedded so far, of the `total` not yet in the store."""

    def llm_call(self, calls: int, tokens: int, cost: float) -> None:
        """A logical LLM call finished; the run's totals so far."""

    def note(self, message: str) -> None:
        """Something worth a line while progress is shown: a fetched page, how many sources were usable."""

    def warning(self, message: str) -> None:
        """Something the editor must see even without progress: a source cut at the size limit."""


class NoProgress:
    """The default observer: does nothing."""

    def stage(self, name: str) -> None:
        pass

    def embedded(self, done: int, total: int) -> None:
        pass

    def llm_call(self, calls: int, tokens: int, cost: float) -> None:
        pass

    def note(self, message: str) -> None:
        pass

    def warning(self, message: str) -> None:
        pass


NO_PROGRESS = NoProgress()


class WarningsOnly(NoProgress):
    """No progress, but warnings on the console (the CLI's default when stderr is no terminal)."""

    def __init__(self, console):
        self.console = console

    def warning(self, message: str) -> None:
        self.console.print(f"warning: {message}", highlight=False, markup=False, soft_wrap=True)


def report_ingest(progress: Progress, sources: Sequence[Any]) -> None:
    """Say what ingest kept, and which sources were cut at the size limit (easy to miss otherwise)."""
    progress.note(f"{len(sources)} usable source(s)")
    for source in sources:
        for removal in source.removed:
            if removal.reason == "oversize-truncated" and removal.line is None:
                progress.warning(f"{source.origin}: too large, {removal.text}")


def budget_left(budget: Budget, tokens: int, cost: float) -> str:
    """The remaining budget in words: tokens and/or cost left, or that there is no cap."""
    parts = []
    if budget.max_tokens_per_brief is not None:
        parts.append(f"{max(0, budget.max_tokens_per_brief - tokens):,} tokens left")
    if budget.max_cost is not None:
        parts.append(f"{max(0.0, budget.max_cost - cost):.4f} cost left")
    return " and ".join(parts) or "no budget cap"


class StageRecord(NoProgress):
    """Thread-safe record of a run's progress, for a job view: call snapshot() from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._state: dict[str, Any] = {"stage": None, "stages": [], "llm_calls": 0, "tokens": 0, "cost": 0.0,
                                       "passages_embedded": 0, "passages_to_embed": 0, "notes": []}

    def stage(self, name: str) -> None:
        with self._lock:
            self._state["stage"] = name
            self._state["stages"].append(name)

    def embedded(self, done: int, total: int) -> None:
        with self._lock:
            self._state.update(passages_embedded=done, passages_to_embed=total)

    def llm_call(self, calls: int, tokens: int, cost: float) -> None:
        with self._lock:
            self._state.update(llm_calls=calls, tokens=tokens, cost=round(cost, 6))

    def note(self, message: str) -> None:
        with self._lock:
            self._state["notes"] = (self._state["notes"] + [message])[-20:]

    def warning(self, message: str) -> None:
        self.note(f"warning: {message}")

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {**self._state, "stages": list(self._state["stages"]), "notes": list(self._state["notes"]),
                    "elapsed_s": round(time.monotonic() - self._started, 1)}


EMBED_LINE_EVERY_S = 10.0  # without a live line, a long indexing prints its progress this often


class ConsoleProgress:
    """Progress on stderr: one line per finished stage, and a live status line on a terminal (without one,
    a line every EMBED_LINE_EVERY_S while passages are being embedded)."""

    def __init__(self, console, budget: Budget | None = None, live: bool | None = None):
        from rich.spinner import Spinner

        self.console, self.budget = console, budget or Budget()
        self.live_enabled = console.is_terminal if live is None else live
        self._lock = threading.RLock()
        self._started = self._stage_started = time.monotonic()
        self._stage: str | None = None
        self._calls = self._tokens = self._stage_calls = 0
        self._cost = 0.0
        self._embed: tuple[int, int, float] | None = None
        self._embed_line_at = 0.0
        self._spinner = Spinner("dots")
        self._live = None

    # -- the observer --------------------------------------------------------------------------

    def stage(self, name: str) -> None:
        with self._lock:
            self._finish_stage()
            self._stage, self._stage_started, self._stage_calls = name, time.monotonic(), self._calls
            self._embed = None
        if self.live_enabled and self._live is None:
            from rich.live import Live

            self._live = Live(self, console=self.console, refresh_per_second=8, transient=True)
            self._live.start()

    def embedded(self, done: int, total: int) -> None:
        with self._lock:
            now = time.monotonic()
            started = self._embed[2] if self._embed else now
            self._embed = (done, total, started)
            if done == 0:
                self._embed_line_at = now + EMBED_LINE_EVERY_S
            elif not self.live_enabled and done < total and now >= self._embed_line_at:
                self._embed_line_at = now + EMBED_LINE_EVERY_S
                rate = done / max(now - started, 1e-6)
                self.console.print(f"  {self._stage or 'index':<9} {self._embed_text()}, about "
                                   f"{(total - done) / max(rate, 1e-6):,.0f} s left", highlight=False, markup=False)

    def llm_call(self, calls: int, tokens: int, cost: float) -> None:
        with self._lock:
            self._calls, self._tokens, self._cost = calls, tokens, cost

    def note(self, message: str) -> None:
        self.console.print(f"            · {message}", highlight=False, markup=False, soft_wrap=True)

    def warning(self, message: str) -> None:
        self.console.print(f"warning: {message}", highlight=False, markup=False, soft_wrap=True)

    def close(self) -> None:
        """The last stage's line and the totals; stops the live line."""
        with self._lock:
            self._finish_stage()
            self._stage = None
        if self._live is not None:
            self._live.stop()
            self._live = None
        if self._calls or self._tokens:
            self.console.print(f"  total     {self._calls} LLM calls, {self._tokens:,} tokens, "
                               f"{budget_left(self.budget, self._tokens, self._cost)}; "
                               f"{time.monotonic() - self._started:.1f} s", highlight=False, markup=False)

    def __enter__(self) -> "ConsoleProgress":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- rendering -----------------------------------------------------------------------------

    def _embed_text(self) -> str:
        if not self._embed:
            return ""
        done, total, started = self._embed
        rate = done / max(time.monotonic() - started, 1e-6)
        return f"{done:,}/{total:,} passages embedded ({rate:,.0f}/s)" if total else "all passages already in the store"

    def _detail(self) -> str:
        calls = self._calls - self._stage_calls
        parts = [self._embed_text()] if self._embed else []
        if calls:
            parts.append(f"{calls} LLM call{'s' if calls != 1 else ''}")
        return ", ".join(p for p in parts if p)

    def _finish_stage(self) -> None:
        if self._stage is None:
            return
        took = time.monotonic() - self._stage_started
        self.console.print(f"  {self._stage:<9} {self._detail():<44} {took:6.1f} s", highlight=False, markup=False)

    def status_line(self) -> str:
        with self._lock:
            parts = [self._stage or "starting", self._detail(),
                     f"run: {self._calls} LLM calls, {self._tokens:,} tokens, "
                     f"{budget_left(self.budget, self._tokens, self._cost)}",
                     f"{time.monotonic() - self._started:.1f} s"]
        return " · ".join(p for p in parts if p)

    def __rich__(self):
        from rich.table import Table
        from rich.text import Text

        grid = Table.grid(padding=(0, 1))
        grid.add_row(self._spinner, Text(self.status_line()))
        return grid
