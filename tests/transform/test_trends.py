"""The trends kept by what each transform run changes equal the trends counted afresh, on real
PostgreSQL: late tweets, tweets transformed again into other minutes and tags, older copies
that lose, reruns, NULL sentiment and minutes, hashtags repeated in other cases."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tweetpipe import db
from tweetpipe.settings import Settings
from tweetpipe.transform.trends import COUNTED

from ..fixtures.transformed import write_transformed

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
COLUMNS = ("tweet_id", "created_at", "minute", "hashtags", "mentions", "sentiment", "load_seq",
           "transform_version")
Row = tuple[int, int | None, list[str], list[str], float | None, int]  # id, minute, ..., load_seq


def transform_run(settings: Settings, rows: list[Row]) -> int:
    """Commit `rows` as a transform run does."""
    return write_transformed(settings, COLUMNS, [
        (tweet_id, _at(minute), _at(minute), hashtags, mentions, sentiment, load_seq, 1)
        for tweet_id, minute, hashtags, mentions, sentiment, load_seq in rows])


def _at(minute: int | None) -> datetime | None:
    return None if minute is None else T0 + timedelta(minutes=minute)


def trends(settings: Settings) -> dict[str, set[tuple[Any, ...]]]:
    """The trend tables as stored, and as counted afresh from tweet_transformed."""
    kept = {"trend_minute": "SELECT minute, tweets, scored, mean_sentiment FROM trend_minute",
            "trend_hashtag": "SELECT minute, hashtag, tweets FROM trend_hashtag",
            "trend_mention": "SELECT minute, mention, tweets FROM trend_mention"}
    found = {}
    with db.connect(settings, autocommit=True) as conn:
        for table, query in kept.items():
            found[table] = {_rounded(r) for r in conn.execute(query).fetchall()}
            found[f"{table} counted"] = {_rounded(r) for r in conn.execute(COUNTED[table])}
    return found


def _rounded(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Sums kept run by run differ from a fresh avg() in the last bits only."""
    return tuple(round(v, 9) if isinstance(v, float) else v for v in row)


def assert_trends_counted(settings: Settings) -> None:
    found = trends(settings)
    for table in ("trend_minute", "trend_hashtag", "trend_mention"):
        assert found[table] == found[f"{table} counted"], table


def test_runs_keep_the_trends_as_counted(pipeline: Settings) -> None:
    transform_run(pipeline, [
        (1, 0, ["Python", "python", "kafka"], ["ann"], 0.5, 1),
        (2, 0, ["python"], [], None, 2),
        (3, 1, [], ["Ann", "bob"], -0.25, 3),
        (4, None, ["nowhere"], [], 0.1, 4),  # no tweet time: in no minute
    ])
    assert_trends_counted(pipeline)
    found = trends(pipeline)
    minute0 = T0
    assert (minute0, "python", 2) in found["trend_hashtag"]  # a tweet counts once per tag
    assert (minute0, 2, 1, 0.5) in found["trend_minute"]
    # a late tweet; tweet 1 transformed again into another minute and tags; tweet 3's older
    # copy, which loses; tweet 2 as it was (a rerun of its row)
    transform_run(pipeline, [
        (5, 0, ["kafka"], ["bob"], 0.75, 5),
        (1, 2, ["spark"], [], None, 6),
        (3, 0, ["old"], ["old"], 1.0, 2),
        (2, 0, ["python"], [], None, 2),
    ])
    assert_trends_counted(pipeline)
    found = trends(pipeline)
    assert (minute0, "python", 1) in found["trend_hashtag"]
    assert not any(tag == "old" for _, tag, _ in found["trend_hashtag"])
    # tweet 3 leaves minute 1, which is then empty: its rows go
    transform_run(pipeline, [(3, 2, [], [], 0.0, 7)])
    assert_trends_counted(pipeline)
    assert not any(m == T0 + timedelta(minutes=1) for m, *_ in trends(pipeline)["trend_minute"])


def test_random_runs_keep_the_trends_as_counted(pipeline: Settings) -> None:
    rng = random.Random(5)
    tags = ["a", "A", "b", "c", "d"]
    load_seq = 0
    for _ in range(12):
        rows: list[Row] = []
        for tweet_id in rng.sample(range(40), rng.randint(1, 15)):
            load_seq += 1
            rows.append((tweet_id, rng.choice([None, 0, 1, 2, 3]),
                         rng.sample(tags, rng.randint(0, 3)), rng.sample(tags, rng.randint(0, 2)),
                         rng.choice([None, -0.5, 0.125, 0.3, 1.0]),
                         load_seq - rng.choice([0, 0, 0, 30])))  # now and then an older copy
        transform_run(pipeline, rows)
        assert_trends_counted(pipeline)
        transform_run(pipeline, rows)  # a rerun changes nothing
        assert_trends_counted(pipeline)
