"""One exception root. Every error says whether retrying can help, and carries its context.

The tree (R: `retryable`, the same call may succeed later; the rest need a person or are about
one record)::

    TweetpipeError
    ├── ConfigError                  a setting is wrong; the message names it
    │   └── DatabaseConfigError      (also a DatabaseError) login, database or schema refused
    ├── ServiceError                 a local Kafka/PostgreSQL could not be installed or started
    ├── KafkaError                   Kafka refused an operation           (kafka/errors.py)
    │   └── RetryableKafkaError   R  brokers unreachable, timed out, leader moving
    ├── DatabaseError                PostgreSQL refused (e.g. disk full)  (db/errors.py)
    │   ├── RetryableDatabaseError R connection lost, server restarting, deadlock
    │   ├── DatabaseConfigError      see above
    │   └── RowRefusedError          one row's values refused: that row is dead-lettered
    ├── RecordError                  one input record is unusable: dead-lettered, never fatal
    ├── XApiError                    the X API answered with an error     (xapi/errors.py)
    │   ├── AuthError                401/403: the token is missing, wrong or lacks access
    │   ├── RequestError             any other 4xx: the request is wrong
    │   └── RetryableXApiError    R
    │       └── TransientError    R
    │           ├── NetworkError  R  connection failed or dropped
    │           │   └── StreamStalled R no byte within the stall timeout
    │           ├── ServerError   R  5xx
    │           └── RateLimited   R  429 (waits until the window resets)
    ├── TransformError               the Spark job failed
    └── WaitTimeout               R  something did not happen by its deadline (retry.py)

Foreign errors are mapped at one boundary per library: psycopg's by SQLSTATE in `db/errors.py`,
confluent-kafka's in `kafka/errors.py`, httpx's and X's HTTP statuses in `xapi/client.py`.
"""

from __future__ import annotations

from typing import Any, ClassVar


class TweetpipeError(Exception):
    """Root of every error tweetpipe raises on purpose.

    `retryable` tells callers whether the same call may succeed later (a broker restarting, a
    database coming back) or whether a person has to fix something first (bad config, bad token).
    `context` carries coordinates such as topic, partition, offset, tweet id or HTTP status.
    """

    retryable: ClassVar[bool] = False

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context = {k: v for k, v in context.items() if v is not None}

    def __str__(self) -> str:
        if not self.context:
            return self.message
        where = ", ".join(f"{k}={v}" for k, v in self.context.items())
        return f"{self.message} ({where})"


class ConfigError(TweetpipeError):
    """The configuration is wrong; the message says which setting to fix."""


class ServiceError(TweetpipeError):
    """A local service (Kafka, PostgreSQL) could not be installed, started or reached."""


class KafkaError(TweetpipeError):
    """Kafka refused or failed an operation."""


class RetryableKafkaError(KafkaError):
    retryable = True


class DatabaseError(TweetpipeError):
    """PostgreSQL refused or failed an operation."""


class RetryableDatabaseError(DatabaseError):
    retryable = True


class DatabaseConfigError(ConfigError, DatabaseError):
    """PostgreSQL refused the account, database or schema: the message names the setting."""


class RowRefusedError(DatabaseError):
    """PostgreSQL refused a row's values (a data or integrity error): dead-letter that row."""


class RecordError(TweetpipeError):
    """One input record is unusable (bad JSON, wrong shape). Never fatal to a run."""


class XApiError(TweetpipeError):
    """The X API answered with an error."""


class RetryableXApiError(XApiError):
    retryable = True


class TransformError(TweetpipeError):
    """The Spark transformation failed."""


def last_line(error: BaseException | str) -> str:
    """The last non-blank line of an error (or of a process's output): drivers such as psycopg
    put the detail that matters there. An error without text gives its type's name."""
    text = error if isinstance(error, str) else str(error)
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if lines:
        return lines[-1]
    return "" if isinstance(error, str) else type(error).__name__
