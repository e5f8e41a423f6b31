"""Every kind of emulator response validates against X's OpenAPI spec (components inlined)."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
from emukit import AUTH, DATA, make, validate, validate_problem
from streamkit import read_stream

from tweetpipe_emulator import EndpointLimit
from tweetpipe_emulator.problems import OPERATIONAL_DISCONNECT

EVERYTHING = {
    "expansions": "author_id,referenced_tweets.id,referenced_tweets.id.author_id,"
    "in_reply_to_user_id,entities.mentions.username,attachments.media_keys,"
    "attachments.poll_ids,geo.place_id,edit_history_tweet_ids",
    "tweet.fields": "attachments,author_id,context_annotations,conversation_id,created_at,"
    "edit_controls,edit_history_tweet_ids,entities,geo,id,in_reply_to_user_id,lang,"
    "possibly_sensitive,public_metrics,referenced_tweets,reply_settings,source,text,withheld",
    "user.fields": "created_at,description,entities,id,location,name,pinned_tweet_id,"
    "profile_image_url,protected,public_metrics,url,username,verified,verified_type,withheld",
    "media.fields": "duration_ms,height,media_key,preview_image_url,public_metrics,type,url,"
    "width,alt_text,variants",
    "place.fields": "contained_within,country,country_code,full_name,geo,id,name,place_type",
    "poll.fields": "duration_minutes,end_datetime,id,options,voting_status",
}


def test_search_responses(client: httpx.Client) -> None:
    for query in ("brexit", "#DogsofTwitter OR from:wongmjane OR $AMD OR Fury", "nothing_zz"):
        token: str | None = None
        while True:
            params: dict[str, Any] = {"query": query, "max_results": 100, **EVERYTHING}
            if token:
                params["next_token"] = token
            body = client.get("/2/tweets/search/recent", params=params).json()
            validate(body, "Get2TweetsSearchRecentResponse")
            token = body["meta"].get("next_token")
            if not token:
                break
    validate(
        client.get("/2/tweets/search/all", params={"query": "brexit"}).json(),
        "Get2TweetsSearchAllResponse",
    )


def test_rules_responses(client: httpx.Client) -> None:
    rules = "/2/tweets/search/stream/rules"
    validate(client.post(rules, params={"delete_all": "true"}).json(), "AddOrDeleteRulesResponse")
    validate(client.get(rules).json(), "RulesLookupResponse")
    added = client.post(rules, json={"add": [{"value": "dogs", "tag": "d"}]}).json()
    validate(added, "AddOrDeleteRulesResponse")
    dup = client.post(rules, json={"add": [{"value": "dogs"}, {"value": "(x"}]}).json()
    validate(dup, "AddOrDeleteRulesResponse")
    for error in dup["errors"]:
        validate_problem(error)
    validate(client.get(rules).json(), "RulesLookupResponse")
    gone = client.post(rules, json={"delete": {"ids": [added["data"][0]["id"]]}}).json()
    validate(gone, "AddOrDeleteRulesResponse")


def test_stream_lines() -> None:
    files = (DATA / "streaming_output_with_error.jsonl",)
    with make(data_files=files, synthetic_rate=50) as emu:
        sample = read_stream(emu.url, "/2/tweets/sample/stream", lines=20, **EVERYTHING)
        httpx.post(
            emu.url + "/2/tweets/search/stream/rules",
            json={"add": [{"value": "dogs"}, {"value": "the"}]},
            headers=AUTH,
        )
        filtered = read_stream(emu.url, "/2/tweets/search/stream", lines=5, **EVERYTHING)
    for line in sample.lines:
        validate(orjson.loads(line), "StreamingTweetResponse")
    for line in filtered.lines:
        validate(orjson.loads(line), "FilteredStreamingTweetResponse")
    validate(OPERATIONAL_DISCONNECT, "StreamingTweetResponse")
    validate_problem(OPERATIONAL_DISCONNECT["errors"][0])


def test_error_bodies() -> None:
    limits = {"search_recent": EndpointLimit(1)}
    with make(data_files=(), rate_limits=limits, faults="503:0.5,seed=3") as emu:
        bodies = [httpx.get(emu.url + "/2/tweets/search/recent", params={"query": "x"}).json()]
        with httpx.Client(base_url=emu.url, headers=AUTH) as c:
            for _ in range(6):
                bodies.append(
                    c.get("/2/tweets/search/recent", params={"query": "x", "max_results": 5}).json()
                )
            bodies.append(c.get("/2/tweets/search/stream").json())  # 409, or 503 fault
    titles = {b["title"] for b in bodies}
    assert {"Unauthorized", "Too Many Requests", "Service Unavailable"} <= titles
    for body in bodies:
        validate_problem(body)
