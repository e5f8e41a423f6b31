"""The security settings as every client sees them: librdkafka's properties, Spark's Kafka
source options, libpq's and pgjdbc's TLS parameters; settings that do not add up are refused
with the setting to fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tweetpipe.errors import ConfigError, KafkaError
from tweetpipe.kafka.configuration import client_config
from tweetpipe.settings import Settings, load_settings
from tweetpipe.transform.spark_session import jdbc_properties, kafka_options

SECRET = "scram-secret-0b5e"


def secure(tmp_path: Path, **extra: Any) -> Settings:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    password = tmp_path / "kafka.password"
    password.write_text(f"{SECRET}\n")
    return load_settings(**{
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "KAFKA_SASL_USERNAME": "tweetpipe", "KAFKA_SASL_PASSWORD_FILE": str(password),
        "KAFKA_SSL_CA_LOCATION": str(ca), **extra})


def test_plaintext_is_the_default() -> None:
    config = client_config(load_settings(), "x")
    assert config["security.protocol"] == "plaintext"
    assert not any(key.startswith(("sasl.", "ssl.")) for key in config)


def test_sasl_ssl_scram_maps_to_librdkafka(tmp_path: Path) -> None:
    config = client_config(secure(tmp_path), "x")
    assert {k: v for k, v in config.items() if k.startswith(("sasl", "ssl", "security"))} == {
        "security.protocol": "sasl_ssl", "sasl.mechanisms": "SCRAM-SHA-512",
        "sasl.username": "tweetpipe", "sasl.password": SECRET,  # from the _FILE, stripped
        "ssl.ca.location": str(tmp_path / "ca.pem")}


def test_client_certificate_and_key_password(tmp_path: Path) -> None:
    cert, key = tmp_path / "client.pem", tmp_path / "client.key"
    cert.write_text("c")
    key.write_text("k")
    config = client_config(load_settings(
        KAFKA_SECURITY_PROTOCOL="SSL", KAFKA_SSL_CERTIFICATE_LOCATION=str(cert),
        KAFKA_SSL_KEY_LOCATION=str(key), KAFKA_SSL_KEY_PASSWORD="kp"), "x")
    assert (config["ssl.certificate.location"], config["ssl.key.location"],
            config["ssl.key.password"]) == (str(cert), str(key), "kp")
    assert "sasl.mechanisms" not in config


def test_oauthbearer_signs_msk_iam_tokens_for_the_region() -> None:
    config = client_config(load_settings(
        KAFKA_SECURITY_PROTOCOL="SASL_SSL", KAFKA_SASL_MECHANISM="OAUTHBEARER",
        AWS_REGION="eu-west-1"), "x")
    assert config["sasl.mechanisms"] == "OAUTHBEARER"
    assert callable(config["oauth_cb"]) and "sasl.password" not in config


@pytest.mark.parametrize(("settings", "names"), [
    ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "KAFKA_SASL_MECHANISM"),
    ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
      "KAFKA_SASL_USERNAME": "u"}, "KAFKA_SASL_PASSWORD"),
    ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "OAUTHBEARER"},
     "AWS_REGION"),
    ({"KAFKA_SASL_MECHANISM": "PLAIN"}, "KAFKA_SECURITY_PROTOCOL"),
    ({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CA_LOCATION": "/nonexistent/ca.pem"},
     "KAFKA_SSL_CA_LOCATION"),
    ({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_KEY_LOCATION": "/etc/hostname"},
     "KAFKA_SSL_CERTIFICATE_LOCATION"),
])
def test_settings_that_do_not_add_up_name_the_setting(settings: dict[str, str],
                                                      names: str) -> None:
    with pytest.raises(ConfigError, match=names):
        client_config(load_settings(**settings), "x")


def test_missing_signer_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "aws_msk_iam_sasl_signer", None)
    with pytest.raises(ConfigError, match=r"pip install 'tweetpipe\[aws\]'"):
        client_config(load_settings(KAFKA_SECURITY_PROTOCOL="SASL_SSL",
                                    KAFKA_SASL_MECHANISM="OAUTHBEARER",
                                    AWS_REGION="eu-west-1"), "x")


def test_spark_kafka_source_options(tmp_path: Path) -> None:
    options = kafka_options(secure(tmp_path))
    assert options == {
        "kafka.security.protocol": "SASL_SSL", "kafka.sasl.mechanism": "SCRAM-SHA-512",
        "kafka.sasl.jaas.config": "org.apache.kafka.common.security.scram.ScramLoginModule "
                                  f'required username="tweetpipe" password="{SECRET}";',
        "kafka.ssl.truststore.type": "PEM",
        "kafka.ssl.truststore.location": str(tmp_path / "ca.pem")}
    iam = kafka_options(load_settings(KAFKA_SECURITY_PROTOCOL="SASL_SSL",
                                      KAFKA_SASL_MECHANISM="OAUTHBEARER", AWS_REGION="x"))
    assert iam["kafka.sasl.mechanism"] == "AWS_MSK_IAM"
    assert "IAMLoginModule" in iam["kafka.sasl.jaas.config"]


def test_postgres_tls_reaches_libpq_and_pgjdbc(tmp_path: Path) -> None:
    settings = load_settings(DB_SSLMODE="verify-full", DB_SSLROOTCERT=str(tmp_path / "ca.pem"),
                             DB_PASS="pw")
    assert settings.conninfo().endswith(f"?sslmode=verify-full&sslrootcert={tmp_path}/ca.pem")
    props = jdbc_properties(settings)
    assert (props["sslmode"], props["sslrootcert"]) == ("verify-full", str(tmp_path / "ca.pem"))
    assert "sslmode=prefer" in load_settings().conninfo()


@pytest.mark.parametrize(("code", "text", "setting"), [
    ("_AUTHENTICATION", "sasl_ssl://h:1/bootstrap: SASL authentication error: Authentication "
     "failed during authentication due to invalid credentials with SASL mechanism "
     "SCRAM-SHA-512", "KAFKA_SASL_PASSWORD"),
    ("_SSL", "ssl://h:1/bootstrap: SSL handshake failed: error:0A000086:SSL routines::"
     "certificate verify failed: broker certificate could not be verified",
     "fix KAFKA_SSL_CA_LOCATION"),
    ("_SSL", "ssl://h:1/bootstrap: SSL handshake failed: error:0A00010B:SSL routines::wrong "
     "version number", "fix KAFKA_SECURITY_PROTOCOL"),
])
def test_tls_and_sasl_failures_are_terminal_and_name_the_setting(
        code: str, text: str, setting: str) -> None:
    from confluent_kafka import KafkaError as LibError

    from tweetpipe.kafka.errors import raise_security_failures, security_failure

    failure = security_failure(LibError(getattr(LibError, code), text))
    assert failure is not None and setting in str(failure) and not failure.retryable
    with pytest.raises(KafkaError, match=setting):
        raise_security_failures(load_settings())(LibError(getattr(LibError, code), text))


def test_other_kafka_errors_are_left_to_retries() -> None:
    from confluent_kafka import KafkaError as LibError

    from tweetpipe.kafka.errors import security_failure

    assert security_failure(LibError(LibError._TRANSPORT, "Connection refused")) is None
    assert security_failure(LibError(LibError._SSL, "SSL transport error: Disconnected")) is None


def test_a_kafka_secret_in_librdkafka_text_is_hidden(tmp_path: Path) -> None:
    from confluent_kafka import KafkaError as LibError

    from tweetpipe.kafka.errors import security_failure

    failure = security_failure(LibError(LibError._AUTHENTICATION,
                                        f"SASL authentication error: {SECRET}"), secure(tmp_path))
    assert failure is not None and SECRET not in str(failure)


@pytest.mark.parametrize(("text", "setting"), [
    ('FATAL:  no pg_hba.conf entry for host "127.0.0.1", user "u", database "d", no encryption',
     "set DB_SSLMODE"),
    ("SSL error: certificate verify failed", "fix DB_SSLROOTCERT"),
    ('server certificate for "db" does not match host name "x"', "fix DB_HOST"),
    ('root certificate file "/x.pem" does not exist', "fix DB_SSLROOTCERT"),
    ("server does not support SSL, but SSL was required", "fix DB_SSLMODE"),
])
def test_postgres_tls_failures_name_the_setting(text: str, setting: str) -> None:
    import psycopg

    from tweetpipe.db.errors import classify
    from tweetpipe.errors import DatabaseConfigError

    error = classify(psycopg.OperationalError(f"connection failed: {text}"), load_settings())
    assert isinstance(error, DatabaseConfigError) and setting in str(error)
