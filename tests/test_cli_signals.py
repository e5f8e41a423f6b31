"""SIGINT/SIGTERM: the handler only queues the signal; another thread sets the stop event and
prints the notice, never the signal handler (where the event's or the console's lock may be
held by the very code it interrupted)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tweetpipe.cli import common

from .waiting import wait_until


class RecordingConsole:
    def __init__(self) -> None:
        self.printed: list[tuple[str, str]] = []

    def print(self, text: object, *_args: Any, **_kwargs: Any) -> None:
        self.printed.append((threading.current_thread().name, str(text)))


@pytest.fixture
def console(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingConsole]:
    recorder = RecordingConsole()
    monkeypatch.setattr(common, "console", recorder)
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield recorder
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_sets_the_event_and_the_notice_comes_from_another_thread(
        console: RecordingConsole, signum: signal.Signals) -> None:
    event = common.stop_event()
    assert not event.is_set()
    signal.raise_signal(signum)  # the handler runs in this (the main) thread
    signal.raise_signal(signum)  # a second one, as Ctrl-C pressed twice
    assert event.wait(5), "the stop event is set"
    wait_until(lambda: console.printed, 5, "nobody said the run is finishing")
    assert console.printed == [
        ("tweetpipe-signals", f"[yellow]{signum.name}: finishing the current batch…")]
