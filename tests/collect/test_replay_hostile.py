"""Hostile X responses through the collector's line handling (replay and the stream's journal
both go through `handle_line`): it never raises, and every line ends as its records or as one
raw dead letter, counted exactly.

The lines are real recorded responses (search pages cut to 1-5 tweets, stream lines) mutated
by tests/hostile.py: nested values of the wrong type, `entities` given as a string, a list or a
number, nesting around orjson's limits (200, 260, 1,100 levels) and up to 20,000 deep,
truncated lines, arbitrary bytes.
"""

from __future__ import annotations

from typing import Any, cast

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tweetpipe.collect import RAW_LINE_HEADER
from tweetpipe.collect.replay import handle_line
from tweetpipe.collect.search import page_split
from tweetpipe.collect.stats import CollectStats
from tweetpipe.collect.stream import is_disconnect, split_lines
from tweetpipe.kafka import TweetProducer
from tweetpipe.xapi.client import Served

from .. import test_collect
from ..hostile import hostile_response_lines, response_lines


class ListSink(test_collect.ListSink):
    def send_record(self, record: dict[str, Any]) -> None:
        raise AssertionError("the collector sends records it has serialised")


def collect(lines: list[bytes]) -> tuple[CollectStats, ListSink]:
    stats, sink = CollectStats(), ListSink()
    for number, line in enumerate(lines):
        is_disconnect(line)
        stats.lines += 1
        handle_line(line, f"hostile:{number}", sink, stats, source="test")
    return stats, sink


def check(lines: list[bytes], stats: CollectStats, sink: ListSink) -> None:
    raw = [m for m in sink.messages if m[2] is not None]
    keyed = [m for m in sink.messages if m[0] is not None]
    errors = [m for m in sink.messages if m[0] is None and m[2] is None]
    assert stats.payloads + stats.bad_lines == len(lines)
    assert len(raw) == stats.bad_lines and len(keyed) == stats.tweets
    assert len(sink.messages) == stats.tweets + len(errors) + stats.bad_lines
    for key, value, headers in raw:  # the line as it was, saying where it came from
        assert key is None and value == lines[int(headers[RAW_LINE_HEADER].split(":")[1])]
    for key, value, _ in keyed:  # a tweet record: JSON the loader reads, keyed by its id
        assert str(orjson.loads(value)["id"]) == key
    for _, value, _ in errors:
        assert orjson.loads(value)["errors"]
    assert sum(len(orjson.loads(v)["errors"]) for _, v, _ in errors) == stats.api_errors
    assert not [p for p in stats.problems if "unusable payload" in p], stats.problems


@settings(max_examples=400, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(hostile_response_lines, min_size=1, max_size=5))
def test_hostile_response_lines_end_as_records_or_raw_dead_letters(lines: list[bytes]) -> None:
    check(lines, *collect(lines))


def test_two_thousand_seeded_lines_exact_counts() -> None:
    lines = response_lines(seed=1, n=2000)
    stats, sink = collect(lines)
    check(lines, stats, sink)
    counts = (stats.payloads, stats.bad_lines, stats.tweets, stats.api_errors)
    assert counts == (929, 1071, 1208, 136)


def test_stream_chunks_split_into_the_same_lines() -> None:
    lines = response_lines(seed=2, n=200)
    stream = bytearray(b"".join(line.replace(b"\r\n", b" ") + b"\r\n\r\n" for line in lines))
    got = [line for line in split_lines(stream) if line]
    assert got == [line.replace(b"\r\n", b" ") for line in lines] and not stream


@settings(max_examples=300, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(hostile_response_lines)
def test_hostile_search_pages_end_as_records_or_one_dead_letter(line: bytes) -> None:
    try:
        body = orjson.loads(line)
    except orjson.JSONDecodeError:
        return  # the client refuses a body that is no JSON before the collector sees it
    stats, sink = CollectStats(), ListSink()
    split = page_split(Served(body, None), "page 1", cast(TweetProducer, sink), stats)
    if stats.bad_lines:  # the page goes on whole, as one dead letter
        ((key, raw, headers),) = sink.messages
        assert key is None and headers == {RAW_LINE_HEADER: "page 1"} and orjson.loads(raw)
        assert not split.tweets and split.errors is None
    else:
        assert sink.messages == []  # its records are sent by the caller
