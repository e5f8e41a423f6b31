"""Unit tests for the query matcher (no HTTP)."""

from __future__ import annotations

from typing import Any

import pytest

from tweetpipe_emulator.query import QueryError, parse_query, subject_of

USERS = {"1": "alice", "2": "bob"}
TWEETS: dict[str, dict[str, Any]] = {
    "plain": {
        "id": "10",
        "text": "Brexit talks resume, covid-19 news",
        "lang": "en",
        "author_id": "1",
    },
    "tags": {
        "id": "11",
        "text": "Stocks! #Kafka $TSLA @bob",
        "lang": "de",
        "author_id": "2",
        "entities": {
            "hashtags": [{"start": 8, "end": 14, "tag": "Kafka"}],
            "cashtags": [{"start": 15, "end": 20, "tag": "TSLA"}],
            "mentions": [{"start": 21, "end": 25, "username": "bob", "id": "2"}],
        },
    },
    "rt": {
        "id": "12",
        "text": "RT @alice: the data pipeline",
        "lang": "en",
        "author_id": "2",
        "referenced_tweets": [{"type": "retweeted", "id": "9"}],
    },
    "reply": {
        "id": "13",
        "text": "@alice Totally agree",
        "lang": "en",
        "author_id": "2",
        "in_reply_to_user_id": "1",
        "referenced_tweets": [{"type": "replied_to", "id": "10"}],
    },
}


def hits(query: str) -> set[str]:
    node = parse_query(query)
    return {k for k, t in TWEETS.items() if node.match(subject_of(t, USERS.get))}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("brexit", {"plain"}),
        ("BREXIT", {"plain"}),
        ("brex", set()),  # word match, not substring
        ('"talks resume"', {"plain"}),
        ('"resume talks"', set()),
        ("covid-19", {"plain"}),
        ("#kafka", {"tags"}),
        ("$tsla", {"tags"}),
        ("@bob", {"tags", "rt", "reply"}),  # mention or author
        ("from:alice", {"plain"}),
        ("from:2 data", {"rt"}),  # numeric id works too
        ("to:alice", {"reply"}),
        ("lang:de stocks", {"tags"}),
        ("@bob is:retweet", {"rt"}),
        ("@bob -is:retweet", {"tags", "reply"}),
        ("@bob is:reply", {"reply"}),
        ("@bob has:hashtags", {"tags"}),
        ("brexit OR pipeline", {"plain", "rt"}),
        ("(brexit OR stocks) lang:en", {"plain"}),
        ("agree OR stocks -#kafka", {"reply"}),
        ("@bob -(is:retweet OR is:reply)", {"tags"}),
    ],
)
def test_operators(query: str, expected: set[str]) -> None:
    assert hits(query) == expected


def test_and_binds_tighter_than_or() -> None:
    assert hits("brexit pipeline OR agree") == {"reply"}


def test_lowercase_or_is_a_keyword() -> None:
    assert hits("brexit or talks") == set()


def test_retweet_matches_full_original_text() -> None:
    node = parse_query("warehouse")
    rt = TWEETS["rt"]
    assert not node.match(subject_of(rt, USERS.get))
    assert node.match(subject_of(rt, USERS.get, "the data warehouse is full"))


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "-brexit",
        "is:retweet",
        "lang:en",
        "(brexit",
        "brexit)",
        '"open',
        "foo:bar",
        "is:cat x",
    ],
)
def test_invalid_queries(query: str) -> None:
    with pytest.raises(QueryError):
        parse_query(query)
