"""The stream's spill journal: nothing X delivered is lost while Kafka is slow or down.

Every stream line is appended to a local journal file (under `state_dir/journal/`) before it
goes anywhere else, so the HTTP read never waits for Kafka. `Spool.pump` feeds journaled lines
to the producer (through `handle_line`, the same path as replay) while fewer than
`max_in_flight` messages are unacknowledged; the rest wait in the journal. Once everything
handed to the producer is acknowledged, the journal's committed offset moves up, and an
entirely committed journal is emptied. Whatever is left uncommitted (Kafka down at exit, a
kill) is replayed on the next start; duplicates are harmless (the loader dedupes by tweet id).

Frame format: `<length> <origin>[ <served_at>]\\n<line bytes>\\n`, `served_at` being when X
served the line (by X's clock); a torn last frame (a crash mid-write) is cut off when the
journal is opened.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from tweetpipe import retry
from tweetpipe.collect.replay import handle_line
from tweetpipe.collect.stats import CollectStats
from tweetpipe.kafka.producer import TweetProducer

log = logging.getLogger(__name__)


class Frame(NamedTuple):
    end: int  # the journal offset after it
    origin: str
    line: bytes
    served_at: str | None  # when X served the line (None: not known)


class Journal:
    """Length-prefixed raw lines in `<name>.journal`; the committed offset in `<name>.offset`."""

    def __init__(self, folder: Path, name: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{name}.journal"
        self.mark = folder / f"{name}.offset"
        self.path.touch()
        self._cut_torn_tail()
        self._out = self.path.open("ab")
        self._in = self.path.open("rb")
        self._committed = self._read_mark()

    def close(self) -> None:
        self._out.close()
        self._in.close()

    @property
    def size(self) -> int:
        return self._out.tell()

    @property
    def committed(self) -> int:
        return self._committed

    def _read_mark(self) -> int:
        try:
            return min(int(self.mark.read_text().strip() or 0), self.size)
        except (FileNotFoundError, ValueError):
            return 0

    def append(self, line: bytes, origin: str, served_at: str | None = None) -> int:
        """Write one frame (handed to the OS at once: survives a kill); returns the end offset."""
        tag = b" ".join(re.sub(rb"\s", b"_", field.encode())
                        for field in (origin, served_at) if field is not None)
        self._out.write(b"%d %s\n%s\n" % (len(line), tag, line))
        self._out.flush()
        return self._out.tell()

    def frames(self, offset: int) -> Iterator[Frame]:
        """Each complete frame from `offset` on."""
        self._in.seek(offset)
        while True:
            header = self._in.readline()
            if not header.endswith(b"\n"):
                return
            length, _, tags = header.rstrip(b"\n").partition(b" ")
            body = self._in.read(int(length) + 1)
            if len(body) < int(length) + 1:
                return
            origin, _, served = tags.decode(errors="replace").partition(" ")
            yield Frame(self._in.tell(), origin, body[:-1], served or None)

    def commit(self, offset: int) -> None:
        """Everything before `offset` reached Kafka; an all-committed journal is emptied."""
        if offset >= self.size:
            self._out.truncate(0)
            self._out.seek(0)
            offset = 0
        tmp = self.mark.with_suffix(".tmp")
        tmp.write_text(str(offset))
        os.replace(tmp, self.mark)
        self._committed = offset

    def _cut_torn_tail(self) -> None:
        with self.path.open("rb") as handle:
            end = 0
            while header := handle.readline():
                length, _, _ = header.partition(b" ")
                if not header.endswith(b"\n") or not length.isdigit():
                    break
                body = handle.read(int(length) + 1)
                if len(body) < int(length) + 1:
                    break
                end = handle.tell()
        if end < self.path.stat().st_size:
            os.truncate(self.path, end)


class Target(Protocol):
    """What the spool feeds: a producer that can say how much is unacknowledged."""

    def send(self, key: str | None, value: bytes, headers: Any = None) -> None: ...

    def send_record(self, record: dict[str, Any]) -> None: ...

    def pending(self) -> int: ...

    def settle(self, timeout: float) -> int: ...

    def flush(self, timeout: float = 120.0) -> None: ...


class SpoolProducer(TweetProducer):
    """A `TweetProducer` that reports unacknowledged messages without blocking."""

    def __enter__(self) -> SpoolProducer:
        return self

    def pending(self) -> int:
        self._producer.poll(0)
        return len(self._producer)

    def settle(self, timeout: float) -> int:
        """Wait at most `timeout` for acknowledgements; the number still pending."""
        return int(self._producer.flush(timeout))


class Spool:
    """Journal first, then Kafka at the pace Kafka takes it."""

    def __init__(self, journal: Journal, target: Target, stats: CollectStats, *,
                 source: str, max_in_flight: int = 10_000, checkpoint_s: float = 1.0) -> None:
        self.journal = journal
        self.target = target
        self.stats = stats
        self.source = source
        self.max_in_flight = max_in_flight
        self.checkpoint_s = checkpoint_s
        self.produced = journal.committed  # leftovers of an earlier run are replayed first
        self._checked = time.monotonic()

    @property
    def backlog(self) -> int:
        """Journaled bytes not yet handed to the producer."""
        return self.journal.size - self.produced

    def put(self, line: bytes, origin: str, served_at: str | None = None) -> None:
        self.journal.append(line, origin, served_at)
        self.pump()

    def pump(self) -> None:
        """Hand journaled lines to the producer while it has room; never blocks on Kafka."""
        if self.produced < self.journal.size and self.target.pending() < self.max_in_flight:
            for frame in self.journal.frames(self.produced):
                handle_line(frame.line, frame.origin, self.target, self.stats,
                            source=self.source, served_at=frame.served_at)
                self.produced = frame.end
                if self.target.pending() >= self.max_in_flight:
                    break
        self.checkpoint()

    def checkpoint(self) -> None:
        """Commit the journal up to what the producer has had acknowledged."""
        if self.journal.committed >= self.produced:
            return
        pending = self.target.pending()
        if pending and time.monotonic() - self._checked >= self.checkpoint_s:
            self._checked = time.monotonic()
            pending = self.target.settle(0.05)
        if pending == 0:
            self.target.flush(1.0)  # raises if any message failed: keep it journaled
            self.journal.commit(self.produced)
            self.produced = min(self.produced, self.journal.size)

    def finish(self, timeout: float = 30.0) -> bool:
        """Push the whole journal to Kafka; True when it is all acknowledged and committed."""

        def drained() -> bool:
            if self.produced < self.journal.size:
                self.pump()
            return self.target.settle(0.2) == 0 and self.produced >= self.journal.size

        try:
            retry.until(drained, delay=0.0, timeout=timeout,
                        what=f"Kafka to take the journal {self.journal.path.name}")
        except retry.WaitTimeout as exc:
            log.warning("%s; the rest is replayed on the next start", exc)
        self.checkpoint()
        return self.journal.committed == 0 and self.journal.size == 0
