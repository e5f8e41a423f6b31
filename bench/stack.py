"""The benchmark's own services: Kafka and PostgreSQL in a fresh TWEETPIPE_HOME on free ports
(never the default ones, never the developer's), stopped at the end.

PostgreSQL runs with `track_commit_timestamp = on`, so a row's commit time is the truth
(`pg_xact_commit_timestamp(xmin)`), not the start of its transaction (`now()`, `loaded_at`).
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tweetpipe import db, kafka, services
from tweetpipe.services import kafka_broker, postgres_server, process
from tweetpipe.settings import Settings, load_settings


@contextmanager
def bench_stack(*, keep: bool = False) -> Iterator[Settings]:
    home = Path(tempfile.mkdtemp(prefix="tweetpipe-bench-"))
    home.chmod(0o755)  # the postgres account must reach the cluster folder inside
    db_port, kafka_port = process.free_ports(2)
    settings = load_settings(
        _env_file=None, TWEETPIPE_HOME=str(home), DB_HOST="127.0.0.1", DB_PORT=db_port,
        DB_USER="tweetpipe", DB_PASS=secrets.token_hex(12), DB_NAME="tweetpipe_bench",
        DB_SCHEMA="public", KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{kafka_port}", KAFKA_BROKERS=1,
        KAFKA_PARTITIONS=6, SPARK_MASTER="local[2]", X_API_BASE_URL="http://127.0.0.1:1")
    try:
        services.up(settings)
        with db.connect(settings, autocommit=True) as conn:
            conn.execute("ALTER SYSTEM SET track_commit_timestamp = on")
        postgres_server.restart(settings)
        yield settings
    finally:
        kafka_broker.down(settings)
        postgres_server.down(settings)
        if not keep:
            shutil.rmtree(home, ignore_errors=True)


def isolated(settings: Settings, name: str) -> Settings:
    """Settings with a topic, consumer group and schema of their own, migrated."""
    tag = f"{name}_{uuid.uuid4().hex[:6]}"
    own = settings.model_copy(update={"kafka_topic": f"bench-{tag}", "db_schema": f"bench_{tag}",
                                      "kafka_group": f"bench-{tag}"})
    db.migrate(own)
    kafka.ensure_topic(own)
    return own
