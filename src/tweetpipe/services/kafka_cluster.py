"""A local Kafka cluster of KAFKA_BROKERS=N KRaft nodes that survives the loss of one node.

Every node is broker and controller; the controllers form a static quorum of all N (3 keep a
majority when one is lost). Node i serves the i-th address of KAFKA_BOOTSTRAP_SERVERS, lives
in `<state>/kafka-cluster/node-i` (properties, data, pid file, its saved controller port) and
logs to `<state>/logs/kafka-i.log`. With 3 nodes or more the internal topics (consumer offsets,
transaction state) have 3 replicas of which 2 must be in sync, as `kafka.ensure_topic` gives
the tweet topic. `kill_node`, `start_node`, `active_controller` and `wait_in_sync` are for
failure tests.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
from pathlib import Path

from tweetpipe import net, retry
from tweetpipe.errors import ServiceError, TweetpipeError
from tweetpipe.kafka import admin
from tweetpipe.services import kafka_broker, process, tls
from tweetpipe.services.health import ServiceStatus
from tweetpipe.services.kafka_broker import Node, node_pid
from tweetpipe.settings import Settings

log = logging.getLogger(__name__)
FOLDER = "kafka-cluster"
HEAP = ("-Xms128m", "-Xmx512m")
#: small thread pools: N brokers share one machine
TUNING = ("num.network.threads=2", "num.io.threads=2", "background.threads=4",
          "unclean.leader.election.enable=false")


def _root(settings: Settings) -> Path:
    return settings.state_dir / FOLDER


def _node(settings: Settings, node_id: int, address: str) -> Node:
    host, _, port = address.strip().rpartition(":")
    return Node(node_id, _root(settings) / f"node-{node_id}", host or "127.0.0.1", int(port),
                settings.log_dir / f"kafka-{node_id}.log")


def nodes(settings: Settings) -> list[Node]:
    """The nodes of KAFKA_BROKERS=N > 1 (the N bootstrap addresses); with KAFKA_BROKERS=1,
    those a `services up --brokers N` of this home recorded."""
    if settings.kafka_brokers > 1:
        addresses = settings.kafka_bootstrap_servers.split(",")
        return [_node(settings, i, a) for i, a in enumerate(addresses, start=1)]
    return _recorded(settings)


def _recorded(settings: Settings) -> list[Node]:
    found = []
    for props in sorted(_root(settings).glob("node-*/server.properties")):
        lines = dict(line.split("=", 1) for line in props.read_text().splitlines() if "=" in line)
        address = lines.get("advertised.listeners", "").removeprefix("PLAINTEXT://")
        found.append(_node(settings, int(lines["node.id"]), address))
    return sorted(found, key=lambda n: n.node_id)


def in_use(settings: Settings) -> bool:
    """True when the settings ask for a cluster, or a node of one started here still runs."""
    return settings.kafka_brokers > 1 or any(node_pid(n) for n in _recorded(settings))


def _bootstrap(members: list[Node]) -> str:
    return ",".join(n.address for n in members)


# ---- up, down, status ---------------------------------------------------------------------


def up(settings: Settings, *, timeout: float = 180.0) -> list[ServiceStatus]:
    """Start the nodes not running yet and wait until every one serves; a cluster that
    answers at these addresses and was not started here is used as it is."""
    if tls.secured(settings):
        raise ServiceError("`services up --secure` starts one Kafka broker: leave out --brokers "
                           "(KAFKA_BROKERS=1)")
    members = nodes(settings)
    running = [n for n in members if node_pid(n)]
    if not running and _answers(settings, members):
        return status(settings)
    if kafka_broker.our_pid(settings):
        raise ServiceError(f"a one-node Kafka of {settings.state_dir} is running: stop it with "
                           "`tweetpipe services down` before starting a cluster")
    ports = _controller_ports(members, renew=not running)
    for member in members:
        if node_pid(member) is None:
            _launch(settings, member, members, ports)
    wait_ready(settings, members, timeout=timeout)
    return status(settings)


def _answers(settings: Settings, members: list[Node]) -> bool:
    """True if a Kafka cluster (not ours) answers at any of the addresses."""
    return (any(net.port_open(n.host, n.port) for n in members)
            and _health(settings, members) is not None)


def _controller_ports(members: list[Node], *, renew: bool) -> dict[int, int]:
    """Each node's controller port, saved in its folder. With `renew` (no node runs), a
    missing or taken one is replaced by a free port; the running quorum keeps its ports."""
    ports = {n.node_id: process.read_pid(n.home / "controller.port") for n in members}
    stale = [n for n in members if ports[n.node_id] is None
             or (renew and net.port_open(n.host, ports[n.node_id] or 0))]
    if stale and not renew:
        raise ServiceError(f"no controller port saved for node {stale[0].node_id}: stop the "
                           "cluster with `tweetpipe services down` and start it again")
    avoid = {n.port for n in members} | {p for p in ports.values() if p}
    fresh = iter(p for p in process.free_ports(2 * len(members)) if p not in avoid)
    for member in stale:
        ports[member.node_id] = next(fresh)
        member.home.mkdir(parents=True, exist_ok=True)
        (member.home / "controller.port").write_text(f"{ports[member.node_id]}\n")
    return {k: v for k, v in ports.items() if v is not None}


def _cluster_id(settings: Settings) -> str:
    saved = _root(settings) / "cluster.id"
    if not saved.exists():
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_text(kafka_broker._random_cluster_id() + "\n")
    return saved.read_text().strip()


def _launch(settings: Settings, member: Node, members: list[Node], ports: dict[int, int]
            ) -> None:
    kafka_broker.require_free(member)
    member.home.mkdir(parents=True, exist_ok=True)
    voters = ",".join(f"{n.node_id}@{n.host}:{ports[n.node_id]}" for n in members)
    replicas, topic_config = admin.replication_for(len(members))
    extra = [f"default.replication.factor={replicas}",
             f"min.insync.replicas={topic_config.get('min.insync.replicas', '1')}", *TUNING]
    props = kafka_broker.properties(settings, member, ports[member.node_id], voters=voters,
                                    replicas=replicas, extra=extra)
    pid = kafka_broker.start_node(settings, member, props, cluster_id=_cluster_id(settings),
                                  heap=HEAP)
    log.debug("started Kafka node %d at %s (pid %d)", member.node_id, member.address, pid)


def down(settings: Settings) -> list[str]:
    """Stop every node of this home's cluster (all at once: a quorum stops together); the
    names of those stopped."""
    running = [(n, pid) for n in _known(settings) if (pid := node_pid(n))]
    for _member, pid in running:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)
    for member, pid in running:
        process.stop(pid, timeout=30.0)
        member.pid_file.unlink(missing_ok=True)
    return [_name(member) for member, _pid in running]


def _known(settings: Settings) -> list[Node]:
    by_id = {n.node_id: n for n in _recorded(settings)}
    by_id.update({n.node_id: n for n in nodes(settings)})
    return [by_id[k] for k in sorted(by_id)]


def _name(member: Node) -> str:
    return f"{kafka_broker.NAME}-{member.node_id}"


def status(settings: Settings) -> list[ServiceStatus]:
    """One row per node: its health and pid; every row carries the cluster's count of
    under-replicated partitions; the active controller's detail says "quorum leader"."""
    members = nodes(settings)
    health = _health(settings, members)
    leader = active_controller(settings)
    return [_row(n, health, leader) for n in members]


def _health(settings: Settings, members: list[Node]) -> admin.ClusterHealth | None:
    try:
        return admin.cluster_health(settings, bootstrap=_bootstrap(members), timeout=3.0)
    except TweetpipeError:
        return None


def _row(member: Node, health: admin.ClusterHealth | None, leader: int | None
         ) -> ServiceStatus:
    pid = node_pid(member)
    healthy = (health is not None and net.port_open(member.host, member.port)
               and (pid is None or member.node_id in health.brokers))
    owner = "ours" if pid else ("external" if healthy else None)
    detail = "quorum leader" if pid and member.node_id == leader else ""
    return ServiceStatus(_name(member), member.address, healthy, owner, pid, detail,
                         under_replicated=None if health is None else health.under_replicated)


# ---- waiting, and failures for tests ----------------------------------------------------


def wait_ready(settings: Settings, members: list[Node], *, timeout: float) -> None:
    """Until every node of `members` answers and is a live broker of the cluster."""
    everyone = nodes(settings) or members

    def ready() -> bool:
        for member in members:  # no marker: a child just forked has not exec'd java yet
            if not process.alive(process.read_pid(member.pid_file)):
                raise ServiceError(f"Kafka node {member.node_id} exited while starting; "
                                   f"{kafka_broker.log_tail(member)}")
        health = _health(settings, everyone)
        return health is not None and all(n.node_id in health.brokers for n in members)

    retry.until(ready, delay=0.5, timeout=timeout, error=ServiceError,
                what=f"Kafka nodes {[n.node_id for n in members]} to serve",
                details=lambda: "\n".join(kafka_broker.log_tail(n) for n in members))


def wait_in_sync(settings: Settings, *, timeout: float = 120.0) -> None:
    """Until every node is a live broker and no partition is under-replicated."""
    members = nodes(settings)

    def in_sync() -> bool:
        health = _health(settings, members)
        return (health is not None and health.under_replicated == 0
                and all(n.node_id in health.brokers for n in members))

    retry.until(in_sync, delay=0.5, timeout=timeout, error=ServiceError,
                what="every Kafka partition to be fully replicated",
                details=lambda: f"cluster health: {_health(settings, members)}")


def _member(settings: Settings, node_id: int) -> Node:
    for member in nodes(settings):
        if member.node_id == node_id:
            return member
    raise ServiceError(f"no Kafka node {node_id} in this cluster (KAFKA_BROKERS="
                       f"{settings.kafka_brokers}, home {settings.state_dir})")


def kill_node(settings: Settings, node_id: int) -> int:
    """kill -9 one node (no controlled shutdown) and wait until it is gone; its pid."""
    member = _member(settings, node_id)
    pid = node_pid(member)
    if pid is None:
        raise ServiceError(f"Kafka node {node_id} of {settings.state_dir} is not running")
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    retry.until(lambda: not process.alive(pid), delay=0.1, timeout=15.0, error=ServiceError,
                what=f"Kafka node {node_id} (pid {pid}) to die after SIGKILL")
    log.warning("killed Kafka node %d (pid %d) with SIGKILL", node_id, pid)
    return pid


def start_node(settings: Settings, node_id: int, *, timeout: float = 120.0) -> int:
    """Start one stopped node again (same ports, same data) and wait until it serves."""
    members = nodes(settings)
    member = _member(settings, node_id)
    if node_pid(member) is None:
        _launch(settings, member, members, _controller_ports(members, renew=False))
    wait_ready(settings, [member], timeout=timeout)
    return node_pid(member) or 0


def active_controller(settings: Settings) -> int | None:
    """The id of the quorum's leader (the active controller), from the election state the
    running nodes keep (`__cluster_metadata-0/quorum-state`): the leader of the newest epoch.
    None when no running node knows one."""
    best: tuple[int, int] | None = None
    for member in nodes(settings):
        state = _quorum_state(member) if node_pid(member) else None
        if state and state.get("leaderId", -1) >= 0:
            found = (int(state.get("leaderEpoch", -1)), int(state["leaderId"]))
            best = found if best is None or found > best else best
    return None if best is None else best[1]


def _quorum_state(member: Node) -> dict[str, int] | None:
    try:
        state = json.loads((member.data / "__cluster_metadata-0" / "quorum-state").read_text())
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None
