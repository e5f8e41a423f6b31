"""The dashboard's reads: the precomputed trend tables and the newest transformed tweets.

Every query is bounded by an index, so the dashboard stays fast with millions of tweets:
`trend_minute` by its primary key (the newest minutes that have tweets), `trend_hashtag` and
`trend_mention` by the leading `minute` of theirs (only the minutes shown), `tweet_transformed`
by its primary key (`ORDER BY tweet_id DESC LIMIT n`: X's ids grow with tweet time, so these are
the newest tweets), `tweet_merge` by `load_seq`. `tweet_transformed` is never scanned; the total
comes from `trend_minute` (one row a minute, not a tweet).

`read` returns plain JSON-able values (ISO times, ids as strings: JavaScript numbers cannot
hold a 64-bit id); a table that is missing or a database that is down gives empty sections and
the reason under "error", never an exception.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from tweetpipe import db
from tweetpipe.errors import TweetpipeError
from tweetpipe.settings import Settings

log = logging.getLogger(__name__)
JSON = dict[str, Any]
#: a query slower than this fails (shown on the page) rather than holding every page up
STATEMENT_TIMEOUT_MS = 5000


@dataclass(frozen=True)
class Limits:
    """How much the dashboard shows: `minutes` newest minutes with tweets, `top` hashtags and
    mentions over those minutes, `latest` newest tweets."""

    minutes: int = 60
    top: int = 10
    latest: int = 25


def read(settings: Settings, limits: Limits = Limits()) -> JSON:
    """The charts' data and the newest tweets: {"trends", "latest", "error"}."""
    found = empty()
    try:
        with db.connect(settings, autocommit=True) as conn:
            conn.execute(sql.SQL("SET statement_timeout = {}").format(
                sql.Literal(STATEMENT_TIMEOUT_MS)))
            found["trends"] = trends(conn, limits)
            found["latest"] = latest(conn, limits.latest)
    except (TweetpipeError, psycopg.Error) as exc:
        found["error"] = describe(exc)
        log.warning("dashboard: cannot read the trend tables: %s", found["error"])
    return found


def empty() -> JSON:
    return {"trends": {"minutes": [], "hashtags": [], "mentions": [],
                       "totals": {"tweets": 0, "scored": 0, "minutes": 0, "newest": None}},
            "latest": [], "error": None}


def describe(exc: BaseException) -> str:
    """One line for the page: what failed, without the connection string."""
    if isinstance(exc, psycopg.errors.UndefinedTable):
        return "the tables are not there yet (run `tweetpipe db migrate` or a load)"
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def trends(conn: psycopg.Connection[Any], limits: Limits) -> JSON:
    rows = conn.execute(
        "SELECT minute, tweets, scored, mean_sentiment FROM trend_minute"
        " ORDER BY minute DESC LIMIT %s", (limits.minutes,)).fetchall()
    minutes = [minute_row(*row) for row in reversed(rows)]
    since = rows[-1][0] if rows else None
    return {"minutes": minutes,
            "hashtags": top(conn, "trend_hashtag", "hashtag", since, limits.top),
            "mentions": top(conn, "trend_mention", "mention", since, limits.top),
            "totals": totals(conn)}


def top(conn: psycopg.Connection[Any], table: str, column: str, since: datetime | None,
        limit: int) -> list[JSON]:
    """The most used values of `column` in the minutes from `since` on (none: [])."""
    if since is None:
        return []
    query = sql.SQL(
        "SELECT {column}, sum(tweets)::bigint FROM {table} WHERE minute >= %s"
        " GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT %s"
    ).format(column=sql.Identifier(column), table=sql.Identifier(table))
    return [{"name": str(name), "tweets": int(n)}
            for name, n in conn.execute(query, (since, limit)).fetchall()]


def totals(conn: psycopg.Connection[Any]) -> JSON:
    row = conn.execute(
        "SELECT coalesce(sum(tweets), 0)::bigint, coalesce(sum(scored), 0)::bigint, count(*),"
        " max(minute) FROM trend_minute").fetchone()
    tweets, scored, minutes, newest = row if row else (0, 0, 0, None)
    return {"tweets": int(tweets), "scored": int(scored), "minutes": int(minutes),
            "newest": iso(newest)}


LATEST_COLUMNS = ("tweet_id", "created_at", "author_username", "lang", "clean_text",
                  "sentiment", "sentiment_label", "hashtags", "mentions")


def latest(conn: psycopg.Connection[Any], limit: int) -> list[JSON]:
    query = sql.SQL("SELECT {} FROM tweet_transformed ORDER BY tweet_id DESC LIMIT %s").format(
        sql.SQL(", ").join(map(sql.Identifier, LATEST_COLUMNS)))
    return [tweet_row(dict(zip(LATEST_COLUMNS, row, strict=True)))
            for row in conn.execute(query, (limit,)).fetchall()]


def transform_position(conn: psycopg.Connection[Any], job: str = "batch") -> JSON | None:
    """The transform's watermark against the newest load sequence (None: no tables yet)."""
    there = conn.execute("SELECT to_regclass('transform_watermarks') IS NOT NULL"
                         " AND to_regclass('tweet_merge') IS NOT NULL").fetchone()
    if not there or not there[0]:
        return None
    newest = conn.execute("SELECT coalesce(max(load_seq), 0) FROM tweet_merge").fetchone()
    mark = conn.execute("SELECT load_seq, updated_at FROM transform_watermarks WHERE job = %s",
                        (job,)).fetchone()
    top_seq = int(newest[0]) if newest else 0
    watermark = int(mark[0]) if mark else 0
    return {"watermark": watermark, "max_load_seq": top_seq,
            "behind": max(top_seq - watermark, 0), "updated_at": iso(mark[1]) if mark else None}


# ---- pure shaping ----------------------------------------------------------------------------

def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds")


def number(value: Any, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)


def minute_row(minute: datetime, tweets: int, scored: int, mean: float | None) -> JSON:
    return {"minute": iso(minute), "tweets": int(tweets), "scored": int(scored),
            "mean_sentiment": number(mean)}


def tweet_row(row: JSON) -> JSON:
    """One `tweet_transformed` row as the page shows it; the id as a string."""
    return {"id": str(row["tweet_id"]), "created_at": iso(row.get("created_at")),
            "author": row.get("author_username"), "lang": row.get("lang"),
            "clean_text": row.get("clean_text") or "",
            "sentiment": number(row.get("sentiment")), "label": row.get("sentiment_label"),
            "hashtags": list(row.get("hashtags") or []),
            "mentions": list(row.get("mentions") or [])}
