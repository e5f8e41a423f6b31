"""Trends per minute of tweet time: tweets, mean sentiment, top hashtags and mentions.

Kept up to date by what each transform run changes, inside the run's commit transaction
(`apply`): the tweet_transformed rows of the run's tweets are read before its upsert and after
it; the former are taken off their minutes' counts, the latter added. The work is that of the
run's rows, not of the minutes they fall in (a minute of the firehose holds some 360,000
tweets, and a backfill touches hundreds of minutes). A late tweet adds to its minute; a tweet
transformed again moves from its old minute, hashtags and mentions to its new ones; rerunning
a run changes nothing. A transaction lock makes the updates one at a time, so two concurrent
runs never count from the same rows. `COUNTED` is what the trend tables must equal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql

TRENDS_LOCK = 0x7477_7472  # "twtr"
#: What the trend tables hold, counted afresh from tweet_transformed (the trends `apply` keeps).
COUNTED = {
    "trend_minute": "SELECT minute, count(*), count(sentiment), avg(sentiment)"
                    " FROM tweet_transformed WHERE minute IS NOT NULL GROUP BY 1",
    "trend_hashtag": "SELECT t.minute, lower(e.value), count(DISTINCT t.tweet_id)"
                     " FROM tweet_transformed t CROSS JOIN LATERAL unnest(t.hashtags) AS e(value)"
                     " WHERE t.minute IS NOT NULL GROUP BY 1, 2",
    "trend_mention": "SELECT t.minute, lower(e.value), count(DISTINCT t.tweet_id)"
                     " FROM tweet_transformed t CROSS JOIN LATERAL unnest(t.mentions) AS e(value)"
                     " WHERE t.minute IS NOT NULL GROUP BY 1, 2",
}
_SIDES = (("trend_after", 1), ("trend_before", -1))


def apply(conn: psycopg.Connection[Any], stage: sql.Identifier,
          upsert: Callable[[], int]) -> int:
    """Run `upsert` (it writes the tweet_transformed rows of the tweets in `stage`) and update
    the trends by what it changed, in the caller's transaction; returns what `upsert` does."""
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (TRENDS_LOCK,))
    _keep_rows(conn, "trend_before", stage)
    upserted = upsert()
    _keep_rows(conn, "trend_after", stage)
    _update_minutes(conn)
    for table, column, source in (("trend_hashtag", "hashtag", "hashtags"),
                                  ("trend_mention", "mention", "mentions")):
        _update_counts(conn, table, column, source)
    conn.execute("DROP TABLE trend_before, trend_after")
    return upserted


def _keep_rows(conn: psycopg.Connection[Any], name: str, stage: sql.Identifier) -> None:
    conn.execute(sql.SQL(
        "CREATE TEMP TABLE {name} ON COMMIT DROP AS"
        " SELECT tweet_id, minute, hashtags, mentions, sentiment FROM tweet_transformed"
        " WHERE minute IS NOT NULL AND tweet_id IN (SELECT tweet_id FROM {stage})"
    ).format(name=sql.Identifier(name), stage=stage))


def _update_minutes(conn: psycopg.Connection[Any]) -> None:
    changes = sql.SQL(" UNION ALL ").join(sql.SQL(
        "SELECT minute, {sign} * count(*) AS tweets, {sign} * count(sentiment) AS scored,"
        " {sign} * coalesce(sum(sentiment), 0) AS total FROM {rows} GROUP BY minute"
    ).format(sign=sql.Literal(sign), rows=sql.Identifier(rows)) for rows, sign in _SIDES)
    conn.execute(sql.SQL(
        "INSERT INTO trend_minute AS m (minute, tweets, scored, sentiment_sum, mean_sentiment) "
        "SELECT minute, sum(tweets), sum(scored), sum(total),"
        " sum(total) / nullif(sum(scored), 0) FROM ({changes}) c GROUP BY minute "
        "HAVING sum(tweets) <> 0 OR sum(scored) <> 0 OR sum(total) <> 0 "
        "ON CONFLICT (minute) DO UPDATE SET tweets = m.tweets + EXCLUDED.tweets,"
        " scored = m.scored + EXCLUDED.scored,"
        " sentiment_sum = m.sentiment_sum + EXCLUDED.sentiment_sum,"
        " mean_sentiment = (m.sentiment_sum + EXCLUDED.sentiment_sum)"
        " / nullif(m.scored + EXCLUDED.scored, 0), updated_at = now()"
    ).format(changes=changes))
    conn.execute("DELETE FROM trend_minute WHERE tweets <= 0"
                 " AND minute IN (SELECT minute FROM trend_before)")


def _update_counts(conn: psycopg.Connection[Any], table: str, column: str, source: str) -> None:
    """A hashtag's (mention's) tweets per minute: each tweet counts once per value, in any case."""
    changes = sql.SQL(" UNION ALL ").join(sql.SQL(
        "SELECT minute, value, {sign} * count(*) AS tweets FROM (SELECT DISTINCT r.tweet_id,"
        " r.minute, lower(e.value) AS value FROM {rows} r"
        " CROSS JOIN LATERAL unnest(r.{source}) AS e(value)) v GROUP BY 1, 2"
    ).format(sign=sql.Literal(sign), rows=sql.Identifier(rows), source=sql.Identifier(source))
        for rows, sign in _SIDES)
    table_id = sql.Identifier(table)
    conn.execute(sql.SQL(
        "INSERT INTO {table} AS t (minute, {column}, tweets) "
        "SELECT minute, value, sum(tweets) FROM ({changes}) c GROUP BY 1, 2"
        " HAVING sum(tweets) <> 0 "
        "ON CONFLICT (minute, {column}) DO UPDATE SET tweets = t.tweets + EXCLUDED.tweets"
    ).format(table=table_id, column=sql.Identifier(column), changes=changes))
    conn.execute(sql.SQL("DELETE FROM {} WHERE tweets <= 0"
                         " AND minute IN (SELECT minute FROM trend_before)").format(table_id))


def top_hashtags(conn: psycopg.Connection[Any], limit: int = 5) -> list[tuple[str, int]]:
    rows = conn.execute(
        "SELECT hashtag, sum(tweets)::int FROM trend_hashtag GROUP BY hashtag"
        " ORDER BY 2 DESC, 1 LIMIT %s", (limit,)).fetchall()
    return [(str(tag), int(n)) for tag, n in rows]
