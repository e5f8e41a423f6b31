"""Emulator options: one frozen dataclass, validated on construction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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
        "rules": EndpointLimit(450),
        "stream_search": EndpointLimit(50),
        "stream_sample": EndpointLimit(50),
    }
)


@dataclass(frozen=True)
class EmulatorOptions:
    """Everything the emulator needs; `port=0` picks a free port.

    `rate_limits` overrides entries of `DEFAULT_RATE_LIMITS` by endpoint name
    (search_recent, search_all, rules, stream_search, stream_sample).
    `synthetic_rate` is tweets/second from the seeded generator (0 = off).
    `stall_s` is how long a `stall` fault holds a stream silent.
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

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_files", tuple(Path(p) for p in self.data_files))
        if not 0 <= self.port <= 65535:
            raise ConfigError("port must be between 0 and 65535", port=self.port)
        if self.synthetic_rate < 0:
            raise ConfigError("synthetic rate must be >= 0 tweets/second")
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

    def rate_limit(self, endpoint: str) -> EndpointLimit:
        return self.rate_limits.get(endpoint, DEFAULT_RATE_LIMITS[endpoint])
