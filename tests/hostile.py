"""Hostile input made from real records, seeded: Kafka messages for the loader, X response lines
for the collector.

Every mutator takes a `random.Random`, so the same code serves Hypothesis (`st.randoms`, which
shrinks) and the end-to-end tests (`random.Random(seed)`, thousands of cases quickly). Each
message says what must become of it (`expect`): "row" (a tweet_merge row of `tweet_id`),
"errors" (api_errors rows), "dead" (a dead letter) or "either" (damage whose outcome depends on
where it fell). The real records are the bundled X API v2 responses merged as the collector
merges them (src/tweetpipe/data/*.jsonl).

Deep nesting is written as bytes: Python's json cannot build 20,000 levels without recursion.
"""

from __future__ import annotations

import copy
import json
import random
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import orjson
from hypothesis import strategies as st

from tweetpipe.collect.records import merge_payload, split_payload

from .data import all_files, payloads

BIGINT_MAX = 2**63 - 1
MARK = "\x00hostile-splice\x00"  # replaced by raw bytes after serialising
#: Nested fields of a tweet record that X delivers as objects, and those it delivers as lists.
OBJECT_FIELDS = ("entities", "public_metrics", "attachments", "geo", "author",
                 "in_reply_to_user", "note_tweet", "withheld", "__tweetpipe")
LIST_FIELDS = ("referenced_tweets", "edit_history_tweet_ids", "matching_rules", "errors",
               "edit_versions", "context_annotations")
SCALAR_FIELDS = ("author_id", "conversation_id", "created_at", "lang", "source",
                 "possibly_sensitive", "reply_settings", "in_reply_to_user_id")


@dataclass
class Message:
    """One Kafka message and what must become of it."""

    value: bytes | None
    key: bytes | None
    expect: str  # "row", "errors", "dead" or "either"
    kind: str  # which mutation made it
    tweet_id: int | None = None  # for "row"
    headers: list[tuple[str, bytes]] = field(default_factory=list)


# ---- real material --------------------------------------------------------------------------

PROVENANCE = {"source": "hostile", "collected_at": "2026-01-01T00:00:00Z"}


@cache
def real_records() -> tuple[dict[str, Any], ...]:
    return tuple(r for f in all_files() for p in payloads(f.stem)
                 for r in merge_payload(p, provenance=PROVENANCE))


@cache
def real_errors_records() -> tuple[dict[str, Any], ...]:
    return tuple(s.errors for f in all_files() for p in payloads(f.stem)
                 if (s := split_payload(p, provenance=PROVENANCE)).errors is not None)


@cache
def real_payloads() -> tuple[Any, ...]:
    """The recorded response lines (search pages and stream lines) as parsed JSON."""
    return tuple(p for f in all_files() for p in payloads(f.stem))


@cache
def bad_recorded_lines() -> tuple[bytes, ...]:
    """The recordings' own lines that are no JSON."""
    found = []
    for f in all_files():
        for line in f.read_bytes().splitlines():
            try:
                orjson.loads(line)
            except orjson.JSONDecodeError:
                found.append(line)
    return tuple(found)


def small_payload(rng: random.Random) -> Any:
    """A recorded payload cut to 1-5 of its tweets, with the includes they name (search pages
    hold up to 100 tweets: whole ones would make the tests slow, not harder)."""
    payload = rng.choice(real_payloads())
    tweets = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(tweets, list) or len(tweets) <= 5:
        return copy.deepcopy(payload)
    chosen = rng.sample(tweets, rng.randint(1, 5))
    blob = orjson.dumps(chosen)
    includes = {name: [o for o in found if isinstance(o, dict) and any(
        str(o.get(k)).encode() in blob for k in ("id", "media_key", "username"))]
        for name, found in (payload.get("includes") or {}).items()}
    cut = {**payload, "data": chosen, "includes": includes}
    return copy.deepcopy(cut)


# ---- values of the wrong type ---------------------------------------------------------------

def scalar(rng: random.Random) -> Any:
    return rng.choice([None, True, False, 0, -1, 7, 2**63, -(2**70), 1.5, 1e308, "", "abc",
                       "12", "2026-01-01T00:00:00Z", "nul\x00 in text", "lone \ud800"])


def wrong_for(value: Any, rng: random.Random) -> Any:
    """A value of another JSON type than `value`: a scalar, a list or a string where an object
    is, an object where a scalar or a list is."""
    if isinstance(value, dict):
        return rng.choice([[1, "a", None], "a string", 42, True, None, [value], []])
    if isinstance(value, list):
        return rng.choice([{"a": value[:1]}, "a string", 3, False, None, {}])
    return rng.choice([{"value": value}, [value], {"nested": {"deeper": [value]}}])


def random_json(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.5:
        return scalar(rng)
    if roll < 0.75:
        return [random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(["id", "text", "a", "entities", ""]) + str(i): random_json(rng, depth + 1)
            for i in range(rng.randint(0, 4))}


def retype_nested(value: Any, rng: random.Random, times: int) -> None:
    """Give `times` nested values (never the top-level `id` and `text`) another JSON type,
    each found by a random walk down from the top."""
    for _ in range(times):
        node = value
        while True:
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            if node is value and isinstance(node, dict):
                keys = [k for k in keys if k not in ("id", "text")]
            if not keys:
                break
            key = rng.choice(keys)
            child = node[key]
            if isinstance(child, dict | list) and child and rng.random() < 0.7:
                node = child
                continue
            node[key] = wrong_for(child, rng)
            break


def serialise(value: Any, splice: bytes = b"") -> bytes:
    """JSON bytes, lone surrogates kept as `\\udxxx` escapes, MARK replaced by `splice`."""
    text = json.dumps(value, ensure_ascii=True, allow_nan=True).encode()
    quoted = json.dumps(MARK).encode()
    return text.replace(quoted, splice).replace(quoted[1:-1], splice)


def deep(levels: int, rng: random.Random) -> bytes:
    if rng.random() < 0.5:
        return b"[" * levels + b"]" * levels
    return b'{"a":' * levels + b"1" + b"}" * levels


# ---- hostile Kafka messages -----------------------------------------------------------------

def _tweet(rng: random.Random) -> dict[str, Any]:
    return copy.deepcopy(rng.choice(real_records()))


def _row(record: dict[str, Any], value: bytes, kind: str, rng: random.Random) -> Message:
    return Message(value, odd_key(str(record["id"]), rng), "row", kind, int(record["id"]))


def m_real(rng: random.Random) -> Message:
    record = _tweet(rng)
    return _row(record, orjson.dumps(record), "real", rng)


def m_wrong_types(rng: random.Random) -> Message:
    """Nested fields of the wrong type: still a row (the fields load as NULL or empty)."""
    record = _tweet(rng)
    name = rng.choice(OBJECT_FIELDS + LIST_FIELDS + SCALAR_FIELDS)
    record[name] = wrong_for(record.get(name, {} if name in OBJECT_FIELDS else []), rng)
    retype_nested(record, rng, rng.randint(0, 4))
    return _row(record, serialise(record), "wrong types", rng)


def m_huge_arrays(rng: random.Random) -> Message:
    record = _tweet(rng)
    n = rng.choice([1000, 5000])
    entities = record["entities"] = dict(record.get("entities") or {})
    entities["hashtags"] = [{"start": i, "end": i + 2, "tag": f"h{i}"} for i in range(n)]
    record[rng.choice(["edit_history_tweet_ids", "context_annotations", "x_padding"])] = (
        [str(record["id"])] * n if rng.random() < 0.5 else list(range(n)))
    return _row(record, orjson.dumps(record), "huge arrays", rng)


def m_bad_text(rng: random.Random) -> Message:
    """NUL, lone surrogates or invalid UTF-8 in strings: repaired, still a row."""
    record = _tweet(rng)
    bad = rng.choice(["\x00", "\ud800", "\udfff", "a\x00\ud83d", MARK])
    record["text"] = str(record["text"])[:20] + bad + "end"
    author = record.get("author")
    if isinstance(author, dict):
        author["name"] = "x" + bad + str(author.get("name"))  # never MARK alone
    splice = rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80\x80"])
    return _row(record, serialise(record, splice), "text PostgreSQL rejects", rng)


def m_bad_id(rng: random.Random) -> Message:
    """An id beyond bigint, negative, non-numeric or of another type: dead."""
    record = _tweet(rng)
    record["id"] = rng.choice([str(BIGINT_MAX + 1), str(2**64 + 5), "9" * 40, "-5", -5,
                               "12a", "", " 12", "١٢", None, 1.5, [1], {"id": "1"}, True])
    key = odd_key(str(record["id"]), rng)
    return Message(orjson.dumps(record), key, "dead", "bad id")


def m_bad_nested_id(rng: random.Random) -> Message:
    """An author's or a counter's number beyond its column: PostgreSQL refuses the record."""
    record = _tweet(rng)
    if rng.random() < 0.5:
        record["author"] = {**(record.get("author") or {}), "id": "9" * 25}
    else:
        record["public_metrics"] = {"like_count": 2**40}
    return Message(orjson.dumps(record), odd_key(str(record["id"]), rng), "dead", "nested id")


def m_deep(rng: random.Random) -> Message:
    """JSON nested deeper than the loader stores (254 levels), up to 20,000 deep: dead."""
    levels = rng.choice([300, 1100, 5000, 20_000])
    record = _tweet(rng)
    where = rng.choice(["entities", "x_extra", "author"])
    record[where] = MARK
    value = serialise(record, deep(levels, rng)) if rng.random() < 0.8 else deep(levels, rng)
    return Message(value, odd_key(str(record["id"]), rng), "dead", "deep nesting")


def m_truncated(rng: random.Random) -> Message:
    value = orjson.dumps(_tweet(rng))
    return Message(value[:rng.randrange(len(value))], None, "dead", "truncated")


def m_bytes(rng: random.Random) -> Message:
    value = rng.randbytes(rng.randint(0, 200)) if rng.random() < 0.9 else None
    return Message(value, odd_key(None, rng), "either", "arbitrary bytes")


def m_damaged(rng: random.Random) -> Message:
    """A real record with bytes replaced at a random place: the outcome depends on where."""
    value = bytearray(orjson.dumps(_tweet(rng)))
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(value))
        value[at:at + 1] = rng.choice([b"\xff", b"\\u0000", b"\\ud800", b"\x00", b"[", b"}",
                                       b'"', b"", b"9" * 30])
    return Message(bytes(value), odd_key(None, rng), "either", "damaged bytes")


def m_not_a_tweet(rng: random.Random) -> Message:
    value = serialise(rng.choice([random_json(rng), [_tweet(rng)], "text", 5, None,
                                  {"data": _tweet(rng)}, {"id": "5"}]))
    return Message(value, odd_key(None, rng), "dead", "arbitrary JSON")


def m_errors_record(rng: random.Random) -> Message:
    records = real_errors_records()
    record = copy.deepcopy(rng.choice(records))
    return Message(orjson.dumps(record), None, "errors", "errors record")


MUTATORS = (m_real, m_wrong_types, m_wrong_types, m_wrong_types, m_huge_arrays, m_bad_text,
            m_bad_id, m_bad_nested_id, m_deep, m_truncated, m_bytes, m_damaged, m_not_a_tweet,
            m_errors_record)


def odd_key(tweet_id: str | None, rng: random.Random) -> bytes | None:
    """The message's key: usually the id, else none, binary, or another id."""
    roll = rng.random()
    if roll < 0.6 and tweet_id is not None:
        return tweet_id.encode(errors="surrogatepass")
    if roll < 0.75:
        return None
    if roll < 0.9:
        return rng.randbytes(rng.randint(1, 40))
    return b"12345"


def odd_headers(rng: random.Random) -> list[tuple[str, bytes]]:
    roll = rng.random()
    if roll < 0.7:
        return []
    if roll < 0.85:
        return [("tweetpipe-raw-line", b"\xff\xfe not utf-8"), ("empty", b"")]
    return [("huge", b"h" * 100_000), ("dup", b"1"), ("dup", b"2")]


def message(rng: random.Random) -> Message:
    made = rng.choice(MUTATORS)(rng)
    made.headers = odd_headers(rng)
    return made


def messages(seed: int, n: int) -> list[Message]:
    rng = random.Random(seed)
    return [message(rng) for _ in range(n)]


hostile_messages = st.randoms(use_true_random=False).map(message)


# ---- hostile X responses, for the collector -------------------------------------------------

def response_line(rng: random.Random) -> bytes:
    """A recorded response (search page or stream line), mutated, as one JSONL line."""
    roll = rng.random()
    if roll < 0.05:
        return rng.choice(bad_recorded_lines())
    if roll < 0.1:
        return rng.randbytes(rng.randint(1, 100)).replace(b"\n", b" ").replace(b"\r", b" ")
    if roll < 0.14:
        return b'{"data": [' + deep(rng.choice([300, 2000, 20_000]), rng) + b"]}"
    payload = small_payload(rng)
    if roll < 0.22:
        line = orjson.dumps(payload)
        return line[:rng.randrange(1, len(line))]  # truncated
    tweets = payload.get("data")
    tweet = tweets[0] if isinstance(tweets, list) and tweets else tweets
    if roll < 0.3 and isinstance(tweet, dict):  # deep inside a tweet, around orjson's limits
        tweet["entities"] = MARK
        return serialise(payload, deep(rng.choice([200, 260, 1100]), rng))
    if rng.random() < 0.3 and isinstance(tweet, dict):
        tweet["entities"] = rng.choice(["a string", [1, 2], 5, None])
    retype_nested(payload, rng, rng.randint(1, 6))
    return serialise(payload)


def response_lines(seed: int, n: int) -> list[bytes]:
    rng = random.Random(seed)
    return [response_line(rng) for _ in range(n)]


hostile_response_lines = st.randoms(use_true_random=False).map(response_line)
