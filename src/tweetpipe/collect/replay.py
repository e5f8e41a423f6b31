"""Collect tweets and hand them to Kafka.

`replay` reads recorded X API v2 JSONL (search pages or stream lines) and produces one message
per tweet, plus one per payload whose partial errors concern none of its tweets (`send_split`).
A line that cannot be parsed is not dropped: it is counted, and sent to the topic as it was
(without a key, flagged in a header), so the loader files it in the dead-letter table.

Every record's provenance says when it was collected and, when known, when X served it: the
time the collector passes (the HTTP `Date` of a live response), else the time a twarc recording
carries (`__twarc.retrieved_at`, with the request's URL).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import orjson

from tweetpipe.collect.records import Split, split_payload
from tweetpipe.collect.stats import CollectStats
from tweetpipe.errors import ConfigError, RecordError

RAW_LINE_HEADER = "tweetpipe-raw-line"
log = logging.getLogger(__name__)


class RecordSink(Protocol):
    def send(self, key: str | None, value: bytes, headers: Any = None) -> None: ...

    def send_record(self, record: dict[str, Any]) -> None: ...


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iter_lines(paths: Iterable[Path]) -> Iterator[tuple[str, bytes]]:
    """(location, line) for every non-blank line of the files, in order."""
    for path in paths:
        if not path.is_file():
            raise ConfigError(f"no such file to replay: {path}")
        with path.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield f"{path.name}:{number}", line.rstrip(b"\r\n")


def replay(paths: Iterable[Path], sink: RecordSink, *, source: str = "replay",
           stats: CollectStats | None = None) -> CollectStats:
    """Produce every tweet of the recorded files to `sink`; `stats` counts as it goes."""
    stats = stats if stats is not None else CollectStats()
    for where, line in iter_lines(paths):
        stats.lines += 1
        handle_line(line, where, sink, stats, source=source)
    return stats


def provenance(source: str, origin: str, payload: Any = None, *,
               served_at: str | None = None) -> dict[str, Any]:
    """The provenance of a payload's records: its source and origin, when it was collected and
    when X served it (`served_at`, else a twarc recording's `retrieved_at`), and its URL."""
    found: dict[str, Any] = {"source": source, "collected_at": now_iso(), "origin": origin}
    twarc = payload.get("__twarc") if isinstance(payload, dict) else None
    recorded = twarc if isinstance(twarc, dict) else {}
    served = served_at or recorded.get("retrieved_at")
    if isinstance(served, str):
        found["served_at"] = served
    if isinstance(recorded.get("url"), str):
        found["url"] = recorded["url"]
    return found


def encode(split: Split) -> list[tuple[str | None, bytes]]:
    """A payload's messages, (key, JSON): its tweet records keyed by id, then its record of
    unclaimed errors (unkeyed). RecordError if a record cannot be written as JSON (nested
    deeper than orjson writes: X's payloads nest a few levels, a hostile one may nest 1,000)."""
    try:
        messages: list[tuple[str | None, bytes]] = [
            (str(record["id"]), orjson.dumps(record)) for record in split.tweets]
        if split.errors is not None:
            messages.append((None, orjson.dumps(split.errors)))
    except orjson.JSONEncodeError as exc:
        raise RecordError(f"a record cannot be written as JSON ({exc})") from None
    return messages


def send_split(split: Split, sink: RecordSink, stats: CollectStats) -> None:
    """Send a payload's tweet records, then its record of unclaimed errors (unkeyed)."""
    send_encoded(encode(split), split, sink, stats)


def send_encoded(messages: list[tuple[str | None, bytes]], split: Split, sink: RecordSink,
                 stats: CollectStats) -> None:
    """Send a payload's encoded messages (`payload_messages`) to `sink`, counting the tweets
    sent and the payload's partial errors."""
    for key, value in messages:
        sink.send(key, value)
        if key is not None:
            stats.sent(key)
    if split.errors is not None:
        stats.api_errors += len(split.errors["errors"])


def payload_messages(line: bytes, where: str, *, source: str, served_at: str | None = None
                     ) -> tuple[Split, list[tuple[str | None, bytes]]]:
    """One JSONL line -> its records and their messages; RecordError (saying why) when it
    makes none: not JSON, not a payload, or anything in it the merge cannot use."""
    try:
        payload = orjson.loads(line)
    except orjson.JSONDecodeError:
        raise RecordError("truncated or malformed JSON") from None
    return payload_records(payload, where, provenance(source, where, payload,
                                                       served_at=served_at))


def payload_records(payload: Any, where: str, found: dict[str, Any]
                    ) -> tuple[Split, list[tuple[str | None, bytes]]]:
    """A parsed payload -> its records and their messages; RecordError when it makes none."""
    try:
        split = split_payload(payload, provenance=found)
    except RecordError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, RecursionError) as exc:
        # A shape the merge does not foresee must not stop a collection (a stream line would
        # be replayed from the journal forever): the payload goes on as a dead letter.
        log.warning("%s: a payload the merge cannot use (%s: %s)", where,
                    type(exc).__name__, exc)
        raise RecordError(f"unusable payload ({type(exc).__name__}: {exc})") from None
    return split, encode(split)


def handle_line(line: bytes, where: str, sink: RecordSink, stats: CollectStats, *,
                source: str, served_at: str | None = None) -> None:
    """Parse one JSONL line and send its records; a line that makes no records goes on as a
    raw dead letter."""
    try:
        split, messages = payload_messages(line, where, source=source, served_at=served_at)
    except RecordError as exc:
        stats.bad(where, str(exc))
        sink.send(None, line, {RAW_LINE_HEADER: where})
        return
    stats.payloads += 1
    send_encoded(messages, split, sink, stats)
