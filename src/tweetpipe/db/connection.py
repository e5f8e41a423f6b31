"""PostgreSQL connections and versioned migrations.

Migrations are the numbered `migrations/NNNN_name.sql` files of the package, applied in order
inside one transaction each, under an advisory lock so that concurrent starters do not race.
Every connection works in the configured schema (`DB_SCHEMA`), so tests and side-by-side stacks
can share one server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import psycopg
from psycopg import sql

from tweetpipe.errors import DatabaseError, RetryableDatabaseError
from tweetpipe.settings import Settings

MIGRATION_LOCK = 0x7477_6565  # "twee"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    body: str = field(repr=False)


def connect(settings: Settings, *, autocommit: bool = False, dbname: str | None = None,
            ) -> psycopg.Connection[Any]:
    """A connection whose search_path is the configured schema; errors name the server only."""
    try:
        conn = psycopg.connect(
            settings.conninfo(dbname), autocommit=autocommit, connect_timeout=10,
            application_name="tweetpipe",
        )
    except psycopg.OperationalError as exc:
        raise RetryableDatabaseError(
            f"cannot connect to PostgreSQL at {settings.db_display}: {_first_line(exc)}"
        ) from None
    if dbname is None:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(settings.db_schema)))
        if not autocommit:
            conn.commit()
    return conn


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or ["unknown error"])[-1]


def migrations() -> list[Migration]:
    found = []
    for entry in resources.files("tweetpipe.db.migrations").iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append(Migration(int(name[:4]), name[5:-4], entry.read_text("utf-8")))
    return sorted(found, key=lambda m: m.version)


def migrate(settings: Settings) -> list[Migration]:
    """Apply the migrations the database lacks; return those applied now."""
    applied_now: list[Migration] = []
    with connect(settings) as conn:
        schema = sql.Identifier(settings.db_schema)
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema))
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        for migration in migrations():
            if migration.version in done:
                continue
            try:
                conn.execute(migration.body.encode())
            except psycopg.Error as exc:
                raise DatabaseError(
                    f"migration {migration.version:04d}_{migration.name} failed: {_first_line(exc)}"
                ) from exc
            conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
            applied_now.append(migration)
    return applied_now


def table_counts(settings: Settings, tables: list[str]) -> dict[str, int]:
    with connect(settings, autocommit=True) as conn:
        counts = {}
        for table in tables:
            row = conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            ).fetchone()
            counts[table] = int(row[0]) if row else 0
        return counts
