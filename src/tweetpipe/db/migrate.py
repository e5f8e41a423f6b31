"""Versioned migrations: the numbered `migrations/NNNN_name.sql` files of the package.

`migrate` applies those the database lacks, in order, each in a transaction of its own, under a
session advisory lock so that concurrent starters do not race: a failing migration leaves the
earlier ones applied. `schema_migrations` records each applied file with the sha256 of its
bytes; an applied file that has changed since stops the run with an error naming it (a
migration is never edited once released: add a new one). Ledgers written before checksums
existed get the column and the checksums of the current files.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import psycopg
from psycopg import sql

from tweetpipe.db.connection import connect
from tweetpipe.db.errors import classify
from tweetpipe.errors import DatabaseError
from tweetpipe.settings import Settings

log = logging.getLogger(__name__)
MIGRATION_LOCK = 0x7477_6565  # "twee"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    body: str = field(repr=False)

    @property
    def file(self) -> str:
        return f"{self.version:04d}_{self.name}.sql"

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.body.encode("utf-8")).hexdigest()


def migrations() -> list[Migration]:
    """The package's migrations, in version order."""
    found = []
    for entry in resources.files("tweetpipe.db.migrations").iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            # bytes decoded as they are (no newline translation): the checksum is the file's
            found.append(Migration(int(name[:4]), name[5:-4], entry.read_bytes().decode("utf-8")))
    return sorted(found, key=lambda m: m.version)


def migrate(settings: Settings, available: Sequence[Migration] | None = None) -> list[Migration]:
    """Apply the migrations the database lacks; return those applied now."""
    available = migrations() if available is None else sorted(available, key=lambda m: m.version)
    with connect(settings, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        try:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                sql.Identifier(settings.db_schema)))
            applied = _ledger(conn, available)
            _check_unchanged(available, applied)
            pending = [m for m in available if m.version not in applied]
            for migration in pending:
                _apply(conn, migration, settings)
            return pending
        finally:
            with contextlib.suppress(psycopg.Error):  # a lost connection released it already
                conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))


def _ledger(conn: psycopg.Connection[Any], available: Sequence[Migration]) -> dict[int, str]:
    """schema_migrations (made or brought up to date): applied version -> checksum."""
    with conn.transaction():
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now(), checksum text)"
        )
        conn.execute("ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS checksum text")
        with conn.cursor() as cur:  # applied before checksums were recorded: trust the files
            cur.executemany(
                "UPDATE schema_migrations SET checksum = %s"
                " WHERE version = %s AND checksum IS NULL",
                [(m.checksum, m.version) for m in available])
        rows = conn.execute("SELECT version, checksum FROM schema_migrations").fetchall()
    return {int(version): checksum for version, checksum in rows}


def _check_unchanged(available: Sequence[Migration], applied: dict[int, str]) -> None:
    for migration in available:
        recorded = applied.get(migration.version)
        if recorded is not None and recorded != migration.checksum:
            raise DatabaseError(
                f"migration {migration.file} was changed after it was applied to this database "
                f"(sha256 {migration.checksum[:12]}…, applied {recorded[:12]}…): restore the "
                "file and put the change in a new migration")


def _apply(conn: psycopg.Connection[Any], migration: Migration, settings: Settings) -> None:
    try:
        with conn.transaction():
            conn.execute(migration.body.encode())
            conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                (migration.version, migration.name, migration.checksum))
    except psycopg.Error as exc:
        error = classify(exc, settings)
        raise type(error)(f"migration {migration.file} failed: {error.message}",
                          **error.context) from exc
    log.debug("applied migration %s", migration.file)
