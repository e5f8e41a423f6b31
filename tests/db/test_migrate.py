"""Migrations on real PostgreSQL: one transaction each, checksums, ledgers of the old code."""

from __future__ import annotations

import orjson
import pytest
from psycopg import sql

from tweetpipe import db
from tweetpipe.db import Migration, migrations
from tweetpipe.errors import DatabaseError
from tweetpipe.settings import Settings

from ..fixtures.services import isolated

pytestmark = pytest.mark.integration

FIRST = Migration(1, "first", "CREATE TABLE first_table (id integer);")
SECOND = Migration(2, "second", "CREATE TABLE second_table (id integer);")
BROKEN = Migration(3, "broken", "CREATE TABLE third_table (id integer); SELEC 1;")


def tables(settings: Settings) -> set[str]:
    with db.connect(settings, autocommit=True) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables"
                            " WHERE schemaname = current_schema()").fetchall()
    return {r[0] for r in rows}


def ledger(settings: Settings) -> list[tuple[int, str | None]]:
    with db.connect(settings, autocommit=True) as conn:
        return conn.execute(  # type: ignore[return-value]
            "SELECT version, checksum FROM schema_migrations ORDER BY version").fetchall()


def test_a_failing_migration_leaves_the_earlier_ones_applied(stack: Settings) -> None:
    settings = isolated(stack)
    with pytest.raises(DatabaseError, match=r"migration 0003_broken\.sql failed"):
        db.migrate(settings, [FIRST, SECOND, BROKEN])
    assert {"first_table", "second_table"} <= tables(settings)
    assert "third_table" not in tables(settings)  # its own transaction rolled back
    assert ledger(settings) == [(1, FIRST.checksum), (2, SECOND.checksum)]
    fixed = Migration(3, "broken", "CREATE TABLE third_table (id integer);")
    assert db.migrate(settings, [FIRST, SECOND, fixed]) == [fixed]
    assert "third_table" in tables(settings)


def test_a_changed_migration_is_refused_naming_its_file(stack: Settings) -> None:
    settings = isolated(stack)
    assert db.migrate(settings, [FIRST]) == [FIRST]
    assert db.migrate(settings, [FIRST]) == []
    edited = Migration(1, "first", FIRST.body + "\n-- edited after release\n")
    with pytest.raises(DatabaseError, match=r"0001_first\.sql was changed") as info:
        db.migrate(settings, [edited, SECOND])
    assert not info.value.retryable
    assert "second_table" not in tables(settings)


def test_a_ledger_of_the_old_code_gets_checksums(stack: Settings) -> None:
    settings = isolated(stack)
    with db.connect(settings, autocommit=True) as conn:  # as the old code left it
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(settings.db_schema)))
        conn.execute("CREATE TABLE schema_migrations (version integer PRIMARY KEY,"
                     " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
        conn.execute("INSERT INTO schema_migrations (version, name) VALUES (1, 'first')")
        conn.execute(FIRST.body)
    assert db.migrate(settings, [FIRST, SECOND]) == [SECOND]
    assert ledger(settings) == [(1, FIRST.checksum), (2, SECOND.checksum)]


def test_the_package_migrations_apply_once(stack: Settings) -> None:
    settings = isolated(stack)
    assert [m.file for m in db.migrate(settings)] == [m.file for m in migrations()]
    assert db.migrate(settings) == []
    assert [v for v, _ in ledger(settings)] == [m.version for m in migrations()]
    assert all(c for _, c in ledger(settings))


def test_the_tweets_are_compressed_with_lz4(stack: Settings) -> None:
    settings = isolated(stack)
    db.migrate(settings)
    big = orjson.dumps({"text": " ".join(map(str, range(2_000)))}).decode()  # over 2 kB
    with db.connect(settings, autocommit=True) as conn:
        conn.execute("INSERT INTO tweet_included (tweet_id, seen_at, raw)"
                     " VALUES (1, now(), %s::jsonb)", (big,))
        found = conn.execute("SELECT pg_column_compression(raw) FROM tweet_included").fetchone()
        unset = conn.execute(
            "SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
            " WHERE c.relnamespace = current_schema()::regnamespace AND a.attnum > 0"
            " AND c.relname IN ('tweet_merge', 'tweet_included', 'tweet_author')"
            " AND a.atttypid = 'jsonb'::regtype AND a.attcompression <> 'l'").fetchone()
    assert found == ("lz4",)
    assert unset == (0,)
