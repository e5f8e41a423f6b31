"""Kafka message bytes -> typed rows for the PostgreSQL model, or a reason it cannot be loaded.

Pure functions, no I/O. A message becomes a `Parsed` (one `tweet_merge` row plus the author,
media, place, poll and referenced-tweet rows it carries) or raises `RecordError` with a short,
stable reason that the loader files in the dead-letter table. Repairable text (NUL characters,
lone surrogates, invalid UTF-8) is repaired and flagged instead.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from tweetpipe.collect.records import PROVENANCE_KEY
from tweetpipe.errors import RecordError

JSON = dict[str, Any]
_SURROGATE = re.compile("[\ud800-\udfff]")
MERGED_KEYS = ("author", "in_reply_to_user", "matching_rules", "errors", "edit_versions",
               PROVENANCE_KEY)

TWEET_COLUMNS = (
    "tweet_id", "author_id", "conversation_id", "in_reply_to_user_id", "author_username",
    "author_name", "author_verified_type", "created_at", "lang", "text", "source",
    "possibly_sensitive", "reply_settings", "retweet_count", "reply_count", "like_count",
    "quote_count", "bookmark_count", "impression_count", "referenced_types", "referenced_ids",
    "hashtags", "mentions", "cashtags", "urls", "media_keys", "media_types", "place_id",
    "coordinates", "withheld", "edit_history_tweet_ids", "edit_root_id", "matching_rules",
    "errors", "collect_source", "collected_at", "kafka_topic", "kafka_partition", "kafka_offset",
    "raw",
)
AUTHOR_COLUMNS = (
    "user_id", "username", "name", "verified", "verified_type", "followers_count",
    "following_count", "tweet_count", "created_at", "location", "description", "seen_at", "raw",
)
MEDIA_COLUMNS = (
    "media_key", "type", "url", "preview_url", "width", "height", "duration_ms", "view_count",
    "alt_text", "seen_at", "raw",
)
PLACE_COLUMNS = (
    "place_id", "full_name", "name", "country", "country_code", "place_type", "bbox", "seen_at",
    "raw",
)
POLL_COLUMNS = (
    "poll_id", "voting_status", "end_datetime", "duration_minutes", "options", "seen_at", "raw",
)
INCLUDED_COLUMNS = ("tweet_id", "author_id", "created_at", "text", "edit_root_id", "seen_at", "raw")


@dataclass
class Parsed:
    tweet: tuple[Any, ...]
    authors: list[tuple[Any, ...]] = field(default_factory=list)
    media: list[tuple[Any, ...]] = field(default_factory=list)
    places: list[tuple[Any, ...]] = field(default_factory=list)
    polls: list[tuple[Any, ...]] = field(default_factory=list)
    included: list[tuple[Any, ...]] = field(default_factory=list)
    repaired: bool = False

    def column(self, name: str) -> Any:
        """A value of the tweet_merge row by column name."""
        return self.tweet[TWEET_COLUMNS.index(name)]

    @property
    def where(self) -> Coordinates:
        topic, partition, offset = (self.column(c) for c in
                                    ("kafka_topic", "kafka_partition", "kafka_offset"))
        return Coordinates(topic, partition, offset)


@dataclass(frozen=True)
class Coordinates:
    topic: str
    partition: int
    offset: int


def decode(value: bytes | None) -> tuple[Any, bool]:
    """JSON bytes -> (object, repaired). Raises RecordError if it is not JSON at all."""
    if not value:
        raise RecordError("empty message")
    try:
        obj = orjson.loads(value)
        needs_repair = b"\\u0000" in value
    except orjson.JSONDecodeError:
        text = value.decode("utf-8", errors="replace")
        try:
            obj = json.loads(text, strict=False)
        except json.JSONDecodeError:
            raise RecordError("truncated or malformed JSON") from None
        needs_repair = True
    if not needs_repair:
        return obj, False
    repaired = repair(obj)
    return repaired, repaired != obj or "\ufffd" in value.decode("utf-8", errors="replace")


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
    if value is not None and len(value) > max_bytes:
        raise RecordError(f"oversize record ({len(value)} bytes > {max_bytes})")
    record, repaired = decode(value)
    if not isinstance(record, dict):
        raise RecordError(f"not a tweet: a JSON {type(record).__name__}")
    if not str(record.get("id", "")).isdigit() or not isinstance(record.get("text"), str):
        raise RecordError("not a tweet: no numeric `id` and string `text`")
    parsed = tweet_rows(record, where)
    parsed.repaired = repaired
    return parsed


def tweet_rows(record: JSON, where: Coordinates) -> Parsed:
    prov = record.get(PROVENANCE_KEY) or {}
    seen = _ts(prov.get("collected_at")) or datetime.now().astimezone().isoformat()
    author = record.get("author") or {}
    entities = record.get("entities") or {}
    refs = [r for r in record.get("referenced_tweets") or [] if isinstance(r, dict)]
    attachments = record.get("attachments") or {}
    media = [m for m in attachments.get("media") or [] if isinstance(m, dict)]
    geo = record.get("geo") or {}
    metrics = record.get("public_metrics") or {}
    edits = [_int(i) for i in record.get("edit_history_tweet_ids") or []]
    note = record.get("note_tweet") or {}
    tweet = (
        int(record["id"]), _int(record.get("author_id")), _int(record.get("conversation_id")),
        _int(record.get("in_reply_to_user_id")), author.get("username"), author.get("name"),
        author.get("verified_type"), _ts(record.get("created_at")), record.get("lang"),
        note.get("text") if isinstance(note.get("text"), str) else record["text"],
        record.get("source"), record.get("possibly_sensitive"), record.get("reply_settings"),
        _int(metrics.get("retweet_count")), _int(metrics.get("reply_count")),
        _int(metrics.get("like_count")), _int(metrics.get("quote_count")),
        _int(metrics.get("bookmark_count")), _int(metrics.get("impression_count")),
        [r.get("type") for r in refs], [_int(r.get("id")) for r in refs],
        _tags(entities, "hashtags", "tag"), _tags(entities, "mentions", "username"),
        _tags(entities, "cashtags", "tag"),
        [u.get("expanded_url") or u.get("url") for u in entities.get("urls") or []],
        list(attachments.get("media_keys") or []), [m.get("type") for m in media],
        geo.get("place_id"), (geo.get("coordinates") or {}).get("coordinates"),
        _json(record.get("withheld")), edits or None, edits[0] if edits else int(record["id"]),
        _json(record.get("matching_rules")), _json(record.get("errors")), prov.get("source"),
        seen, where.topic, where.partition, where.offset, _json(delivered_tweet(record)),
    )
    parsed = Parsed(tweet=tweet)
    _side_rows(record, parsed, seen)
    return parsed


def delivered_tweet(record: JSON) -> JSON:
    """The tweet as X delivered it: the record without what `merge` added."""
    tweet = {k: v for k, v in record.items() if k not in MERGED_KEYS}
    if isinstance(tweet.get("attachments"), dict):
        tweet["attachments"] = {
            k: v for k, v in tweet["attachments"].items() if k not in ("media", "polls")
        }
    if isinstance(tweet.get("geo"), dict):
        tweet["geo"] = {k: v for k, v in tweet["geo"].items() if k != "place"}
    if isinstance(tweet.get("referenced_tweets"), list):
        tweet["referenced_tweets"] = [
            {k: v for k, v in r.items() if k != "tweet"} if isinstance(r, dict) else r
            for r in tweet["referenced_tweets"]
        ]
    entities = tweet.get("entities")
    if isinstance(entities, dict) and isinstance(entities.get("mentions"), list):
        tweet["entities"] = {**entities, "mentions": [
            {k: v for k, v in m.items() if k != "user"} if isinstance(m, dict) else m
            for m in entities["mentions"]
        ]}
    return tweet


def _side_rows(record: JSON, parsed: Parsed, seen: str) -> None:
    users = [record.get("author"), record.get("in_reply_to_user")]
    entities = record.get("entities") or {}
    users += [m.get("user") for m in entities.get("mentions") or [] if isinstance(m, dict)]
    included = [r.get("tweet") for r in record.get("referenced_tweets") or []
                if isinstance(r, dict)]
    for target in [*included, *(record.get("edit_versions") or [])]:
        if isinstance(target, dict) and str(target.get("id", "")).isdigit():
            users.append(target.get("author"))
            edits = target.get("edit_history_tweet_ids") or [target["id"]]
            parsed.included.append((
                int(target["id"]), _int(target.get("author_id")), _ts(target.get("created_at")),
                target.get("text"), _int(edits[0]), seen, _json(delivered_tweet(target)),
            ))
    for user in users:
        if isinstance(user, dict) and str(user.get("id", "")).isdigit():
            parsed.authors.append(_author_row(user, seen))
    attachments = record.get("attachments") or {}
    for m in attachments.get("media") or []:
        if isinstance(m, dict) and m.get("media_key"):
            parsed.media.append(_media_row(m, seen))
    for p in attachments.get("polls") or []:
        if isinstance(p, dict) and p.get("id"):
            parsed.polls.append((
                str(p["id"]), p.get("voting_status"), _ts(p.get("end_datetime")),
                _int(p.get("duration_minutes")), _json(p.get("options")), seen, _json(p),
            ))
    place = (record.get("geo") or {}).get("place")
    if isinstance(place, dict) and place.get("id"):
        bbox = (place.get("geo") or {}).get("bbox")
        parsed.places.append((
            str(place["id"]), place.get("full_name"), place.get("name"), place.get("country"),
            place.get("country_code"), place.get("place_type"), bbox, seen, _json(place),
        ))


def _author_row(user: JSON, seen: str) -> tuple[Any, ...]:
    metrics = user.get("public_metrics") or {}
    return (
        int(user["id"]), user.get("username"), user.get("name"), user.get("verified"),
        user.get("verified_type"), _int(metrics.get("followers_count")),
        _int(metrics.get("following_count")), _int(metrics.get("tweet_count")),
        _ts(user.get("created_at")), user.get("location"), user.get("description"), seen,
        _json(user),
    )


def _media_row(m: JSON, seen: str) -> tuple[Any, ...]:
    metrics = m.get("public_metrics") or {}
    return (
        str(m["media_key"]), m.get("type"), m.get("url"), m.get("preview_image_url"),
        _int(m.get("width")), _int(m.get("height")), _int(m.get("duration_ms")),
        _int(metrics.get("view_count")), m.get("alt_text"), seen, _json(m),
    )


def _tags(entities: JSON, kind: str, key: str) -> list[str]:
    return [str(e[key]) for e in entities.get(kind) or [] if isinstance(e, dict) and key in e]


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if text.lstrip("-").isdigit() else None


def _ts(value: Any) -> str | None:
    """An ISO-8601 timestamp PostgreSQL accepts, or None."""
    if not isinstance(value, str):
        return None
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return None
    return value


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()
