"""confluent-kafka errors -> tweetpipe's errors, in one place.

librdkafka says itself whether an error is worth retrying (`KafkaError.retriable()`), fatal for
the client (`fatal()`), or one the cluster answers for good (an unknown topic, an authorization
failure, a record too large). `from_kafka` keeps that judgement: a retriable error, a timeout or
a broker that cannot be reached becomes `RetryableKafkaError`; anything else `KafkaError`
(terminal). Both carry the context given (topic, partition, key, ...) and librdkafka's own
error name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from confluent_kafka import KafkaException

from tweetpipe.errors import KafkaError, RetryableKafkaError

if TYPE_CHECKING:
    from tweetpipe.settings import Settings

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


#: librdkafka's words for a TLS or SASL failure that no retry mends -> the settings to fix
_SECURITY_FIXES = (
    ("certificate verify failed",
     "the broker's certificate is not signed by the CA in KAFKA_SSL_CA_LOCATION, or does not "
     "name the host of KAFKA_BOOTSTRAP_SERVERS: fix KAFKA_SSL_CA_LOCATION (the CA file that "
     "signed the brokers' certificates) or use a host name the certificate holds"),
    ("invalid credentials",
     "the broker refused the SASL login: fix KAFKA_SASL_USERNAME or KAFKA_SASL_PASSWORD (or "
     "KAFKA_SASL_PASSWORD_FILE)"),
    ("SASL authentication error",
     "the broker refused the SASL login: fix KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD (or "
     "KAFKA_SASL_PASSWORD_FILE) or KAFKA_SASL_MECHANISM"),
    ("Unsupported SASL mechanism",
     "the broker does not offer KAFKA_SASL_MECHANISM: fix KAFKA_SASL_MECHANISM"),
    ("wrong version number",
     "the broker does not speak TLS on that port: fix KAFKA_SECURITY_PROTOCOL or "
     "KAFKA_BOOTSTRAP_SERVERS"),
    ("packet length too long",
     "the broker does not speak TLS on that port: fix KAFKA_SECURITY_PROTOCOL or "
     "KAFKA_BOOTSTRAP_SERVERS"),
    ("private key", "the client key cannot be used: fix KAFKA_SSL_KEY_LOCATION or "
     "KAFKA_SSL_KEY_PASSWORD"),
)


def security_failure(error: Any, settings: Settings | None = None) -> KafkaError | None:
    """The terminal error for a TLS or SASL failure librdkafka reports (through `error_cb`),
    naming the setting to fix; None for any other error. Never holds a secret."""
    if code_name(error) not in ("_AUTHENTICATION", "_SSL"):
        return None
    text = error.str() if callable(getattr(error, "str", None)) else str(error)
    fix = next((fix for words, fix in _SECURITY_FIXES if words.lower() in text.lower()), None)
    if fix is None:
        return None
    for secret in _secrets(settings):
        text = text.replace(secret, "***")
    return KafkaError(f"{fix} ({text})", error=code_name(error))


def _secrets(settings: Settings | None) -> list[str]:
    if settings is None:
        return []
    values = (settings.kafka_sasl_password, settings.kafka_ssl_key_password)
    return [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]


def raise_security_failures(settings: Settings) -> Callable[[Any], None]:
    """librdkafka's `error_cb`: a TLS or SASL failure stops the client (confluent-kafka
    raises it from the poll, flush or consume that served the callback) instead of being
    retried forever; other errors are left to the client's own retries."""
    def on_error(error: Any) -> None:
        failure = security_failure(error, settings)
        if failure is not None:
            raise failure

    return on_error
