"""Rows for the dashboard tests: transformed tweets written as the transform writes them (a
staging table, then its `upsert_from_stage`, which updates the trends)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tweetpipe.settings import Settings

from ..fixtures.transformed import write_transformed


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
    """Write `tweets` to tweet_transformed and their trends, as the transform does."""
    write_transformed(settings, COLUMNS, [
        (t.tweet_id, t.minute + timedelta(seconds=7), t.minute, t.author, "en", t.clean_text,
         t.clean_text, t.hashtags, t.mentions, t.sentiment, t.label, t.tweet_id, 1)
        for t in tweets])


def burst(first_id: int, minute: datetime, n: int, *, tag: str = "python",
          mention: str = "kafka", sentiment: float = 0.4) -> list[Tweet]:
    """`n` tweets of one minute, ids from `first_id`."""
    return [Tweet(first_id + i, minute, f"tweet {first_id + i} about #{tag}",
                  sentiment=sentiment * (1 if i % 3 else -1), hashtags=[tag],
                  mentions=[mention] if i % 2 else []) for i in range(n)]
