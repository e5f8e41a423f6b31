"""The one retry/backoff helper and the one "last line of an error" helper: pure, fake clock."""

from __future__ import annotations

import threading

import pytest

from tweetpipe import retry
from tweetpipe.errors import ServiceError, last_line
from tweetpipe.retry import Attempt, Constant, Exponential, WaitTimeout


class FakeTime:
    """A clock that moves only when slept on."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def failing(times: int, error: BaseException, result: str = "done"):  # type: ignore[no-untyped-def]
    calls = {"n": 0}

    def work() -> str:
        calls["n"] += 1
        if calls["n"] <= times:
            raise error
        return result

    work.calls = calls  # type: ignore[attr-defined]
    return work


def test_schedules() -> None:
    assert [Constant(0.5)(n) for n in (1, 2, 9)] == [0.5, 0.5, 0.5]
    assert [Exponential(0.5, 10.0)(n) for n in range(1, 8)] == [0.5, 1, 2, 4, 8, 10, 10]
    assert Exponential(5.0, 320.0, factor=3)(3) == 45.0


def test_retries_named_errors_with_the_schedule_and_reports_each_retry() -> None:
    t, seen = FakeTime(), []
    work = failing(3, ConnectionError("refused"))
    result = retry.call(work, retry_on=ConnectionError, what="the thing",
                        delay=Exponential(0.5, 10.0), timeout=60, on_retry=seen.append,
                        clock=t.clock, sleep=t.sleep)
    assert result == "done"
    assert t.slept == [0.5, 1.0, 2.0]
    assert [(a.number, a.delay, str(a.error)) for a in seen] == [
        (1, 0.5, "refused"), (2, 1.0, "refused"), (3, 2.0, "refused")]
    assert seen[2].elapsed == pytest.approx(1.5)


def test_other_errors_propagate_at_once() -> None:
    t = FakeTime()
    work = failing(1, KeyError("not retried"))
    with pytest.raises(KeyError):
        retry.call(work, retry_on=ConnectionError, what="x", timeout=5,
                   clock=t.clock, sleep=t.sleep)
    assert t.slept == []


def test_deadline_raises_a_clear_error_saying_what_and_how_long() -> None:
    t = FakeTime()
    work = failing(1000, ConnectionError("first line\nFATAL: password authentication failed"))
    with pytest.raises(WaitTimeout) as info:
        retry.call(work, retry_on=ConnectionError, what="PostgreSQL to accept us",
                   delay=Constant(2.0), timeout=5.0, clock=t.clock, sleep=t.sleep)
    message = str(info.value)
    assert "5.0s for PostgreSQL to accept us" in message
    assert "last error: FATAL: password authentication failed" in message
    assert info.value.retryable
    assert t.slept == [2.0, 2.0, 1.0]  # the last wait is cut to the deadline, then one more try
    assert t.now == pytest.approx(105.0)


def test_deadline_error_class_and_details_are_the_callers() -> None:
    t = FakeTime()
    with pytest.raises(ServiceError, match=r"for Kafka .*\nlog tail here") as info:
        retry.until(lambda: False, what="Kafka to answer", delay=1.0, timeout=3.0,
                    error=ServiceError, details=lambda: "log tail here",
                    clock=t.clock, sleep=t.sleep)
    assert not info.value.retryable


def test_until_polls_a_condition() -> None:
    t = FakeTime()
    answers = iter([False, False, True])
    retry.until(lambda: next(answers), what="port", delay=0.3, timeout=10,
                clock=t.clock, sleep=t.sleep)
    assert t.slept == [0.3, 0.3]


def test_attempts_exhausted_reraise_the_last_error_itself() -> None:
    t = FakeTime()
    error = ConnectionError("still down")
    with pytest.raises(ConnectionError) as info:
        retry.call(failing(10, error), retry_on=ConnectionError, what="x", attempts=3,
                   clock=t.clock, sleep=t.sleep)
    assert info.value is error
    assert len(t.slept) == 2


def test_stop_event_ends_the_wait_and_reraises_the_cause() -> None:
    stop = threading.Event()
    error = ConnectionError("down")

    seen: list[int] = []

    def stop_now(attempt: Attempt) -> None:
        seen.append(attempt.number)
        stop.set()  # e.g. SIGTERM during the wait

    with pytest.raises(ConnectionError) as info:
        retry.call(failing(10, error), retry_on=ConnectionError, what="x", delay=3600.0,
                   stop=stop, on_retry=stop_now)  # a real wait: the stop event ends it
    assert info.value is error
    assert seen == [1]


def test_stop_event_interrupts_a_long_real_wait_and_nothing_runs_after_it() -> None:
    stop = threading.Event()
    calls: list[float] = []
    threading.Timer(0.05, stop.set).start()
    with pytest.raises(WaitTimeout, match="stopped after"):
        retry.until(lambda: bool(calls.append(1)), what="never", delay=3600.0, stop=stop)
    assert calls == [1]


def test_schedule_may_depend_on_the_error() -> None:
    t = FakeTime()

    class Slow(Exception):
        wait = 7.0

    work = failing(2, Slow())
    retry.call(work, retry_on=lambda e: isinstance(e, Slow), what="x", attempts=5,
               delay=lambda n, e: getattr(e, "wait", 1.0) * n, clock=t.clock, sleep=t.sleep)
    assert t.slept == [7.0, 14.0]


def test_a_wait_without_limits_is_refused() -> None:
    with pytest.raises(ValueError, match="timeout, attempts or a stop event"):
        retry.until(lambda: True, what="forever")


def test_last_line() -> None:
    assert last_line(ValueError("connection failed\n  FATAL:  no such role  \n\n")) == \
        "FATAL:  no such role"
    assert last_line(ValueError()) == "ValueError"
    assert last_line("out\nerr: boom\n") == "err: boom"
    assert last_line("") == ""
