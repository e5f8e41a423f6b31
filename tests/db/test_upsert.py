"""The one upsert builder on real PostgreSQL: newest copy wins, in a batch and across batches."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import sql

from tweetpipe import db
from tweetpipe.db.upsert import Upsert
from tweetpipe.settings import Settings

pytestmark = pytest.mark.integration
UPSERT = Upsert("things", "id", ("id", "v", "at", "raw"), newest="at", unless_same="raw",
                computed={"seq": sql.SQL("nextval('thing_seq')")},
                touched={"changed": sql.SQL("true")})


def stage(conn: psycopg.Connection[Any], rows: list[tuple[int, str, int, str]]) -> int:
    conn.execute("TRUNCATE stage")
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO stage VALUES (%s, %s, %s, %s)", rows)
    return UPSERT.run(conn, sql.Identifier("stage"))


def test_newest_copy_wins(pipeline: Settings) -> None:
    with db.connect(pipeline, autocommit=True) as conn:
        conn.execute("CREATE SEQUENCE thing_seq")
        conn.execute("CREATE TABLE things (id int PRIMARY KEY, v text, at int, raw text,"
                     " seq bigint, changed boolean NOT NULL DEFAULT false)")
        conn.execute("CREATE TABLE stage (id int, v text, at int, raw text)")
        assert stage(conn, [(1, "old", 1, "a"), (1, "new", 2, "b"), (2, "x", 1, "c")]) == 2
        assert stage(conn, [(1, "older", 0, "z")]) == 0  # an older copy never overwrites
        assert stage(conn, [(2, "x", 1, "c")]) == 0  # the same copy again: nothing to update
        assert stage(conn, [(2, "x", 5, "c")]) == 1  # same raw, newer: only `at` and copies
        assert conn.execute("SELECT at, seq, changed FROM things WHERE id = 2").fetchone() == (
            5, 2, False)
        assert stage(conn, [(2, "y", 6, "d")]) == 1
        rows = conn.execute("SELECT id, v, at, seq, changed FROM things ORDER BY id").fetchall()
    assert rows == [(1, "new", 2, 1, False), (2, "y", 6, 6, True)]


def test_an_unchanged_newer_copy_keeps_an_older_changed_one_out(pipeline: Settings) -> None:
    """Copies A (at 1), C (at 3, the same as A), B (at 2, different), loaded in this order:
    C is the newest, so the row stays A's; B must not win because C changed nothing."""
    with db.connect(pipeline, autocommit=True) as conn:
        conn.execute("CREATE SEQUENCE thing_seq")
        conn.execute("CREATE TABLE things (id int PRIMARY KEY, v text, at int, raw text,"
                     " seq bigint, changed boolean NOT NULL DEFAULT false)")
        conn.execute("CREATE TABLE stage (id int, v text, at int, raw text)")
        assert stage(conn, [(1, "a", 1, "A")]) == 1
        stage(conn, [(1, "a", 3, "A")])
        assert stage(conn, [(1, "b", 2, "B")]) == 0
        row = conn.execute("SELECT v, at, raw, seq, changed FROM things").fetchone()
    assert row == ("a", 3, "A", 1, False)


def test_a_key_of_several_columns(pipeline: Settings) -> None:
    pairs = Upsert("pairs", ("a", "b"), ("a", "b", "v", "at"), newest="at")
    with db.connect(pipeline, autocommit=True) as conn:
        conn.execute("CREATE TABLE pairs (a int, b text, v text, at int, PRIMARY KEY (a, b))")
        conn.execute("CREATE TABLE pair_stage (a int, b text, v text, at int)")
        conn.execute("INSERT INTO pair_stage VALUES (1, 'x', 'old', 1), (1, 'x', 'new', 2),"
                     " (1, 'y', 'other', 1), (2, 'x', 'third', 1)")
        assert pairs.run(conn, sql.Identifier("pair_stage")) == 3
        conn.execute("TRUNCATE pair_stage")
        conn.execute("INSERT INTO pair_stage VALUES (1, 'x', 'older', 0), (1, 'y', 'newer', 5)")
        assert pairs.run(conn, sql.Identifier("pair_stage")) == 1
        rows = conn.execute("SELECT a, b, v FROM pairs ORDER BY a, b").fetchall()
    assert rows == [(1, "x", "new"), (1, "y", "newer"), (2, "x", "third")]
