"""Rows for the dashboard tests: transformed tweets inserted as the transform writes them, and
their minutes' trends recomputed by the transform's own `trends.refresh`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from psycopg import sql

from tweetpipe import db
from tweetpipe.settings import Settings
from tweetpipe.transform import trends


@dataclass
class Tweet:
    tweet_id: int
    minute: datetime
    clean_text: str
    sentiment: float | None = 0.0
    author: str = "someone"
    hashtags: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)

    @property
    def label(self) -> str | None:
        if self.sentiment is None:
            return None
        return "positive" if self.sentiment >= 0.05 else (
            "negative" if self.sentiment <= -0.05 else "neutral")


COLUMNS = ("tweet_id", "created_at", "minute", "author_username", "lang", "text", "clean_text",
           "hashtags", "mentions", "sentiment", "sentiment_label", "load_seq",
           "transform_version")


def add(settings: Settings, tweets: list[Tweet]) -> None:
    """Insert `tweets` into tweet_transformed and refresh their minutes' trends."""
    insert = sql.SQL("INSERT INTO tweet_transformed ({}) VALUES ({})").format(
        sql.SQL(", ").join(map(sql.Identifier, COLUMNS)),
        sql.SQL(", ").join(sql.Placeholder() * len(COLUMNS)))
    with db.connect(settings) as conn, conn.transaction():
        for t in tweets:
            conn.execute(insert, (t.tweet_id, t.minute + timedelta(seconds=7), t.minute,
                                  t.author, "en", t.clean_text, t.clean_text, t.hashtags,
                                  t.mentions, t.sentiment, t.label, t.tweet_id, 1))
        minutes = sorted({t.minute for t in tweets})
        trends.refresh(conn, sql.SQL("SELECT unnest({}::timestamptz[]) AS minute").format(
            sql.Literal(minutes)))


def burst(first_id: int, minute: datetime, n: int, *, tag: str = "python",
          mention: str = "kafka", sentiment: float = 0.4) -> list[Tweet]:
    """`n` tweets of one minute, ids from `first_id`."""
    return [Tweet(first_id + i, minute, f"tweet {first_id + i} about #{tag}",
                  sentiment=sentiment * (1 if i % 3 else -1), hashtags=[tag],
                  mentions=[mention] if i % 2 else []) for i in range(n)]
