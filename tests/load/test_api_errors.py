"""Partial errors of real X responses on real Kafka and PostgreSQL: kept next to the tweet they
concern, or, concerning none, in `api_errors`, exactly once, neither tweets nor dead letters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tweetpipe.settings import Settings

from ..data import sample
from ..pipeline import count, load_all, query, replay, stored_offsets_equal_log_end

pytestmark = pytest.mark.integration


def test_a_suspended_users_error_is_kept_next_to_the_tweet_mentioning_them(
        pipeline: Settings) -> None:
    replay(pipeline, [sample("2sets")])  # #kpop page: "User has been suspended: [leeseunggi]."
    stats = load_all(pipeline)
    assert (stats.rows, stats.dead_letters, stats.api_errors) == (200, 0, 0)
    found = query(pipeline, "SELECT tweet_id, mentions, errors -> 0 ->> 'detail' FROM tweet_merge"
                            " WHERE errors @> '[{\"value\": \"leeseunggi\"}]'")
    assert found == [(1440716248904450056, ["lsg_london13", "leeseunggi"],
                      "User has been suspended: [leeseunggi].")]
    assert count(pipeline, "api_errors") == 0


def test_errors_concerning_no_tweet_are_kept_with_their_request(pipeline: Settings) -> None:
    replay(pipeline, [sample("withheld")])  # its last page: three suspended users, no tweet
    stats = load_all(pipeline)
    assert (stats.messages, stats.rows, stats.dead_letters, stats.api_errors) == (
        216, 215, 0, 3)
    rows = query(pipeline, "SELECT value, resource_type, detail, collect_source, origin, url,"
                           " served_at, kafka_offset IS NOT NULL FROM api_errors ORDER BY value")
    assert [r[0] for r in rows] == ["2245", "Anoop455", "RSS4India"]
    _, kind, detail, source, origin, url, served, located = rows[2]
    assert (kind, detail, source, origin) == (
        "user", "User has been suspended: [RSS4India].", "replay", "withheld.jsonl:5")
    assert url.startswith("https://api.twitter.com/2/tweets/search/all?")
    assert served == datetime(2021, 6, 14, 11, 15, 14, tzinfo=UTC) and located
    assert count(pipeline, "tweet_merge") == 215 and count(pipeline, "dead_letters") == 0
    assert stored_offsets_equal_log_end(pipeline)
    replay(pipeline, [sample("withheld")])  # the same recording again: the same errors
    again = load_all(pipeline)
    assert (again.messages, again.api_errors, again.stored) == (216, 3, 0)
    assert count(pipeline, "api_errors") == 3
