"""Unit tests for the query matcher (no HTTP)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from tweetpipe_emulator.query import QueryError, parse_query, subject_of, words
from tweetpipe_emulator.validation import check_query

USERS = {"1": "alice", "2": "bob"}
OBJECTS: dict[str, dict[str, dict[str, Any]]] = {
    "users": {
        "1": {"id": "1", "username": "alice", "verified": True},
        "2": {"id": "2", "username": "bob", "verified": False},
    },
    "tweets": {"9": {"id": "9", "author_id": "1", "text": "the data warehouse is full"}},
    "places": {"p1": {"id": "p1", "full_name": "New York City, NY", "name": "New York City",
                      "country_code": "US"}},
    "media": {},
}


def lookup(kind: str, key: str) -> Mapping[str, Any] | None:
    return OBJECTS.get(kind, {}).get(key)


def bare(kind: str, key: str) -> Mapping[str, Any] | None:
    """A store holding the users only (no retweeted originals, no places)."""
    return OBJECTS["users"].get(key) if kind == "users" else None
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
    return {k for k, t in TWEETS.items() if node.match(subject_of(t, lookup))}


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
        ("@bob", {"tags"}),  # a mention entity: not bob's own tweets
        ("from:alice", {"plain"}),
        ("from:2 data", {"rt"}),  # numeric id works too
        ("to:alice", {"reply"}),
        ("lang:de stocks", {"tags"}),
        ("from:bob is:retweet", {"rt"}),
        ("from:bob -is:retweet", {"tags", "reply"}),
        ("from:bob is:reply", {"reply"}),
        ("from:bob has:hashtags", {"tags"}),
        ("brexit OR pipeline", {"plain", "rt"}),
        ("(brexit OR stocks) lang:en", {"plain"}),
        ("agree OR stocks -#kafka", {"reply"}),
        ("from:bob -(is:retweet OR is:reply)", {"tags"}),
    ],
)
def test_operators(query: str, expected: set[str]) -> None:
    assert hits(query) == expected


def test_and_binds_tighter_than_or() -> None:
    assert hits("brexit pipeline OR agree") == {"reply"}


@pytest.mark.parametrize("word", ["or", "and", "AND", "Or"])
def test_and_or_outside_quotes_are_ambiguous_like_on_x(word: str) -> None:
    # X: "Ambiguous use of and as a keyword. Use a space to logically join two clauses, or
    # "and" to find occurrences of and in text (at position 11)" for `Amsterdam AND AI`
    with pytest.raises(QueryError) as err:
        parse_query(f"brexit {word} talks")
    low = word.lower()
    assert err.value.message == (
        f"Ambiguous use of {low} as a keyword. Use a space to logically join two clauses, "
        f'or "{low}" to find occurrences of {low} in text (at position 8)'
    )
    assert hits(f'brexit "{word}"') == set()  # quoted, it is a keyword


def test_retweet_matches_full_original_text() -> None:
    node = parse_query("warehouse")
    rt = TWEETS["rt"]
    assert not node.match(subject_of(rt, bare))
    assert node.match(subject_of(rt, lookup))


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("I like coca-cola", ("i", "like", "coca", "cola")),
        ("I like 🍕", ("i", "like", "🍕")),  # X's own example: an emoji is a token
        ("#BLM✊🏾✊🏾!", ("blm", "✊", "🏾", "✊", "🏾")),  # skin tones are tokens too
        ("❤️ love", ("❤", "love")),  # the variation selector is dropped
        ("नमस्ते दुनिया", ("नमस्ते", "दुनिया")),  # combining vowel signs stay in the word
        ("https://t.co/AbC", ("https", "t", "co", "abc")),
    ],
)
def test_tokenizer(text: str, tokens: tuple[str, ...]) -> None:
    assert words(text) == tokens


def test_operators_on_places_authors_and_sources() -> None:
    tweet = {"id": "20", "text": "Hello from the city", "author_id": "1", "lang": "en",
             "geo": {"place_id": "p1"}, "source": "Twitter for Advertisers",
             "referenced_tweets": [{"type": "retweeted", "id": "9"}]}

    def match(query: str) -> bool:
        return parse_query(query).match(subject_of(tweet, lookup))

    assert match('city place:"new york city"') and match("city place:p1")
    assert match("place:york") and not match('place:"york new"')
    assert match("city place_country:us") and not match("city place_country:gb")
    assert match("city is:verified")
    assert not match("city -is:nullcast")  # sent with "Twitter for Advertisers"
    assert match("retweets_of:alice") and match("retweets_of:1") and not match("retweets_of:bob")
    assert match("retweets_of_tweet_id:9") and match("retweets_of_status_id:9")
    assert not match("in_reply_to_tweet_id:9")


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
        "#",
        "@",
        "$",
        '""',
        "brexit -",
        "brexit - talks",
        "brexit is:nullcast",  # X: must always be negated
        "brexit has:",
        "OR brexit",
        "brexit OR",
    ],
)
def test_invalid_queries(query: str) -> None:
    with pytest.raises(QueryError) as err:
        parse_query(query)
    assert "(at position " in err.value.message or query.strip() == ""


def test_query_length_limit() -> None:
    assert check_query("x" * 512, 512) is None
    assert "too long: 513 characters" in (check_query("x" * 513, 512) or "")
