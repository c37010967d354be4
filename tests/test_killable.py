"""KillablePool: work past its limit is killed (not left running), the pool recovers, errors come back."""

from __future__ import annotations

import os
import time

import pytest

from agent.killable import KillablePool, TimedOut
from tests.security_helpers import boom, sleepy, slow_check


@pytest.fixture
def pool():
    pool = KillablePool(1, preload=("tests.security_helpers",))
    yield pool
    pool.close()


def test_a_call_returns_its_value_and_its_exception(pool):
    assert pool.call(sleepy, (0.01,), 60) == 0.01
    with pytest.raises(ValueError, match="bad input"):
        pool.call(boom, ("bad input",), 60)
    assert pool.call(sleepy, (0.0,), 60) == 0.0  # the child survived the exception


def test_a_call_past_its_limit_is_killed_and_the_next_gets_a_fresh_child(pool, tmp_path):
    pool.call(sleepy, (0.0,), 60)  # warm: the limit below measures the call, not a start
    pid_file = tmp_path / "pid"
    started = time.monotonic()
    with pytest.raises(TimedOut):
        pool.call(slow_check, (str(pid_file), [], [], ""), 1.0)
    assert time.monotonic() - started < 10 and pool.killed == 1
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)
    assert pool.call(sleepy, (0.0,), 60) == 0.0


def test_a_cold_start_does_not_count_against_the_limit(pool):
    assert pool.call(sleepy, (0.2,), 0.5) == 0.2  # the child's start-up (seconds) is not part of the 0.5 s
