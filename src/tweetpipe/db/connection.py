"""PostgreSQL connections.

Every connection works in the configured schema (`DB_SCHEMA`), so tests and side-by-side stacks
can share one server. A connection that fails raises what `db.errors.classify` makes of it: a
terminal `DatabaseConfigError` naming the setting to fix (wrong DB_PASS, unknown DB_USER or
DB_NAME), or a `RetryableDatabaseError` when the server is unreachable or restarting.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from tweetpipe.db.errors import classify
from tweetpipe.settings import Settings


def connect(settings: Settings, *, autocommit: bool = False, dbname: str | None = None,
            ) -> psycopg.Connection[Any]:
    """A connection whose search_path is the configured schema; errors name the server only."""
    try:
        conn = psycopg.connect(
            settings.conninfo(dbname), autocommit=autocommit, connect_timeout=10,
            application_name="tweetpipe",
        )
    except psycopg.Error as exc:
        raise classify(exc, settings) from None
    if dbname is None:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(settings.db_schema)))
        if not autocommit:
            conn.commit()
    return conn


def table_counts(settings: Settings, tables: list[str]) -> dict[str, int]:
    with connect(settings, autocommit=True) as conn:
        counts = {}
        for table in tables:
            row = conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            ).fetchone()
            counts[table] = int(row[0]) if row else 0
        return counts
