"""Fixed-window rate limits per endpoint, reported with X's x-rate-limit-* headers."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tweetpipe_emulator.options import EndpointLimit


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # epoch seconds when the window resets

    def headers(self) -> dict[str, str]:
        return {
            "x-rate-limit-limit": str(self.limit),
            "x-rate-limit-remaining": str(self.remaining),
            "x-rate-limit-reset": str(self.reset),
        }


@dataclass
class _Window:
    start: float
    used: int = 0
    second: int = 0
    second_used: int = 0


@dataclass
class RateLimiter:
    """One window per endpoint; `clock` is injectable for tests."""

    limits: Callable[[str], EndpointLimit]
    clock: Callable[[], float] = time.time
    _windows: dict[str, _Window] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _window(self, endpoint: str, now: float, rl: EndpointLimit) -> _Window:
        win = self._windows.get(endpoint)
        if win is None or now >= win.start + rl.window_s:
            win = self._windows[endpoint] = _Window(now)
        return win

    def check(self, endpoint: str, *, consume: bool = True) -> Verdict:
        rl = self.limits(endpoint)
        with self._lock:
            now = self.clock()
            win = self._window(endpoint, now, rl)
            reset = math.ceil(win.start + rl.window_s)
            sec = int(now)
            if win.second != sec:
                win.second, win.second_used = sec, 0
            over_second = rl.per_second is not None and win.second_used >= rl.per_second
            allowed = win.used < rl.limit and not over_second
            if allowed and consume:
                win.used += 1
                win.second_used += 1
            return Verdict(allowed, rl.limit, max(rl.limit - win.used, 0), reset)

    def peek(self, endpoint: str) -> Verdict:
        return self.check(endpoint, consume=False)
