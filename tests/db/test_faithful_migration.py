"""Migration 0003 on rows loaded before it: their served time, their long posts' entities and
what the transform analyses, computed from what they kept, as the loader computes them now."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from psycopg import sql

from tweetpipe import db
from tweetpipe.collect.records import merge_payload
from tweetpipe.db import migrations
from tweetpipe.load.columns import INCLUDED
from tweetpipe.load.rows import Coordinates, parse_message
from tweetpipe.settings import Settings

from ..data import LONG_POST_ID, page_with_long_post
from ..fixtures.services import isolated

pytestmark = pytest.mark.integration
BEFORE = ("tweet_id", "text", "hashtags", "mentions", "cashtags", "urls", "referenced_types",
          "collected_at", "load_seq", "raw")  # the columns of 0001 the test fills
AFTER = ("served_at", "analysed_text", "analysis_text", "analysis_hashtags",
         "analysis_mentions", "analysis_cashtags", "analysis_urls")


def old_rows(retweet_id: str) -> tuple[list[dict[str, Any]], list[tuple[Any, ...]]]:
    """tweet_merge rows (as the loader makes them now) of the long post, its retweet and a
    retweet whose original is unknown; and the tweet_included row of the long post."""
    page, _ = page_with_long_post()
    records = {r["id"]: r for r in merge_payload(page, provenance={
        "collected_at": "2021-09-22T16:40:00Z", "served_at": "2021-09-22T16:38:09Z"})}
    orphan = {**records[retweet_id], "id": "1", "referenced_tweets": [
        {"type": "retweeted", "id": "2"}]}
    rows, included = [], []
    for record in (records[LONG_POST_ID], records[retweet_id], orphan):
        parsed = parse_message(orjson.dumps(record), Coordinates("t", 0, 0), max_bytes=1 << 20)
        rows.append({c: parsed.column(c) for c in (*BEFORE, *AFTER) if c != "load_seq"}
                    | {"load_seq": 1})
        included += [r for r in parsed.included if r[0] == int(LONG_POST_ID)]
    return rows, included[:1]


def insert(table: str, columns: tuple[str, ...]) -> sql.Composed:
    return sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.Placeholder() * len(columns)))


def test_rows_loaded_before_get_what_the_loader_gives_now(stack: Settings) -> None:
    settings = isolated(stack)
    db.migrate(settings, migrations()[:2])
    _, retweet_id = page_with_long_post()
    rows, included = old_rows(retweet_id)
    cut = {"hashtags": [], "mentions": ["YouTube"], "cashtags": [],  # the old loader read the
           "urls": ["https://youtu.be/qJrz3Ambln8"]}  # entities of a long post's cut text
    with db.connect(settings, autocommit=True) as conn:
        for row in rows:
            old = {**row, **(cut if row["tweet_id"] == int(LONG_POST_ID) else {})}
            conn.execute(insert("tweet_merge", BEFORE), [old[c] for c in BEFORE])
        conn.execute(insert("tweet_included", INCLUDED.columns), included[0])
    db.migrate(settings)
    with db.connect(settings, autocommit=True) as conn:
        got = conn.execute(sql.SQL("SELECT tweet_id, hashtags, mentions, cashtags, urls, {}"
                                   " FROM tweet_merge ORDER BY tweet_id").format(
            sql.SQL(", ").join(map(sql.Identifier, AFTER)))).fetchall()
    assert [g[6] for g in got] == ["truncated_retweet", "own", "retweeted_original"]
    assert {g[5] for g in got} == {datetime(2021, 9, 22, 16, 40, tzinfo=UTC)}  # collected_at
    assert [(*g[:5], *g[6:]) for g in got] == sorted(
        (r["tweet_id"], r["hashtags"], r["mentions"], r["cashtags"], r["urls"],
         *(r[c] for c in AFTER[1:])) for r in rows)
