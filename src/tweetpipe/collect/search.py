"""`collect search`: recent or full-archive search, page by page into Kafka, resumable.

Each page goes through `split_payload` (the same code as replay), stamped with when X served it
(the response's `Date`), is flushed to Kafka, and only then is the position (query,
parameters, next_token, newest_id) saved. `--follow` keeps polling for tweets newer than the
newest seen.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from tweetpipe.collect import search_position
from tweetpipe.collect.records import Split
from tweetpipe.collect.replay import RAW_LINE_HEADER, payload_records, provenance, send_split
from tweetpipe.collect.search_position import SearchPosition
from tweetpipe.collect.stats import CollectStats
from tweetpipe.errors import ConfigError, RecordError
from tweetpipe.kafka.producer import TweetProducer
from tweetpipe.xapi import ARCHIVE, RECENT, Served, XClient

Json = dict[str, Any]
PAGE_MAX = {RECENT: 100, ARCHIVE: 500}


@dataclass(frozen=True)
class SearchOptions:
    query: str
    archive: bool = False
    since_id: str | None = None
    until_id: str | None = None
    start_time: str | None = None
    end_time: str | None = None
    max_results: int | None = None
    limit: int | None = None
    resume: bool = False
    follow: bool = False
    interval: float = 60.0

    @property
    def endpoint(self) -> str:
        return ARCHIVE if self.archive else RECENT

    def page_size(self, remaining: int | None) -> int:
        top = PAGE_MAX[self.endpoint]
        size = min(self.max_results or top, top)
        if remaining is not None:
            size = min(size, remaining)
        return max(size, 10)

    def position(self) -> SearchPosition:
        fixed = {"since_id": self.since_id, "until_id": self.until_id,
                 "start_time": self.start_time, "end_time": self.end_time}
        if self.follow and (self.until_id or self.end_time):
            raise ConfigError("--follow polls for newer tweets: drop --until-id/--end-time")
        if not self.query.strip():
            raise ConfigError("the search query must not be empty")
        return SearchPosition(self.endpoint, self.query,
                              {k: v for k, v in fixed.items() if v is not None})


PageHook = Callable[[SearchPosition], None]


def collect_search(client: XClient, producer: TweetProducer, options: SearchOptions, *,
                   state_dir: Path, progress: CollectStats | None = None,
                   stop: threading.Event | None = None,
                   on_page: PageHook | None = None) -> CollectStats:
    """Page through the search into `producer`; returns the counters (`progress`)."""
    progress = progress if progress is not None else CollectStats()
    stop = stop or client.stop
    position = options.position()
    path = search_position.position_file(state_dir, position)
    if options.resume:
        position = search_position.load(path) or position
    while not stop.is_set():
        if position.done:
            if not options.follow:
                break
            client.wait("--follow: polling for newer tweets", options.interval)
            position.next_pass()
            continue
        remaining = None if options.limit is None else options.limit - progress.tweets
        if remaining is not None and remaining <= 0:
            break
        _one_page(client, producer, options, position, remaining, progress)
        search_position.save(path, position)
        if on_page:
            on_page(position)
    return progress


def _one_page(client: XClient, producer: TweetProducer, options: SearchOptions,
              position: SearchPosition, remaining: int | None, progress: CollectStats) -> None:
    params = position.request_params(options.page_size(remaining))
    served = client.get_served(options.endpoint, params)
    page = served.body
    progress.rate_limit = client.rate_limit.describe()
    progress.waiting = ""
    where = f"{options.endpoint} page {position.pages + 1}"
    split = page_split(served, where, producer, progress)
    complete = remaining is None or len(split.tweets) <= remaining
    send_split(split if complete else Split(split.tweets[:remaining], split.errors),
               producer, progress)
    producer.flush()
    position.tweets = progress.tweets
    progress.pages += 1
    position.advance(page.get("meta") or {}, page_complete=complete)


def page_split(served: Served, where: str, producer: TweetProducer, progress: CollectStats
               ) -> Split:
    """The page's records, stamped with when X served it; an unusable page goes on raw, to the
    dead-letter table."""
    found = provenance("search", where, served_at=served.served_at)
    try:
        split, _ = payload_records(served.body, where, found)
    except RecordError as exc:
        progress.bad(where, str(exc))
        try:
            raw = orjson.dumps(served.body)
        except orjson.JSONEncodeError:  # nested deeper than orjson writes: keep why, not what
            raw = orjson.dumps({"unwritable_page": where, "reason": str(exc)})
        producer.send(None, raw, {RAW_LINE_HEADER: where})
        return Split([])
    return split
