"""Rate limits (429 + headers) and deterministic fault injection."""

from __future__ import annotations

import time

import httpx
import orjson
import pytest
from emukit import AUTH, DATA, make
from streamkit import read_stream
from tests.waiting import wait_until

from tweetpipe.errors import ConfigError
from tweetpipe_emulator import EndpointLimit, FaultPlan, parse_faults

RECENT = "/2/tweets/search/recent"
PARAMS = {"query": "brexit"}
RATE_HEADERS = ("x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset")


def test_rate_limit_window_and_headers() -> None:
    limits = {"search_recent": EndpointLimit(3, window_s=60)}
    with make(rate_limits=limits) as emu, httpx.Client(base_url=emu.url, headers=AUTH) as c:
        rs = [c.get(RECENT, params=PARAMS) for _ in range(5)]
    assert [r.status_code for r in rs] == [200, 200, 200, 429, 429]
    assert [r.headers["x-rate-limit-remaining"] for r in rs] == ["2", "1", "0", "0", "0"]
    for r in rs:
        assert r.headers["x-rate-limit-limit"] == "3"
        assert abs(int(r.headers["x-rate-limit-reset"]) - (time.time() + 60)) < 5
    assert rs[3].json() == {
        "title": "Too Many Requests",
        "detail": "Too Many Requests",
        "type": "about:blank",
        "status": 429,
    }


def test_search_all_allows_one_request_per_second() -> None:
    with make(data_files=()) as emu, httpx.Client(base_url=emu.url, headers=AUTH) as c:
        codes = [c.get("/2/tweets/search/all", params=PARAMS).status_code for _ in range(3)]
    assert codes.count(429) >= 1 and codes[0] == 200


@pytest.mark.parametrize(
    ("spec", "fix"),
    [
        ("429:2", "probability"),
        ("boom:0.1", "KIND:PROBABILITY"),
        ("500:0.7,503:0.6", "sum to more than 1"),
        ("seed=x", "must be a number"),
        ("color=3", "unknown fault option"),
    ],
)
def test_bad_fault_spec_is_a_config_error(spec: str, fix: str) -> None:
    with pytest.raises(ConfigError, match=fix):
        make(faults=spec)


def _statuses(spec: str, n: int) -> list[int | str]:
    out: list[int | str] = []
    with make(data_files=(), faults=spec) as emu, httpx.Client(base_url=emu.url, headers=AUTH) as c:
        for _ in range(n):
            try:
                r = c.get(RECENT, params=PARAMS)
                if r.status_code == 429 and "x-rate-limit-limit" not in r.headers:
                    out.append("429nohdr")
                else:
                    out.append(r.status_code)
            except httpx.TransportError:
                out.append("reset")
    return out


def test_request_faults_are_deterministic_and_predictable() -> None:
    spec = "429:0.1,429nohdr:0.1,500:0.1,503:0.05,reset:0.1,seed=7"
    first, second = _statuses(spec, 60), _statuses(spec, 60)
    assert first == second
    expected = [
        200 if k is None else (int(k) if k.isdigit() else k)
        for k in parse_faults(spec).draws("request", "search_recent", 60)
    ]
    assert first == expected
    assert {500, 503, 429, "429nohdr", "reset"} <= set(first)


def test_429_burst_repeats() -> None:
    plan = parse_faults("429:0.05,burst=3,seed=1")
    got = _statuses("429:0.05,burst=3,seed=1", 80)
    first = plan.draws("request", "search_recent", 80).index("429")
    assert got[first : first + 3] == [429, 429, 429]


def test_stream_faults_truncate_and_disconnect() -> None:
    spec = "truncate:0.3,disconnect:0.15,seed=11"
    draws = FaultPlan.draws(parse_faults(spec), "stream", "stream_sample#1", 7)
    stop = draws.index("disconnect") if "disconnect" in draws else 7
    kinds = ["truncated" if d == "truncate" else "ok" for d in draws[:stop]]
    with make(data_files=(DATA / "streaming_output_with_error.jsonl",), faults=spec) as emu:
        r = read_stream(emu.url, "/2/tweets/sample/stream", lines=8)
        # a line counts as served once written: the client may read it first
        stats = emu.stream_stats("stream_sample")
        wait_until(lambda: len(stats.served) >= kinds.count("ok"), 5, "the lines recorded")
        served = stats.served
    parsed: list[object] = []
    for line in r.lines:
        try:
            parsed.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            parsed.append("truncated")
    assert ["truncated" if p == "truncated" else "ok" for p in parsed[:stop]] == kinds
    assert len(served) == kinds.count("ok")
    if stop < 7:
        assert parsed[stop]["errors"][0]["disconnect_type"] == "OperationalDisconnect"  # type: ignore[index]
        assert len(parsed) == stop + 1 and r.ended == "closed"


def _reset_mid_stream_spec() -> tuple[str, int]:
    """A seed whose connect draw is clean and whose stream draws reset after some lines."""
    for seed in range(1000):
        plan = parse_faults(f"reset:0.2,seed={seed}")
        lines = plan.draws("stream", "stream_sample#1", 7)
        if plan.draws("request", "stream_sample", 1) == [None] and "reset" in lines[1:]:
            return f"reset:0.2,seed={seed}", lines.index("reset")
    raise AssertionError("no seed found")


def test_stream_reset_and_stall() -> None:
    spec, after = _reset_mid_stream_spec()
    with make(data_files=(DATA / "streaming_output_with_error.jsonl",), faults=spec) as emu:
        r = read_stream(emu.url, "/2/tweets/sample/stream", lines=8)
    assert r.status == 200 and len(r.lines) == after and r.ended == "error"
    with make(
        data_files=(DATA / "streaming_output_with_error.jsonl",),
        faults="stall:0.3,stall=0.5,seed=2",
    ) as emu:
        r = read_stream(emu.url, "/2/tweets/sample/stream", lines=7)
        stalls = emu.fault_counts.get(("stream", "stall"), 0)
    assert len(r.lines) == 7
    assert stalls >= 1 and max(r.gaps) >= 0.45
