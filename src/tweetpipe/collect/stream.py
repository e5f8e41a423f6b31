"""`collect stream`: the filtered (or sample) stream into Kafka, reconnecting by X's rules.

Lines are split on `\\r\\n`; an empty line is a keep-alive. Every tweet line goes to the spill
journal first (`Spool`), with when X served it (by X's clock: the connection's `Date` plus the
time since), then to Kafka through `handle_line`, like replay: a truncated or
malformed line is counted and sent on raw, to the dead-letter table. No byte for
`stall_timeout` seconds is a stall; a stall, a clean end of the stream or an
operational-disconnect message is a drop: reconnect at once, then back off (see `xapi.limits`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from tweetpipe.collect.journal import Journal, Spool, Target
from tweetpipe.collect.stats import CollectStats
from tweetpipe.xapi import (
    FILTERED_STREAM,
    SAMPLE_STREAM,
    Backoff,
    Reconnects,
    StreamStalled,
    TransientError,
    XClient,
)

KEEPALIVE = b""


@dataclass(frozen=True)
class StreamOptions:
    sample: bool = False
    backfill_minutes: int | None = None
    limit: int | None = None
    duration: float | None = None
    backoff: Backoff = field(default_factory=Backoff)
    max_in_flight: int = 10_000

    @property
    def endpoint(self) -> str:
        return SAMPLE_STREAM if self.sample else FILTERED_STREAM

    @property
    def name(self) -> str:
        return "sample" if self.sample else "filtered"


def is_disconnect(line: bytes) -> bool:
    """X's operational-disconnect (or other connection error) message: no `data`, `errors`."""
    if b'"data"' in line or b'"errors"' not in line:
        return False
    try:
        message = orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    if not isinstance(message, dict) or "data" in message:
        return False
    errors = message.get("errors")
    return isinstance(errors, list) and any(
        isinstance(e, dict) and ("disconnect_type" in e or "connection_issue" in e
                                 or "operational-disconnect" in str(e.get("type", "")))
        for e in errors)


def split_lines(buffer: bytearray) -> list[bytes]:
    """Complete `\\r\\n`-terminated lines taken out of `buffer` (keep-alives as b"")."""
    lines: list[bytes] = []
    while (end := buffer.find(b"\r\n")) >= 0:
        lines.append(bytes(buffer[:end]))
        del buffer[: end + 2]
    return lines


class StreamCollector:
    """One run of `collect stream`."""

    def __init__(self, client: XClient, target: Target, options: StreamOptions, *,
                 state_dir: Path, progress: CollectStats | None = None,
                 stop: threading.Event | None = None) -> None:
        self.client = client
        self.options = options
        self.progress = progress if progress is not None else CollectStats()
        self.stop = stop or client.stop
        self.journal = Journal(state_dir / "journal", f"stream-{options.name}")
        self.spool = Spool(self.journal, target, self.progress,
                           source=f"stream-{options.name}", max_in_flight=options.max_in_flight)
        self.reconnects = Reconnects(options.backoff)
        self.deadline = None if options.duration is None else time.monotonic() + options.duration
        self.connection = 0

    def finished(self) -> bool:
        limit = self.options.limit
        return (self.stop.is_set() or (limit is not None and self.progress.lines >= limit)
                or (self.deadline is not None and time.monotonic() >= self.deadline))

    def run(self) -> CollectStats:
        self.spool.pump()  # what an earlier run journaled but did not get into Kafka
        try:
            while not self.finished():
                self._connect_once()
        finally:
            self.spool.finish()
            self.progress.journaled = self.spool.backlog
            self.journal.close()
        return self.progress

    def _connect_once(self) -> None:
        if self.connection:
            self.progress.reconnects += 1
        self.connection += 1
        try:
            self._read()
            kind, wait = "drop", None
        except StreamStalled:
            self.progress.stalls += 1
            kind, wait = "drop", None
        except TransientError as exc:
            kind, wait = exc.kind, exc.wait
        if self.finished():
            return
        delay = self.reconnects.failed(kind)
        if wait is not None:
            delay = max(delay, wait)
        self.client.wait(f"reconnecting after {kind}", delay)

    def _read(self) -> None:
        params = {}
        if self.options.backfill_minutes:
            params["backfill_minutes"] = str(self.options.backfill_minutes)
        buffer = bytearray()
        with self.client.open_stream(self.options.endpoint, params) as stream:
            self.progress.rate_limit = self.client.rate_limit.describe()
            self.progress.waiting = ""
            for chunk in stream:
                self.reconnects.succeeded()
                buffer += chunk
                for line in split_lines(buffer):
                    if not self._line(line, stream.served_at()):
                        return
                self.spool.pump()  # keep-alives too: a quiet stream still drains the journal
                if self.finished():
                    return
        if buffer.strip():  # the stream ended mid-line: keep what came, as a bad line
            self._line(bytes(buffer), None)

    def _line(self, line: bytes, served_at: str | None) -> bool:
        """Handle one line; False when the stream should be left (disconnect, limit)."""
        if not line.strip():
            return True
        if is_disconnect(line):
            self.progress.disconnects += 1
            return False
        self.progress.lines += 1
        self.spool.put(line, f"{self.options.endpoint}#{self.connection}", served_at)
        self.progress.journaled = self.spool.backlog
        return not self.finished()
