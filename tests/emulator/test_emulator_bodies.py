"""Response bodies as X sent them: each recorded request, asked again of the emulator, gets the
same tweets, the same `includes` and the same partial `errors` X answered with."""

from __future__ import annotations

import logging
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import orjson
import pytest
from emukit import DATA, SPEC, TOKEN, all_files, make, validate
from pydantic import SecretStr
from streamkit import read_stream

from tweetpipe.settings import Settings
from tweetpipe.xapi import RECENT, XClient, fields
from tweetpipe_emulator import Emulator
from tweetpipe_emulator.expand import RequestedFields, render
from tweetpipe_emulator.store import TweetStore

Json = dict[str, Any]
#: recorded search pages whose data is complete (the reliance page of withheld.jsonl was cut).
SEARCH_PAGES = [("2sets.jsonl", 0), ("2sets.jsonl", 1), ("brexit.jsonl", 0)]


def recording(name: str, line: int) -> Json:
    msg: Json = orjson.loads((DATA / name).read_bytes().splitlines()[line])
    return msg


def lookups() -> list[tuple[str, int]]:
    """Every recorded `GET /2/tweets?ids=...` (one tweet each)."""
    found = []
    for path in all_files():
        for i, raw in enumerate(path.read_bytes().splitlines()):
            try:
                msg = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
            if urlsplit(msg["__twarc"]["url"]).path == "/2/tweets":
                found.append((path.name, i))
    return found


def recorded_params(msg: Json) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(msg["__twarc"]["url"]).query))


def include_ids(body: Json) -> dict[str, set[str]]:
    return {kind: {o["media_key" if kind == "media" else "id"] for o in objs}
            for kind, objs in (body.get("includes") or {}).items()}


@pytest.mark.parametrize(("name", "line"), SEARCH_PAGES)
def test_recorded_search_pages_come_back_as_x_sent_them(name: str, line: int) -> None:
    """Asked of the emulator as of when X answered (its clock at the recording's time:
    recent search's 7-day window then, not the newest bundled tweet's)."""
    msg = recording(name, line)
    ids = [int(t["id"]) for t in msg["data"]]
    params = {**recorded_params(msg), "since_id": str(min(ids) - 1),
              "until_id": str(max(ids) + 1)}
    served = datetime.fromisoformat(msg["__twarc"]["retrieved_at"])
    with make(clock=served) as emu, \
            httpx.Client(base_url=emu.url, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        r = c.get(urlsplit(msg["__twarc"]["url"]).path, params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    validate(body, "Get2TweetsSearchRecentResponse")
    assert [t["id"] for t in body["data"]] == [t["id"] for t in msg["data"]]
    assert include_ids(body) == include_ids(msg)
    assert body.get("errors") == msg.get("errors")  # "User has been suspended: [leeseunggi]."


def test_the_suspended_users_error_is_served_alongside_data(client: httpx.Client) -> None:
    params = {"query": "@leeseunggi", "max_results": 100,
              "expansions": "entities.mentions.username"}
    body = client.get("/2/tweets/search/recent", params=params).json()
    assert body["data"]
    assert body["errors"] == [e for e in recording("2sets.jsonl", 0)["errors"]]
    assert body["errors"][0]["detail"] == "User has been suspended: [leeseunggi]."
    validate(body, "Get2TweetsSearchRecentResponse")
    plain = client.get("/2/tweets/search/recent", params={**params, "expansions": ""}).json()
    assert "errors" not in plain  # only where the expansion meets the suspended user


@pytest.mark.parametrize(("name", "line"), lookups())
def test_recorded_lookups_come_back_with_the_same_includes(client: httpx.Client, name: str,
                                                           line: int) -> None:
    msg = recording(name, line)
    tweet = msg["data"][0] if isinstance(msg["data"], list) else msg["data"]
    params = {k: v for k, v in recorded_params(msg).items() if k != "ids"}
    params |= {"query": f"from:{tweet['author_id']}", "since_id": str(int(tweet["id"]) - 1),
               "until_id": str(int(tweet["id"]) + 1)}
    # full-archive search: a looked-up tweet may be years older than recent search's window
    body = client.get("/2/tweets/search/all", params=params).json()
    validate(body, "Get2TweetsSearchAllResponse")
    assert [t["id"] for t in body["data"]] == [tweet["id"]]
    assert include_ids(body) == include_ids(msg)
    assert body.get("errors") == msg.get("errors")


def test_edit_history_expansion_includes_every_version(client: httpx.Client) -> None:
    # edited.jsonl: X put both versions, the current one too, into includes.tweets
    msg = recording("edited.jsonl", 0)
    [edited] = msg["data"]
    versions = edited["edit_history_tweet_ids"]
    assert len(versions) == 2
    assert {t["id"] for t in msg["includes"]["tweets"]} == set(versions)
    body = client.get("/2/tweets/search/recent", params={
        "query": "from:wongmjane", "expansions": "edit_history_tweet_ids"}).json()
    current = next(t for t in body["data"] if t["id"] == edited["id"])
    assert current["edit_history_tweet_ids"] == versions
    assert set(versions) <= {t["id"] for t in body["includes"]["tweets"]}


@cache
def spec_enums() -> dict[str, dict[str, list[str]]]:
    """Per tweet endpoint, the `enum` of each fields/expansions parameter in X's spec."""
    spec = orjson.loads(SPEC.read_bytes())
    shared = spec["components"]["parameters"]
    out: dict[str, dict[str, list[str]]] = {}
    for path in ("/2/tweets/search/recent", "/2/tweets/search/all",
                 "/2/tweets/search/stream", "/2/tweets/sample/stream"):
        out[path] = {}
        for param in spec["paths"][path]["get"]["parameters"]:
            param = shared[param["$ref"].rsplit("/", 1)[-1]] if "$ref" in param else param
            enum = param.get("schema", {}).get("items", {}).get("enum")
            if enum:
                out[path][param["name"]] = enum
    return out


def everything(path: str) -> dict[str, str]:
    return {name: ",".join(values) for name, values in spec_enums()[path].items()}


def test_every_expansion_and_field_the_spec_lists_is_accepted(emu: Emulator) -> None:
    with httpx.Client(base_url=emu.url, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        for path, schema in (("/2/tweets/search/recent", "Get2TweetsSearchRecentResponse"),
                             ("/2/tweets/search/all", "Get2TweetsSearchAllResponse")):
            params = {"query": "brexit OR #kpop OR from:wongmjane", "max_results": 100,
                      **everything(path)}
            r = c.get(path, params=params)
            assert r.status_code == 200, r.text
            validate(r.json(), schema)
        rules = {"add": [{"value": "the OR a OR reliance"}]}
        assert c.post("/2/tweets/search/stream/rules", json=rules).status_code == 200
    sample = read_stream(emu.url, "/2/tweets/sample/stream", lines=3,
                         **everything("/2/tweets/sample/stream"))
    filtered = read_stream(emu.url, "/2/tweets/search/stream", lines=3,
                           **everything("/2/tweets/search/stream"))
    assert (sample.status, filtered.status) == (200, 200), (sample.body, filtered.body)
    for line in sample.lines:
        validate(orjson.loads(line), "StreamingTweetResponse")
    for line in filtered.lines:
        validate(orjson.loads(line), "FilteredStreamingTweetResponse")


def test_tweetpipe_asks_for_every_spec_expansion_and_keeps_them(emu: Emulator,
                                                                caplog: Any) -> None:
    assert set(fields.EXPANSIONS) == set(spec_enums()["/2/tweets/search/recent"]["expansions"])
    settings = Settings(x_api_base_url=emu.url, bearer_token=SecretStr(TOKEN))
    with caplog.at_level(logging.WARNING, logger="tweetpipe.xapi"), \
            XClient(settings=settings) as client:
        before = client.selection
        body = client.get(RECENT, {"query": "brexit", "max_results": 100})
        assert client.selection == before  # nothing rejected, nothing dropped
    assert body["data"] and not caplog.records


def test_tweetpipe_warns_naming_what_it_drops(caplog: Any) -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        expansions = request.url.params.get("expansions", "")
        seen.append(expansions)
        if "article.cover_media" in expansions.split(","):
            message = ("The `expansions` query parameter value [article.cover_media] is not one "
                       "of the allowed values")
            return httpx.Response(400, json={
                "errors": [{"parameters": {"expansions": ["article.cover_media"]},
                            "message": message}],
                "title": "Invalid Request", "type": "https://api.twitter.com/2/problems/"
                "invalid-request", "detail": "One or more parameters to your request was invalid."})
        return httpx.Response(200, json={"meta": {"result_count": 0}})

    settings = Settings(x_api_base_url="https://api.example", bearer_token=SecretStr("t"))
    with caplog.at_level(logging.WARNING, logger="tweetpipe.xapi"), \
            XClient(settings=settings, transport=httpx.MockTransport(answer)) as client:
        assert client.get(RECENT, {"query": "brexit"}) == {"meta": {"result_count": 0}}
    assert len(seen) == 2 and "article.cover_media" not in seen[1].split(",")
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert "expansions=article.cover_media" in record.getMessage()
    assert "/2/tweets/search/recent" in record.getMessage()


def test_expansions_without_recorded_examples() -> None:
    """note_tweet mentions, article media and a media source tweet: no recording has them, so
    a tweet shaped like X's spec describes them."""
    store = TweetStore()
    store.add_includes({
        "users": [{"id": "1", "username": "alice", "name": "A"},
                  {"id": "2", "username": "bob", "name": "B"},
                  {"id": "3", "username": "carol", "name": "C"}],
        "media": [{"media_key": f"3_{i}", "type": "photo"} for i in (1, 2, 3)],
        "tweets": [{"id": "50", "text": "the source", "author_id": "3",
                    "attachments": {"media_keys": ["3_2"]}},
                   {"id": "51", "text": "where the media came from", "author_id": "3"}],
    })
    store.add_tweets([{
        "id": "60", "text": "long post…", "author_id": "1",
        "note_tweet": {"text": "long post, for @bob", "entities": {"mentions": [
            {"start": 15, "end": 19, "username": "bob"}]}},
        "article": {"cover_media": "3_3", "media_entities": ["3_1"]},
        "attachments": {"media_source_tweet_id": ["51"]},
        "referenced_tweets": [{"type": "quoted", "id": "50"}],
    }], streamed=False)
    sel = RequestedFields.from_params({"expansions": ",".join(spec_enums()[
        "/2/tweets/search/recent"]["expansions"])})
    body = render(store, sel, [store.entries[60].tweet])
    # bob: only through the note's mention; carol: the quoted tweet's author
    assert include_ids(body) == {"users": {"1", "2", "3"}, "media": {"3_1", "3_2", "3_3"},
                                "tweets": {"50", "51", "60"}}  # 60: its edit history
    assert {"note_tweet", "article", "attachments"} <= set(body["data"][0])
    assert "errors" not in body


def test_spec_file_is_the_one_tweetpipe_names() -> None:
    assert SPEC.name == "x-api-v2-openapi-2.159.json" and Path(SPEC).is_file()
