"""A local Kafka cluster of 3 KRaft nodes loses a broker, or the active controller, while tweets
are collected and loaded: nothing lost, nothing duplicated (real processes, own cluster).

The cluster runs on free ports in a home of its own, beside the session's stack; the database
is the session's (a schema per test). Each loss runs scripts/broker_chaos.py, the scenario
`--tweets 100000` runs by hand.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient, ConfigResource  # type: ignore[attr-defined]

from tweetpipe import kafka, services
from tweetpipe.errors import ConfigError
from tweetpipe.kafka.admin import replication_for
from tweetpipe.services import kafka_cluster, process
from tweetpipe.settings import Settings, load_settings

from .isolation import suite_settings
from .pipeline import settings_env

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "broker_chaos.py"
CLUSTER_FIELDS = ("tweetpipe_home", "kafka_brokers", "kafka_bootstrap_servers")


def test_one_bootstrap_address_stands_for_every_broker() -> None:
    three = suite_settings(KAFKA_BROKERS=3, KAFKA_BOOTSTRAP_SERVERS="10.0.0.5:9092")
    assert three.kafka_bootstrap_servers == "10.0.0.5:9092,10.0.0.5:9093,10.0.0.5:9094"
    child = load_settings(**three.as_environment())  # a child process gets the same
    assert (child.kafka_brokers, child.kafka_bootstrap_servers) == (
        3, three.kafka_bootstrap_servers)
    listed = suite_settings(KAFKA_BROKERS=3, KAFKA_BOOTSTRAP_SERVERS="a:1,b:5,c:7")
    assert listed.kafka_bootstrap_servers == "a:1,b:5,c:7"
    one = suite_settings(KAFKA_BOOTSTRAP_SERVERS="a:1,b:5")  # one broker: taken as given
    assert (one.kafka_brokers, one.kafka_bootstrap_servers) == (1, "a:1,b:5")
    with pytest.raises(ConfigError, match="2 addresses listed but KAFKA_BROKERS is 3"):
        suite_settings(KAFKA_BROKERS=3, KAFKA_BOOTSTRAP_SERVERS="a:1,b:5")


def test_replication_follows_the_brokers_there_are() -> None:
    assert [replication_for(n) for n in (1, 2, 3, 5)] == [
        (1, {}), (2, {}), (3, {"min.insync.replicas": "2"}), (3, {"min.insync.replicas": "2"})]


@pytest.fixture(scope="module")
def cluster(stack: Settings) -> Iterator[Settings]:
    """Three KRaft nodes of this module's own, on free ports, in a home of their own."""
    home = Path(tempfile.mkdtemp(prefix="tweetpipe-cluster-"))
    addresses = ",".join(f"127.0.0.1:{port}" for port in process.free_ports(3))
    settings = stack.model_copy(update={
        "tweetpipe_home": home, "kafka_brokers": 3, "kafka_bootstrap_servers": addresses})
    try:
        kafka_cluster.up(settings)
        yield settings
    finally:
        kafka_cluster.down(settings)
        if not os.environ.get("TWEETPIPE_KEEP_TEST_HOME"):
            shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def on_cluster(pipeline: Settings, cluster: Settings) -> Settings:
    """The test's own topic, group and schema, on the cluster."""
    return pipeline.model_copy(update={k: getattr(cluster, k) for k in CLUSTER_FIELDS})


def broker_configs(settings: Settings, node: int) -> dict[str, str]:
    admin = AdminClient(kafka.client_config(settings, "tweetpipe-test"))
    resource = ConfigResource("broker", str(node))
    found = admin.describe_configs([resource])[resource].result(timeout=30)
    return {name: entry.value for name, entry in found.items()}


@pytest.mark.integration
def test_every_broker_reports_and_the_topic_is_replicated(on_cluster: Settings) -> None:
    rows = [s for s in services.status(on_cluster) if s.name.startswith("kafka")]
    assert [(s.name, s.owner, s.healthy, s.under_replicated) for s in rows] == [
        (f"kafka-{i}", "ours", True, 0) for i in (1, 2, 3)]
    assert len({s.pid for s in rows}) == 3
    assert [s.detail for s in rows].count("quorum leader") == 1
    producing = kafka.producer_config(on_cluster)
    assert (producing["acks"], producing["enable.idempotence"]) == ("all", True)
    kafka.ensure_topic(on_cluster)
    admin = AdminClient(kafka.client_config(on_cluster, "tweetpipe-test"))
    topic = admin.list_topics(on_cluster.kafka_topic, timeout=30).topics[on_cluster.kafka_topic]
    assert {len(p.replicas) for p in topic.partitions.values()} == {3}
    resource = ConfigResource("topic", on_cluster.kafka_topic)
    assert admin.describe_configs([resource])[resource].result(timeout=30)[
        "min.insync.replicas"].value == "2"
    internal = broker_configs(on_cluster, 1)
    assert (internal["offsets.topic.replication.factor"],
            internal["transaction.state.log.replication.factor"],
            internal["transaction.state.log.min.isr"]) == ("3", "3", "2")
    shown = subprocess.run([sys.executable, "-m", "tweetpipe.cli", "services", "status"],
                           env=settings_env(on_cluster), capture_output=True, text=True,
                           timeout=120, check=True).stdout
    assert all(f"kafka-{i}" in shown for i in (1, 2, 3))
    assert "under-replicated Kafka partitions: 0" in shown


def chaos(settings: Settings, kill: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--tweets", "20000", "--kill", kill, "--seconds", "60"],
        env=settings_env(settings), capture_output=True, text=True, timeout=900, check=False)
    lines = done.stdout.strip().splitlines()
    assert lines, f"no summary; stderr:\n{done.stderr[-3000:]}"
    result: dict[str, Any] = json.loads(lines[-1])
    result["exit"] = done.returncode
    return result


def assert_survived(result: dict[str, Any]) -> None:
    shown = json.dumps(result)
    assert result["producer_error"] is None and result["loader_errors"] == [], shown
    # the pipeline went on while the node was down: every partition took writes, rows loaded
    assert result["recovered_after_s"] is not None, shown
    assert result["partitions_written_during_outage"] == result["partitions"], shown
    assert result["loaded_during_outage"] > 0, shown
    # exactly once: every tweet once in the log and once in tweet_merge, offsets at the end
    assert result["rows"] == result["distinct"] == result["log_end_total"] == 20000, shown
    assert result["dead_letters"] == 0 and result["offsets_at_log_end"], shown
    assert result["under_replicated"] == 0 and result["exit"] == 0, shown
    assert (result["replicas"], result["min_insync_replicas"]) == (3, 2), shown


@pytest.mark.integration
@pytest.mark.slow
def test_a_broker_killed_mid_collect_and_load_loses_and_duplicates_nothing(
        on_cluster: Settings) -> None:
    result = chaos(on_cluster, "broker")
    assert result["killed_node"] != result["controller_before"], json.dumps(result)
    assert_survived(result)


@pytest.mark.integration
@pytest.mark.slow
def test_the_active_controller_killed_mid_collect_and_load_loses_and_duplicates_nothing(
        on_cluster: Settings) -> None:
    result = chaos(on_cluster, "controller")
    assert result["killed_node"] == result["controller_before"], json.dumps(result)
    assert result["controller_after"] not in (None, result["killed_node"]), json.dumps(result)
    assert_survived(result)


@pytest.mark.integration
def test_a_cluster_another_home_started_is_used_and_never_stopped(cluster: Settings,
                                                                   tmp_path: Path) -> None:
    borrower = cluster.model_copy(update={"tweetpipe_home": tmp_path})
    rows = kafka_cluster.up(borrower)
    assert [(r.owner, r.healthy, r.pid) for r in rows] == [("external", True, None)] * 3
    assert kafka_cluster.down(borrower) == []
    assert all(r.healthy for r in kafka_cluster.status(cluster))


@pytest.mark.integration
def test_down_stops_every_node_even_without_kafka_brokers_set(cluster: Settings) -> None:
    # `services up --brokers 3` then `services down` with KAFKA_BROKERS unset: all nodes stop
    first = cluster.kafka_bootstrap_servers.split(",")[0]
    plain = cluster.model_copy(update={"kafka_brokers": 1, "kafka_bootstrap_servers": first})
    pids = [s.pid for s in services.status(plain) if s.name.startswith("kafka-")]
    assert len(pids) == 3 and all(pids)
    assert services.down(plain) == ["kafka-1", "kafka-2", "kafka-3"]
    assert not any(process.alive(pid) for pid in pids)
    assert not kafka_cluster.in_use(plain)
