"""A fake clock for the retry layer: sleeps return at once and are recorded; time moves only by them."""

from __future__ import annotations

import threading


class FakeClock:
    """Pass as LLMClient(clock=...) and assert `sleeps` (the backoff waits) instead of measuring wall time."""

    def __init__(self, start: float = 1_767_225_600.0):  # 2026-01-01 00:00:00 UTC, a whole second
        self.start, self.elapsed = start, 0.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        return self.elapsed

    def time(self) -> float:
        return self.start + self.elapsed

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.elapsed += seconds
