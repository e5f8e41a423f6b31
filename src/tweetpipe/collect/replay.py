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

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import orjson

from tweetpipe.collect.records import Split, split_payload
from tweetpipe.collect.stats import CollectStats
from tweetpipe.errors import ConfigError, RecordError

RAW_LINE_HEADER = "tweetpipe-raw-line"


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


def send_split(split: Split, sink: RecordSink, stats: CollectStats) -> None:
    """Send a payload's tweet records, then its record of unclaimed errors (unkeyed)."""
    for record in split.tweets:
        sink.send_record(record)
        stats.sent(str(record["id"]))
    if split.errors is not None:
        sink.send(None, orjson.dumps(split.errors))
        stats.api_errors += len(split.errors["errors"])


def handle_line(line: bytes, where: str, sink: RecordSink, stats: CollectStats, *,
                source: str, served_at: str | None = None) -> None:
    """Parse one JSONL line and send its records; a bad line goes on as a raw dead letter."""
    try:
        payload = orjson.loads(line)
        split = split_payload(payload, provenance=provenance(source, where, payload,
                                                             served_at=served_at))
    except (orjson.JSONDecodeError, RecordError) as exc:
        malformed = isinstance(exc, orjson.JSONDecodeError)
        reason = "truncated or malformed JSON" if malformed else str(exc)
        stats.bad(where, reason)
        sink.send(None, line, {RAW_LINE_HEADER: where})
        return
    stats.payloads += 1
    send_split(split, sink, stats)
