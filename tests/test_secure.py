"""`services up --secure` end to end: the whole pipeline (collect -> load -> transform, batch
and streaming) over SASL_SSL and TLS PostgreSQL with exact counts; a plaintext, an
unauthenticated or a wrongly configured client is refused with the setting to fix."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tweetpipe import db, kafka
from tweetpipe.collect.search import SearchOptions, collect_search
from tweetpipe.errors import DatabaseConfigError, KafkaError, RetryableKafkaError
from tweetpipe.services import tls
from tweetpipe.settings import Settings
from tweetpipe.transform import batch_job, streaming_job
from tweetpipe_emulator.cli import match_all_query

from .collect.kit import client, emulator, matching_ids, merged_ids, sample_files, with_api
from .fixtures.services import DATA, isolated
from .pipeline import count, load_all, replay, settings_env
from .run.kit import CLI

pytestmark = pytest.mark.integration


@pytest.fixture
def secure(secure_stack: Settings) -> Iterator[Settings]:
    settings = isolated(secure_stack)
    db.migrate(settings)
    kafka.ensure_topic(settings)
    yield settings


def test_the_stack_speaks_only_tls(secure_stack: Settings) -> None:
    found = tls.material(secure_stack)
    assert secure_stack.kafka_security_protocol == "SASL_SSL"
    assert secure_stack.db_sslmode == "verify-full"
    for secret in (found.kafka_password, found.broker_password, found.db_password,
                   found.ca_key, found.key, found.keystore):
        assert secret.stat().st_mode & 0o777 == 0o600, secret
    env = found.client_env.read_text()
    assert f"KAFKA_SASL_PASSWORD_FILE={found.kafka_password}" in env
    assert found.secret(found.kafka_password) not in env
    assert found.secret(found.db_password) not in env


@pytest.mark.spark
def test_pipeline_over_sasl_ssl_and_tls_postgres(secure: Settings, spark: Any) -> None:
    assert replay(secure, [DATA / "brexit.jsonl"]).tweets == 100
    assert load_all(secure).stored == 100
    assert batch_job.run_batch(secure, spark=spark).upserted == 100
    assert (count(secure, "tweet_merge"), count(secure, "tweet_transformed")) == (100, 100)
    with db.connect(secure, autocommit=True) as conn:
        row = conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
    assert row == (True,)


@pytest.mark.spark
def test_streaming_transform_reads_kafka_over_sasl_ssl(secure: Settings, spark: Any) -> None:
    """Spark's Kafka source (SASL_SSL, SCRAM JAAS config, PEM truststore) and its JDBC
    writes, on the session's Spark (`getOrCreate` returns it)."""
    replay(secure, [DATA / "brexit.jsonl", DATA / "2sets.jsonl"])
    stats = streaming_job.run(secure, idle_seconds=6)
    assert stats.rows > 0
    assert count(secure, "tweet_transformed") == count_lines(secure)


def test_search_against_the_emulator_lands_over_sasl_ssl(secure: Settings) -> None:
    """`collect search` (the bundled recordings served by the emulator) -> load, exact."""
    emu = emulator(data_files=tuple(sample_files()))
    try:
        query = match_all_query(emu.state.store)
        expected = matching_ids(emu, query)
        api = with_api(secure, emu)
        with client(api) as c, kafka.TweetProducer(api) as producer:
            collect_search(c, producer, SearchOptions(query, archive=True, max_results=100),
                           state_dir=api.state_dir)
    finally:
        emu.stop()
    load_all(secure)
    assert merged_ids(secure) == expected and len(expected) == 431


def test_services_up_secure_prints_the_settings_not_the_secrets(secure_stack: Settings
                                                                 ) -> None:
    """The command on the running secure stack: idempotent, prints what clients need."""
    plain = secure_stack.model_copy(update={
        "kafka_security_protocol": "PLAINTEXT", "kafka_sasl_mechanism": None,
        "kafka_sasl_username": None, "kafka_sasl_password": None,
        "kafka_sasl_password_file": None, "kafka_ssl_ca_location": None,
        "db_sslmode": "prefer", "db_sslrootcert": None, "db_pass_file": None})
    done = subprocess.run([*CLI, "services", "up", "--secure"], env=settings_env(plain),
                          capture_output=True, text=True, timeout=180, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    found = tls.material(secure_stack)
    assert "KAFKA_SECURITY_PROTOCOL=SASL_SSL" in output
    assert f"KAFKA_SASL_PASSWORD_FILE={found.kafka_password}" in output
    for secret in (found.kafka_password, found.db_password, found.broker_password):
        assert found.secret(secret) not in output


def count_lines(settings: Settings) -> int:
    """The distinct tweets the topic holds, as the loader stores them."""
    load_all(settings)
    return count(settings, "tweet_merge")


def test_plaintext_kafka_client_is_refused(secure: Settings) -> None:
    plain = secure.model_copy(update={"kafka_security_protocol": "PLAINTEXT",
                                      "kafka_sasl_mechanism": None})
    with pytest.raises(RetryableKafkaError, match="KAFKA_SECURITY_PROTOCOL"):
        kafka.ensure_topic(plain, timeout=3)


def test_wrong_sasl_password_is_refused(secure: Settings, tmp_path: Path) -> None:
    wrong = wrong_password_settings(secure, tmp_path)
    with (pytest.raises(KafkaError, match="KAFKA_SASL_PASSWORD") as refused,
          kafka.TweetProducer(wrong) as producer):
        producer.send("1", b"{}")
    assert not refused.value.retryable
    assert "wrong-kafka-secret" not in str(refused.value)


def wrong_password_settings(secure: Settings, tmp_path: Path) -> Settings:
    from pydantic import SecretStr

    wrong = tmp_path / "wrong.password"
    wrong.write_text("wrong-kafka-secret\n")
    return secure.model_copy(update={"kafka_sasl_password": SecretStr("wrong-kafka-secret"),
                                     "kafka_sasl_password_file": wrong})


def test_wrong_ca_names_the_setting(secure: Settings, other_ca: Path) -> None:
    kafka_wrong = secure.model_copy(update={"kafka_ssl_ca_location": other_ca})
    with (pytest.raises(KafkaError, match="fix KAFKA_SSL_CA_LOCATION"),
          kafka.TweetProducer(kafka_wrong) as producer):
        producer.send("1", b"{}")
    db_wrong = secure.model_copy(update={"db_sslrootcert": other_ca})
    with pytest.raises(DatabaseConfigError, match="fix DB_SSLROOTCERT"):
        db.connect(db_wrong)


def test_postgres_without_tls_is_refused(secure: Settings) -> None:
    plain = secure.model_copy(update={"db_sslmode": "disable"})
    with pytest.raises(DatabaseConfigError, match="set DB_SSLMODE"):
        db.connect(plain)
    with pytest.raises(psycopg.OperationalError, match="no encryption"):
        psycopg.connect(plain.conninfo(), connect_timeout=5)


def test_cli_failure_names_the_setting(secure: Settings, tmp_path: Path) -> None:
    wrong = wrong_password_settings(secure, tmp_path)
    done = subprocess.run([*CLI, "load", "--until-idle"], env=settings_env(wrong),
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode != 0
    assert "KAFKA_SASL_PASSWORD" in done.stdout + done.stderr
