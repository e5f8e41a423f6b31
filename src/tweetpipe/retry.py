"""The one way tweetpipe waits and retries: a delay schedule, a deadline or a stop event.

`call(work, ...)` runs `work` until it returns, retrying the exceptions named in `retry_on`;
`until(condition, ...)` polls `condition` until it is true. Both wait between attempts by a
schedule (`Constant`, `Exponential`, or any callable of the attempt number and the last error),
interruptibly when a stop `threading.Event` is given, and report every retry to `on_retry`.

They end in one of four ways:

- success: `call` returns what `work` returned;
- the deadline (`timeout`) passes: `error` (default `WaitTimeout`) is raised, saying what was
  waited for, for how long, and the last error;
- `attempts` are used up, or `stop` is set: the last error of `work` is raised again as it was
  (the caller sees the real cause); with no error to raise (`until`), `error` is raised;
- `work` raises anything not in `retry_on`: it propagates at once.

A wait without `timeout` must have a `stop` event ("until stopped") or `attempts`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NotRequired, TypedDict, TypeVar, Unpack

from tweetpipe.errors import TweetpipeError, last_line

log = logging.getLogger(__name__)
T = TypeVar("T")
Schedule = Callable[[int, BaseException | None], float]
Delay = float | Schedule
RetryOn = type[BaseException] | tuple[type[BaseException], ...] | Callable[[BaseException], bool]


class WaitTimeout(TweetpipeError):
    """Something did not happen within its deadline; waiting longer may still help."""

    retryable = True


@dataclass(frozen=True)
class Constant:
    """The same delay before every retry."""

    seconds: float

    def __call__(self, attempt: int, error: BaseException | None = None) -> float:
        return self.seconds


@dataclass(frozen=True)
class Exponential:
    """`first`, then times `factor` per retry, never above `cap`."""

    first: float
    cap: float
    factor: float = 2.0

    def __call__(self, attempt: int, error: BaseException | None = None) -> float:
        return float(min(self.first * self.factor ** (max(attempt, 1) - 1), self.cap))


@dataclass(frozen=True)
class Attempt:
    """What `on_retry` is told before each wait: attempt `number` failed with `error` (None
    when a condition was not met yet), `elapsed` seconds since the start, `delay` to wait."""

    what: str
    number: int
    error: BaseException | None
    elapsed: float
    delay: float


@dataclass(frozen=True)
class Policy:
    """How to wait: schedule, limits, stop event, reporting; `clock`/`sleep` for tests."""

    what: str
    delay: Delay = 0.5
    timeout: float | None = None
    attempts: int | None = None
    stop: threading.Event | None = None
    on_retry: Callable[[Attempt], None] | None = None
    error: type[TweetpipeError] = WaitTimeout
    details: Callable[[], str] | None = None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], object] | None = None

    def __post_init__(self) -> None:
        if self.timeout is None and self.stop is None and self.attempts is None:
            raise ValueError(f"waiting for {self.what}: give a timeout, attempts or a stop event")

    def next_delay(self, number: int, error: BaseException | None) -> float:
        delay = self.delay(number, error) if callable(self.delay) else self.delay
        return max(float(delay), 0.0)

    def wait(self, seconds: float) -> bool:
        """Wait `seconds`; True if `stop` was set (before or during the wait)."""
        if self.sleep is not None:
            if seconds > 0:
                self.sleep(seconds)
            return self.stop is not None and self.stop.is_set()
        if self.stop is not None:
            return self.stop.wait(seconds) if seconds > 0 else self.stop.is_set()
        if seconds > 0:
            time.sleep(seconds)
        return False

    def give_up(self, number: int, elapsed: float, error: BaseException | None,
                why: str) -> TweetpipeError:
        message = f"{why} waiting {elapsed:.1f}s for {self.what} ({number} attempts)"
        if error is not None:
            message += f"; last error: {last_line(error)}"
        if self.details is not None:
            message += f"\n{self.details()}"
        return self.error(message)


class Options(TypedDict):
    """`Policy`'s fields, as keyword arguments of `call` and `until`."""

    what: str
    delay: NotRequired[Delay]
    timeout: NotRequired[float | None]
    attempts: NotRequired[int | None]
    stop: NotRequired[threading.Event | None]
    on_retry: NotRequired[Callable[[Attempt], None] | None]
    error: NotRequired[type[TweetpipeError]]
    details: NotRequired[Callable[[], str] | None]
    clock: NotRequired[Callable[[], float]]
    sleep: NotRequired[Callable[[float], object] | None]


class _NotYet(Exception):
    """`until`'s condition is still false."""


def call(work: Callable[[], T], *, retry_on: RetryOn, **policy: Unpack[Options]) -> T:
    """Run `work` until it returns, retrying `retry_on` errors as `Policy(**policy)` says."""
    return run(work, retry_on, Policy(**policy))


def until(condition: Callable[[], bool], **policy: Unpack[Options]) -> None:
    """Poll `condition` until it is true, as `Policy(**policy)` says."""

    def check() -> None:
        if not condition():
            raise _NotYet

    run(check, _NotYet, Policy(**policy))


def run(work: Callable[[], T], retry_on: RetryOn, policy: Policy) -> T:
    """The one retry loop."""
    started = policy.clock()
    number = 0
    while True:
        number += 1
        try:
            return work()
        except BaseException as exc:
            if not _matches(exc, retry_on):
                raise
            error = None if isinstance(exc, _NotYet) else exc
            elapsed = policy.clock() - started
            delay = _before_retry(policy, number, error, elapsed)
            if policy.wait(delay):
                _stopped(policy, number, policy.clock() - started, error)


def _before_retry(policy: Policy, number: int, error: BaseException | None,
                  elapsed: float) -> float:
    """The delay before the next attempt; raises when limits are reached (or stop is set)."""
    if policy.attempts is not None and number >= policy.attempts:
        if error is not None:
            raise error
        raise policy.give_up(number, elapsed, None, "gave up after")
    if policy.timeout is not None and elapsed >= policy.timeout:
        raise policy.give_up(number, elapsed, error, "timed out") from error
    if policy.stop is not None and policy.stop.is_set():
        _stopped(policy, number, elapsed, error)
    delay = policy.next_delay(number, error)
    if policy.timeout is not None:
        delay = min(delay, policy.timeout - elapsed)  # one last attempt at the deadline
    if policy.on_retry is not None:
        policy.on_retry(Attempt(policy.what, number, error, elapsed, delay))
    log.debug("waiting %.2fs for %s (attempt %d): %s", delay, policy.what, number,
              last_line(error) if error is not None else "not yet")
    return delay


def _stopped(policy: Policy, number: int, elapsed: float, error: BaseException | None) -> None:
    if error is not None:
        raise error
    raise policy.give_up(number, elapsed, None, "stopped after")


def _matches(exc: BaseException, retry_on: RetryOn) -> bool:
    if isinstance(retry_on, type | tuple):
        return isinstance(exc, retry_on)
    return bool(retry_on(exc))
