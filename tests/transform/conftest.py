"""`tweet_merge`-like rows built from the real X API v2 samples we ship.

The Spark session is the shared one in tests/fixtures/spark.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any

import orjson
import pytest
from pyspark.sql import DataFrame, SparkSession

from tweetpipe.collect.records import merge_payload
from tweetpipe.load.columns import TWEETS
from tweetpipe.load.rows import Coordinates, parse_message
from tweetpipe.transform.batch_job import INPUT_COLUMNS

from ..data import all_files, payloads

JSON = dict[str, Any]
# tweet_merge as Spark's JDBC reader types it: the columns the transform reads, plus a few more
# it must ignore; names and types from the loader's column spec.
MERGE_COLUMNS = (*INPUT_COLUMNS, "conversation_id", "edit_history_tweet_ids", "withheld", "raw")
MERGE_SCHEMA = TWEETS.spark_ddl(MERGE_COLUMNS)


@cache
def sample_tweets() -> dict[str, tuple[JSON, dict[str, JSON]]]:
    """Every tweet in the shipped samples by id, with the users its page includes."""
    found: dict[str, tuple[JSON, dict[str, JSON]]] = {}
    for page in sample_pages():
        data = page.get("data")
        users = {u["id"]: u for u in (page.get("includes") or {}).get("users", [])}
        for tweet in data if isinstance(data, list) else [data] if data else []:
            found.setdefault(tweet["id"], (tweet, users))
    return found


@cache
def sample_records() -> dict[str, JSON]:
    """Every tweet in the shipped samples by id, merged with its page's includes (a retweet
    carries its original) as the collector merges it."""
    found: dict[str, JSON] = {}
    for page in sample_pages():
        for record in merge_payload(page, provenance={}):
            found.setdefault(record["id"], record)
    return found


def sample_pages() -> list[JSON]:
    """The parseable pages of the shipped samples, file by file (one line is broken on
    purpose)."""
    return [page for path in all_files() for page in payloads(path.stem)]


def merge_row(tweet_id: str, load_seq: int = 1, *, merged: bool = False) -> tuple[Any, ...]:
    """One tweet as the loader makes its `tweet_merge` row (MERGE_COLUMNS order): with its
    author only, or `merged` with everything its page includes (a retweet's original)."""
    tweet, users = sample_tweets()[tweet_id]
    author = users.get(tweet.get("author_id", ""))
    record = sample_records()[tweet_id] if merged else {
        **tweet, **({"author": author} if author else {})}
    parsed = parse_message(orjson.dumps(record), Coordinates("t", 0, 0), max_bytes=1 << 20)

    def value(name: str) -> Any:
        if name == "load_seq":
            return load_seq
        found = parsed.column(name)
        if TWEETS.column(name).pg_type == "timestamptz" and found is not None:
            return datetime.fromisoformat(found)
        return found

    return tuple(value(name) for name in MERGE_COLUMNS)


@pytest.fixture(scope="session")
def samples() -> dict[str, tuple[JSON, dict[str, JSON]]]:
    """Sample tweets by id, each with the users of its page."""
    return sample_tweets()


@pytest.fixture(scope="session")
def merged() -> dict[str, JSON]:
    """Sample tweets by id, merged with their pages' includes (see `sample_records`)."""
    return sample_records()


@pytest.fixture(scope="session")
def merge_df(spark: SparkSession) -> Callable[..., DataFrame]:
    """`merge_df(id, ..., merged=False)`: a tweet_merge-like DataFrame of those sample tweets
    (`merged`: with their pages' includes, so a retweet carries its original)."""

    def build(*tweet_ids: str, merged: bool = False) -> DataFrame:
        rows = [merge_row(t, seq, merged=merged) for seq, t in enumerate(tweet_ids, start=1)]
        return spark.createDataFrame(rows, MERGE_SCHEMA)

    return build
