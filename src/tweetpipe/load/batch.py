"""One batch of Kafka messages and its transaction: its rows, its dead letters and the group's
next offset per partition are committed together, or not at all.

A batch PostgreSQL refuses (a row of bad data, a violated constraint) must not stall its
partition: `store` then stores it in halves, in savepoints, down to the refused messages, which
go to `dead_letters` with PostgreSQL's reason, in the same transaction as the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg

from tweetpipe.db import errors as db_errors
from tweetpipe.errors import RowRefusedError
from tweetpipe.load import writer
from tweetpipe.load.rows import Parsed
from tweetpipe.settings import Settings


@dataclass
class Batch:
    parsed: list[Parsed] = field(default_factory=list)
    dead: list[tuple[Any, ...]] = field(default_factory=list)
    next_offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    size: int = 0
    repaired: int = 0
    stored: int = 0  # tweet_merge rows the batch inserted or changed

    def __len__(self) -> int:
        return len(self.parsed) + len(self.dead)


def store(conn: psycopg.Connection[Any], batch: Batch, group: str, settings: Settings) -> None:
    """Commit the batch's rows, dead letters and next offsets for `group` in one transaction."""
    try:
        with conn.transaction():
            batch.stored = writer.write_batch(conn, batch.parsed, batch.dead)
            writer.save_offsets(conn, group, batch.next_offsets)
    except psycopg.Error as exc:
        if not db_errors.refuses_row(exc):
            raise
        _store_refused(conn, batch, group, settings)


def _store_refused(conn: psycopg.Connection[Any], batch: Batch, group: str,
                   settings: Settings) -> None:
    """Store a batch PostgreSQL refused, in one transaction with its offsets: the messages
    with a number beyond its column go to dead letters at once, the rest is stored in
    halves, and halves of those that are refused again, down to the refused messages."""
    dead, suspects = list(batch.dead), []
    for parsed in batch.parsed:
        reason = writer.out_of_range(parsed)
        if reason is None:
            suspects.append(parsed)
        else:
            dead.append(writer.dead_letter_row(reason, parsed.where, parsed.key, parsed.kept()))
    with conn.transaction():
        kept, stored = _store_bisecting(conn, suspects, dead, settings)
        writer.write_batch(conn, [], dead)
        writer.save_offsets(conn, group, batch.next_offsets)
    batch.parsed, batch.dead, batch.stored = kept, dead, stored


def _store_bisecting(conn: psycopg.Connection[Any], parsed: list[Parsed],
                     dead: list[tuple[Any, ...]], settings: Settings) -> tuple[list[Parsed], int]:
    """Store `parsed` in a savepoint, else each half the same way; a single message
    PostgreSQL refuses is added to `dead`. (stored messages, tweet_merge rows changed)"""
    if not parsed:
        return [], 0
    try:
        with conn.transaction():
            writer.clear_staging(conn)  # no rows of an earlier part
            return parsed, writer.write_batch(conn, parsed, [])
    except psycopg.Error as exc:
        refused = db_errors.classify(exc, settings)
        if not isinstance(refused, RowRefusedError):
            raise
        if len(parsed) == 1:
            dead.append(writer.dead_letter_row(refused.message, parsed[0].where,
                                               parsed[0].key, parsed[0].kept()))
            return [], 0
    half = len(parsed) // 2
    first, stored_first = _store_bisecting(conn, parsed[:half], dead, settings)
    second, stored_second = _store_bisecting(conn, parsed[half:], dead, settings)
    return first + second, stored_first + stored_second
