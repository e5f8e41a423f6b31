"""A one-node Apache Kafka 4 broker in KRaft combined mode, run from Maven Central's jars."""

from __future__ import annotations

import base64
import subprocess
import uuid
from pathlib import Path

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from tweetpipe import retry
from tweetpipe.errors import ServiceError
from tweetpipe.services import jars, process, system
from tweetpipe.services.health import ServiceStatus
from tweetpipe.settings import Settings

NAME = "kafka"
MARKER = "kafka.Kafka"

LOG4J2 = """\
Configuration:
  status: warn
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Logger:
      - name: kafka
        level: INFO
      - name: org.apache.kafka
        level: WARN
    Root:
      level: WARN
      AppenderRef:
        - ref: STDOUT
"""


def _dir(settings: Settings) -> Path:
    return settings.state_dir / "kafka"


def _pid_file(settings: Settings) -> Path:
    return _dir(settings) / "kafka.pid"


def log_file(settings: Settings) -> Path:
    return settings.log_dir / "kafka.log"


def answers(settings: Settings, timeout: float = 3.0) -> bool:
    """True if a client gets cluster metadata from the configured bootstrap servers."""
    host, port = settings.kafka_host_port
    if not process.port_open(host, port):
        return False
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap_servers, "log_level": 0})
    try:
        admin.list_topics(timeout=timeout)
    except KafkaException:
        return False
    return True


def our_pid(settings: Settings) -> int | None:
    pid = process.read_pid(_pid_file(settings))
    return pid if process.alive(pid, MARKER) else None


def status(settings: Settings) -> ServiceStatus:
    pid = our_pid(settings)
    healthy = answers(settings)
    owner = "ours" if pid else ("external" if healthy else None)
    return ServiceStatus(NAME, settings.kafka_bootstrap_servers, healthy, owner, pid)


def up(settings: Settings, *, timeout: float = 120.0) -> ServiceStatus:
    if our_pid(settings) is None and answers(settings):
        return status(settings)  # someone else's broker already serves this address
    if our_pid(settings) is None:
        _start(settings)
    _wait_ready(settings, timeout)
    return status(settings)


def _start(settings: Settings) -> None:
    host, port = settings.kafka_host_port
    if process.port_open(host, port):
        raise ServiceError(
            f"port {host}:{port} is taken by something that is not a Kafka broker: "
            "free it or set KAFKA_BOOTSTRAP_SERVERS to another address")
    java = system.require("java", "openjdk-17-jre-headless")
    cp = str(jars.resolve(settings, "kafka") / "*")
    home = _dir(settings)
    (home / "data").mkdir(parents=True, exist_ok=True)
    props = home / "server.properties"
    props.write_text(_properties(settings, host, port, _controller_port(home, host)))
    (home / "log4j2.yaml").write_text(LOG4J2)
    if not (home / "data" / "meta.properties").exists():
        _format(java, cp, props)
    argv = [java, "-Xms256m", "-Xmx768m", "-XX:+UseG1GC", "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={home / 'log4j2.yaml'}", "-cp", cp, MARKER, str(props)]
    process.start_detached(argv, log_file=log_file(settings), pid_file=_pid_file(settings))


def _controller_port(home: Path, host: str) -> int:
    """The controller listener's port: kept across restarts while it stays free."""
    saved = home / "controller.port"
    port = process.read_pid(saved)
    if port is None or process.port_open(host, port):
        port = process.free_port(host)
        saved.write_text(f"{port}\n")
    return port


def _format(java: str, cp: str, props: Path) -> None:
    cluster_id = _random_cluster_id()
    done = subprocess.run(
        [java, "-cp", cp, "kafka.tools.StorageTool", "format", f"--cluster-id={cluster_id}",
         f"--config={props}"], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ServiceError(f"formatting Kafka's storage failed: {done.stdout}{done.stderr}")


def _random_cluster_id() -> str:
    """A Kafka cluster id (URL-safe base64 of a UUID). Like Kafka's own `Uuid.randomUuid`, never
    one starting with "-": command lines would take it for an option (1 start in 64)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def _properties(settings: Settings, host: str, port: int, controller_port: int) -> str:
    data = _dir(settings) / "data"
    return "\n".join([
        "process.roles=broker,controller",
        "node.id=1",
        f"controller.quorum.voters=1@{host}:{controller_port}",
        f"listeners=PLAINTEXT://{host}:{port},CONTROLLER://{host}:{controller_port}",
        f"advertised.listeners=PLAINTEXT://{host}:{port}",
        "controller.listener.names=CONTROLLER",
        "inter.broker.listener.name=PLAINTEXT",
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        f"log.dirs={data}",
        f"num.partitions={settings.kafka_partitions}",
        "offsets.topic.replication.factor=1",
        "offsets.topic.num.partitions=10",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "share.coordinator.state.topic.replication.factor=1",
        "share.coordinator.state.topic.min.isr=1",
        "group.initial.rebalance.delay.ms=0",
        "log.retention.hours=168",
        "",
    ])


def _wait_ready(settings: Settings, timeout: float) -> None:
    def ready() -> bool:
        if answers(settings, timeout=2.0):
            return True
        if not process.alive(process.read_pid(_pid_file(settings))):
            raise ServiceError(f"the Kafka broker exited while starting; {_log_tail(settings)}")
        return False

    retry.until(ready, delay=0.5, timeout=timeout, error=ServiceError,
                what=f"Kafka to answer at {settings.kafka_bootstrap_servers}",
                details=lambda: _log_tail(settings))


def _log_tail(settings: Settings) -> str:
    return f"last lines of {log_file(settings)}:\n{process.tail(log_file(settings))}"


def down(settings: Settings) -> bool:
    """Stop the broker `up` started; True if there was one."""
    pid = our_pid(settings)
    if pid is None:
        return False
    process.stop(pid, timeout=30.0)
    _pid_file(settings).unlink(missing_ok=True)
    return True

