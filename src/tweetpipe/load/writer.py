"""The PostgreSQL side of the loader: COPY into staging, set-based upserts, offsets, dead letters.

Every statement is composed with `psycopg.sql`. The staging tables are temporary, created once
per connection and emptied at every commit. A batch takes the loaders' transaction lock before
it writes a row, so load sequence numbers are handed out in commit order (a transform that has
read up to load_seq N never misses a row committed later with a smaller number), and a row
whose key its table does not hold yet goes straight in with COPY: no other loader can insert
that key meanwhile.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.adapt import Dumper

from tweetpipe import db
from tweetpipe.db.upsert import Upsert
from tweetpipe.errors import last_line
from tweetpipe.load.columns import TWEETS, Column, TableSpec
from tweetpipe.load.rows import SIDE_TABLES, Coordinates, Parsed
from tweetpipe.settings import Settings

log = logging.getLogger("tweetpipe.load")
LOAD_LOCK = 0x7477_7371  # "twsq"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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
    side = [(table, newest_rows(table, [row for p in parsed for row in getattr(p, attr)]))
            for table, attr in SIDE_TABLES]
    tweets = newest_rows(TWEETS, [p.tweet for p in parsed if p.tweet is not None])
    stored = 0
    if tweets or any(rows for _, rows in side):
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOAD_LOCK,))
    for table, rows in side:
        if rows:
            _store_rows(conn, table, rows)
    if tweets:
        stored = _store_rows(conn, TWEETS, tweets)
        _mark_current_versions(conn, tweets)
    if dead:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO dead_letters (reason, detail, kafka_topic, kafka_partition,"
                " kafka_offset, kafka_key, raw) VALUES (%s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (kafka_topic, kafka_partition, kafka_offset) DO NOTHING",
                dead,
            )
    return stored


def _store_rows(conn: psycopg.Connection[Any], table: TableSpec,
                rows: Sequence[tuple[Any, ...]]) -> int:
    """Rows (one per key) whose key the table does not hold yet go straight in with one COPY,
    numbered from a range of the load sequence if the table is sequenced; the others through
    staging and the upsert (newest copy wins). Runs under the loaders' lock. The number of
    rows inserted or changed."""
    if len(table.keys) > 1:
        return _upsert(conn, table, rows)
    key, column = table.index(table.keys[0]), sql.Identifier(table.keys[0])
    held = {found[0] for found in conn.execute(
        sql.SQL("SELECT {k} FROM {t} WHERE {k} = ANY(%s)").format(
            k=column, t=sql.Identifier(table.name)), ([row[key] for row in rows],))}
    new = [row for row in rows if row[key] not in held]
    stored = _upsert(conn, table, [row for row in rows if row[key] in held]) if held else 0
    if new and table.sequenced:
        found = conn.execute("SELECT setval('tweet_load_seq', nextval('tweet_load_seq') + %s)",
                             (len(new) - 1,)).fetchone()
        first = int(found[0]) - len(new) + 1 if found else 0
        _copy(conn, sql.Identifier(table.name), (*table.columns, "load_seq"),
              [(*r, first + n) for n, r in enumerate(new)])
    elif new:
        _copy(conn, sql.Identifier(table.name), table.columns, new)
    return stored + len(new)


def newest_rows(table: TableSpec, rows: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """One row per key: of several, the newest (the later one of equally new), as the upsert
    keeps it; fewer rows to send and to sort."""
    keys = [table.index(k) for k in table.keys]
    newest = table.index(table.newest)
    kept: dict[Any, tuple[Any, ...]] = {}
    for row in rows:
        key = row[keys[0]] if len(keys) == 1 else tuple(row[k] for k in keys)
        other = kept.get(key)
        if other is None or _instant(other[newest]) <= _instant(row[newest]):
            kept[key] = row
    return list(kept.values())


@functools.lru_cache(maxsize=1024)
def _instant(value: Any) -> datetime:
    """A newest column's value (an ISO-8601 timestamp, as `values.timestamp` keeps it) as a
    time to compare; without a zone it is taken as UTC, as the loader's sessions do."""
    found = datetime.fromisoformat(value) if isinstance(value, str) else _EPOCH
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)


def _upsert(conn: psycopg.Connection[Any], table: TableSpec,
            rows: Iterable[tuple[Any, ...]]) -> int:
    stage = _stage(table)
    _copy(conn, stage, table.columns, rows)
    return _UPSERTS[table.name].run(conn, stage)


def _copy(conn: psycopg.Connection[Any], target: sql.Identifier, columns: Sequence[str],
          rows: Iterable[tuple[Any, ...]]) -> None:
    """COPY rows in (text format; arrays formatted by `ArrayDumper`)."""
    with conn.cursor() as cur:
        cur.adapters.register_dumper(list, ArrayDumper)
        with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(target, _cols(columns))) as copy:
            for row in rows:
                copy.write_row(row)


class ArrayDumper(Dumper):
    """A flat list of ints, floats, strings and None (what `values.array_of` makes) as a
    PostgreSQL array literal, for text COPY only: some times faster than psycopg's own."""

    def dump(self, obj: Any) -> bytes:
        if not obj:
            return b"{}"
        return ("{" + ",".join(map(_element, obj)) + "}").encode()


def _element(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


def _upsert_of(table: TableSpec) -> Upsert:
    sequenced = table.sequenced
    return Upsert(
        table.name, table.keys, table.columns, newest=table.newest, unless_same="raw",
        computed={"load_seq": sql.SQL("nextval('tweet_load_seq')")} if sequenced else {},
        touched={"loaded_at": sql.SQL("now()")} if sequenced else {},
    )


_UPSERTS = {t.name: _upsert_of(t) for t in (TWEETS, *(t for t, _ in SIDE_TABLES))}


def _mark_current_versions(conn: psycopg.Connection[Any],
                           tweets: Sequence[tuple[Any, ...]]) -> None:
    """Of the versions of an edited tweet, the one with the highest id is current."""
    key, root, edits = (TWEETS.index(c) for c in ("tweet_id", "edit_root_id",
                                                  "edit_history_tweet_ids"))
    edited = list({row[root] for row in tweets if row[root] is not None and (
        len(row[edits] or ()) > 1 or row[key] != row[root])})
    if not edited:
        return
    conn.execute(
        "UPDATE tweet_merge t SET is_current = (t.tweet_id = g.latest) FROM ("
        " SELECT edit_root_id, max(tweet_id) AS latest FROM tweet_merge"
        " WHERE edit_root_id = ANY(%s) GROUP BY edit_root_id) g "
        "WHERE t.edit_root_id = g.edit_root_id AND t.is_current <> (t.tweet_id = g.latest)",
        (edited,))


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
