"""`tweet_merge`-like rows built from the real X API v2 samples we ship.

The Spark session is the shared one in tests/fixtures/spark.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

import pytest
from pyspark.sql import DataFrame, SparkSession

JSON = dict[str, Any]
# tweet_merge as Spark's JDBC reader types it: the columns the transform reads, plus a few more
# it must ignore.
MERGE_SCHEMA = (
    "tweet_id long, author_id long, conversation_id long, in_reply_to_user_id long, "
    "author_username string, created_at timestamp, lang string, text string, "
    "referenced_types array<string>, hashtags array<string>, mentions array<string>, "
    "cashtags array<string>, urls array<string>, media_keys array<string>, "
    "edit_history_tweet_ids array<bigint>, withheld string, load_seq long, raw string"
)


@cache
def sample_tweets() -> dict[str, tuple[JSON, dict[str, JSON]]]:
    """Every tweet in the shipped samples by id, with the users its page includes."""
    found: dict[str, tuple[JSON, dict[str, JSON]]] = {}
    for path in sorted(resources.files("tweetpipe").joinpath("data").iterdir(), key=str):
        if not path.name.endswith(".jsonl"):
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                page = json.loads(line)
            except json.JSONDecodeError:
                continue  # the sample holds a deliberately broken line
            data = page.get("data")
            users = {u["id"]: u for u in (page.get("includes") or {}).get("users", [])}
            for tweet in data if isinstance(data, list) else [data] if data else []:
                found.setdefault(tweet["id"], (tweet, users))
    return found


def merge_row(tweet_id: str, load_seq: int = 1) -> tuple[Any, ...]:
    """One tweet as a `tweet_merge` row (MERGE_SCHEMA order), entities read here."""
    tweet, users = sample_tweets()[tweet_id]
    entities = tweet.get("entities") or {}
    note = tweet.get("note_tweet") or {}

    def tags(kind: str, key: str) -> list[str]:
        return [str(e[key]) for e in entities.get(kind, [])]

    def opt_int(value: Any) -> int | None:
        return None if value is None else int(value)

    return (
        int(tweet["id"]), opt_int(tweet.get("author_id")), opt_int(tweet.get("conversation_id")),
        opt_int(tweet.get("in_reply_to_user_id")),
        users.get(tweet.get("author_id", ""), {}).get("username"),
        datetime.fromisoformat(tweet["created_at"]), tweet.get("lang"),
        note.get("text") or tweet["text"],
        [r["type"] for r in tweet.get("referenced_tweets", [])],
        tags("hashtags", "tag"), tags("mentions", "username"), tags("cashtags", "tag"),
        [u.get("expanded_url") or u["url"] for u in entities.get("urls", [])],
        list((tweet.get("attachments") or {}).get("media_keys", [])),
        [int(i) for i in tweet.get("edit_history_tweet_ids", [])] or None,
        json.dumps(tweet["withheld"]) if "withheld" in tweet else None,
        load_seq, json.dumps(tweet, ensure_ascii=False),
    )


@pytest.fixture(scope="session")
def samples() -> dict[str, tuple[JSON, dict[str, JSON]]]:
    """Sample tweets by id, each with the users of its page."""
    return sample_tweets()


@pytest.fixture(scope="session")
def merge_df(spark: SparkSession) -> Callable[..., DataFrame]:
    """`merge_df(id, ...)`: a tweet_merge-like DataFrame of those sample tweets."""

    def build(*tweet_ids: str) -> DataFrame:
        rows = [merge_row(t, seq) for seq, t in enumerate(tweet_ids, start=1)]
        return spark.createDataFrame(rows, MERGE_SCHEMA)

    return build
