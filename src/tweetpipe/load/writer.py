"""The PostgreSQL side of the loader: COPY into staging, set-based upserts, offsets, dead letters.

Every statement is composed with `psycopg.sql`. The staging tables are temporary, created once
per connection and emptied at every commit. The upsert into `tweet_merge` takes a transaction
lock first, so load sequence numbers are handed out in commit order: a transform that has read
up to load_seq N never misses a row committed later with a smaller number.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from psycopg import sql

from tweetpipe import db
from tweetpipe.db.upsert import Upsert
from tweetpipe.errors import last_line
from tweetpipe.load.columns import TWEETS, Column, TableSpec
from tweetpipe.load.rows import SIDE_TABLES, Coordinates, Parsed
from tweetpipe.settings import Settings

log = logging.getLogger("tweetpipe.load")
LOAD_SEQ_LOCK = 0x7477_7371  # "twsq"


def open_connection(settings: Settings) -> psycopg.Connection[Any]:
    """A loader connection with its staging tables ready."""
    conn = db.connect(settings)
    for table in (TWEETS, *(t for t, _ in SIDE_TABLES)):
        conn.execute(sql.SQL(
            "CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS "
            "SELECT {cols} FROM {table} WITH NO DATA"
        ).format(stage=_stage(table), cols=_cols(table.columns), table=sql.Identifier(table.name)))
    conn.commit()
    return conn


def write_batch(conn: psycopg.Connection[Any], parsed: Sequence[Parsed],
                dead: Sequence[tuple[Any, ...]]) -> int:
    """Upsert the rows of a batch and insert its dead letters (inside the caller's transaction);
    the number of tweet_merge rows inserted or changed (an unchanged tweet is skipped)."""
    stored = 0
    for table, attr in SIDE_TABLES:
        rows = [row for p in parsed for row in getattr(p, attr)]
        if rows:
            _upsert(conn, table, rows)
    tweets = [p.tweet for p in parsed if p.tweet is not None]
    if tweets:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOAD_SEQ_LOCK,))
        stored = _upsert(conn, TWEETS, tweets)
        _mark_current_versions(conn)
    if dead:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO dead_letters (reason, detail, kafka_topic, kafka_partition,"
                " kafka_offset, kafka_key, raw) VALUES (%s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (kafka_topic, kafka_partition, kafka_offset) DO NOTHING",
                dead,
            )
    return stored


def _upsert(conn: psycopg.Connection[Any], table: TableSpec,
            rows: Iterable[tuple[Any, ...]]) -> int:
    stage = _stage(table)
    with conn.cursor() as cur, cur.copy(
        sql.SQL("COPY {} ({}) FROM STDIN").format(stage, _cols(table.columns))
    ) as copy:
        for row in rows:
            copy.write_row(row)
    return _UPSERTS[table.name].run(conn, stage)


def _upsert_of(table: TableSpec) -> Upsert:
    sequenced = table.sequenced
    return Upsert(
        table.name, table.keys, table.columns, newest=table.newest, unless_same="raw",
        computed={"load_seq": sql.SQL("nextval('tweet_load_seq')")} if sequenced else {},
        touched={"loaded_at": sql.SQL("now()")} if sequenced else {},
    )


_UPSERTS = {t.name: _upsert_of(t) for t in (TWEETS, *(t for t, _ in SIDE_TABLES))}


def _mark_current_versions(conn: psycopg.Connection[Any]) -> None:
    """Of the versions of an edited tweet, the one with the highest id is current."""
    conn.execute(sql.SQL(
        "UPDATE tweet_merge t SET is_current = (t.tweet_id = g.latest) FROM ("
        " SELECT edit_root_id, max(tweet_id) AS latest FROM tweet_merge"
        " WHERE edit_root_id IN (SELECT edit_root_id FROM {stage}"
        "  WHERE cardinality(edit_history_tweet_ids) > 1 OR tweet_id <> edit_root_id)"
        " GROUP BY edit_root_id) g "
        "WHERE t.edit_root_id = g.edit_root_id AND t.is_current <> (t.tweet_id = g.latest)"
    ).format(stage=_stage(TWEETS)))


def clear_staging(conn: psycopg.Connection[Any]) -> None:
    """Empty the staging tables inside a transaction (a commit empties them anyway): for a
    batch stored in parts, each part upserts only its own rows."""
    conn.execute(sql.SQL("TRUNCATE {}").format(
        sql.SQL(", ").join(_stage(t) for t in (TWEETS, *(t for t, _ in SIDE_TABLES)))))


_RANGES = {"bigint": range(-(2**63), 2**63), "integer": range(-(2**31), 2**31)}


def out_of_range(parsed: Parsed) -> str | None:
    """Why PostgreSQL would refuse the rows of a message for a number beyond its column's type
    (the commonest refusal, found without a round trip), or None."""
    tables = [(TWEETS, [] if parsed.tweet is None else [parsed.tweet])]
    tables += [(table, getattr(parsed, attr)) for table, attr in SIDE_TABLES]
    for table, rows in tables:
        for column, index in _checked_columns(table):
            allowed = _RANGES[column.pg_type.removesuffix("[]")]
            for row in rows:
                value = row[index]
                values = value if isinstance(value, list) else [value]
                if any(v is not None and v not in allowed for v in values):
                    return (f"rejected by PostgreSQL: NumericValueOutOfRange: value out of range"
                            f" for type {column.pg_type} (column {table.name}.{column.name},"
                            " found before COPY)")
    return None


def _checked_columns(table: TableSpec) -> list[tuple[Column, int]]:
    return [(c, i) for i, c in enumerate(table.loaded)
            if c.pg_type.removesuffix("[]") in _RANGES]


def save_offsets(conn: psycopg.Connection[Any], group: str,
                 next_offsets: dict[tuple[str, int], int]) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO kafka_offsets (group_id, topic, partition, next_offset)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT (group_id, topic, partition) DO UPDATE"
            " SET next_offset = GREATEST(kafka_offsets.next_offset, EXCLUDED.next_offset),"
            " updated_at = now()",
            [(group, topic, part, offset) for (topic, part), offset in next_offsets.items()],
        )


def stored_offsets(conn: psycopg.Connection[Any], group: str, topic: str,
                   partitions: Sequence[int]) -> dict[int, int]:
    rows = conn.execute(
        "SELECT partition, next_offset FROM kafka_offsets"
        " WHERE group_id = %s AND topic = %s AND partition = ANY(%s)",
        (group, topic, list(partitions)),
    ).fetchall()
    conn.commit()
    return {int(p): int(o) for p, o in rows}


def dead_letter_row(reason: str, where: Coordinates, key: bytes | None,
                    raw: bytes | None) -> tuple[Any, ...]:
    short = reason.split(" (")[0].split(":")[0]
    return (short, reason, where.topic, where.partition, where.offset, key, raw)


def report_outage(settings: Settings, exc: BaseException, delay: float) -> None:
    first = last_line(exc)
    log.warning("PostgreSQL at %s unavailable (%s); retrying in %.1fs, nothing is lost",
                settings.db_display, first, delay)


def _stage(table: TableSpec) -> sql.Identifier:
    return sql.Identifier(f"stage_{table.name}")


def _cols(columns: Sequence[str]) -> sql.Composed:
    return sql.SQL(", ").join(map(sql.Identifier, columns))
