"""Unit tests, no network: rate-limit waits, backoff schedules, client behaviour over a mock
transport (429, 401, exhausted windows, rejected expansions), stall detection, the journal."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from email.utils import formatdate
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from pydantic import SecretStr

from tweetpipe.collect import CollectStats, Journal, Spool, StreamCollector
from tweetpipe.collect.stream import StreamOptions, is_disconnect, split_lines
from tweetpipe.xapi import (
    AuthError,
    Backoff,
    ClientOptions,
    RateLimit,
    Reconnects,
    Selection,
    StreamStalled,
    XClient,
    reset_wait,
)
from tweetpipe_emulator.problems import OPERATIONAL_DISCONNECT

from ..isolation import suite_settings
from ..waiting import join, wait_for

TOKEN = "unit-secret-token"
FAST = ClientOptions(stall_timeout=0.2, reset_margin=0.0, backoff=Backoff(scale=0.001),
                     min_interval={})


def client(handler: Callable[[httpx.Request], httpx.Response], **kw: Any) -> XClient:
    settings = suite_settings(TWITTER_BEARER_TOKEN=TOKEN, X_API_BASE_URL="http://x.test")
    waits: list[tuple[str, float]] = kw.pop("waits", [])
    return XClient(settings=settings, options=kw.pop("options", FAST),
                   transport=httpx.MockTransport(handler),
                   on_wait=lambda reason, s: waits.append((reason, s)), **kw)


# -- rate-limit waits ------------------------------------------------------------------------

def headers(reset: float, date: float | None, remaining: int = 0) -> dict[str, str]:
    out = {"x-rate-limit-limit": "450", "x-rate-limit-remaining": str(remaining),
           "x-rate-limit-reset": str(int(reset))}
    if date is not None:
        out["date"] = formatdate(date, usegmt=True)
    return out


def test_reset_wait_uses_server_date_not_the_local_clock() -> None:
    server = 1_700_000_000.0
    rl = RateLimit.from_headers(headers(server + 120, server))
    assert rl.exhausted and rl.server_time == server
    for skew in (0.0, 3600.0, -3600.0):  # local clock an hour off either way
        assert reset_wait(rl, local_now=server + skew, margin=1.0) == 121.0
    assert reset_wait(rl, local_now=0, elapsed=20.0, margin=0.0) == 100.0


def test_reset_wait_bounds_and_missing_headers() -> None:
    now = 1_700_000_000.0
    past = RateLimit.from_headers(headers(now - 50, now))
    assert reset_wait(past, local_now=now, margin=0.5) == 0.5  # never negative
    far = RateLimit.from_headers(headers(now + 10 * 3600, now))
    assert reset_wait(far, local_now=now, margin=2.0) == 900.0 + 2.0  # never beyond a window
    no_date = RateLimit.from_headers(headers(now + 30, None))
    assert reset_wait(no_date, local_now=now, margin=0.0) == 30.0
    assert reset_wait(RateLimit.from_headers({}), local_now=now) is None
    assert not RateLimit.from_headers({"x-rate-limit-remaining": "junk"}).known


# -- backoff schedules -----------------------------------------------------------------------

def test_reconnect_schedules_follow_x_rules() -> None:
    b = Backoff()
    assert [b.delay("network", n) for n in (1, 2, 3, 64, 65, 1000)] == [
        0.25, 0.5, 0.75, 16.0, 16.0, 16.0]
    assert [b.delay("http", n) for n in range(1, 9)] == [5, 10, 20, 40, 80, 160, 320, 320]
    assert [b.delay("429", n) for n in (1, 2, 3, 4, 5)] == [60, 120, 240, 480, 900]
    assert [b.delay("drop", n) for n in (1, 2, 3)] == [0.0, 0.25, 0.5]
    assert Backoff(scale=0.01).delay("http", 3) == pytest.approx(0.2)
    with pytest.raises(ValueError):
        b.delay("nope", 1)


def test_reconnects_reset_after_success() -> None:
    r = Reconnects(Backoff())
    assert [r.failed("drop"), r.failed("network"), r.failed("http"), r.failed("http")] == [
        0.0, 0.5, 5.0, 10.0]
    r.succeeded()
    assert (r.failed("drop"), r.failed("429")) == (0.0, 60.0)


# -- client over a mock transport --------------------------------------------------------------

def page(n: int, token: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"result_count": 1, "newest_id": str(n), "oldest_id": str(n)}
    if token:
        meta["next_token"] = token
    return {"data": [{"id": str(n), "text": "hi"}], "meta": meta}


def test_429_without_headers_backs_off_exponentially_then_succeeds() -> None:
    calls: list[int] = []
    waits: list[tuple[str, float]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(429) if len(calls) <= 3 else httpx.Response(200, json=page(1))

    assert client(handler, waits=waits).get("/2/tweets/search/recent", {"query": "a"})["data"]
    delays = [s for _, s in waits]
    assert delays == pytest.approx([0.06, 0.12, 0.24])  # 60 s, 120 s, 240 s scaled by 0.001


def test_exhausted_window_waits_until_reset_by_server_time() -> None:
    server = 1_700_000_000.0
    waits: list[tuple[str, float]] = []
    responses = [httpx.Response(200, json=page(1), headers=headers(server + 1, server)),
                 httpx.Response(200, json=page(2), headers=headers(server + 900, server, 5))]
    c = client(lambda r: responses.pop(0), waits=waits)
    c.get("/2/tweets/search/recent", {"query": "a"})
    c.get("/2/tweets/search/recent", {"query": "a"})
    assert len(waits) == 1 and "rate limit exhausted" in waits[0][0]
    assert waits[0][1] == pytest.approx(1.0, abs=0.1)  # reset - Date, whatever time it is here


def test_401_says_what_to_fix_and_never_shows_the_token() -> None:
    c = client(lambda r: httpx.Response(401, json={"title": "Unauthorized"}))
    with pytest.raises(AuthError) as caught:
        c.get("/2/tweets/search/recent", {"query": "a"})
    text = str(caught.value)
    assert "TWITTER_BEARER_TOKEN" in text and TOKEN not in text and TOKEN not in repr(c)
    assert caught.value.context["status"] == 401


def test_rejected_expansions_are_dropped_and_the_request_retried() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        expansions = request.url.params["expansions"]
        seen.append(expansions)
        if "article.cover_media" in expansions:
            body = {"errors": [{"parameters": {"expansions": ["article.cover_media"]},
                                "message": "not one of the allowed values"}]}
            return httpx.Response(400, json=body)
        return httpx.Response(200, json=page(1))

    c = client(handler)
    c.get("/2/tweets/search/recent", {"query": "a"})
    assert len(seen) == 2 and "author_id" in seen[1]
    assert "article.cover_media" not in c.selection.params()["expansions"]


def test_default_selection_is_everything_but_user_context_fields() -> None:
    params = Selection().params()
    assert "note_tweet" in params["tweet.fields"] and "non_public_metrics" not in params[
        "tweet.fields"]
    assert len(params["expansions"].split(",")) == 14
    assert Selection.parse({"expansions": ""}).params().get("expansions") is None


# -- streams: stall detection, disconnect messages, truncated lines --------------------------

class ListTarget:
    def __init__(self, pending: int = 0) -> None:
        self.messages: list[tuple[str | None, bytes]] = []
        self.stuck = pending

    def send(self, key: str | None, value: bytes, headers: Any = None) -> None:
        self.messages.append((key, value))

    def send_record(self, record: dict[str, Any]) -> None:
        self.send(str(record["id"]), orjson.dumps(record))

    def pending(self) -> int:
        return self.stuck

    def settle(self, timeout: float) -> int:
        return self.stuck

    def flush(self, timeout: float = 120.0) -> None:
        assert self.stuck == 0


def tweet_line(n: int) -> bytes:
    return orjson.dumps({"data": {"id": str(n), "text": f"t{n}"},
                         "matching_rules": [{"id": "1", "tag": "x"}]}) + b"\r\n"


def test_split_lines_and_disconnect_messages() -> None:
    buffer = bytearray(b"a\r\n\r\nb\r\npartial")
    assert split_lines(buffer) == [b"a", b"", b"b"] and buffer == b"partial"
    assert is_disconnect(orjson.dumps(OPERATIONAL_DISCONNECT))
    assert not is_disconnect(tweet_line(1).strip())


def test_stall_drop_and_truncation_reconnect_and_keep_everything(tmp_path: Path) -> None:
    """Connection 1 stalls after two tweets, 2 ends with a truncated line and an operational
    disconnect, 3 delivers the rest; the truncated line goes on raw."""

    def stalled() -> Iterator[bytes]:
        yield tweet_line(1) + b"\r\n"
        yield tweet_line(2)
        raise httpx.ReadTimeout("no data")

    def second() -> Iterator[bytes]:
        yield tweet_line(3)[:20] + b"\r\n"
        yield orjson.dumps(OPERATIONAL_DISCONNECT) + b"\r\n"

    bodies: list[Any] = [stalled(), second(), iter([tweet_line(4), tweet_line(5)])]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=bodies.pop(0))

    target, progress = ListTarget(), CollectStats()
    c = client(handler)
    options = StreamOptions(limit=5, backoff=Backoff(scale=0.001))
    StreamCollector(c, target, options, state_dir=tmp_path, progress=progress).run()
    assert (progress.stalls, progress.disconnects, progress.reconnects) == (1, 1, 2)
    assert progress.ids == {"1", "2", "4", "5"} and progress.bad_lines == 1
    assert [k for k, _ in target.messages] == ["1", "2", None, "4", "5"]
    assert orjson.loads(target.messages[0][1])["matching_rules"] == [{"id": "1", "tag": "x"}]


def test_stream_stalled_is_raised_on_a_read_timeout() -> None:
    def body() -> Iterator[bytes]:
        raise httpx.ReadTimeout("stall")
        yield b""

    c = client(lambda r: httpx.Response(200, content=body()))
    with pytest.raises(StreamStalled), c.open_stream("/2/tweets/sample/stream") as chunks:
        list(chunks)


# -- journal ---------------------------------------------------------------------------------

def test_journal_frames_commit_and_torn_tail(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "j")
    first = journal.append(b"one\nwith newline", "s#1")
    journal.append(b"two", "s 2", "2026-01-01T00:00:00.250Z")
    assert [(f.origin, f.line, f.served_at) for f in journal.frames(0)] == [
        ("s#1", b"one\nwith newline", None), ("s_2", b"two", "2026-01-01T00:00:00.250Z")]
    journal.commit(first)
    journal.close()
    with (tmp_path / "j.journal").open("ab") as handle:
        handle.write(b"99 torn\npartial")  # a crash in the middle of a write
    again = Journal(tmp_path, "j")
    assert again.committed == first
    assert [f.line for f in again.frames(again.committed)] == [b"two"]
    again.commit(again.size)
    assert again.size == 0 and again.committed == 0


def test_spool_keeps_lines_while_kafka_is_stuck_and_replays_them(tmp_path: Path) -> None:
    down = ListTarget(pending=10)  # Kafka not acknowledging: the producer is at its bound
    spool = Spool(Journal(tmp_path, "s"), down, CollectStats(), source="t", max_in_flight=10)
    for n in range(1, 6):
        spool.put(tweet_line(n).strip(), f"conn#{n}")
    spool.put(b'{"data": {"id": "6"', "conn#6")  # truncated
    assert down.messages == [] and spool.backlog > 0  # the HTTP side never waited
    spool.journal.close()

    up = ListTarget()  # next start, Kafka back
    report = CollectStats()
    restarted = Spool(Journal(tmp_path, "s"), up, report, source="t")
    assert restarted.finish(timeout=2)
    assert [k for k, _ in up.messages] == ["1", "2", "3", "4", "5", None]
    assert report.bad_lines == 1 and (tmp_path / "s.journal").stat().st_size == 0


def test_spool_commits_only_what_was_acknowledged(tmp_path: Path) -> None:
    target = ListTarget(pending=1)  # produced, not yet acknowledged
    spool = Spool(Journal(tmp_path, "a"), target, CollectStats(), source="t")
    spool.put(tweet_line(1).strip(), "c#1")
    assert target.messages and spool.journal.committed == 0  # kept until acknowledged
    target.stuck = 0
    spool.checkpoint()
    assert spool.journal.size == 0


def test_stop_event_interrupts_waits() -> None:
    stop = threading.Event()
    waits: list[tuple[str, float]] = []
    c = client(lambda r: httpx.Response(200, json=page(1)), stop=stop, waits=waits)
    done = threading.Event()

    def long_wait() -> None:
        c.wait("rate limit exhausted", 60)
        done.set()

    waiter = threading.Thread(target=long_wait, daemon=True)
    waiter.start()
    assert not done.wait(0.5), "a 60 s wait ended by itself: nothing to interrupt"
    started = time.monotonic()
    stop.set()  # from this thread, while the client waits in the other
    wait_for(done, 5, "the 60 s wait did not end when the stop event was set")
    assert time.monotonic() - started < 1.0
    assert waits == [("rate limit exhausted", 60)]
    join(waiter, 5, "the waiting thread did not end")
    again = time.monotonic()
    c.wait("already stopped", 60)  # a set event ends later waits at once, too
    assert time.monotonic() - again < 1.0


def test_secret_is_not_in_settings_repr() -> None:
    settings = suite_settings(TWITTER_BEARER_TOKEN=TOKEN)
    assert TOKEN not in repr(settings) and isinstance(settings.bearer_token, SecretStr)


def test_stats_without_ids_count_and_keep_nothing() -> None:
    """A live run's collector (`CollectStats(ids=None)`) runs for days: it keeps no ids."""
    kept, counted = CollectStats(), CollectStats(ids=None)
    for i in range(1000):
        kept.sent(str(i % 600))
        counted.sent(str(i % 600))
    assert kept.tweets == counted.tweets == 1000 and kept.ids is not None and len(kept.ids) == 600
    assert counted.ids is None
    assert counted.line().startswith("1000 tweets · ") and "(600 distinct)" in kept.line()
