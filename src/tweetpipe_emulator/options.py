"""Emulator options: one frozen dataclass, validated on construction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType

from tweetpipe.errors import ConfigError

DEFAULT_TOKEN = "emulator-token"


@dataclass(frozen=True)
class EndpointLimit:
    """`limit` requests per `window_s` seconds, plus an optional per-second cap (search/all)."""

    limit: int
    window_s: float = 900.0
    per_second: int | None = None

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window_s <= 0:
            raise ConfigError(
                "rate limit needs limit >= 1 and window_s > 0",
                limit=self.limit,
                window_s=self.window_s,
            )


#: X's app-auth (bearer) limits; keys are endpoint names used by the emulator.
DEFAULT_RATE_LIMITS: Mapping[str, EndpointLimit] = MappingProxyType(
    {
        "search_recent": EndpointLimit(450),
        "search_all": EndpointLimit(300, per_second=1),
        "counts_recent": EndpointLimit(300),
        "counts_all": EndpointLimit(300),
        "rules": EndpointLimit(450),
        "stream_search": EndpointLimit(50),
        "stream_sample": EndpointLimit(50),
    }
)


@dataclass(frozen=True)
class AccessLimits:
    """X's documented per-access-level limits on queries and filtered-stream rules."""

    query_max_length: int  # GET /2/tweets/search/recent `query`
    archive_query_max_length: int  # GET /2/tweets/search/all `query`
    rule_max_length: int  # one filtered-stream rule's `value`
    max_rules: int  # active filtered-stream rules


#: X API v2 access levels (docs: search query length, filtered-stream rule limits).
ACCESS_LEVELS: Mapping[str, AccessLimits] = MappingProxyType(
    {
        "basic": AccessLimits(512, 1024, 512, 25),
        "pro": AccessLimits(512, 1024, 1024, 1000),
        "enterprise": AccessLimits(4096, 4096, 2048, 25000),
    }
)


@dataclass(frozen=True)
class EmulatorOptions:
    """Everything the emulator needs; `port=0` picks a free port.

    `rate_limits` overrides entries of `DEFAULT_RATE_LIMITS` by endpoint name
    (search_recent, search_all, counts_recent, counts_all, rules, stream_search, stream_sample).
    `synthetic_rate` is tweets/second from the seeded generator (0 = off).
    `stall_s` is how long a `stall` fault holds a stream silent.

    Limits: `access_level` (basic, pro, enterprise) picks X's documented query-length and rule
    limits; `query_max_length`, `archive_query_max_length`, `rule_max_length` and `max_rules`
    override them one by one (None: the access level's value).

    Time: recent search serves the last `recent_window_days` (X: 7) before the clock. `clock`
    fixes the emulator's "now" for every tweet, recorded or synthetic; "newest" sets it to the
    newest recorded tweet's time. Left None, synthetic tweets are measured from the wall clock and
    recorded tweets from the newest tweet of their recording (file), so every recording stays
    searchable by recent search as X answered it then (a 2010 tweet in a 2021 recording is not);
    full-archive search serves every tweet.

    Memory: the synthetic generator keeps its tweets for `synthetic_keep_s` after their
    creation (default 300 s: X's stream backfill reaches back 5 minutes, the furthest a stream
    client can ask for them again), then forgets them, so a long run at a fixed rate stays at a
    fixed size; recorded tweets and tweets added with `add_synthetic` are kept. Each stream
    endpoint keeps the ids of the last `served_keep` tweets it served (and counts them all).

    HTTP: `body_timeout_s` bounds the wait for a request body (then 408); `stream_max_s` ends
    every stream cleanly after that many seconds (None: never, like X; for tests and tools).
    """

    host: str = "127.0.0.1"
    port: int = 0
    data_files: tuple[Path, ...] = ()
    synthetic_rate: float = 0.0
    seed: int = 0
    token: str = field(default=DEFAULT_TOKEN, repr=False)
    faults: str = ""
    keepalive_s: float = 20.0
    stall_s: float = 25.0
    rate_limits: Mapping[str, EndpointLimit] = field(default_factory=dict)
    stream_connections: int = 1
    replay_recorded_streams: bool = True
    access_level: str = "pro"
    query_max_length: int | None = None
    archive_query_max_length: int | None = None
    rule_max_length: int | None = None
    max_rules: int | None = None
    clock: datetime | str | None = None
    recent_window_days: float = 7.0
    body_timeout_s: float = 10.0
    stream_max_s: float | None = None
    synthetic_keep_s: float = 300.0
    served_keep: int = 100_000

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_files", tuple(Path(p) for p in self.data_files))
        if not 0 <= self.port <= 65535:
            raise ConfigError("port must be between 0 and 65535", port=self.port)
        if self.synthetic_rate < 0:
            raise ConfigError("synthetic rate must be >= 0 tweets/second")
        if self.synthetic_keep_s <= 0 or self.served_keep < 1:
            raise ConfigError("synthetic_keep_s must be > 0 and served_keep >= 1")
        if self.keepalive_s <= 0 or self.stall_s < 0:
            raise ConfigError("keepalive_s must be > 0 and stall_s >= 0")
        if not self.token:
            raise ConfigError("token must not be empty")
        if self.stream_connections < 1:
            raise ConfigError("stream_connections must be >= 1")
        unknown = set(self.rate_limits) - set(DEFAULT_RATE_LIMITS)
        if unknown:
            raise ConfigError(
                f"unknown rate-limit endpoint(s) {sorted(unknown)}; "
                f"use one of {sorted(DEFAULT_RATE_LIMITS)}"
            )
        for path in self.data_files:
            if not path.is_file():
                raise ConfigError(f"data file {path} does not exist; pass a JSONL file")
        self._check_limits()

    def _check_limits(self) -> None:
        level = ACCESS_LEVELS.get(self.access_level)
        if level is None:
            raise ConfigError(
                f"unknown access level {self.access_level!r}; use one of {sorted(ACCESS_LEVELS)}"
            )
        for name in ("query_max_length", "archive_query_max_length", "rule_max_length",
                     "max_rules"):
            value = getattr(self, name)
            if value is None:
                object.__setattr__(self, name, getattr(level, name))
            elif value < 1:
                raise ConfigError(f"{name} must be >= 1", **{name: value})
        if isinstance(self.clock, str) and self.clock != "newest":
            raise ConfigError("clock must be a timezone-aware datetime, 'newest' or None")
        if isinstance(self.clock, datetime) and self.clock.tzinfo is None:
            raise ConfigError("clock must be timezone-aware (e.g. datetime.now(UTC))")
        if self.recent_window_days <= 0 or self.body_timeout_s <= 0:
            raise ConfigError("recent_window_days and body_timeout_s must be > 0")
        if self.stream_max_s is not None and self.stream_max_s <= 0:
            raise ConfigError("stream_max_s must be > 0 (or None: streams never end)")

    @property
    def limits(self) -> AccessLimits:
        """The limits in force (access level with the per-limit overrides applied)."""
        return AccessLimits(
            int(self.query_max_length or 0),
            int(self.archive_query_max_length or 0),
            int(self.rule_max_length or 0),
            int(self.max_rules or 0),
        )

    def rate_limit(self, endpoint: str) -> EndpointLimit:
        return self.rate_limits.get(endpoint, DEFAULT_RATE_LIMITS[endpoint])
