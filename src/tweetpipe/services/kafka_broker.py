"""Apache Kafka 4 KRaft nodes (combined broker and controller), run from Maven Central's jars.

`up`, `down` and `status` here run the one-node broker of KAFKA_BROKERS=1 (folder
`<state>/kafka`, log `logs/kafka.log`); `Node`, `start_node` and `properties` also serve the
cluster of `kafka_cluster.py`.
"""

from __future__ import annotations

import base64
import subprocess
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from tweetpipe import net, retry
from tweetpipe.errors import ServiceError
from tweetpipe.kafka.configuration import client_config
from tweetpipe.services import jars, process, system, tls
from tweetpipe.services.health import ServiceStatus
from tweetpipe.settings import Settings

NAME = "kafka"
MARKER = "kafka.Kafka"
HEAP = ("-Xms256m", "-Xmx768m")
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


@dataclass(frozen=True)
class Node:
    """One KRaft node: its folder (properties, data, pid file, controller port) and its log."""

    node_id: int
    home: Path
    host: str
    port: int
    log: Path

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.home / "kafka.pid"

    @property
    def data(self) -> Path:
        return self.home / "data"


def single_node(settings: Settings) -> Node:
    host, port = settings.kafka_host_port
    return Node(1, settings.state_dir / "kafka", host, port, settings.log_dir / "kafka.log")


def log_file(settings: Settings) -> Path:
    return single_node(settings).log


def answers(settings: Settings, timeout: float = 3.0) -> bool:
    """True if a client gets cluster metadata from the configured bootstrap servers."""
    host, port = settings.kafka_host_port
    if not net.port_open(host, port):
        return False
    admin = AdminClient(client_config(settings, "tweetpipe-services", log_level=0))
    try:
        admin.list_topics(timeout=timeout)
    except KafkaException:
        return False
    return True


def node_pid(node: Node) -> int | None:
    pid = process.read_pid(node.pid_file)
    return pid if process.alive(pid, MARKER) else None


def our_pid(settings: Settings) -> int | None:
    return node_pid(single_node(settings))


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
    node = single_node(settings)
    require_free(node)
    node.home.mkdir(parents=True, exist_ok=True)
    controller = controller_port(node)
    start_node(settings, node, properties(settings, node, controller,
                                          voters=f"1@{node.host}:{controller}"))


def require_free(node: Node) -> None:
    if net.port_open(node.host, node.port):
        raise ServiceError(
            f"port {node.address} is taken by something that is not a Kafka broker: "
            "free it or set KAFKA_BOOTSTRAP_SERVERS to another address")


def start_node(settings: Settings, node: Node, props: str, *, cluster_id: str | None = None,
               heap: Sequence[str] = HEAP) -> int:
    """Write the node's properties, format its storage once, start it; its pid."""
    java = system.require("java", "openjdk-17-jre-headless")
    cp = str(jars.resolve(settings, "kafka") / "*")
    node.data.mkdir(parents=True, exist_ok=True)
    props_file = node.home / "server.properties"
    props_file.touch(mode=0o600)
    props_file.chmod(0o600)  # a secure node's holds the brokers' SCRAM password
    props_file.write_text(props)
    (node.home / "log4j2.yaml").write_text(LOG4J2)
    if not (node.data / "meta.properties").exists():
        _format(java, cp, node, props_file, cluster_id or _random_cluster_id(),
                scram_users(settings))
    argv = [java, *heap, "-XX:+UseG1GC", "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={node.home / 'log4j2.yaml'}", "-cp", cp, MARKER,
            str(props_file)]
    return process.start_detached(argv, log_file=node.log, pid_file=node.pid_file)


def controller_port(node: Node, *, renew: bool = True) -> int:
    """The node's controller listener port, saved in its folder: kept across restarts while
    it stays free (`renew`: a taken or missing one is replaced by a free port)."""
    saved = node.home / "controller.port"
    port = process.read_pid(saved)
    if renew and (port is None or net.port_open(node.host, port)):
        port = process.free_port(node.host)
        saved.write_text(f"{port}\n")
    if port is None:
        raise ServiceError(f"no controller port saved in {saved}: stop the cluster with "
                           "`tweetpipe services down` and start it again")
    return port


def scram_users(settings: Settings) -> dict[str, str]:
    """The SCRAM-SHA-512 users of the secure local stack (name -> password); none otherwise."""
    if not tls.secured(settings):
        return {}
    found = tls.material(settings)
    return {tls.KAFKA_USER: found.secret(found.kafka_password),
            tls.BROKER_USER: found.secret(found.broker_password)}


def _format(java: str, cp: str, node: Node, props: Path, cluster_id: str,
            users: dict[str, str]) -> None:
    """`kafka-storage format`, the SCRAM users added to the metadata it writes. The arguments
    go through a java @argfile (0600, removed after) so no password is on a command line."""
    args = ["-cp", cp, "kafka.tools.StorageTool", "format", f"--cluster-id={cluster_id}",
            f"--config={props}"]
    for name, password in users.items():
        args += ["--add-scram", f"SCRAM-SHA-512=[name={name},password={password}]"]
    argfile = node.home / "format.args"
    argfile.touch(mode=0o600)
    argfile.chmod(0o600)
    argfile.write_text("\n".join(f'"{arg}"' for arg in args) + "\n")
    try:
        done = subprocess.run([java, f"@{argfile}"], capture_output=True, text=True,
                              check=False)
    finally:
        argfile.unlink(missing_ok=True)
    if done.returncode != 0:
        output = f"{done.stdout}{done.stderr}"
        for password in users.values():
            output = output.replace(password, "***")
        raise ServiceError(f"formatting Kafka's storage failed: {output}")


def _random_cluster_id() -> str:
    """A Kafka cluster id (URL-safe base64 of a UUID). Like Kafka's own `Uuid.randomUuid`, never
    one starting with "-": command lines would take it for an option (1 start in 64)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def properties(settings: Settings, node: Node, controller: int, *, voters: str,
               replicas: int = 1, extra: Sequence[str] = ()) -> str:
    """server.properties of a combined node; `replicas` for the internal topics (with 3, two
    must be in sync); `extra` lines are appended."""
    min_isr = 2 if replicas >= 3 else 1
    return "\n".join([
        "process.roles=broker,controller",
        f"node.id={node.node_id}",
        f"controller.quorum.voters={voters}",
        *(secure_listeners(settings, node, controller) if tls.secured(settings) else [
            f"listeners=PLAINTEXT://{node.address},CONTROLLER://{node.host}:{controller}",
            f"advertised.listeners=PLAINTEXT://{node.address}",
            "inter.broker.listener.name=PLAINTEXT",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"]),
        "controller.listener.names=CONTROLLER",
        f"log.dirs={node.data}",
        f"num.partitions={settings.kafka_partitions}",
        f"offsets.topic.replication.factor={replicas}",
        "offsets.topic.num.partitions=10",
        f"transaction.state.log.replication.factor={replicas}",
        f"transaction.state.log.min.isr={min_isr}",
        f"share.coordinator.state.topic.replication.factor={replicas}",
        f"share.coordinator.state.topic.min.isr={min_isr}",
        "group.initial.rebalance.delay.ms=0",
        "log.retention.hours=168",
        *extra,
        "",
    ])


def secure_listeners(settings: Settings, node: Node, controller: int) -> list[str]:
    """The secure node's listeners: clients and brokers on SASL_SSL (SCRAM-SHA-512; the
    brokers as the user `broker`), the controller on SSL with client certificates required
    (only holders of a certificate of the local CA: the nodes themselves)."""
    found = tls.material(settings)
    broker = found.secret(found.broker_password)
    return [
        f"listeners=SASL_SSL://{node.address},CONTROLLER://{node.host}:{controller}",
        f"advertised.listeners=SASL_SSL://{node.address}",
        "inter.broker.listener.name=SASL_SSL",
        "listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:SSL",
        "sasl.enabled.mechanisms=SCRAM-SHA-512",
        "sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512",
        "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config="
        "org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{tls.BROKER_USER}" password="{broker}";',
        "ssl.keystore.type=PEM",
        f"ssl.keystore.location={found.keystore}",
        "ssl.truststore.type=PEM",
        f"ssl.truststore.location={found.ca}",
        "listener.name.controller.ssl.client.auth=required",
    ]


def _wait_ready(settings: Settings, timeout: float) -> None:
    node = single_node(settings)

    def ready() -> bool:
        if answers(settings, timeout=2.0):
            return True
        if not process.alive(process.read_pid(node.pid_file)):
            raise ServiceError(f"the Kafka broker exited while starting; {log_tail(node)}")
        return False

    retry.until(ready, delay=0.5, timeout=timeout, error=ServiceError,
                what=f"Kafka to answer at {settings.kafka_bootstrap_servers}",
                details=lambda: log_tail(node))


def log_tail(node: Node) -> str:
    return f"last lines of {node.log}:\n{process.tail(node.log)}"


def down(settings: Settings) -> bool:
    """Stop the broker `up` started; True if there was one."""
    pid = our_pid(settings)
    if pid is None:
        return False
    process.stop(pid, timeout=30.0)
    single_node(settings).pid_file.unlink(missing_ok=True)
    return True
