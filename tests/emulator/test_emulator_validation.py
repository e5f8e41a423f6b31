"""X's documented limits and parameter checks: lengths per access level, rule caps, unknown and
duplicate parameters, sort_order, time bounds and recent search's 7-day window."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from emukit import AUTH, DATA, make, validate_problem

from tweetpipe.errors import ConfigError
from tweetpipe_emulator import Emulator, EmulatorOptions, EndpointLimit, SyntheticSource
from tweetpipe_emulator.cli import bundled_sample, match_all_query, parser
from tweetpipe_emulator.store import TweetStore

RECENT = "/2/tweets/search/recent"
ALL = "/2/tweets/search/all"
RULES = "/2/tweets/search/stream/rules"
BREXIT = (DATA / "brexit.jsonl",)
NO_CAP = {"search_all": EndpointLimit(300)}  # no 1 request/second cap on search/all here


def invalid(r: httpx.Response, name: str) -> str:
    """Assert X's invalid-request problem naming parameter `name`; return its message."""
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    validate_problem(body)
    assert body["type"] == "https://api.twitter.com/2/problems/invalid-request"
    (error,) = body["errors"]
    assert name in error["parameters"], error
    return str(error["message"])


@pytest.fixture(scope="module")
def bounded() -> Iterator[httpx.Client]:
    """A client of an emulator whose streams end after 1 s: no test hangs on a stream."""
    with make(stream_max_s=1.0) as emu, httpx.Client(base_url=emu.url, headers=AUTH) as c:
        yield c


# -- parameters --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "params", "name"),
    [
        (RECENT, {"query": "brexit", "foo": "1"}, "foo"),
        (RECENT, {"query": "brexit", "q": "x"}, "q"),
        (ALL, {"query": "brexit", "backfill_minutes": "1"}, "backfill_minutes"),
        (RULES, {"dry_run": "true"}, "dry_run"),  # a POST parameter on GET
        ("/2/tweets/sample/stream", {"query": "x"}, "query"),
    ],
)
def test_unknown_parameter_is_named(bounded: httpx.Client, path: str, params: dict[str, str],
                                    name: str) -> None:
    message = invalid(bounded.get(path, params=params), name)
    assert message.startswith(f"The query parameter [{name}] is not one of [")
    if path == RECENT:
        assert message.endswith("[query,start_time,end_time,since_id,until_id,max_results,"
                                "next_token,pagination_token,sort_order,expansions,tweet.fields,"
                                "media.fields,poll.fields,place.fields,user.fields]")


def test_unknown_post_parameter_on_rules(client: httpx.Client) -> None:
    r = client.post(RULES, params={"ids": "1"}, json={"add": [{"value": "x"}]})
    assert "is not one of [dry_run,delete_all]" in invalid(r, "ids")


@pytest.mark.parametrize("name", ["query", "max_results", "since_id", "tweet.fields"])
def test_duplicate_parameter_is_named(client: httpx.Client, name: str) -> None:
    value = {"query": "brexit", "max_results": "10", "since_id": "1", "tweet.fields": "id"}[name]
    pairs = [("query", "brexit")] + [(name, value)] * (2 if name != "query" else 1)
    message = invalid(client.get(RECENT, params=pairs), name)
    assert f"[{name}]" in message and "more than once" in message


def test_sort_order(client: httpx.Client) -> None:
    for order in ("recency", "relevancy"):
        assert client.get(RECENT, params={"query": "brexit", "sort_order": order}).is_success
    r = client.get(RECENT, params={"query": "brexit", "sort_order": "newest"})
    assert "is not one of [recency,relevancy]" in invalid(r, "sort_order")


def test_end_time_before_start_time(client: httpx.Client) -> None:
    params = {"query": "brexit", "start_time": "2021-09-22T16:30:00Z",
              "end_time": "2021-09-22T16:29:00Z"}
    message = invalid(client.get(RECENT, params=params), "end_time")
    assert "'end_time' must be after 'start_time'" in message
    params["end_time"] = params["start_time"]
    invalid(client.get(ALL, params=params), "start_time")


@pytest.mark.parametrize(("path", "bad"), [(RECENT, "0"), (RECENT, "1000"), (ALL, "9"),
                                           (ALL, "-10"), (RECENT, "1e2"), (RULES, "0"),
                                           (RULES, "1001")])
def test_max_results_out_of_range(client: httpx.Client, path: str, bad: str) -> None:
    params = {"max_results": bad} if path == RULES else {"query": "brexit", "max_results": bad}
    assert "is not between" in invalid(client.get(path, params=params), "max_results")


def test_boolean_rule_parameters(client: httpx.Client) -> None:
    r = client.post(RULES, params={"dry_run": "yes"}, json={"add": [{"value": "x"}]})
    assert "[true,false]" in invalid(r, "dry_run")
    invalid(client.post(RULES, params={"delete_all": "1"}), "delete_all")


def test_rules_lookup_pages_with_max_results(emu: Emulator) -> None:
    with httpx.Client(base_url=emu.url, headers=AUTH) as c:
        c.post(RULES, params={"delete_all": "true"})
        c.post(RULES, json={"add": [{"value": f"page_rule_{i}"} for i in range(5)]})
        first = c.get(RULES, params={"max_results": 2}).json()
        token = first["meta"]["next_token"]
        assert len(token) == 16
        rest: list[str] = []
        while token:
            page = c.get(RULES, params={"max_results": 2, "pagination_token": token}).json()
            rest += [r["value"] for r in page.get("data", [])]
            token = page["meta"].get("next_token")
        invalid(c.get(RULES, params={"pagination_token": "short"}), "pagination_token")
        c.post(RULES, params={"delete_all": "true"})
    values = [r["value"] for r in first["data"]] + rest
    assert values == [f"page_rule_{i}" for i in range(5)]


# -- lengths and caps per access level ---------------------------------------------------------
def padded(n: int) -> str:
    """A valid query of exactly n characters."""
    return "brexit" + " OR brexit" * ((n - 6) // 10) + " " * ((n - 6) % 10)


def test_query_length_limits_per_endpoint() -> None:
    with make(data_files=BREXIT, rate_limits=NO_CAP) as emu, \
            httpx.Client(base_url=emu.url, headers=AUTH) as c:
        assert c.get(RECENT, params={"query": padded(512)}).is_success
        message = invalid(c.get(RECENT, params={"query": padded(513)}), "query")
        assert "513 characters" in message and "512" in message
        assert c.get(ALL, params={"query": padded(1024)}).is_success
        invalid(c.get(ALL, params={"query": padded(1025)}), "query")


def test_query_length_follows_the_options() -> None:
    opts: dict[str, Any] = {"data_files": BREXIT, "access_level": "enterprise"}
    with make(**opts) as emu, httpx.Client(base_url=emu.url, headers=AUTH) as c:
        assert c.get(RECENT, params={"query": padded(4096)}).is_success
    with make(data_files=BREXIT, query_max_length=100) as emu, \
            httpx.Client(base_url=emu.url, headers=AUTH) as c:
        invalid(c.get(RECENT, params={"query": padded(101)}), "query")


def test_rule_length_and_rule_cap() -> None:
    with make(access_level="basic") as emu, httpx.Client(base_url=emu.url, headers=AUTH) as c:
        ok = c.post(RULES, json={"add": [{"value": padded(512)}]})
        assert ok.json()["meta"]["summary"]["created"] == 1
        long = c.post(RULES, json={"add": [{"value": padded(513)}]}).json()
        (error,) = long["errors"]
        validate_problem(error)
        assert error["type"] == "https://api.twitter.com/2/problems/invalid-rules"
        assert "513 characters" in error["details"][0]
        adds = [{"value": f"cap_rule_{i}"} for i in range(24)]
        assert c.post(RULES, json={"add": adds}).json()["meta"]["summary"]["created"] == 24
        over = c.post(RULES, json={"add": [{"value": "one_too_many"}]})
        assert over.status_code == 403
        body = over.json()
        validate_problem(body)
        assert body["type"] == "https://api.twitter.com/2/problems/rule-cap"
        assert len(emu.state.rules.snapshot()) == 25
        deleted = c.post(RULES, json={"delete": {"values": ["cap_rule_0"]}}).json()
        assert deleted["meta"]["summary"]["deleted"] == 1
        assert c.post(RULES, json={"add": [{"value": "one_too_many"}]}).is_success


def test_pro_allows_1000_rules_of_1024_characters() -> None:
    with make() as emu, httpx.Client(base_url=emu.url, headers=AUTH) as c:
        adds = [{"value": f"pro_rule_{i}"} for i in range(999)] + [{"value": padded(1024)}]
        assert c.post(RULES, json={"add": adds}).json()["meta"]["summary"]["created"] == 1000
        assert c.post(RULES, json={"add": [{"value": "x1001"}]}).status_code == 403
        assert len(emu.state.rules.snapshot()) == 1000


@pytest.mark.parametrize(
    ("option", "value"),
    [("access_level", "gold"), ("query_max_length", 0), ("max_rules", -1),
     ("clock", "yesterday"), ("clock", datetime(2024, 1, 1)), ("recent_window_days", 0),
     ("body_timeout_s", 0), ("stream_max_s", 0)],
)
def test_bad_limit_options_are_config_errors(option: str, value: Any) -> None:
    with pytest.raises(ConfigError, match=option.split("_")[0]):
        EmulatorOptions(**{option: value})


def test_cli_flags() -> None:
    args = parser().parse_args(["--access-level", "basic", "--query-max-length", "300",
                                "--max-rules", "7", "--clock", "2021-09-29T00:00:00Z"])
    assert (args.access_level, args.query_max_length, args.max_rules) == ("basic", 300, 7)
    assert args.clock == datetime(2021, 9, 29, tzinfo=UTC)
    assert parser().parse_args(["--clock", "newest"]).clock == "newest"
    with pytest.raises(SystemExit):
        parser().parse_args(["--clock", "2021-09-29T00:00:00"])  # no time zone


def test_the_demo_query_fits_recent_search() -> None:
    store = TweetStore()
    for path in bundled_sample():
        store.load_file(path)
    query = match_all_query(store)
    assert len(query) <= EmulatorOptions().limits.query_max_length


# -- time: recent search's window and the clock ------------------------------------------------
def ids(c: httpx.Client, path: str, **params: Any) -> set[str]:
    r = c.get(path, params={"query": "brexit", "max_results": 100, **params})
    assert r.status_code == 200, r.text
    return {t["id"] for t in r.json().get("data", [])}


def test_recordings_stay_searchable_without_a_clock() -> None:
    """Each recording's tweets are measured from its own newest tweet: the 2021 brexit page
    stays searchable beside 2023 tweets, while a 2010 tweet looked up in 2021 is outside
    recent search's window (as X would have answered) and only full-archive search has it."""
    with make(rate_limits=NO_CAP) as emu, httpx.Client(base_url=emu.url, headers=AUTH) as c:
        assert len(ids(c, RECENT)) == 100
        old = {"query": "from:17995040", "tweet.fields": "created_at"}  # withheld.jsonl
        archive = c.get(ALL, params=old).json()["data"]
        assert [t["created_at"][:4] for t in archive] == ["2010"]
        assert c.get(RECENT, params=old).json() == {"meta": {"result_count": 0}}


def test_a_set_clock_bounds_recent_search_to_seven_days() -> None:
    clock = datetime(2021, 9, 29, 16, 30, tzinfo=UTC)  # brexit.jsonl: 16:25-16:37 a week before
    with make(data_files=BREXIT, clock=clock, rate_limits=NO_CAP) as emu, \
            httpx.Client(base_url=emu.url, headers=AUTH, params={"tweet.fields": "created_at"}
                         ) as c:
        body = c.get(RECENT, params={"query": "brexit", "max_results": 100}).json()
        recent = {t["id"] for t in body["data"]}
        assert all(t["created_at"] >= "2021-09-22T16:30:00.000Z" for t in body["data"])
        every = ids(c, ALL)
        assert len(every) == 100 and 0 < len(recent) < 100 and recent < every
        message = invalid(c.get(RECENT, params={"query": "brexit",
                                                "start_time": "2021-09-22T16:00:00Z"}),
                          "start_time")
        assert message == ("Invalid 'start_time':'2021-09-22T16:00:00Z'. 'start_time' must be "
                           "on or after 2021-09-22T16:30Z")
        late = {"query": "brexit", "end_time": "2021-09-29T16:29:55Z"}
        assert "10 seconds prior" in invalid(c.get(ALL, params=late), "end_time")


def test_clock_newest_is_the_newest_recorded_tweet() -> None:
    files = (*BREXIT, DATA / "cashtags.jsonl")  # the cashtag tweet: 2023-01-05
    with make(data_files=files, clock="newest", rate_limits=NO_CAP) as emu, \
            httpx.Client(base_url=emu.url, headers=AUTH) as c:
        assert ids(c, RECENT) == set()
        assert len(ids(c, ALL)) == 100
        r = c.get(RECENT, params={"query": "$TSLA OR $AMD"})
        assert r.json()["meta"]["result_count"] == 1


def test_synthetic_tweets_use_the_wall_clock() -> None:
    with make(data_files=(), rate_limits=NO_CAP) as emu, \
            httpx.Client(base_url=emu.url, headers=AUTH) as c:
        now = datetime.now(UTC)
        old = SyntheticSource(seed=5, clock=lambda: (now - timedelta(days=8)).timestamp())
        new = SyntheticSource(seed=6)
        old_ids = set(emu.add_synthetic(old, count=30))
        new_ids = set(emu.add_synthetic(new, count=30))
        query = {"query": "the OR a OR de OR la OR el OR le OR der", "max_results": 100}

        def found(path: str) -> set[str]:
            return {t["id"] for t in c.get(path, params=query).json().get("data", [])}

        recent, archive = found(RECENT), found(ALL)
        assert recent and recent <= new_ids and not recent & old_ids
        assert archive & old_ids
        week_ago = (now - timedelta(days=7, minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
        invalid(c.get(RECENT, params={"query": "x", "start_time": week_ago}), "start_time")
        soon = (now + timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
        invalid(c.get(RECENT, params={"query": "x", "end_time": soon}), "end_time")


def test_full_archive_starts_in_march_2006(client: httpx.Client) -> None:
    r = client.get(ALL, params={"query": "brexit", "start_time": "2006-03-20T00:00:00Z"})
    assert "on or after 2006-03-21T00:00Z" in invalid(r, "start_time")
    assert client.get(ALL, params={"query": "brexit",
                                   "start_time": "2006-03-21T00:00:00Z"}).is_success
