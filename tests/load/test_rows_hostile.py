"""Hostile input: `parse_message` returns rows typed as their columns, or raises RecordError.

Nothing else may escape it: any other exception would stop the loader and stall its partition.
Properties run on arbitrary bytes, arbitrary JSON, and real tweets (the bundled X API v2
responses, merged as the collector merges them) with random nested values replaced by values of
other types, byte-level damage and deep nesting. Derandomized: every run checks the same cases.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tweetpipe.collect.records import merge_payload, split_payload
from tweetpipe.errors import RecordError
from tweetpipe.load.columns import TWEETS
from tweetpipe.load.rows import SIDE_TABLES, Coordinates, Parsed, parse_message

from ..data import all_files, payloads

WHERE = Coordinates("t", 0, 7)
MAX = 1024 * 1024


def examples(n: int) -> settings:
    """n examples, the same ones every run, no example database."""
    return settings(max_examples=n, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
DEEP = "\x00deep\x00"  # stands for deep nesting, spliced into the bytes after serialising

# The Python types COPY may receive for each PostgreSQL type (None is always allowed).
ALLOWED: dict[str, tuple[type, ...]] = {
    "bigint": (int,), "integer": (int,), "text": (str,), "boolean": (bool,),
    "timestamptz": (str,), "double precision": (float,), "jsonb": (str,),
}


@cache
def real_records() -> list[dict[str, Any]]:
    prov = {"source": "test", "collected_at": "2026-01-01T00:00:00Z"}
    return [r for f in all_files() for p in payloads(f.stem)
            for r in merge_payload(p, provenance=prov)]


@cache
def real_errors_records() -> list[dict[str, Any]]:
    """The records of partial errors no tweet claims (`withheld` has one), with a made one."""
    prov = {"source": "test", "served_at": "2021-06-14T11:15:14Z"}
    found = [s.errors for f in all_files() for p in payloads(f.stem)
             if (s := split_payload(p, provenance=prov)).errors is not None]
    made = split_payload({"errors": [{"resource_type": "media", "value": "3_1", "title": "x",
                                      "resource_id": 7, "detail": None}]}, provenance=prov)
    return [*found, made.errors]


def typed_as_columns(parsed: Parsed) -> None:
    """Every value has the Python type its column's PostgreSQL type takes."""
    tweets = [] if parsed.tweet is None else [parsed.tweet]
    tables = [(TWEETS, tweets), *((t, getattr(parsed, a)) for t, a in SIDE_TABLES)]
    for table, rows in tables:
        for row in rows:
            assert len(row) == len(table.loaded)
            for column, value in zip(table.loaded, row, strict=True):
                scalar = column.pg_type.removesuffix("[]")
                values = value if column.pg_type.endswith("[]") and value is not None else [value]
                assert isinstance(values, list), (table.name, column.name, value)
                for v in values:
                    assert v is None or (isinstance(v, ALLOWED[scalar]) and
                                         (scalar == "boolean" or not isinstance(v, bool))), (
                        table.name, column.name, value)
    assert parsed.where == WHERE
    assert parsed.column("tweet_id") is not None if tweets else parsed.api_errors


def outcome(value: bytes) -> str:
    """Parse; 'rows' or 'dead: <reason>'. Any other exception fails the test."""
    try:
        parsed = parse_message(value, WHERE, max_bytes=MAX)
    except RecordError as exc:
        return f"dead: {exc.message}"
    typed_as_columns(parsed)
    return "rows"


def serialise(value: Any, depth: int) -> bytes:
    text = json.dumps(value, ensure_ascii=False, allow_nan=True)
    deep = "[" * depth + "]" * depth
    return text.replace(json.dumps(DEEP), deep).encode("utf-8", errors="surrogatepass")


# ---- strategies -------------------------------------------------------------------------------

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=2**62, max_value=2**80),
    st.floats(), st.text(max_size=8), st.sampled_from(["", "12", "-3", "²", "1e5", " 7 ",
                                                       "9" * 25, "2026-01-01T00:00:00Z",
                                                       "nul\x00", "\ud800", DEEP]),
)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.text(max_size=6), inner, max_size=4), max_leaves=12)
TWEET_KEYS = sorted({k for r in real_records()[:50] for k in r} - {"id", "text"})


@st.composite
def mutated_tweets(draw: st.DrawFn, pool: Any = real_records) -> dict[str, Any]:
    """A real tweet record (or one of `pool()`) with 1-4 nested values replaced by values of
    other types."""
    record = copy.deepcopy(draw(st.sampled_from(pool())))
    for _ in range(draw(st.integers(1, 4))):
        node: Any = record
        while True:
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            if not keys:
                break
            key = draw(st.sampled_from(keys))
            child = node[key]
            if isinstance(child, dict | list) and child and draw(st.integers(0, 3)):
                node = child
                continue
            node[key] = draw(json_values)
            break
    return record


tweet_like = st.fixed_dictionaries(
    {"id": st.one_of(st.integers(min_value=0), st.text(max_size=5), st.just("42")),
     "text": st.one_of(st.text(max_size=8), json_values)},
    optional={k: json_values for k in TWEET_KEYS},
)


# ---- properties -------------------------------------------------------------------------------

@examples(600)
@given(st.binary(max_size=300))
def test_arbitrary_bytes(value: bytes) -> None:
    outcome(value)


@examples(600)
@given(json_values, st.sampled_from([0, 3, 300, 1500]))
def test_arbitrary_json(value: Any, depth: int) -> None:
    outcome(serialise(value, depth))


@examples(600)
@given(tweet_like, st.sampled_from([0, 0, 0, 260, 900]))
def test_tweet_shaped_json(record: dict[str, Any], depth: int) -> None:
    outcome(serialise(record, depth))


@examples(1200)
@given(mutated_tweets(), st.sampled_from([0, 0, 0, 0, 255, 600, 5000]))
def test_mutated_real_tweets(record: dict[str, Any], depth: int) -> None:
    outcome(serialise(record, depth))


@examples(400)
@given(mutated_tweets(real_errors_records), st.sampled_from([0, 0, 0, 255, 600]))
def test_mutated_errors_records(record: dict[str, Any], depth: int) -> None:
    outcome(serialise(record, depth))


@examples(500)
@given(st.sampled_from(range(len(real_records()))), st.integers(0, 10_000),
       st.sampled_from([b"\xff", b"\\u0000", b"\\ud800", b"\x00", b"[", b"}", b'"', b""]))
def test_damaged_bytes_of_real_tweets(index: int, at: int, insert: bytes) -> None:
    value = orjson.dumps(real_records()[index])
    at %= len(value)
    outcome(value[:at] + insert + value[at + 1:])


# ---- the shapes that used to crash the loader -------------------------------------------------

def tweet(**fields: Any) -> dict[str, Any]:
    return {"id": "1", "text": "t", **fields}


@pytest.mark.parametrize("record", [
    tweet(entities="abc"), tweet(entities=[1, 2]), tweet(entities={"hashtags": {"tag": "a"}}),
    tweet(entities={"urls": ["https://x.y"], "mentions": [1, {"user": "u"}]}),
    tweet(public_metrics=[1]), tweet(attachments={"media": 5, "media_keys": "abc"}),
    tweet(attachments=[1]), tweet(referenced_tweets="abc"), tweet(referenced_tweets=[{"tweet": 1}]),
    tweet(edit_history_tweet_ids=5), tweet(edit_versions={"id": "2"}),
    tweet(geo={"coordinates": [1, 2], "place": "p"}),
    tweet(geo={"coordinates": {"coordinates": 5}}),
    tweet(author="me", in_reply_to_user=[1]), tweet(note_tweet="long"),
    tweet(__tweetpipe=[1]), tweet(author={"id": "5", "public_metrics": "many"}),
    tweet(attachments={"polls": [{"id": {"a": 1}, "options": "x"}], "media": [{"media_key": 1}]}),
    tweet(lang={"a": 1}, possibly_sensitive="yes", created_at=5, source=[1]),
])
def test_wrong_nested_types_load_as_nulls(record: dict[str, Any]) -> None:
    assert outcome(orjson.dumps(record)) == "rows"


@pytest.mark.parametrize("depth", [255, 500, 1024, 1100, 5000])
@pytest.mark.parametrize("template", [
    b"%s", b'{"id": "1", "text": "t", "entities": %s}',
    b'{"id": "1", "text": "lone \\ud800", "entities": %s}',  # the lenient decoder's path
])
def test_deep_nesting_is_dead_lettered(template: bytes, depth: int) -> None:
    assert outcome(template % (b"[" * depth + b"]" * depth)) == "dead: nested too deep"


@pytest.mark.parametrize(("value", "expected"), [
    (b'{"id": "' + b"9" * 5000 + b'", "text": "t"}', "dead: not a tweet"),
    (b'{"id": "\xc2\xb2", "text": "t"}', "dead: not a tweet"),
    (b'{"id": "1", "text": "\xff", "author_id": ' + b"9" * 5000 + b"}", "rows"),
    (b'{"id": "1", "text": "\xff", "public_metrics": {"like_count": 1' + b"0" * 30 + b"}}",
     "rows"),
    (b'{"id": "1", "text": "\xff", "geo": {"coordinates": {"coordinates": [NaN, 1e999]}}}',
     "rows"),
])
def test_numbers_beyond_range(value: bytes, expected: str) -> None:
    assert outcome(value).startswith(expected)
