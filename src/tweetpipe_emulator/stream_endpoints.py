"""GET /2/tweets/search/stream and /2/tweets/sample/stream: chunked JSON lines + keep-alives."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import orjson

from tweetpipe_emulator.expand import RequestedFields, render
from tweetpipe_emulator.problems import OPERATIONAL_DISCONNECT, bad_param
from tweetpipe_emulator.state import EmulatorState
from tweetpipe_emulator.store import Entry, Json
from tweetpipe_emulator.validation import ascii_int

Writer = Callable[[bytes], None]
KEEPALIVE = b"\r\n"


class StreamClosed(Exception):
    """The stream ended on purpose (fault); `reset` asks for a TCP RST instead of a clean end."""

    def __init__(self, reset: bool = False) -> None:
        super().__init__("stream closed")
        self.reset = reset


def backfill_param(params: Mapping[str, str]) -> int:
    raw = params.get("backfill_minutes", "0")
    value = ascii_int(raw)
    if value is None or not 0 <= value <= 5:
        msg = f"The `backfill_minutes` query parameter value [{raw}] is not between 0 and 5"
        raise bad_param("backfill_minutes", raw, msg)
    return value


@dataclass
class StreamSession:
    """One open stream connection; `run` returns when the client leaves or a fault ends it."""

    state: EmulatorState
    name: str
    connection: int
    params: Mapping[str, str]
    write: Writer
    pending: deque[Entry] = field(default_factory=deque)
    cursor: int = 0

    def __post_init__(self) -> None:
        self.sel = RequestedFields.from_params(self.params)
        store = self.state.store
        with store.lock:
            self.cursor = store.ids[-1] if store.ids else 0
            if self.state.options.replay_recorded_streams:
                self.pending.extend(store.entries[i] for i in dict.fromkeys(store.stream_order))
            self.pending.extend(self._backfill(backfill_param(self.params)))

    def _backfill(self, minutes: int) -> list[Entry]:
        if not minutes:
            return []
        since = datetime.now(UTC) - timedelta(minutes=minutes)
        recorded = set(self.state.store.stream_order)
        entries = reversed(self.state.store.newest_first(below=self.cursor + 1))
        return [
            e
            for e in entries
            if e.created_at and e.created_at >= since and e.streamed and e.id not in recorded
        ]

    def run(self) -> None:
        keepalive = self.state.options.keepalive_s
        next_ka = time.monotonic() + keepalive
        while not self.state.stopping.is_set():
            if self.pending:
                if self._deliver(self.pending.popleft()):
                    next_ka = time.monotonic() + keepalive
                continue
            self._wait_new(min(max(next_ka - time.monotonic(), 0.0), 0.2))
            if not self.pending and time.monotonic() >= next_ka:
                self.write(KEEPALIVE)
                self.state.record_keepalive(self.name)
                next_ka = time.monotonic() + keepalive

    def _wait_new(self, timeout: float) -> None:
        store = self.state.store
        with store.changed:
            if not store.ids or store.ids[-1] <= self.cursor:
                store.changed.wait(timeout)
            new = list(reversed(store.newest_first(above=self.cursor)))
        if new:
            self.cursor = new[-1].id
            self.pending.extend(new)

    def _message(self, entry: Entry) -> Json | None:
        body = render(self.state.store, self.sel, [entry.tweet])
        body["data"] = body["data"][0]
        if self.name == "stream_sample":
            return body
        rules = self.state.rules.matching(entry.subject)
        if not rules:
            return None
        body["matching_rules"] = [
            {"id": r.id, **({"tag": r.tag} if r.tag is not None else {})} for r in rules
        ]
        return body

    def _deliver(self, entry: Entry) -> bool:
        """Write one tweet line (or a fault); True if something was written."""
        message = self._message(entry)
        if message is None:
            return False
        line = orjson.dumps(message)
        fault = self.state.faults.stream_fault(self.name, self.connection)
        if fault == "stall":
            self.state.stopping.wait(self.state.stall_s)
        elif fault == "disconnect":
            self.write(orjson.dumps(OPERATIONAL_DISCONNECT) + b"\r\n")
            raise StreamClosed()
        elif fault == "reset":
            raise StreamClosed(reset=True)
        elif fault == "truncate":
            self.write(line[: len(line) // 2] + b"\r\n")
            return True
        self.write(line + b"\r\n")
        self.state.record_served(self.name, str(entry.id))
        return True
