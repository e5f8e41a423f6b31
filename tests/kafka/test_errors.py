"""Kafka errors are mapped to tweetpipe's once, keeping librdkafka's own judgement."""

from __future__ import annotations

import confluent_kafka as ck

from tweetpipe.errors import KafkaError, RetryableKafkaError
from tweetpipe.kafka.errors import already_exists, from_kafka, is_retryable


def test_unreachable_and_retriable_errors_are_retryable_with_context() -> None:
    for error in (ck.KafkaError(ck.KafkaError._TRANSPORT),
                  ck.KafkaError(ck.KafkaError._ALL_BROKERS_DOWN),
                  ck.KafkaError(ck.KafkaError.UNKNOWN, retriable=True)):
        mapped = from_kafka(ck.KafkaException(error), "cannot produce", topic="t", key="42")
        assert isinstance(mapped, RetryableKafkaError) and mapped.retryable
        assert mapped.context["topic"] == "t" and mapped.context["key"] == "42"
        assert str(mapped).startswith("cannot produce: ")


def test_refusals_and_fatal_errors_are_terminal() -> None:
    for error in (ck.KafkaError(ck.KafkaError.TOPIC_AUTHORIZATION_FAILED),
                  ck.KafkaError(ck.KafkaError.MSG_SIZE_TOO_LARGE),
                  ck.KafkaError(ck.KafkaError._TRANSPORT, fatal=True)):
        assert not is_retryable(error)
        mapped = from_kafka(error, "consumer failed", partition=3)
        assert type(mapped) is KafkaError and not mapped.retryable
        assert mapped.context["error"] == error.name()


def test_topic_already_exists_is_recognised() -> None:
    exists = ck.KafkaException(ck.KafkaError(ck.KafkaError.TOPIC_ALREADY_EXISTS))
    assert already_exists(exists)
    assert not already_exists(ck.KafkaException(ck.KafkaError(ck.KafkaError._TRANSPORT)))
