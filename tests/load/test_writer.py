"""The writer's own COPY formatting on real PostgreSQL: arrays of any text come back as sent."""

from __future__ import annotations

import pytest
from psycopg import sql

from tweetpipe import db
from tweetpipe.load import writer
from tweetpipe.load.columns import AUTHORS
from tweetpipe.settings import Settings

pytestmark = pytest.mark.integration

NASTY = ["", "NULL", "null", 'say "hi"', "back\\slash", "\\N", "tab\there", "new\nline",
         "{braces}", "a,b", " padded ", "ünï😀code", "\\\"both\\\"", "\r"]


def test_arrays_of_any_text_numbers_and_nulls_round_trip(pipeline: Settings) -> None:
    rows = [(1, NASTY, [1, None, 2**63 - 1, -5], [0.5, None, -1e-300, float("inf")]),
            (2, [], [], None), (3, [None], [None], [1.0]), (4, None, None, [])]
    with db.connect(pipeline) as conn:
        conn.execute("CREATE TABLE arrays (n int, t text[], i bigint[], f double precision[])")
        writer._copy(conn, sql.Identifier("arrays"), ("n", "t", "i", "f"), rows)
        back = conn.execute("SELECT n, t, i, f FROM arrays ORDER BY n").fetchall()
    assert back == rows


def test_duplicates_in_a_batch_collapse_to_the_newest_copy() -> None:
    def author(seen: str, name: str) -> tuple[object, ...]:
        row = [None] * len(AUTHORS.columns)
        row[AUTHORS.index("user_id")], row[AUTHORS.index("seen_at")] = 7, seen
        row[AUTHORS.index("name")] = name
        return tuple(row)

    rows = [author("2026-01-01T10:00:00+02:00", "newest"),  # 08:00 UTC
            author("2026-01-01T07:00:00Z", "older"),
            author("2026-01-01T08:00:00.000Z", "as new, later"),
            author("2026-01-01T06:00:00", "oldest, no zone")]
    kept = writer.newest_rows(AUTHORS, rows)
    assert [r[AUTHORS.index("name")] for r in kept] == ["as new, later"]
