"""Real-shaped benchmark messages: the bundled real X API v2 responses, with fresh tweet ids.

Every bundled recording (src/tweetpipe/data/*.jsonl) is split into tweet records exactly as
the collector's replay makes them (`collect.records.split_payload`: each tweet merged with the
includes it refers to, provenance under `__tweetpipe`). A benchmark message is one of these
records, drawn at random (seeded) so the size mix is the recordings' own, with every tweet id
in it (the tweet's, its conversation's, its edit history's, its referenced tweets' and their
nested ones', the ids its partial errors name) replaced by a fresh one. Fresh ids keep their
order within a message, so an edited tweet stays the newest version of its edit chain. Users,
media, places and polls keep their real ids: they repeat across messages, as they do on X.

The partial errors that concern no tweet (errors records) are left out: every message is a
tweet, so every message is one tweet_merge row.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

import orjson

from tweetpipe import kafka
from tweetpipe.collect.records import PROVENANCE_KEY, split_payload
from tweetpipe.collect.replay import provenance
from tweetpipe.settings import Settings

JSON = dict[str, Any]
FIRST_ID = 2_000_000_000_000_000_000  # above every real tweet id, within bigint
IDS_PER_MESSAGE = 256  # room for every tweet id one message names
COLLECTED_FROM = datetime(2026, 1, 1, tzinfo=UTC)


@cache
def templates() -> tuple[JSON, ...]:
    """The tweet records of every bundled recording, as replay makes them (in file order)."""
    found: list[JSON] = []
    for path in sorted(resources.files("tweetpipe.data").iterdir(), key=lambda p: p.name):
        if not path.name.endswith(".jsonl"):
            continue
        for number, line in enumerate(path.read_bytes().splitlines(), start=1):
            try:
                payload = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue  # the recordings' one truncated line: not a tweet
            origin = f"{path.name}:{number}"
            found += split_payload(payload, provenance=provenance("replay", origin,
                                                                  payload)).tweets
    return tuple(found)


def real_shaped_messages(count: int, seed: int = 7) -> list[bytes]:
    """`count` Kafka message values as the collector produces them, each a real recorded tweet
    with fresh ids; the same `count` and `seed` give the same bytes."""
    pool = templates()
    rng = random.Random(seed)
    return [orjson.dumps(fresh_copy(rng.choice(pool), i)) for i in range(count)]


def fresh_copy(record: JSON, number: int) -> JSON:
    """Message `number`'s copy of `record`: fresh tweet ids (ordered as the old ones), collected
    `number` milliseconds after COLLECTED_FROM."""
    old: set[str] = set()
    _tweet_ids(record, lambda i: old.add(i) or i)
    if len(old) > IDS_PER_MESSAGE:
        raise ValueError(f"a record names {len(old)} tweet ids: raise IDS_PER_MESSAGE")
    first = FIRST_ID + number * IDS_PER_MESSAGE
    new = {i: str(first + rank) for rank, i in enumerate(sorted(old, key=int))}
    copy = _tweet_ids(record, lambda i: new.get(i, i))
    collected = COLLECTED_FROM + timedelta(milliseconds=number)
    copy[PROVENANCE_KEY] = {**record[PROVENANCE_KEY],
                            "collected_at": collected.isoformat(timespec="milliseconds")}
    return copy


def _tweet_ids(tweet: JSON, change: Callable[[str], str]) -> JSON:
    """A copy of a merged tweet record with `change` applied to every tweet id it names."""
    copy = dict(tweet)
    for key in ("id", "conversation_id"):
        if _is_id(copy.get(key)):
            copy[key] = change(copy[key])
    if isinstance(copy.get("edit_history_tweet_ids"), list):
        copy["edit_history_tweet_ids"] = [change(i) if _is_id(i) else i
                                          for i in copy["edit_history_tweet_ids"]]
    if isinstance(copy.get("referenced_tweets"), list):
        copy["referenced_tweets"] = [_reference(r, change) for r in copy["referenced_tweets"]]
    if isinstance(copy.get("edit_versions"), list):
        copy["edit_versions"] = [_tweet_ids(v, change) if isinstance(v, dict) else v
                                 for v in copy["edit_versions"]]
    if isinstance(copy.get("errors"), list):
        copy["errors"] = [_error(e, change) for e in copy["errors"]]
    return copy


def _reference(ref: Any, change: Callable[[str], str]) -> Any:
    if not isinstance(ref, dict):
        return ref
    ref = dict(ref)
    if _is_id(ref.get("id")):
        ref["id"] = change(ref["id"])
    if isinstance(ref.get("tweet"), dict):
        ref["tweet"] = _tweet_ids(ref["tweet"], change)
    return ref


def _error(error: Any, change: Callable[[str], str]) -> Any:
    """A partial error naming a tweet names its fresh id (one naming a user keeps it)."""
    if not isinstance(error, dict) or error.get("resource_type") != "tweet":
        return error
    return {**error, **{k: change(error[k]) for k in ("resource_id", "value")
                        if _is_id(error.get(k))}}


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and value.isascii() and value.isdigit()


def mean_size(messages: Sequence[bytes]) -> float:
    return sum(map(len, messages)) / max(len(messages), 1)


def produce_messages(settings: Settings, topic: str, messages: Sequence[bytes]) -> None:
    """Put `messages` on `topic` with tweetpipe's own producer, keyed by tweet id as the
    collector keys them; returns when Kafka has acknowledged every one."""
    with kafka.TweetProducer(settings, topic=topic) as producer:
        for value in messages:
            producer.send(str(orjson.loads(value)["id"]), value)
