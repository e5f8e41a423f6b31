"""Rate-limit waits and reconnect/retry backoff schedules: pure functions, unit-tested.

X reports `x-rate-limit-limit`, `-remaining` and `-reset` (epoch seconds) on every response.
When `remaining` is 0 the client waits until `reset`, measured against the server's own clock
(its `Date` header) so a skewed local clock can neither make the wait negative nor endless; the
wait is capped at one rate-limit window (15 minutes) plus a margin.

Stream reconnects follow X's rules: after a drop reconnect at once; on network errors back off
linearly by 250 ms up to 16 s; on HTTP errors exponentially from 5 s up to 320 s; on 429
exponentially from 60 s. `Backoff.scale` shrinks every delay (tests run with 0.01).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

WINDOW_S = 15 * 60.0


@dataclass(frozen=True)
class RateLimit:
    """The `x-rate-limit-*` headers of one response; `server_time` from its `Date` header."""

    limit: int | None = None
    remaining: int | None = None
    reset: float | None = None
    server_time: float | None = None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateLimit:
        def number(name: str) -> int | None:
            raw = headers.get(name)
            return int(raw) if raw is not None and raw.strip().isdigit() else None

        reset = number("x-rate-limit-reset")
        return cls(number("x-rate-limit-limit"), number("x-rate-limit-remaining"),
                   float(reset) if reset is not None else None, _date(headers.get("date")))

    @property
    def known(self) -> bool:
        return self.reset is not None

    @property
    def exhausted(self) -> bool:
        return self.remaining == 0 and self.reset is not None

    def describe(self) -> str:
        if self.limit is None or self.remaining is None:
            return "rate limit: unknown"
        return f"rate limit: {self.remaining}/{self.limit} left"


def _date(raw: str | None) -> float | None:
    if not raw:
        return None
    try:
        return parsedate_to_datetime(raw).timestamp()
    except (TypeError, ValueError):
        return None


def reset_wait(rl: RateLimit, *, local_now: float, elapsed: float = 0.0,
               margin: float = 1.0, window: float = WINDOW_S) -> float | None:
    """Seconds to wait before the window resets, or None if the headers do not say.

    `elapsed` is the time since the response arrived. The server's `Date` is the clock of
    reference; without it the local clock is used. Never negative, never beyond `window`.
    """
    if rl.reset is None:
        return None
    now = (rl.server_time if rl.server_time is not None else local_now) + elapsed
    return min(max(rl.reset - now, 0.0) + margin, window + margin)


@dataclass(frozen=True)
class Backoff:
    """Delay schedules; every delay is multiplied by `scale`."""

    scale: float = 1.0
    network_step: float = 0.25
    network_cap: float = 16.0
    http_base: float = 5.0
    http_cap: float = 320.0
    too_many_base: float = 60.0
    too_many_cap: float = WINDOW_S

    def delay(self, kind: str, attempt: int) -> float:
        """Delay before retry number `attempt` (1-based) after a failure of `kind`.

        Kinds: "drop" (first retry at once, then like network), "network", "http", "429".
        """
        n = max(attempt, 1)
        if kind == "drop":
            return 0.0 if n == 1 else self.delay("network", n - 1)
        if kind == "network":
            base = min(self.network_step * n, self.network_cap)
        elif kind == "http":
            base = min(self.http_base * 2 ** (n - 1), self.http_cap)
        elif kind == "429":
            base = min(self.too_many_base * 2 ** (n - 1), self.too_many_cap)
        else:
            raise ValueError(f"unknown backoff kind {kind!r}")
        return base * self.scale


@dataclass
class Reconnects:
    """Counts consecutive failures per kind; a successful read resets them."""

    backoff: Backoff = field(default_factory=Backoff)
    attempts: dict[str, int] = field(default_factory=dict)

    def failed(self, kind: str) -> float:
        """Record a failure; returns the delay before the next attempt."""
        key = "network" if kind == "drop" else kind
        self.attempts[key] = self.attempts.get(key, 0) + 1
        if kind == "drop":
            return self.backoff.delay("drop", self.attempts[key])
        return self.backoff.delay(kind, self.attempts[key])

    def succeeded(self) -> None:
        self.attempts.clear()
