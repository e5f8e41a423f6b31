"""SIGINT/SIGTERM as a `threading.Event`, set safely.

A Python signal handler runs in the main thread between two bytecodes, possibly while that
thread holds the very lock `Event.set()` takes (inside `Event.wait`, or inside the `set` of a
first signal when a second one arrives): setting the event from the handler can deadlock the
process for good. So the handler only puts the signal on a `queue.SimpleQueue`, whose `put` is
reentrant (made for such callers); a daemon thread takes it off, sets the event and reports it.
"""

from __future__ import annotations

import queue
import signal
import threading
from collections.abc import Callable
from typing import Any


def stop_event(on_signal: Callable[[int], None] | None = None) -> threading.Event:
    """An event set at the first SIGINT or SIGTERM; `on_signal(signum)` is then called once,
    from a thread of its own (it may print or log). Call from the main thread."""
    event = threading.Event()
    received: queue.SimpleQueue[int] = queue.SimpleQueue()

    def relay() -> None:
        signum = received.get()
        event.set()
        if on_signal is not None:
            on_signal(signum)

    def handler(signum: int, _frame: Any) -> None:
        received.put(signum)

    threading.Thread(target=relay, name="tweetpipe-signals", daemon=True).start()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, handler)
    return event
