"""Kafka -> PostgreSQL, exactly once.

Each batch's rows, its dead letters and the group's next offset per partition are committed in
one PostgreSQL transaction; on every partition assignment the consumer seeks to the offsets
stored there, so a crash at any moment neither loses nor duplicates a row. Rows go through COPY
(`writer`) and one transaction per batch (`batch`). A record that cannot be parsed or stored
goes to `dead_letters` with its reason and coordinates; a database outage is retried with
backoff, never dead-lettered.

Both cores work: while one batch is stored (a thread of its own, mostly waiting on PostgreSQL),
the next is consumed and parsed. One batch at most is in flight, and batches commit in order;
before partitions are assigned or revoked, before the lag is read and before the loader stops,
the batch in flight is committed first.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import psycopg
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition

from tweetpipe import db, kafka, progress, retry
from tweetpipe.db import errors as db_errors
from tweetpipe.errors import DatabaseError, KafkaError, RecordError
from tweetpipe.kafka.configuration import client_config
from tweetpipe.kafka.errors import from_kafka
from tweetpipe.load import lag, writer
from tweetpipe.load.batch import Batch, store
from tweetpipe.load.rows import Coordinates, parse_message
from tweetpipe.settings import Settings

OUTAGE_BACKOFF = retry.Exponential(0.5, 10.0)
#: the cyclic garbage collector's first threshold while a loader runs: a batch is thousands of
#: short-lived dicts and lists, and at Python's 700 the collector walks them over and over (a
#: tenth of the loader's time); none of them is part of a cycle
GC_THRESHOLD = 50_000

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadOptions:
    batch_messages: int = 5000
    batch_bytes: int = 32 * 1024 * 1024
    batch_seconds: float = 0.5
    max_record_bytes: int = 512 * 1024
    idle_seconds: float | None = None
    max_messages: int | None = None
    instance_id: str | None = None  # static group membership: a restart keeps its partitions
    session_timeout_ms: int = 10_000


@dataclass
class LoadStats:
    """What a loader did. `rows` are the tweet records parsed into rows; of those, `stored`
    inserted or changed a tweet_merge row and `unchanged` did not (already stored as they are,
    an older copy, or a duplicate in the batch). `api_errors` counts the partial errors that
    arrived in messages of their own (concerning no tweet), loaded into `api_errors`."""

    messages: int = 0
    rows: int = 0
    stored: int = 0
    unchanged: int = 0
    dead_letters: int = 0
    api_errors: int = 0
    repaired: int = 0
    batches: int = 0
    db_retries: int = 0
    lag: int | None = None
    started: float = field(default_factory=time.monotonic)
    first_batch: float | None = None  # when the first message arrived (monotonic)
    last_batch: float | None = None  # when the last batch was committed
    #: from a batch in hand to its commit (rows, offsets and side tables)
    batch_seconds: progress.Histogram = field(default_factory=progress.Histogram)

    @property
    def rate(self) -> float:
        """Messages per second from the first batch to the last: the steady rate, not diluted
        by start-up or by the idle wait at the end."""
        if self.first_batch is None or self.last_batch is None:
            return 0.0
        return self.messages / max(self.last_batch - self.first_batch, 1e-3)

    def line(self) -> str:
        lag = "?" if self.lag is None else str(self.lag)
        retries = f", {self.db_retries} database retries" if self.db_retries else ""
        errors = f", {self.api_errors} API errors" if self.api_errors else ""
        return (f"{self.messages} messages → {self.stored} rows stored, {self.unchanged} "
                f"unchanged, {self.dead_letters} dead letters{errors}, {self.repaired} repaired, "
                f"{self.rate:,.0f} msg/s, lag {lag}{retries}")


class Loader:
    def __init__(self, settings: Settings, options: LoadOptions | None = None, *,
                 group: str | None = None, topic: str | None = None,
                 stop: threading.Event | None = None, stats: LoadStats | None = None) -> None:
        self.settings = settings
        self.options = options or LoadOptions()
        self.group = group or settings.kafka_group
        self.topic = topic or settings.kafka_topic
        self.stop = stop or threading.Event()
        self.stats = stats if stats is not None else LoadStats()  # updated as it goes
        self._assigned: set[int] = set()
        self._stored: dict[int, int] = {}  # next offsets PostgreSQL holds, as last read/written
        self._conn: psycopg.Connection[Any] | None = None
        self._taken = 0  # messages taken into batches, stored or in flight
        self._in_flight: tuple[Batch, Future[float]] | None = None
        self._storer = ThreadPoolExecutor(1, thread_name_prefix="tweetpipe-store")
        static = {"group.instance.id": self.options.instance_id} if self.options.instance_id else {}
        self._consumer = Consumer(client_config(
            settings, "tweetpipe-loader", **static, **{
            "session.timeout.ms": self.options.session_timeout_ms,
            "group.id": self.group,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "enable.partition.eof": False,
            "fetch.max.bytes": 64 * 1024 * 1024,
            "max.poll.interval.ms": 600_000}))

    # ---- partition assignment: seek to the offsets PostgreSQL holds ------------------------

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._settle()  # the connection is free, and the offsets read are the latest
        stored = self._with_db_retry(lambda conn: writer.stored_offsets(
            conn, self.group, self.topic, [p.partition for p in partitions]))
        self._stored.update(stored)
        for p in partitions:
            p.offset = stored.get(p.partition, OFFSET_BEGINNING)
        consumer.assign(partitions)
        self._assigned = {p.partition for p in partitions}

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._settle()  # what was read from them is committed before they go
        self._assigned -= {p.partition for p in partitions}
        consumer.unassign()

    # ---- main loop ----------------------------------------------------------------------------

    def run(self) -> LoadStats:
        """Load until stopped, `max_messages` or `idle_seconds` without messages and no lag."""
        with _fewer_collections():
            return self._run()

    def _run(self) -> LoadStats:
        self._consumer.subscribe([self.topic], on_assign=self._on_assign,
                                 on_revoke=self._on_revoke, on_lost=self._on_revoke)
        idle_since = time.monotonic()
        try:
            while not self.stop.is_set() and not self._reached_max():
                batch = self._next_batch()
                if len(batch):
                    self._submit(batch)
                    idle_since = time.monotonic()
                else:
                    self._settle()
                    if self._idle_done(idle_since):
                        break
            self._settle()
        finally:
            self._storer.shutdown(wait=True)  # never close the connection under a store
            self._consumer.close()
            if self._conn is not None:
                self._conn.close()
        return self.stats

    def _reached_max(self) -> bool:
        limit = self.options.max_messages
        return limit is not None and self._taken >= limit

    def _idle_done(self, idle_since: float) -> bool:
        idle = self.options.idle_seconds
        if idle is None or time.monotonic() - idle_since < idle or not self._assigned:
            return False
        self.stats.lag = self._lag_or_none()
        return self.stats.lag == 0

    def _next_batch(self) -> Batch:
        opts, batch = self.options, Batch()
        deadline = time.monotonic() + opts.batch_seconds
        while len(batch) < opts.batch_messages and batch.size < opts.batch_bytes:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.stop.is_set():
                break
            want = opts.batch_messages - len(batch)
            if opts.max_messages is not None:
                want = min(want, opts.max_messages - self._taken - len(batch))
                if want <= 0:
                    break
            messages = self._consumer.consume(num_messages=want, timeout=remaining)
            if messages and self.stats.first_batch is None:
                self.stats.first_batch = time.monotonic()
            for msg in messages:
                self._add(batch, msg)
        self._taken += len(batch)
        return batch

    def _add(self, batch: Batch, msg: Any) -> None:
        if msg.error():
            if msg.error().fatal():
                raise from_kafka(msg.error(), "consumer failed", topic=self.topic,
                                 partition=msg.partition())
            return
        if msg.partition() not in self._assigned:
            return  # revoked while fetched: its new owner reads it from the stored offset
        where = Coordinates(msg.topic(), msg.partition(), msg.offset())
        value = msg.value()
        batch.size += len(value or b"")
        batch.next_offsets[(where.topic, where.partition)] = where.offset + 1
        try:
            parsed = parse_message(value, where, max_bytes=self.options.max_record_bytes)
        except RecordError as exc:
            batch.dead.append(writer.dead_letter_row(exc.message, where, msg.key(), value))
            return
        parsed.key = msg.key()
        batch.parsed.append(parsed)
        batch.repaired += parsed.repaired

    # ---- storing: one batch in flight --------------------------------------------------------

    def _submit(self, batch: Batch) -> None:
        """Store `batch` in the store thread, once the batch before it is committed."""
        self._settle()
        self._in_flight = (batch, self._storer.submit(self._store_timed, batch))

    def _settle(self) -> None:
        """Wait for the batch in flight to be committed (raising what stopped it), and count it."""
        if self._in_flight is None:
            return
        batch, storing = self._in_flight
        self._in_flight = None
        self.stats.batch_seconds.observe(storing.result())
        self._account(batch)

    def _store_timed(self, batch: Batch) -> float:
        """Commit the batch (retrying outages); the seconds it took."""
        began = time.monotonic()
        self._with_db_retry(functools.partial(self._store, batch=batch))
        return time.monotonic() - began

    def _store(self, conn: psycopg.Connection[Any], batch: Batch) -> None:
        store(conn, batch, self.group, self.settings)

    def _account(self, batch: Batch) -> None:
        tweets = sum(p.tweet is not None for p in batch.parsed)
        self.stats.messages += len(batch)
        self.stats.rows += tweets
        self.stats.stored += batch.stored
        self.stats.unchanged += tweets - batch.stored
        self.stats.api_errors += sum(len(p.api_errors) for p in batch.parsed)
        self.stats.dead_letters += len(batch.dead)
        self.stats.repaired += batch.repaired
        self.stats.batches += 1
        self.stats.last_batch = time.monotonic()
        self._commit_to_kafka(batch)
        self._stored.update({p: o for (_, p), o in batch.next_offsets.items()})
        self.stats.lag = self._cached_lag()

    def _commit_to_kafka(self, batch: Batch) -> None:
        """For lag tools only: PostgreSQL holds the offsets that count."""
        offsets = [TopicPartition(t, p, o) for (t, p), o in batch.next_offsets.items()
                   if p in self._assigned]
        if offsets:
            with contextlib.suppress(KafkaException):
                self._consumer.commit(offsets=offsets, asynchronous=True)

    def _with_db_retry(self, work: Callable[[psycopg.Connection[Any]], Any]) -> Any:
        """Run `work` on the loader's connection; on an outage wait (0.5 s, doubling up to
        10 s), reconnect and run it again, until it succeeds or `stop` is set."""
        return retry.call(functools.partial(self._on_connection, work),
                          retry_on=_is_outage, delay=OUTAGE_BACKOFF,
                          stop=self.stop, on_retry=self._on_outage,
                          what=f"PostgreSQL at {self.settings.db_display}")

    def _on_connection(self, work: Callable[[psycopg.Connection[Any]], Any]) -> Any:
        try:
            if self._conn is None or self._conn.closed:
                self._conn = writer.open_connection(self.settings)
            return work(self._conn)
        except (psycopg.Error, DatabaseError) as exc:
            if _is_outage(exc):  # waited out by _with_db_retry
                raise
            error = db_errors.classify(exc, self.settings)
            if error is exc:
                raise
            raise error from exc

    def _on_outage(self, attempt: retry.Attempt) -> None:
        self.stats.db_retries += 1
        if self._conn is not None:
            self._conn.close()
        self._conn = None
        if attempt.error is not None:
            writer.report_outage(self.settings, attempt.error, attempt.delay)

    def lag(self) -> int:
        """Messages in the assigned partitions past the offsets PostgreSQL holds."""
        partitions = sorted(self._assigned)
        stored = self._with_db_retry(
            lambda conn: writer.stored_offsets(conn, self.group, self.topic, partitions))
        marks = {p: kafka.partition_watermarks(self._consumer, self.topic, p) for p in partitions}
        return lag.total_lag(lag.positions(marks, stored))

    def _cached_lag(self) -> int | None:
        """The lag for progress, without a round trip: the watermarks of the last fetch and the
        offsets this loader read and wrote; None while they are not known."""
        marks = {}
        for p in self._assigned:
            try:
                low, high = self._consumer.get_watermark_offsets(
                    TopicPartition(self.topic, p), cached=True)
            except KafkaException:
                return None
            if low < 0 or high < 0:
                return None
            marks[p] = (int(low), int(high))
        return lag.total_lag(lag.positions(marks, self._stored))

    def _lag_or_none(self) -> int | None:
        """The lag, or None while Kafka cannot tell (a partition's leader just died): a
        progress figure never stops the loader."""
        try:
            return self.lag()
        except KafkaError as exc:
            log.info("lag unknown for now: %s", exc)
            return None


@dataclass
class _Collections:
    """The loaders running in this process, and the collector's thresholds before the first."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    loaders: int = 0
    before: tuple[int, ...] = ()


_collections = _Collections()


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Raise the collector's first threshold to GC_THRESHOLD (never lower it) while a loader
    runs; the thresholds of before come back when the last loader of the process stops."""
    with _collections.lock:
        if _collections.loaders == 0:
            _collections.before = gc.get_threshold()
            gc.set_threshold(max(_collections.before[0], GC_THRESHOLD),
                             *_collections.before[1:])
        _collections.loaders += 1
    try:
        yield
    finally:
        with _collections.lock:
            _collections.loaders -= 1
            if _collections.loaders == 0:
                gc.set_threshold(*_collections.before)


def _is_outage(exc: BaseException) -> bool:
    """Only an outage is waited out (and retried); every other error is raised."""
    return isinstance(exc, psycopg.Error | DatabaseError) and db_errors.is_retryable(exc)


def load(settings: Settings, options: LoadOptions, **kwargs: Any) -> LoadStats:
    db.migrate(settings)
    return Loader(settings, options, **kwargs).run()

