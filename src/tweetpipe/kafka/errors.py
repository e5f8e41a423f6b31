"""confluent-kafka errors -> tweetpipe's errors, in one place.

librdkafka says itself whether an error is worth retrying (`KafkaError.retriable()`), fatal for
the client (`fatal()`), or one the cluster answers for good (an unknown topic, an authorization
failure, a record too large). `from_kafka` keeps that judgement: a retriable error, a timeout or
a broker that cannot be reached becomes `RetryableKafkaError`; anything else `KafkaError`
(terminal). Both carry the context given (topic, partition, key, ...) and librdkafka's own
error name.
"""

from __future__ import annotations

from typing import Any

from confluent_kafka import KafkaException

from tweetpipe.errors import KafkaError, RetryableKafkaError

#: librdkafka error names that mean "the cluster cannot be reached right now"
_UNREACHABLE = frozenset({"_TRANSPORT", "_ALL_BROKERS_DOWN", "_TIMED_OUT", "_MSG_TIMED_OUT",
                          "_RESOLVE", "_WAIT_COORD", "NOT_COORDINATOR",
                          "COORDINATOR_NOT_AVAILABLE", "LEADER_NOT_AVAILABLE",
                          "NOT_LEADER_FOR_PARTITION", "REQUEST_TIMED_OUT",
                          "_DESTROY_BROKER"})


def error_of(exc: BaseException | Any) -> Any:
    """The librdkafka `KafkaError` inside a `KafkaException` (or the error itself)."""
    if isinstance(exc, KafkaException) and exc.args:
        return exc.args[0]
    return exc


def code_name(exc: BaseException | Any) -> str:
    error = error_of(exc)
    name = getattr(error, "name", None)
    return str(name()) if callable(name) else type(error).__name__


def is_retryable(exc: BaseException | Any) -> bool:
    error = error_of(exc)
    if callable(getattr(error, "fatal", None)) and error.fatal():
        return False
    if callable(getattr(error, "retriable", None)) and error.retriable():
        return True
    return code_name(error) in _UNREACHABLE


def from_kafka(exc: BaseException | Any, what: str, **context: Any) -> KafkaError:
    """The tweetpipe error for a failed Kafka operation `what` ("cannot produce", ...)."""
    error = error_of(exc)
    text = error.str() if callable(getattr(error, "str", None)) else str(error)
    kind = RetryableKafkaError if is_retryable(error) else KafkaError
    return kind(f"{what}: {text}", error=code_name(error), **context)


def already_exists(exc: BaseException) -> bool:
    return code_name(exc) == "TOPIC_ALREADY_EXISTS" or "already exists" in str(exc)
