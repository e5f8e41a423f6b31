"""The deadline helpers themselves: they return as soon as the condition holds and fail, with
their message, once the deadline passes."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from .waiting import join, reap, wait_for, wait_until


def test_wait_until_returns_once_true_and_fails_with_its_message_at_the_deadline() -> None:
    flips = iter([False, False, True])
    wait_until(lambda: next(flips), 5, "never")
    started = time.monotonic()
    with pytest.raises(AssertionError, match=r"timed out after 0.3 s: rows: 0"):
        wait_until(lambda: False, 0.3, lambda: "rows: 0")
    assert 0.3 <= time.monotonic() - started < 2


def test_wait_for_and_join_fail_when_the_other_thread_is_stuck() -> None:
    never = threading.Event()
    with pytest.raises(AssertionError, match="the loader never started"):
        wait_for(never, 0.1, "the loader never started")
    release = threading.Event()
    stuck = threading.Thread(target=release.wait, name="stuck")
    stuck.start()
    try:
        with pytest.raises(AssertionError, match=r"thread stuck still running.*loader hung"):
            join(stuck, 0.1, "loader hung")
    finally:
        release.set()
    join(stuck, 5, "released")


def test_reap_kills_a_process_that_outlives_its_deadline() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    with pytest.raises(AssertionError, match="killed"):
        reap(proc, 0.2, "sleeper")
    assert proc.returncode is not None
