"""GET /2/tweets/counts/recent and /2/tweets/counts/all on the bundled real recordings."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from emukit import AUTH, TOKEN, make, unlimited, validate, validate_problem
from pydantic import SecretStr

from tweetpipe.api import Pipeline
from tweetpipe.settings import Settings
from tweetpipe_emulator import Emulator, EndpointLimit

RECENT, ALL = "/2/tweets/counts/recent", "/2/tweets/counts/all"
SCHEMA = {RECENT: "Get2TweetsCountsRecentResponse", ALL: "Get2TweetsCountsAllResponse"}
STEP = {"minute": 60, "hour": 3600, "day": 86400}


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with unlimited() as emulator:
        yield emulator


def pages(client: httpx.Client, path: str, **params: Any) -> Iterator[dict[str, Any]]:
    token: str | None = None
    while True:
        r = client.get(path, params={**params, **({"next_token": token} if token else {})})
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        validate(body, SCHEMA[path])
        yield body
        token = body["meta"].get("next_token")
        if token is None:
            return


def search_times(client: httpx.Client, query: str, **params: Any) -> list[datetime]:
    """created_at of every tweet the full-archive search returns for `query`."""
    out: list[datetime] = []
    token: str | None = None
    while True:
        extra = {"next_token": token} if token else {}
        body = client.get("/2/tweets/search/all", params={
            "query": query, "max_results": 500, "tweet.fields": "created_at", **params, **extra,
        }).json()
        out += [stamp(t["created_at"]) for t in body.get("data", [])]
        token = body["meta"].get("next_token")
        if token is None:
            return out


def stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize("path", [RECENT, ALL])
@pytest.mark.parametrize("query", ["brexit", "#kpop", "reliance OR dogs", "from:wongmjane"])
def test_default_window_totals_equal_what_search_returns(client: httpx.Client, path: str,
                                                         query: str) -> None:
    found = list(pages(client, path, query=query, granularity="day"))
    totals = [p["meta"]["total_tweet_count"] for p in found]
    assert sum(totals) == len(search_times(client, query)) > 0
    for page in found:  # meta.total_tweet_count is the page's own sum
        assert page["meta"]["total_tweet_count"] == sum(b["tweet_count"] for b in page["data"])


@pytest.mark.parametrize("granularity", ["minute", "hour", "day"])
def test_buckets_tile_the_window_and_count_each_tweet_once(client: httpx.Client,
                                                           granularity: str) -> None:
    start, end = "2021-09-22T15:37:12Z", "2021-09-22T16:41:05Z"
    found = list(pages(client, RECENT, query="brexit OR #kpop", granularity=granularity,
                       start_time=start, end_time=end))
    buckets = [b for page in reversed(found) for b in page["data"]]  # pages go back in time
    assert buckets[0]["start"] == "2021-09-22T15:37:12.000Z"
    assert buckets[-1]["end"] == "2021-09-22T16:41:05.000Z"
    for before, after in itertools.pairwise(buckets):
        assert before["end"] == after["start"]
        assert stamp(after["start"]).timestamp() % STEP[granularity] == 0  # UTC boundaries
    times = search_times(client, "brexit OR #kpop", start_time=start, end_time=end)
    assert times
    for b in buckets:
        lo, hi = stamp(b["start"]), stamp(b["end"])
        assert b["tweet_count"] == sum(lo <= t < hi for t in times), b


def test_pages_hold_31_days_of_buckets(client: httpx.Client) -> None:
    found = list(pages(client, ALL, query="brexit", granularity="day",
                       start_time="2021-01-01T00:00:00Z", end_time="2021-12-31T00:00:00Z"))
    assert [len(p["data"]) for p in found] == [31] * 11 + [23]  # 364 days
    hours = next(pages(client, ALL, query="brexit", granularity="hour",
                       start_time="2021-08-01T00:00:00Z", end_time="2021-10-01T00:00:00Z"))
    assert len(hours["data"]) == 744
    assert sum(p["meta"]["total_tweet_count"] for p in found) == len(
        search_times(client, "brexit", start_time="2021-01-01T00:00:00Z"))


def test_since_and_until_id(client: httpx.Client) -> None:
    body = client.get("/2/tweets/search/recent",
                      params={"query": "brexit", "max_results": 100}).json()
    ids = [t["id"] for t in body["data"]]
    since, until = ids[-11], ids[10]  # newest first: leaves ids[11:-11]
    found = pages(client, RECENT, query="brexit", granularity="day", since_id=since,
                  until_id=until)
    assert sum(p["meta"]["total_tweet_count"] for p in found) == len(ids) - 22


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"granularity": "week"}, ["granularity"]),
        ({"start_time": "2021-09-23T00:00:00Z", "end_time": "2021-09-22T00:00:00Z"},
         ["end_time", "start_time"]),
        ({"next_token": "nope"}, ["next_token"]),
        ({"search_count.fields": "end,nope"}, ["search_count.fields"]),
        ({"query": "brexit or corbyn"}, ["query"]),
    ],
)
def test_invalid_requests(client: httpx.Client, params: dict[str, str], names: list[str]) -> None:
    r = client.get(RECENT, params={"query": "brexit", **params})
    assert r.status_code == 400, r.text
    body = r.json()
    validate_problem(body)
    assert sorted(body["errors"][0]["parameters"]) == names


def test_rate_limited_like_the_other_endpoints() -> None:
    limits = {"counts_recent": EndpointLimit(2), "counts_all": EndpointLimit(3)}
    with make(rate_limits=limits) as emu, httpx.Client(base_url=emu.url, headers=AUTH) as c:
        params = {"query": "brexit", "granularity": "day", "start_time": "2021-09-01T00:00:00Z",
                  "end_time": "2021-09-30T00:00:00Z"}
        recent = [c.get(RECENT, params=params) for _ in range(3)]
        archive = [c.get(ALL, params=params) for _ in range(4)]
    assert [r.status_code for r in recent] == [200, 200, 429]
    assert [r.status_code for r in archive] == [200, 200, 200, 429]
    assert recent[0].headers["x-rate-limit-limit"] == "2"
    assert recent[1].headers["x-rate-limit-remaining"] == "0"
    validate_problem(recent[2].json())


def test_counts_of_the_emulators_endpoints_are_routed(emu: Emulator) -> None:
    r = httpx.get(emu.url + RECENT, params={"query": "brexit"})
    assert r.status_code == 401  # auth first, as everywhere


def test_pipeline_counts_sizes_a_collection(emu: Emulator) -> None:
    settings = Settings(x_api_base_url=emu.url, bearer_token=SecretStr(TOKEN))
    query = "brexit OR #kpop OR reliance"
    expected = len(search_times(httpx.Client(base_url=emu.url, headers=AUTH), query))
    frame = Pipeline(settings).counts(query, granularity="day")
    assert list(frame.columns) == ["start", "end", "tweet_count"]
    assert str(frame.start.dt.tz) == "UTC" and frame.tweet_count.dtype == "int64"
    assert frame.start.is_monotonic_increasing
    assert frame.end.iloc[:-1].tolist() == frame.start.iloc[1:].tolist()  # contiguous
    assert int(frame.tweet_count.sum()) == expected > 0
    window = Pipeline(settings).counts(query, archive=True, granularity="hour",
                                       start_time="2021-09-22T00:00:00Z",
                                       end_time="2021-09-23T00:00:00Z")
    assert len(window) == 24
    assert int(window.tweet_count.sum()) == len(search_times(
        httpx.Client(base_url=emu.url, headers=AUTH), query,
        start_time="2021-09-22T00:00:00Z", end_time="2021-09-23T00:00:00Z"))


def test_collect_counts_command(emu: Emulator, tmp_path: Path) -> None:
    env = {**os.environ, "X_API_BASE_URL": emu.url, "TWITTER_BEARER_TOKEN": TOKEN,
           "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-m", "tweetpipe.cli", "collect", "counts", "brexit", "--archive",
         "--start-time", "2021-09-01T00:00:00Z", "--end-time", "2021-10-01T00:00:00Z"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "2021-09-22 00:00:00 │ 2021-09-23 00:00:00 │    100" in done.stdout
    assert ("100 tweets match 'brexit' (full archive) between 2021-09-01 00:00:00 and "
            "2021-10-01 00:00:00 UTC") in done.stdout
