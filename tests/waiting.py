"""Every wait in the tests has a deadline: a dead thread or process fails fast, saying what
it waited for, instead of hanging the suite."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable

Message = str | Callable[[], str]


def _text(message: Message) -> str:
    return message() if callable(message) else message


def wait_until(predicate: Callable[[], object], timeout: float, message: Message, *,
               interval: float = 0.05) -> None:
    """Poll `predicate` until it is true; fail with `message` after `timeout` seconds.

    `message` may be a callable, evaluated only on failure (e.g. to show the current state).
    """
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g} s: {_text(message)}")
        time.sleep(interval)


def wait_for(event: threading.Event, timeout: float, message: Message) -> None:
    """Wait for `event`; fail with `message` if it is not set within `timeout` seconds."""
    if not event.wait(timeout):
        raise AssertionError(f"timed out after {timeout:g} s: {_text(message)}")


def join(thread: threading.Thread, timeout: float, message: Message) -> None:
    """Join `thread`; fail with `message` if it is still running after `timeout` seconds."""
    thread.join(timeout)
    if thread.is_alive():
        raise AssertionError(f"thread {thread.name} still running after {timeout:g} s: "
                             f"{_text(message)}")


def reap(proc: subprocess.Popen[str] | subprocess.Popen[bytes], timeout: float,
         message: Message) -> int:
    """Wait for a process; kill it and fail with `message` if it outlives `timeout` seconds."""
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
        raise AssertionError(f"process {proc.args!r} still running after {timeout:g} s "
                             f"(killed): {_text(message)}") from None
