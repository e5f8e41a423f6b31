"""The records as the column specs read them: tweets, the objects they carry, API errors.

Every read goes through the type-safe accessors of `values`, so a field of any JSON type reads
as a value or None, never an exception.

What the transform analyses (`TweetSource.analysed`): X cuts a retweet's text ("RT @user: …"),
so a retweet is analysed on its original's full text and entities (`retweeted_original`), or on
its own cut text when X did not include the original (`truncated_retweet`); every other tweet on
its own (`own`). A long post's text and entities are its `note_tweet`'s.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson

from tweetpipe.collect.records import PROVENANCE_KEY
from tweetpipe.load.values import JSON, integer, is_id, items, obj, objs, path

MERGED_KEYS = ("author", "in_reply_to_user", "matching_rules", "errors", "edit_versions",
               PROVENANCE_KEY)


class Coordinates(NamedTuple):
    """Where a Kafka message is (a named tuple: made for every message, it must be cheap)."""

    topic: str
    partition: int
    offset: int


OWN, RETWEETED_ORIGINAL, TRUNCATED_RETWEET = "own", "retweeted_original", "truncated_retweet"


def full_text(tweet: JSON) -> Any:
    """A tweet's whole text: its long post's (`note_tweet.text`) when it has one."""
    note = path(tweet, "note_tweet", "text")
    return note if isinstance(note, str) else tweet.get("text")


def text_entities(tweet: JSON) -> JSON:
    """The entities of `full_text`: a long post's own (`note_tweet.entities`) for its text."""
    if isinstance(path(tweet, "note_tweet", "text"), str):
        return obj(path(tweet, "note_tweet", "entities"))
    return obj(tweet.get("entities"))


def tags(entities: JSON, kind: str, key: str) -> list[str]:
    return [str(e[key]) for e in objs(entities.get(kind)) if key in e]


def expanded_urls(entities: JSON) -> list[Any]:
    return [u.get("expanded_url") or u.get("url") for u in objs(entities.get("urls"))]


class TweetSource:
    """A tweet record with the parts several columns read, each read once and type-safely, when
    it is made (every part is read by some column; plain attributes cost less than cached
    properties, which lock on every read before Python 3.12)."""

    __slots__ = ("_read", "analysed", "analysed_entities", "attachments", "author", "collected",
                 "edits", "entities", "geo", "id", "metrics", "record", "refs", "served", "where")

    def __init__(self, record: JSON, id: int, where: Coordinates, collected: str,
                 served: str) -> None:
        self.record = record
        self.id = id
        self.where = where
        self.collected = collected  # when it was collected
        self.served = served  # when X served it (else `collected`): of two copies, the later wins
        self.author: JSON = obj(record.get("author"))
        self.entities: JSON = text_entities(record)
        self.refs: list[JSON] = objs(record.get("referenced_tweets"))
        self.attachments: JSON = obj(record.get("attachments"))
        self.geo: JSON = obj(record.get("geo"))
        self.edits: list[int | None] = [
            integer(i) for i in items(record.get("edit_history_tweet_ids"))]
        self.metrics: JSON = obj(record.get("public_metrics"))
        #: which text the transform analyses (OWN, RETWEETED_ORIGINAL, TRUNCATED_RETWEET) and
        #: the tweet it is the text of
        self.analysed: tuple[str, JSON] = self._analysed()
        self.analysed_entities: JSON = text_entities(self.analysed[1])
        self._read: dict[Callable[[JSON], list[Any]], list[Any]] = {}

    def _analysed(self) -> tuple[str, JSON]:
        retweeted = [r for r in self.refs if r.get("type") == "retweeted"]
        if not retweeted:
            return OWN, self.record
        original = obj(retweeted[0].get("tweet"))
        if isinstance(full_text(original), str):
            return RETWEETED_ORIGINAL, original
        return TRUNCATED_RETWEET, self.record

    def entity_values(self, read: Callable[[JSON], list[Any]], *, analysed: bool) -> list[Any]:
        """`read` of the entities of the tweet's own text, or of the analysed text's; read
        once when they are the same entities (every tweet but a retweet)."""
        entities = self.analysed_entities if analysed else self.entities
        if entities is not self.entities:
            return read(entities)
        found = self._read.get(read)
        if found is None:
            found = self._read[read] = read(entities)
        return found

    def text(self) -> Any:
        return full_text(self.record)


@dataclass(frozen=True)
class ItemSource:
    """An object carried by a tweet record (a user, medium, place, poll or included tweet)."""

    item: JSON
    seen: str  # when X served it (else when it was collected)


@dataclass(frozen=True)
class ErrorSource:
    """One partial error of an errors record (`collect.records.errors_record`)."""

    error: JSON
    record: JSON
    where: Coordinates
    collected: str
    served: str

    def provenance(self, key: str) -> Any:
        return path(self.record, PROVENANCE_KEY, key)

    def key(self) -> str:
        """The error's identity with its `served` time: the sha256 of its JSON, keys sorted
        (the same error served at the same time, replayed or re-read, is one row)."""
        return hashlib.sha256(orjson.dumps(self.error, option=orjson.OPT_SORT_KEYS)).hexdigest()


def delivered_tweet(record: JSON) -> JSON:
    """The tweet as X delivered it: the record without what `merge` added (copies of the
    parts that change; the record itself is left as it is)."""
    tweet = record.copy()
    for key in MERGED_KEYS:
        tweet.pop(key, None)
    if "attachments" in tweet:
        tweet["attachments"] = _without(tweet["attachments"], "media", "polls")
    if "geo" in tweet:
        tweet["geo"] = _without(tweet["geo"], "place")
    if isinstance(tweet.get("referenced_tweets"), list):
        tweet["referenced_tweets"] = [_without(r, "tweet") for r in tweet["referenced_tweets"]]
    entities = tweet.get("entities")
    if isinstance(entities, dict) and isinstance(entities.get("mentions"), list):
        tweet["entities"] = {**entities, "mentions": [
            _without(m, "user") for m in entities["mentions"]]}
    return tweet


def _without(value: Any, *keys: str) -> Any:
    """A copy of the JSON object `value` without `keys`; anything else as it is."""
    if not isinstance(value, dict) or not any(k in value for k in keys):
        return value
    copy = value.copy()
    for key in keys:
        copy.pop(key, None)
    return copy


def ident(value: Any) -> int | None:
    """An id as X writes it (digits), as an int; None for anything else."""
    return integer(value) if is_id(value) else None
