"""Search endpoints over real HTTP: paging, operators, boundaries, errors, fields/expansions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from emukit import AUTH, DATA, file_ids, make

from tweetpipe_emulator import Emulator

RECENT = "/2/tweets/search/recent"


def not_rt(tweet: dict[str, Any]) -> bool:
    return all(r["type"] != "retweeted" for r in tweet.get("referenced_tweets", []))


def page_all(client: httpx.Client, path: str, **params: Any) -> Iterator[dict[str, Any]]:
    token: str | None = None
    while True:
        extra = {"next_token": token} if token else {}
        r = client.get(path, params={**params, **extra})
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        yield body
        token = body["meta"].get("next_token")
        if token is None:
            return


def ids(client: httpx.Client, query: str, **params: Any) -> list[str]:
    pages = page_all(client, RECENT, query=query, max_results=100, **params)
    return [t["id"] for page in pages for t in page.get("data", [])]


def test_paging_returns_exactly_the_files_tweets() -> None:
    path = DATA / "brexit.jsonl"
    with make(data_files=(path,)) as emu, httpx.Client(base_url=emu.url, headers=AUTH) as c:
        pages = list(page_all(c, RECENT, query="brexit", max_results=10))
    got = [t["id"] for p in pages for t in p["data"]]
    assert len(pages) == 10
    assert len(got) == len(set(got)) == 100
    assert set(got) == file_ids(path)
    assert got == sorted(got, key=int, reverse=True)  # newest first
    for page in pages:
        meta = page["meta"]
        assert meta["result_count"] == len(page["data"]) == 10
        assert meta["newest_id"] == page["data"][0]["id"]
        assert meta["oldest_id"] == page["data"][-1]["id"]
    assert "next_token" not in pages[-1]["meta"]


def test_search_all_pages_up_to_500_and_accepts_pagination_token(emu: Emulator) -> None:
    with httpx.Client(base_url=emu.url, headers=AUTH) as c:
        first = c.get("/2/tweets/search/all", params={"query": "brexit", "max_results": 60})
        body = first.json()
        assert body["meta"]["result_count"] == 60
        rest = c.get(
            "/2/tweets/search/all",
            params={
                "query": "brexit",
                "max_results": 500,
                "pagination_token": body["meta"]["next_token"],
            },
        )
    assert rest.status_code == 200
    assert rest.json()["meta"]["result_count"] == 40


@pytest.mark.parametrize(
    ("query", "check"),
    [
        ("brexit -is:retweet", not_rt),
        ("brexit is:retweet", lambda t: t["text"].startswith("RT @")),
        ('"Labour MPs"', lambda t: "labour mps" in t["text"].lower()),
        # a retweet also matches on the original's hashtags, as X's recorded #brexit page shows
        ("#Brexit", lambda t: not not_rt(t) or any(
            h["tag"].lower() == "brexit" for h in t["entities"]["hashtags"])),
        ("$TSLA OR $AMD", lambda t: t["entities"]["cashtags"]),
        ("from:wongmjane", lambda t: t["author_id"] == "337119125"),
        ("@wongmjane", lambda t: "wongmjane" in {m["username"] for m in t["entities"]["mentions"]}),
        ("brexit lang:en", lambda t: t["lang"] == "en"),
        ("(corbyn OR labour) -is:retweet", not_rt),
    ],
)
def test_query_operators(client: httpx.Client, query: str, check: Any) -> None:
    fields = "referenced_tweets,entities,author_id,lang,in_reply_to_user_id"
    pages = list(page_all(client, RECENT, query=query, max_results=100, **{"tweet.fields": fields}))
    tweets = [t for p in pages for t in p.get("data", [])]
    assert tweets, query
    assert all(check(t) for t in tweets)


def test_negation_and_or_partition(client: httpx.Client) -> None:
    every = set(ids(client, "brexit"))
    rts = set(ids(client, "brexit is:retweet"))
    others = set(ids(client, "brexit -is:retweet"))
    assert rts and others and rts | others == every and not rts & others
    assert set(ids(client, "brexit OR fury")) == every | set(ids(client, "fury"))


def test_id_boundaries_are_exclusive(client: httpx.Client) -> None:
    every = ids(client, "brexit")
    lo, hi = every[-10], every[9]
    between = ids(client, "brexit", since_id=lo, until_id=hi)
    assert between == every[10:-10]


def test_time_boundaries_start_inclusive_end_exclusive(client: httpx.Client) -> None:
    full = list(
        page_all(client, RECENT, query="brexit", max_results=100, **{"tweet.fields": "created_at"})
    )
    tweets = [t for p in full for t in p["data"]]
    stamp = tweets[30]["created_at"]  # e.g. 2021-09-22T16:33:00.000Z
    at = [t["id"] for t in tweets if t["created_at"] == stamp]
    newer = [t["id"] for t in tweets if t["created_at"] > stamp]
    older = [t["id"] for t in tweets if t["created_at"] < stamp]
    assert set(ids(client, "brexit", start_time=stamp)) == set(at + newer)
    plus = stamp.replace(".000Z", "+00:00")
    assert set(ids(client, "brexit", end_time=plus)) == set(older)


def test_no_data_key_when_nothing_matches(client: httpx.Client) -> None:
    r = client.get(RECENT, params={"query": "zzyzx_nothing_matches"})
    assert r.status_code == 200
    assert r.json() == {"meta": {"result_count": 0}}


@pytest.mark.parametrize(
    ("path", "bad"), [(RECENT, 9), (RECENT, 101), ("/2/tweets/search/all", 501)]
)
def test_max_results_out_of_range(client: httpx.Client, path: str, bad: int) -> None:
    r = client.get(path, params={"query": "brexit", "max_results": bad})
    assert r.status_code == 400
    body = r.json()
    assert body["title"] == "Invalid Request"
    assert body["errors"][0]["parameters"] == {"max_results": [str(bad)]}
    assert "is not between 10 and" in body["errors"][0]["message"]


def test_invalid_query_and_token(client: httpx.Client) -> None:
    assert client.get(RECENT, params={"query": "(brexit"}).status_code == 400
    assert client.get(RECENT, params={"query": ""}).status_code == 400
    assert client.get(RECENT, params={"query": "brexit", "next_token": "nope"}).status_code == 400


def test_default_fields_and_expansions(client: httpx.Client) -> None:
    plain = client.get(RECENT, params={"query": "from:wongmjane"}).json()
    assert all(set(t) <= {"id", "text", "edit_history_tweet_ids"} for t in plain["data"])
    assert "includes" not in plain
    exp = "author_id,referenced_tweets.id,referenced_tweets.id.author_id,edit_history_tweet_ids"
    r = client.get(
        RECENT, params={"query": "from:wongmjane", "expansions": exp, "user.fields": "verified"}
    )
    body = r.json()
    users = {u["id"]: u for u in body["includes"]["users"]}
    assert set(users["337119125"]) == {"id", "name", "username", "verified"}
    tweet = body["data"][0]
    assert tweet["author_id"] == "337119125"  # implied by the author_id expansion
    assert tweet["edit_history_tweet_ids"] == ["1576994746135764992", "1576994789110992896"]
    assert "1576994746135764992" in {t["id"] for t in body["includes"]["tweets"]}


def test_media_place_poll_expansions(client: httpx.Client) -> None:
    params = {
        "query": "Fury",
        "expansions": "attachments.media_keys,geo.place_id",
        "media.fields": "url",
        "place.fields": "country",
    }
    body = client.get(RECENT, params=params).json()
    media = body["includes"]["media"][0]
    assert set(media) <= {"media_key", "type", "url"} and {"media_key", "type"} <= set(media)
    assert {"id", "full_name", "country"} == set(body["includes"]["places"][0])


def test_unauthorized(emu: Emulator) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}):
        r = httpx.get(emu.url + RECENT, params={"query": "brexit"}, headers=headers)
        assert r.status_code == 401
        assert r.json() == {
            "title": "Unauthorized",
            "type": "about:blank",
            "status": 401,
            "detail": "Unauthorized",
        }
        assert "x-rate-limit-limit" in r.headers
