"""Shared emulator state: store, rules, limits, faults and the counters tests assert on."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

from tweetpipe_emulator.faults import FaultInjector, parse_faults
from tweetpipe_emulator.options import EmulatorOptions
from tweetpipe_emulator.ratelimit import RateLimiter
from tweetpipe_emulator.rule_endpoints import RuleBook
from tweetpipe_emulator.store import TweetStore

STREAMS = ("stream_search", "stream_sample")


@dataclass
class StreamEndpointStats:
    """Per stream endpoint; `served` lists the ids of the last `keep` tweets it served, in the
    order their lines were written (bounded: the emulator may serve for days);
    `served_total` counts them all."""

    connections: int = 0
    active: int = 0
    refused: int = 0
    keepalives: int = 0
    served_total: int = 0
    keep: int = 100_000
    recent: deque[str] = field(init=False)

    def __post_init__(self) -> None:
        self.recent = deque(maxlen=self.keep)

    @property
    def served(self) -> list[str]:
        return list(self.recent)

    @property
    def served_ids(self) -> set[str]:
        return set(self.recent)

    def add_served(self, tweet_id: str) -> None:
        self.recent.append(tweet_id)
        self.served_total += 1


@dataclass
class EmulatorState:
    options: EmulatorOptions
    store: TweetStore = field(default_factory=TweetStore)
    rules: RuleBook = field(default_factory=RuleBook)
    stopping: threading.Event = field(default_factory=threading.Event)
    streams: dict[str, StreamEndpointStats] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    limiter: RateLimiter = field(init=False)
    faults: FaultInjector = field(init=False)

    def __post_init__(self) -> None:
        self.limiter = RateLimiter(self.options.rate_limit)
        self.faults = FaultInjector(parse_faults(self.options.faults))
        self.streams = {name: StreamEndpointStats(keep=self.options.served_keep)
                        for name in STREAMS}
        self.rules.max_rules = self.options.limits.max_rules
        self.rules.rule_max_length = self.options.limits.rule_max_length

    @property
    def stall_s(self) -> float:
        plan_stall = self.faults.plan.stall_s
        return self.options.stall_s if plan_stall is None else plan_stall

    def count_request(self, endpoint: str) -> None:
        with self.lock:
            self.requests[endpoint] = self.requests.get(endpoint, 0) + 1

    def open_stream(self, name: str) -> int | None:
        """Register a connection; None when the stream is at its connection limit."""
        with self.lock:
            stats = self.streams[name]
            if stats.active >= self.options.stream_connections:
                stats.refused += 1
                return None
            stats.active += 1
            stats.connections += 1
            return stats.connections

    def close_stream(self, name: str) -> None:
        with self.lock:
            self.streams[name].active -= 1

    def record_served(self, name: str, tweet_id: str) -> None:
        with self.lock:
            self.streams[name].add_served(tweet_id)

    def record_keepalive(self, name: str) -> None:
        with self.lock:
            self.streams[name].keepalives += 1
