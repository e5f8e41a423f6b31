"""What a collection did: one set of counters for replay, search and stream.

The collectors only update fields; `tweetpipe.progress.show` renders `line()` while they run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

MAX_PROBLEMS = 20


@dataclass
class CollectStats:
    """Counters of one collection; `ids` are the distinct tweet ids sent, or None when they are
    not kept: a live run (`tweetpipe run`) collects for days and keeps only the counters."""

    tweets: int = 0
    lines: int = 0
    payloads: int = 0
    pages: int = 0
    bad_lines: int = 0
    api_errors: int = 0  # partial errors that concern no tweet, sent as messages of their own
    problems: list[str] = field(default_factory=list)  # the first bad lines, with their reason
    reconnects: int = 0
    stalls: int = 0
    disconnects: int = 0
    journaled: int = 0  # bytes in the stream's journal not yet handed to Kafka
    waiting: str = ""  # why the collector waits (a rate-limit reset, a backoff), until when:
    waiting_until: float = 0.0  # monotonic
    rate_limit: str = ""
    rate_limit_waits: int = 0  # waits for X's rate-limit window (429s or an exhausted window)
    backoffs: int = 0  # other waits before a retry (5xx, resets)
    ids: set[str] | None = field(default_factory=set)
    started: float = field(default_factory=time.monotonic)

    @property
    def rate(self) -> float:
        return self.tweets / max(time.monotonic() - self.started, 1e-6)

    def sent(self, tweet_id: str) -> None:
        """One tweet went to Kafka."""
        self.tweets += 1
        if self.ids is not None:
            self.ids.add(tweet_id)
        self.waiting = ""

    def bad(self, where: str, reason: str) -> None:
        """One line (or page) could not be used; it goes on to the dead-letter table."""
        self.bad_lines += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(f"{where}: {reason}")

    def on_wait(self, reason: str, seconds: float) -> None:
        """For `XClient(on_wait=...)`: shown, counting down, until the next tweet arrives."""
        self.waiting = reason
        self.waiting_until = time.monotonic() + seconds
        if "rate limit" in reason.lower() or "429" in reason:
            self.rate_limit_waits += 1
        else:
            self.backoffs += 1

    def line(self) -> str:
        distinct = f" ({len(self.ids)} distinct)" if self.ids is not None else ""
        parts = [f"{self.tweets} tweets{distinct}", f"{self.rate:.1f}/s"]
        if self.pages:
            parts.append(f"{self.pages} pages")
        if self.lines:
            parts.append(f"{self.lines} lines")
        if self.reconnects or self.stalls or self.disconnects:
            parts.append(f"{self.reconnects} reconnects ({self.stalls} stalls, "
                         f"{self.disconnects} disconnects)")
        if self.api_errors:
            parts.append(f"{self.api_errors} API errors concerning no tweet")
        if self.bad_lines:
            parts.append(f"{self.bad_lines} bad lines → dead letters")
        if self.journaled:
            parts.append(f"{self.journaled} bytes journaled")
        if self.rate_limit:
            parts.append(self.rate_limit)
        if self.waiting:
            left = max(self.waiting_until - time.monotonic(), 0.0)
            parts.append(f"[yellow]waiting {left:.1f}s more: {self.waiting}[/]")
        return " · ".join(parts)
