"""Streams over real HTTP: chunked lines, keep-alives, rules, 409, TooManyConnections, backfill."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import httpx
import orjson
from emukit import AUTH, DATA, make
from streamkit import read_stream, wait_idle
from tests.waiting import join, wait_for, wait_until

from tweetpipe_emulator import SyntheticSource

STREAM_FILE = DATA / "streaming_output_with_error.jsonl"
FILTERED = "/2/tweets/search/stream"
SAMPLE = "/2/tweets/sample/stream"
RULES = "/2/tweets/search/stream/rules"


def test_filtered_stream_without_rules_is_409() -> None:
    with make(data_files=(STREAM_FILE,)) as emu:
        r = read_stream(emu.url, FILTERED, lines=1)
    assert r.status == 409
    body = orjson.loads(r.body)
    assert body["title"] == "ConnectionException"
    assert body["type"] == "https://api.twitter.com/2/problems/streaming-connection"


def test_filtered_stream_lines_rules_and_keepalives() -> None:
    with make(data_files=(STREAM_FILE,)) as emu:
        assert emu.load_report.bad_lines == 1  # the truncated recording line
        add = {"add": [{"value": "dogs", "tag": "dogs"}, {"value": "Fury OR doggo"}]}
        rules = httpx.post(emu.url + RULES, json=add, headers=AUTH).json()["data"]
        dogs, other = rules[0]["id"], rules[1]["id"]
        r = read_stream(emu.url, FILTERED, lines=7, keepalives=2, expansions="author_id")
        stats = emu.stream_stats("stream_search")
    assert r.status == 200 and r.headers["transfer-encoding"] == "chunked"
    messages = [orjson.loads(line) for line in r.lines]
    by_id = {m["data"]["id"]: m["matching_rules"] for m in messages}
    assert by_id == {
        "1377650090978992134": [{"id": other}],
        "1377650093109743620": [{"id": dogs, "tag": "dogs"}],  # "... our dogs and handlers"
        "1377650277642338305": [{"id": dogs, "tag": "dogs"}, {"id": other}],
        "1377650387579248643": [{"id": dogs, "tag": "dogs"}],
        "1377650459033280516": [{"id": dogs, "tag": "dogs"}],
        "1377650500687044618": [{"id": dogs, "tag": "dogs"}],
        "1377650529766154240": [{"id": dogs, "tag": "dogs"}],
    }
    assert all(m["includes"]["users"] for m in messages)
    assert r.keepalives >= 2
    assert stats.served_ids == set(by_id) and stats.connections == 1


def test_second_connection_is_refused_with_too_many_connections() -> None:
    with make(data_files=(), synthetic_rate=0) as emu:
        ready = threading.Event()

        def hold() -> None:
            with httpx.stream("GET", emu.url + SAMPLE, headers=AUTH, timeout=5) as r:
                for _ in r.iter_raw():
                    ready.set()
                    break

        holder = threading.Thread(target=hold, daemon=True)
        holder.start()
        wait_for(ready, 5, "the first stream connection got no bytes")
        second = httpx.get(emu.url + SAMPLE, headers=AUTH)
        join(holder, 10, "the first stream connection did not end")
        assert emu.stream_stats("stream_sample").refused == 1
    assert second.status_code == 429
    assert second.json() == {
        "title": "ConnectionException",
        "detail": "This stream is currently at the maximum allowed connection limit.",
        "connection_issue": "TooManyConnections",
        "type": "https://api.twitter.com/2/problems/streaming-connection",
    }
    assert "x-rate-limit-remaining" in second.headers


def test_sample_stream_serves_synthetic_tweets_live() -> None:
    with make(data_files=(), synthetic_rate=40, seed=5) as emu:
        r = read_stream(emu.url, SAMPLE, lines=15, **{"tweet.fields": "created_at,lang"})
        # a line counts as served once written: the client may read it first
        stats = emu.stream_stats("stream_sample")
        wait_until(lambda: len(stats.served) >= 15, 5, "15 tweets recorded as served")
        served = stats.served
    tweets = [orjson.loads(line)["data"] for line in r.lines]
    ids = [int(t["id"]) for t in tweets]
    assert ids == sorted(ids) and len(set(ids)) == 15
    assert [str(i) for i in ids] == served[:15]
    now = datetime.now(UTC)
    for t in tweets:
        created = datetime.fromisoformat(t["created_at"].replace("Z", "+00:00"))
        assert abs((now - created).total_seconds()) < 30


def test_backfill_minutes_replays_recent_tweets_first() -> None:
    with make(data_files=(), replay_recorded_streams=False) as emu:
        old = emu.add_synthetic(SyntheticSource(seed=1), count=5)
        plain = read_stream(emu.url, SAMPLE, lines=0, keepalives=1)
        wait_idle(emu.stream_stats("stream_sample"))
        back = read_stream(emu.url, SAMPLE, lines=5, backfill_minutes=2)
    assert plain.lines == []
    assert [orjson.loads(line)["data"]["id"] for line in back.lines] == old


def test_keepalive_interval_is_configurable() -> None:
    with make(data_files=(), keepalive_s=0.1) as emu:
        start = time.monotonic()
        r = read_stream(emu.url, SAMPLE, lines=0, keepalives=5)
    assert r.keepalives >= 5 and time.monotonic() - start < 3


def test_synthetic_generator_is_seeded() -> None:
    a, b = SyntheticSource(seed=9), SyntheticSource(seed=9)
    ta = [a.make()[0] for _ in range(50)]
    tb = [b.make()[0] for _ in range(50)]
    assert [t["text"] for t in ta] == [t["text"] for t in tb]
    assert len({t["lang"] for t in ta}) >= 3
    kinds = {r["type"] for t in ta for r in t.get("referenced_tweets", [])}
    assert kinds == {"retweeted", "replied_to", "quoted"}
    ents = {k for t in ta for k in t.get("entities", {})}
    assert {"hashtags", "mentions", "urls"} <= ents
    ids = [int(t["id"]) for t in ta]
    assert ids == sorted(ids) and len(set(ids)) == 50
