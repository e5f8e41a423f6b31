"""Trends per minute of tweet time: tweets, mean sentiment, top hashtags and mentions.

Recomputed in PostgreSQL from tweet_transformed for exactly the minutes a run touched, inside
the run's commit transaction: rerunning changes nothing, and a late tweet updates its minute.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql


def refresh(conn: psycopg.Connection[Any], minutes: sql.Composable) -> None:
    """Recompute every trend row of the minutes `minutes` (a query returning one column)."""
    conn.execute(sql.SQL(
        "CREATE TEMP TABLE touched_minutes ON COMMIT DROP AS {}").format(minutes))
    for table in ("trend_hashtag", "trend_mention"):
        conn.execute(sql.SQL(
            "DELETE FROM {} WHERE minute IN (SELECT minute FROM touched_minutes)"
        ).format(sql.Identifier(table)))
    for table, column, source in (("trend_hashtag", "hashtag", "hashtags"),
                                  ("trend_mention", "mention", "mentions")):
        conn.execute(sql.SQL(
            "INSERT INTO {table} (minute, {column}, tweets) "
            "SELECT t.minute, lower(e.value), count(DISTINCT t.tweet_id) "
            "FROM tweet_transformed t CROSS JOIN LATERAL unnest(t.{source}) AS e(value) "
            "WHERE t.minute IN (SELECT minute FROM touched_minutes) GROUP BY 1, 2"
        ).format(table=sql.Identifier(table), column=sql.Identifier(column),
                 source=sql.Identifier(source)))
    conn.execute(
        "INSERT INTO trend_minute (minute, tweets, scored, mean_sentiment) "
        "SELECT minute, count(*), count(sentiment), avg(sentiment) FROM tweet_transformed "
        "WHERE minute IN (SELECT minute FROM touched_minutes) GROUP BY minute "
        "ON CONFLICT (minute) DO UPDATE SET tweets = EXCLUDED.tweets, scored = EXCLUDED.scored,"
        " mean_sentiment = EXCLUDED.mean_sentiment, updated_at = now()")
    conn.execute("DROP TABLE touched_minutes")


def top_hashtags(conn: psycopg.Connection[Any], limit: int = 5) -> list[tuple[str, int]]:
    rows = conn.execute(
        "SELECT hashtag, sum(tweets)::int FROM trend_hashtag GROUP BY hashtag"
        " ORDER BY 2 DESC, 1 LIMIT %s", (limit,)).fetchall()
    return [(str(tag), int(n)) for tag, n in rows]
