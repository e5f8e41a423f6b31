"""`collect counts`: how many tweets a query matches per day, hour or minute, from X's counts
endpoints, to size a collection before running it (counts do not use up the tweet cap).

X pages counts at 31 days' worth of buckets, newest page first; `fetch_counts` follows
`next_token` and returns every bucket, oldest first.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from tweetpipe.errors import ConfigError
from tweetpipe.xapi import XClient

COUNTS_RECENT = "/2/tweets/counts/recent"
COUNTS_ALL = "/2/tweets/counts/all"
GRANULARITIES = ("minute", "hour", "day")


@dataclass(frozen=True)
class CountsOptions:
    query: str
    archive: bool = False
    granularity: str = "day"
    start_time: str | None = None
    end_time: str | None = None
    since_id: str | None = None
    until_id: str | None = None

    @property
    def endpoint(self) -> str:
        return COUNTS_ALL if self.archive else COUNTS_RECENT

    def params(self) -> dict[str, str]:
        if not self.query.strip():
            raise ConfigError("the counts query must not be empty")
        if self.granularity not in GRANULARITIES:
            raise ConfigError(f"granularity must be one of {', '.join(GRANULARITIES)}",
                              granularity=self.granularity)
        given = {"query": self.query, "granularity": self.granularity,
                 "start_time": self.start_time, "end_time": self.end_time,
                 "since_id": self.since_id, "until_id": self.until_id}
        return {k: v for k, v in given.items() if v is not None}


@dataclass(frozen=True)
class CountBucket:
    start: str  # RFC 3339, as X sends it
    end: str
    tweet_count: int


def fetch_counts(client: XClient, options: CountsOptions,
                 stop: threading.Event | None = None) -> list[CountBucket]:
    """Every bucket of the window, oldest first (all pages; stops early if `stop` is set)."""
    params: dict[str, Any] = options.params()
    stop = stop or client.stop
    buckets: list[CountBucket] = []
    while not stop.is_set():
        body = client.get(options.endpoint, params, fields=False)
        buckets += [CountBucket(str(b["start"]), str(b["end"]), int(b["tweet_count"]))
                    for b in body.get("data") or []]
        token = (body.get("meta") or {}).get("next_token")
        if not token:
            break
        params = {**params, "next_token": token}
    return sorted(buckets, key=lambda b: b.start)
