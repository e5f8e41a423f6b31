"""Client configuration shared by every Kafka client tweetpipe makes.

`client_config` is the one place a librdkafka client (producer, consumer, admin, status) is
configured, security included: KAFKA_SECURITY_PROTOCOL, the SASL mechanism and credentials,
the CA and client certificate. OAUTHBEARER signs MSK IAM tokens with the AWS credentials of
the environment (`pip install tweetpipe[aws]`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tweetpipe.errors import ConfigError
from tweetpipe.kafka.errors import raise_security_failures
from tweetpipe.settings import Settings

KAFKA_LOG = logging.getLogger("tweetpipe.kafka")


def client_config(settings: Settings, client_id: str, **overrides: Any) -> dict[str, Any]:
    """librdkafka settings for a producer, consumer or admin client of these settings."""
    return {
        "bootstrap.servers": settings.kafka_bootstrap_servers,
        "client.id": client_id,
        "logger": KAFKA_LOG,
        "error_cb": raise_security_failures(settings),
        **security_config(settings),
        **overrides,
    }


def security_config(settings: Settings) -> dict[str, Any]:
    """The librdkafka security properties of the settings (holds secrets: never log it)."""
    check_security(settings)
    protocol = settings.kafka_security_protocol
    config: dict[str, Any] = {"security.protocol": protocol.lower()}
    if protocol.startswith("SASL_"):
        mechanism = settings.kafka_sasl_mechanism
        config["sasl.mechanisms"] = mechanism
        if mechanism == "OAUTHBEARER":
            config["oauth_cb"] = msk_iam_token_provider(str(settings.aws_region))
        else:
            assert settings.kafka_sasl_password is not None  # checked above
            config["sasl.username"] = settings.kafka_sasl_username
            config["sasl.password"] = settings.kafka_sasl_password.get_secret_value()
    if protocol in ("SSL", "SASL_SSL"):
        for _, key, path in _tls_files(settings):
            if path is not None:
                config[key] = str(path.expanduser())
        if settings.kafka_ssl_key_password is not None:
            config["ssl.key.password"] = settings.kafka_ssl_key_password.get_secret_value()
    return config


def _tls_files(settings: Settings) -> list[tuple[str, str, Path | None]]:
    """(setting, librdkafka property, path) of the CA and the client certificate and key."""
    return [("KAFKA_SSL_CA_LOCATION", "ssl.ca.location", settings.kafka_ssl_ca_location),
            ("KAFKA_SSL_CERTIFICATE_LOCATION", "ssl.certificate.location",
             settings.kafka_ssl_certificate_location),
            ("KAFKA_SSL_KEY_LOCATION", "ssl.key.location", settings.kafka_ssl_key_location)]


def check_security(settings: Settings) -> None:
    """A `ConfigError` naming the setting to fix when the security settings do not add up."""
    protocol, mechanism = settings.kafka_security_protocol, settings.kafka_sasl_mechanism
    if protocol.startswith("SASL_"):
        if mechanism is None:
            raise ConfigError(f"KAFKA_SECURITY_PROTOCOL={protocol} needs KAFKA_SASL_MECHANISM "
                              "(SCRAM-SHA-512, SCRAM-SHA-256, PLAIN or OAUTHBEARER)")
        if mechanism == "OAUTHBEARER" and not settings.aws_region:
            raise ConfigError("KAFKA_SASL_MECHANISM=OAUTHBEARER (MSK IAM) needs AWS_REGION, "
                              "the region of the MSK cluster")
        if mechanism != "OAUTHBEARER" and (not settings.kafka_sasl_username
                                           or settings.kafka_sasl_password is None):
            raise ConfigError(f"KAFKA_SASL_MECHANISM={mechanism} needs KAFKA_SASL_USERNAME and "
                              "KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE)")
    elif mechanism is not None:
        raise ConfigError(f"KAFKA_SASL_MECHANISM={mechanism} is set but "
                          f"KAFKA_SECURITY_PROTOCOL={protocol} does not use SASL: set "
                          "KAFKA_SECURITY_PROTOCOL to SASL_SSL (or SASL_PLAINTEXT)")
    tls = protocol in ("SSL", "SASL_SSL")
    for name, _, path in _tls_files(settings):
        if path is not None and tls and not path.expanduser().is_file():
            raise ConfigError(f"{name}: no file at {path}; fix {name}")
    if (settings.kafka_ssl_certificate_location is None) != (
            settings.kafka_ssl_key_location is None):
        raise ConfigError("a client certificate needs both KAFKA_SSL_CERTIFICATE_LOCATION and "
                          "KAFKA_SSL_KEY_LOCATION")


def msk_iam_token_provider(region: str) -> Callable[[Any], tuple[str, float]]:
    """librdkafka's `oauth_cb` for MSK IAM: a token signed with the environment's AWS
    credentials, and its expiry in seconds since the epoch."""
    try:
        from aws_msk_iam_sasl_signer import MSKAuthTokenProvider
    except ImportError:
        raise ConfigError("KAFKA_SASL_MECHANISM=OAUTHBEARER (MSK IAM) needs the AWS signer: "
                          "pip install 'tweetpipe[aws]'") from None

    def token(_config: Any) -> tuple[str, float]:
        auth_token, expiry_ms = MSKAuthTokenProvider.generate_auth_token(region)
        return auth_token, expiry_ms / 1000

    return token
