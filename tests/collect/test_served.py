"""When X served what was collected: the HTTP `Date` of a search page, X's clock during a
stream, a twarc recording's `retrieved_at`; carried in every record's provenance. No network."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from email.utils import formatdate
from pathlib import Path
from typing import Any

import httpx
import orjson

from tweetpipe.collect import CollectStats, StreamCollector, replay
from tweetpipe.collect.records import PROVENANCE_KEY
from tweetpipe.collect.search import SearchOptions, collect_search
from tweetpipe.collect.stream import StreamOptions
from tweetpipe.xapi import Backoff

from ..data import payloads, sample
from .test_units import ListTarget, client, tweet_line

SERVED = 1_632_328_740.0  # 2021-09-22T16:39:00Z, when X served the #kpop page we ship


def provenances(target: ListTarget) -> list[dict[str, Any]]:
    return [orjson.loads(value)[PROVENANCE_KEY] for _, value in target.messages]


def stamp(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def test_a_search_pages_records_carry_its_date(tmp_path: Path) -> None:
    page = payloads("2sets")[0]  # 100 tweets, one partial error (claimed by a tweet)
    page["errors"].append({"resource_type": "user", "value": "nobody_here", "title": "x"})

    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"date": formatdate(SERVED, usegmt=True)}
        return httpx.Response(200, json={**page, "meta": {"result_count": 100}}, headers=headers)

    target = ListTarget()
    stats = collect_search(client(handler), target, SearchOptions("#kpop"),  # type: ignore[arg-type]
                           state_dir=tmp_path)
    assert (stats.tweets, stats.api_errors) == (100, 1)
    found = provenances(target)
    assert {p["served_at"] for p in found} == {"2021-09-22T16:39:00.000Z"}
    assert {p["collected_at"] for p in found} != {"2021-09-22T16:39:00.000Z"}
    key, errors = target.messages[-1]
    assert key is None and orjson.loads(errors)["errors"] == [page["errors"][-1]]


def test_stream_lines_carry_xs_clock(tmp_path: Path) -> None:
    def body() -> Iterator[bytes]:
        yield tweet_line(1) + tweet_line(2)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body(), headers={"date": formatdate(SERVED,
                                                                                usegmt=True)})

    target = ListTarget()
    options = StreamOptions(limit=2, backoff=Backoff(scale=0.001))
    StreamCollector(client(handler), target, options, state_dir=tmp_path).run()
    served = [stamp(p["served_at"]) for p in provenances(target)]
    assert len(served) == 2 and all(SERVED <= s < SERVED + 30 for s in served)


def test_a_recording_carries_its_retrieved_at_and_url() -> None:
    target = ListTarget()
    stats = replay([sample("withheld")], target, stats=CollectStats())
    found = provenances(target)
    assert found[0]["served_at"] == "2021-05-01T21:32:14+00:00"
    assert found[0]["url"].startswith("https://api.twitter.com/2/tweets?")
    assert found[-1]["served_at"] == "2021-06-14T11:15:14+00:00"
    assert found[-1]["kind"] == "api_errors" and found[-1]["origin"] == "withheld.jsonl:5"
    assert stats.api_errors == 3 and target.messages[-1][0] is None
