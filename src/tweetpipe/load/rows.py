"""Kafka message bytes -> typed rows for the PostgreSQL model, or a reason it cannot be loaded.

Pure functions, no I/O. A message becomes a `Parsed` (one `tweet_merge` row plus the author,
media, place, poll and referenced-tweet rows it carries; or, for an errors record, the
`api_errors` rows of the partial errors no tweet claimed) or raises `RecordError` with a short,
stable reason that the loader files in the dead-letter table. Repairable text (NUL characters,
lone surrogates, invalid UTF-8) is repaired and flagged instead.

Any bytes are safe input: `parse_message` raises nothing but `RecordError`. Nesting deeper than
MAX_DEPTH is refused before anything recurses into it, and rows are built by the column specs
of `load.columns`, whose reads and conversions accept any JSON type in any field.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from tweetpipe.collect.records import PROVENANCE_KEY, is_errors_record
from tweetpipe.errors import RecordError
from tweetpipe.load.columns import (
    API_ERRORS,
    AUTHOR_COLUMNS,
    AUTHORS,
    INCLUDED,
    INCLUDED_COLUMNS,
    MEDIA,
    MEDIA_COLUMNS,
    PLACE_COLUMNS,
    PLACES,
    POLL_COLUMNS,
    POLLS,
    TWEET_COLUMNS,
    TWEETS,
    TableSpec,
)
from tweetpipe.load.sources import (
    Coordinates,
    ErrorSource,
    ItemSource,
    TweetSource,
    delivered_tweet,
    ident,
)
from tweetpipe.load.values import JSON, items, obj, objs, path, timestamp

__all__ = [
    "AUTHOR_COLUMNS", "INCLUDED_COLUMNS", "MAX_DEPTH", "MEDIA_COLUMNS", "PLACE_COLUMNS",
    "POLL_COLUMNS", "SIDE_TABLES", "TWEET_COLUMNS", "Coordinates", "Parsed", "decode",
    "delivered_tweet", "parse_message", "repair", "tweet_rows",
]

_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_DEPTH = 254  # deeper JSON is refused: orjson writes no deeper (X's tweets nest < 10 levels)
_INT64 = range(-(2**63), 2**64)  # the integers orjson reads and writes as such


@dataclass
class Parsed:
    """The rows of one message: a tweet with what it carries, or API errors (`tweet` None)."""

    where: Coordinates
    tweet: tuple[Any, ...] | None = None
    authors: list[tuple[Any, ...]] = field(default_factory=list)
    media: list[tuple[Any, ...]] = field(default_factory=list)
    places: list[tuple[Any, ...]] = field(default_factory=list)
    polls: list[tuple[Any, ...]] = field(default_factory=list)
    included: list[tuple[Any, ...]] = field(default_factory=list)
    api_errors: list[tuple[Any, ...]] = field(default_factory=list)
    repaired: bool = False
    key: bytes | None = None  # the Kafka message's key, for a dead letter PostgreSQL causes

    def column(self, name: str) -> Any:
        """A value of the tweet_merge row by column name."""
        if self.tweet is None:
            raise KeyError(f"a message of API errors has no tweet column {name!r}")
        return self.tweet[TWEETS.index(name)]

    def kept(self) -> bytes:
        """What a dead letter keeps of it: the tweet or the errors, as JSON."""
        if self.tweet is not None:
            return str(self.column("raw")).encode()
        raw = API_ERRORS.index("raw")
        return ("[" + ", ".join(str(row[raw]) for row in self.api_errors) + "]").encode()


#: The side tables and the attribute of `Parsed` holding their rows.
SIDE_TABLES: tuple[tuple[TableSpec, str], ...] = (
    (AUTHORS, "authors"), (MEDIA, "media"), (PLACES, "places"), (POLLS, "polls"),
    (INCLUDED, "included"), (API_ERRORS, "api_errors"),
)


def decode(value: bytes | None) -> tuple[Any, bool]:
    """JSON bytes -> (object, repaired). Raises RecordError if it is not JSON at all, or nests
    deeper than MAX_DEPTH."""
    if not value:
        raise RecordError("empty message")
    try:
        obj = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        if "depth limit" in str(exc):
            raise RecordError("nested too deep") from None
        obj = _lenient_loads(value)
        if _depth_exceeds(obj, MAX_DEPTH):
            raise RecordError("nested too deep") from None
        needs_repair = True
    else:
        if value.count(b"[") + value.count(b"{") > MAX_DEPTH:  # else it cannot nest that deep
            _check_storable(obj)
        needs_repair = b"\\u0000" in value
    if not needs_repair:
        return obj, False
    repaired = repair(obj)
    return repaired, repaired != obj or "\ufffd" in value.decode("utf-8", errors="replace")


def _lenient_loads(value: bytes) -> Any:
    """What orjson refuses but can be repaired: invalid UTF-8, lone surrogates, raw control
    characters. Integers beyond 64 bits become floats, as orjson makes them."""
    text = value.decode("utf-8", errors="replace")
    try:
        return json.loads(text, strict=False, parse_int=_int_like_orjson)
    except json.JSONDecodeError:
        raise RecordError("truncated or malformed JSON") from None
    except RecursionError:
        raise RecordError("nested too deep") from None


def _int_like_orjson(digits: str) -> int | float:
    number = int(digits) if len(digits) <= 20 else None
    return number if number is not None and number in _INT64 else float(digits)


def _check_storable(value: Any) -> None:
    """Refuse what orjson could not write back (nesting deeper than 254 levels), before the
    recursive `repair` sees it. Writing is a fast probe; the depth is measured only if it fails."""
    try:
        orjson.dumps(value)
    except orjson.JSONEncodeError:
        if _depth_exceeds(value, MAX_DEPTH):
            raise RecordError("nested too deep") from None
        raise RecordError("unstorable JSON") from None


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Does `value` nest deeper than `limit` levels? Level by level, so never a RecursionError."""
    level: list[Any] = [value] if isinstance(value, dict | list) else []
    for _ in range(limit):
        level = [c for v in level for c in (v.values() if isinstance(v, dict) else v)
                 if isinstance(c, dict | list)]
        if not level:
            return False
    return True


def repair(value: Any) -> Any:
    """Strip NUL characters and replace lone surrogates in every string of a JSON value."""
    if isinstance(value, str):
        if "\x00" in value:
            value = value.replace("\x00", "")
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [repair(v) for v in value]
    if isinstance(value, dict):
        return {repair(k): repair(v) for k, v in value.items()}
    return value


def parse_message(value: bytes | None, where: Coordinates, *, max_bytes: int) -> Parsed:
    """A Kafka message -> its rows; raises RecordError (and nothing else) if it cannot load."""
    if value is not None and len(value) > max_bytes:
        raise RecordError(f"oversize record ({len(value)} bytes > {max_bytes})")
    record, repaired = decode(value)
    if not isinstance(record, dict):
        raise RecordError(f"not a tweet: a JSON {type(record).__name__}")
    if is_errors_record(record):
        parsed = error_rows(record, where)
    else:
        tweet_id = ident(record.get("id"))
        if tweet_id is None or not isinstance(record.get("text"), str):
            raise RecordError("not a tweet: no numeric `id` and string `text`")
        parsed = tweet_rows(record, where, tweet_id)
    parsed.repaired = repaired
    return parsed


def times(record: JSON) -> tuple[str, str]:
    """(collected, served): when the record was collected (else now) and when X served it
    (else when it was collected), from its provenance."""
    collected = (timestamp(path(record, PROVENANCE_KEY, "collected_at"))
                 or datetime.now().astimezone().isoformat())
    return collected, timestamp(path(record, PROVENANCE_KEY, "served_at")) or collected


def tweet_rows(record: JSON, where: Coordinates, tweet_id: int) -> Parsed:
    collected, served = times(record)
    parsed = Parsed(where, TWEETS.row(TweetSource(record, tweet_id, where, collected, served)))
    _side_rows(record, parsed, served)
    return parsed


def error_rows(record: JSON, where: Coordinates) -> Parsed:
    """The `api_errors` rows of an errors record; RecordError if it carries no error."""
    collected, served = times(record)
    errors = objs(record.get("errors"))
    if not errors:
        raise RecordError("not a tweet: an errors record without errors")
    return Parsed(where, api_errors=[
        API_ERRORS.row(ErrorSource(error, record, where, collected, served)) for error in errors])


def _side_rows(record: JSON, parsed: Parsed, seen: str) -> None:
    users = [record.get("author"), record.get("in_reply_to_user")]
    users += [m.get("user") for m in objs(path(record, "entities", "mentions"))]
    included = [r.get("tweet") for r in objs(record.get("referenced_tweets"))]
    for target in objs([*included, *items(record.get("edit_versions"))]):
        if ident(target.get("id")) is not None:
            users.append(target.get("author"))
            parsed.included.append(INCLUDED.row(ItemSource(target, seen)))
    parsed.authors += [item_row(AUTHORS, user, seen)
                       for user in objs(users) if ident(user.get("id")) is not None]
    attachments = obj(record.get("attachments"))
    parsed.media += [item_row(MEDIA, m, seen)
                     for m in objs(attachments.get("media")) if m.get("media_key")]
    parsed.polls += [item_row(POLLS, p, seen)
                     for p in objs(attachments.get("polls")) if p.get("id")]
    place = path(record, "geo", "place")
    if isinstance(place, dict) and place.get("id"):
        parsed.places.append(item_row(PLACES, place, seen))


def item_row(table: TableSpec, item: JSON, seen: str) -> tuple[Any, ...]:
    """The row of a user, medium, place or poll a tweet carries, seen at `seen`. X sends the
    same ones in message after message (an author's every tweet, a popular user's every
    mention): a row is built once for each distinct JSON of the object (the last 4,096 of each
    table), and only its seen_at is set anew. (Included tweets are not: their metrics change
    from one message to the next.)"""
    try:
        key = orjson.dumps(item)
    except orjson.JSONEncodeError:  # not storable: the row's own conversion says why
        return table.row(ItemSource(item, seen))
    built, at = _ITEM_ROWS[table.name]
    row = built(key)
    return (*row[:at], seen, *row[at + 1:])


def _item_rows(table: TableSpec) -> tuple[Callable[[bytes], tuple[Any, ...]], int]:
    """A table's cache of rows by their object's JSON, and where its seen_at goes."""

    @functools.lru_cache(maxsize=4096)
    def built(item: bytes) -> tuple[Any, ...]:
        return table.row(ItemSource(orjson.loads(item), ""))

    return built, table.index("seen_at")


_ITEM_ROWS = {t.name: _item_rows(t) for t in (AUTHORS, MEDIA, PLACES, POLLS)}
