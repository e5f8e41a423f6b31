"""In-memory tweet store: recorded JSONL pages/stream messages plus synthetic tweets."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from tweetpipe.collect.synthetic import TWEET_METRICS
from tweetpipe_emulator.query import Subject, subject_of

Json = dict[str, Any]
INCLUDE_KEYS: Mapping[str, str] = {
    "users": "id",
    "tweets": "id",
    "media": "media_key",
    "places": "id",
    "polls": "id",
}


def parse_time(value: str) -> datetime:
    """Parse X's RFC 3339 timestamps, with `Z` or `+00:00`."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))




def _normalize(tweet: Json) -> Json:
    """Fix quirks of old recordings that today's OpenAPI spec rejects.

    String `edits_remaining` becomes an int; public_metrics gain the counters X added later
    (impression_count, bookmark_count) as 0; tweets recorded before edits existed get
    `edit_history_tweet_ids: [id]`, a default field today.
    """
    if "text" in tweet and "id" in tweet:
        tweet.setdefault("edit_history_tweet_ids", [str(tweet["id"])])
    ec = tweet.get("edit_controls")
    if isinstance(ec, dict) and isinstance(ec.get("edits_remaining"), str):
        tweet["edit_controls"] = {**ec, "edits_remaining": int(ec["edits_remaining"])}
    metrics = tweet.get("public_metrics")
    if isinstance(metrics, dict) and "retweet_count" in metrics:
        tweet["public_metrics"] = {k: metrics.get(k, 0) for k in TWEET_METRICS} | metrics
    return tweet


def _normalize_user(user: Json) -> Json:
    """Drop description @mentions longer than 15 characters: they are not usernames on X."""
    mentions = ((user.get("entities") or {}).get("description") or {}).get("mentions")
    if mentions:
        keep = [m for m in mentions if len(str(m.get("username", ""))) <= 15]
        description = {**user["entities"]["description"], "mentions": keep}
        if not keep:
            del description["mentions"]
        user["entities"] = {**user["entities"], "description": description}
    return user


@dataclass
class Entry:
    """One primary (searchable/streamable) tweet."""

    id: int
    tweet: Json
    subject: Subject
    created_at: datetime | None
    streamed: bool  # came from a stream recording or the synthetic generator


@dataclass
class LoadReport:
    lines: int = 0
    bad_lines: int = 0
    tweets: int = 0


@dataclass
class TweetStore:
    """Thread-safe; primary tweets are kept sorted by id for range queries."""

    objects: dict[str, dict[str, Json]] = field(
        default_factory=lambda: {k: {} for k in INCLUDE_KEYS}
    )
    usernames: dict[str, str] = field(default_factory=dict)  # lower username -> user id
    ids: list[int] = field(default_factory=list)
    entries: dict[int, Entry] = field(default_factory=dict)
    stream_order: list[int] = field(default_factory=list)  # recorded stream tweets, file order
    report: LoadReport = field(default_factory=LoadReport)
    lock: threading.RLock = field(default_factory=threading.RLock)
    changed: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)

    def load_file(self, path: Path) -> None:
        with path.open("rb") as fh:
            for raw in fh:
                if raw.strip():
                    self.load_line(raw)

    def load_line(self, raw: bytes) -> None:
        self.report.lines += 1
        try:
            msg = orjson.loads(raw)
        except orjson.JSONDecodeError:
            self.report.bad_lines += 1
            return
        data = msg.get("data") if isinstance(msg, dict) else None
        if data is None:
            self.report.bad_lines += 1
            return
        self.add_includes(msg.get("includes") or {})
        tweets = data if isinstance(data, list) else [data]
        self.add_tweets(tweets, streamed=isinstance(data, dict), recorded=True)

    def add_includes(self, includes: Mapping[str, Iterable[Json]]) -> None:
        with self.lock:
            for kind, key in INCLUDE_KEYS.items():
                for obj in includes.get(kind, []):
                    fixed = _normalize_user(obj) if kind == "users" else _normalize(obj)
                    self.objects[kind][str(obj[key])] = fixed
                    if kind == "users":
                        self.usernames[str(obj["username"]).lower()] = str(obj["id"])

    def add_tweets(
        self, tweets: Iterable[Json], *, streamed: bool, recorded: bool = False
    ) -> list[int]:
        """Add primary tweets; recorded stream messages are also kept in file order."""
        added: list[int] = []
        with self.lock:
            for tweet in tweets:
                added.extend(self._add_one(_normalize(tweet), streamed, recorded))
            self.changed.notify_all()
        return added

    def _add_one(self, tweet: Json, streamed: bool, recorded: bool) -> list[int]:
        tid = int(tweet["id"])
        self.objects["tweets"][str(tid)] = tweet
        if streamed and recorded:
            self.stream_order.append(tid)
        if tid in self.entries:
            return []
        created = tweet.get("created_at")
        when = parse_time(created) if created else None
        subject = subject_of(tweet, self.username_of, self._retweeted_text(tweet))
        self.entries[tid] = Entry(tid, tweet, subject, when, streamed)
        bisect.insort(self.ids, tid)
        self.report.tweets += 1
        return [tid]

    def _retweeted_text(self, tweet: Json) -> str:
        for ref in tweet.get("referenced_tweets") or []:
            if ref.get("type") == "retweeted":
                original = self.objects["tweets"].get(str(ref.get("id")))
                return str(original.get("text", "")) if original else ""
        return ""

    def username_of(self, user_id: str) -> str | None:
        user = self.objects["users"].get(user_id)
        return str(user["username"]) if user else None

    def user_by_name(self, username: str) -> Json | None:
        uid = self.usernames.get(username.lower())
        return self.objects["users"].get(uid) if uid else None

    def newest_first(self, below: int | None = None, above: int | None = None) -> list[Entry]:
        """Primary tweets with above < id < below, newest first."""
        with self.lock:
            hi = len(self.ids) if below is None else bisect.bisect_left(self.ids, below)
            lo = 0 if above is None else bisect.bisect_right(self.ids, above)
            return [self.entries[i] for i in reversed(self.ids[lo:hi])]

    def get(self, kind: str, key: str) -> Json | None:
        return self.objects[kind].get(key)
