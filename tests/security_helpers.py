"""Light helpers that child processes import (kept free of heavy imports so a child starts fast)."""

from __future__ import annotations

import os
import time
from pathlib import Path


def slow_check(raw, inline, files, settings_json):
    """Stands in for a checker rule gone quadratic: records its pid, then spins."""
    Path(raw).write_text(str(os.getpid()))
    while True:
        time.sleep(0.05)


def sleepy(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def boom(message: str):
    raise ValueError(message)
