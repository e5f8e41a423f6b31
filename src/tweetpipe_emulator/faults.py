"""Deterministic fault injection.

Grammar of a fault spec (comma-separated items, whitespace ignored)::

    spec    := item ("," item)*
    item    := KIND ":" PROBABILITY | OPTION "=" VALUE
    KIND    := request kinds: 429 | 429nohdr | 500 | 502 | 503 | 504 | reset
             | stream kinds:  stall | disconnect | truncate | reset
    OPTION  := seed (int, default 0) | burst (int >= 1, default 1) | stall (seconds, float)

Two scopes draw independently, one uniform draw per event, kinds tried in spec order:

* **request** (one draw per HTTP request, before auth and rate limiting):
  ``429`` answers 429 with rate-limit headers, ``429nohdr`` without them; ``burst=N`` makes
  each 429 fault repeat for the next N-1 requests of that endpoint. ``5xx`` answers that status
  with a Problem body. ``reset`` closes the socket with a TCP RST and no response.
* **stream** (one draw per tweet line about to be written on a stream):
  ``stall`` goes silent (no keep-alives) for ``stall`` seconds (default 25, more than X's
  20 s keep-alive), ``disconnect`` writes X's operational-disconnect message and closes,
  ``truncate`` writes half the line and closes, ``reset`` closes with a TCP RST.

``reset`` is in both scopes. Probabilities within a scope must sum to <= 1.
Example: ``429:0.1,500:0.05,stall:0.01,disconnect:0.02,truncate:0.01,reset:0.01,seed=7``.

Each (scope, key) pair has its own `random.Random` seeded from (seed, scope, key), where key is
the endpoint for requests and "<endpoint>#<connection number>" for streams, so a sequence of
requests (or one stream connection) sees the same faults on every run: tests can count exactly
by replaying `FaultPlan.draws`.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field

from tweetpipe.errors import ConfigError

REQUEST_KINDS = frozenset({"429", "429nohdr", "500", "502", "503", "504", "reset"})
STREAM_KINDS = frozenset({"stall", "disconnect", "truncate", "reset"})
OPTIONS = frozenset({"seed", "burst", "stall"})


@dataclass(frozen=True)
class FaultPlan:
    """A parsed fault spec; `draw` is pure given (scope, key, index)."""

    request: tuple[tuple[str, float], ...] = ()
    stream: tuple[tuple[str, float], ...] = ()
    seed: int = 0
    burst: int = 1
    stall_s: float | None = None

    def rng(self, scope: str, key: str) -> random.Random:
        return random.Random(f"{self.seed}/{scope}/{key}")

    def pick(self, scope: str, u: float) -> str | None:
        acc = 0.0
        for kind, prob in self.request if scope == "request" else self.stream:
            acc += prob
            if u < acc:
                return kind
        return None

    def draws(self, scope: str, key: str, n: int) -> list[str | None]:
        """The first `n` raw draws for (scope, key), for tests to predict what will happen."""
        rng = self.rng(scope, key)
        return [self.pick(scope, rng.random()) for _ in range(n)]


def _parse_prob(kind: str, text: str) -> float:
    try:
        prob = float(text)
    except ValueError:
        prob = -1.0
    if not 0.0 <= prob <= 1.0:
        raise ConfigError(f"fault {kind!r}: probability {text!r} must be a number in [0, 1]")
    return prob


def _parse_option(name: str, text: str, plan: dict[str, float]) -> None:
    if name not in OPTIONS:
        raise ConfigError(f"unknown fault option {name!r}; use one of {sorted(OPTIONS)}")
    try:
        value = float(text) if name == "stall" else int(text)
    except ValueError as exc:
        raise ConfigError(f"fault option {name}={text!r} must be a number") from exc
    if value < (1 if name == "burst" else 0) and name != "seed":
        raise ConfigError(f"fault option {name}={text!r} is out of range")
    plan[name] = value


def parse_faults(spec: str) -> FaultPlan:
    """Parse a fault spec (see module docstring); raises ConfigError saying what to fix."""
    request: list[tuple[str, float]] = []
    stream: list[tuple[str, float]] = []
    opts: dict[str, float] = {}
    for raw in spec.replace(" ", "").split(","):
        if not raw:
            continue
        if "=" in raw:
            name, _, value = raw.partition("=")
            _parse_option(name, value, opts)
            continue
        kind, sep, value = raw.partition(":")
        if not sep or kind not in REQUEST_KINDS | STREAM_KINDS:
            raise ConfigError(
                f"bad fault item {raw!r}: write KIND:PROBABILITY with KIND one of "
                f"{sorted(REQUEST_KINDS | STREAM_KINDS)}, or seed=/burst=/stall= options"
            )
        prob = _parse_prob(kind, value)
        if kind in REQUEST_KINDS:
            request.append((kind, prob))
        if kind in STREAM_KINDS:
            stream.append((kind, prob))
    for scope, items in (("request", request), ("stream", stream)):
        if sum(p for _, p in items) > 1.0 + 1e-9:
            raise ConfigError(f"fault probabilities of the {scope} scope sum to more than 1")
    stall = opts.get("stall")
    return FaultPlan(
        tuple(request), tuple(stream), int(opts.get("seed", 0)), int(opts.get("burst", 1)), stall
    )


@dataclass
class FaultInjector:
    """Thread-safe source of faults; counts what it injected per (scope, kind)."""

    plan: FaultPlan
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    _rngs: dict[tuple[str, str], random.Random] = field(default_factory=dict)
    _bursts: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _draw(self, scope: str, key: str) -> str | None:
        rng = self._rngs.get((scope, key))
        if rng is None:
            rng = self._rngs[(scope, key)] = self.plan.rng(scope, key)
        return self.plan.pick(scope, rng.random())

    def request_fault(self, endpoint: str) -> str | None:
        with self._lock:
            pending = self._bursts.get(endpoint, 0)
            kind = self._draw("request", endpoint)
            if pending and kind is None:
                self._bursts[endpoint] = pending - 1
                kind = self._burst_kind(endpoint)
            elif kind in ("429", "429nohdr") and self.plan.burst > 1:
                self._bursts[endpoint] = self.plan.burst - 1
                self._bursts[endpoint + "/kind"] = 0 if kind == "429" else 1
            if kind is not None:
                self.counts[("request", kind)] += 1
            return kind

    def _burst_kind(self, endpoint: str) -> str:
        return "429" if self._bursts.get(endpoint + "/kind", 0) == 0 else "429nohdr"

    def stream_fault(self, endpoint: str, connection: int) -> str | None:
        with self._lock:
            kind = self._draw("stream", f"{endpoint}#{connection}")
            if kind is not None:
                self.counts[("stream", kind)] += 1
            return kind
