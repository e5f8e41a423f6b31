"""What a collection is doing, as counters and one live terminal line (rich)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from rich.console import Console
from rich.status import Status


@dataclass
class Progress:
    """Counters shared by search and stream collection; `ids` are the distinct tweet ids."""

    tweets: int = 0
    pages: int = 0
    lines: int = 0
    bad_lines: int = 0
    reconnects: int = 0
    stalls: int = 0
    disconnects: int = 0
    journaled: int = 0
    waiting: str = ""
    rate_limit: str = "rate limit: unknown"
    ids: set[str] = field(default_factory=set)
    started: float = field(default_factory=time.monotonic)

    @property
    def rate(self) -> float:
        return self.tweets / max(time.monotonic() - self.started, 1e-6)

    def line(self) -> str:
        parts = [f"{self.tweets} tweets ({len(self.ids)} distinct)", f"{self.rate:.1f}/s"]
        if self.pages:
            parts.append(f"{self.pages} pages")
        if self.lines or self.reconnects:
            parts.append(f"{self.reconnects} reconnects ({self.stalls} stalls)")
        if self.bad_lines:
            parts.append(f"{self.bad_lines} bad lines → dead letters")
        if self.journaled:
            parts.append(f"{self.journaled} journaled")
        parts.append(self.rate_limit)
        if self.waiting:
            parts.append(f"[yellow]{self.waiting}[/]")
        return " · ".join(parts)

    def on_wait(self, reason: str, seconds: float) -> None:
        """For `XClient(on_wait=...)`: shown until the next tweet arrives."""
        self.waiting = f"waiting {seconds:.1f}s: {reason}"


@contextmanager
def live_line(console: Console, progress: Progress, *, every: float = 0.25
              ) -> Iterator[Status]:
    """Refresh `progress.line()` on the terminal until the block ends."""
    done = threading.Event()
    with console.status(progress.line()) as status:
        def refresh() -> None:
            while not done.wait(every):
                status.update(progress.line())

        thread = threading.Thread(target=refresh, name="tweetpipe-live", daemon=True)
        thread.start()
        try:
            yield status
        finally:
            done.set()
            thread.join(timeout=2)
    console.print(progress.line())
