"""`services up | down | status` on real processes, beside the session's own stack."""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from tweetpipe import services
from tweetpipe.errors import ServiceError
from tweetpipe.services import kafka_broker, postgres_server, process, system
from tweetpipe.settings import Settings, load_settings

pytestmark = pytest.mark.integration


@pytest.fixture
def second_home() -> Iterator[Path]:
    home = Path(tempfile.mkdtemp(prefix="tweetpipe-second-"))
    home.chmod(0o755)
    yield home
    shutil.rmtree(home, ignore_errors=True)


def second_stack(home: Path) -> Settings:
    db_port, kafka_port = process.free_ports(2)
    return load_settings(TWEETPIPE_HOME=str(home), DB_PORT=db_port,
                         KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{kafka_port}")


def test_second_stack_side_by_side_up_idempotent_down_leaves_nothing(
        stack: Settings, second_home: Path) -> None:
    settings = second_stack(second_home)
    try:
        first = services.up(settings)
        assert [(s.name, s.owner, s.healthy) for s in first] == [
            ("postgresql", "ours", True), ("kafka", "ours", True)]
        pids = [s.pid for s in first]
        again = services.up(settings)  # idempotent: same processes
        assert [s.pid for s in again] == pids
        assert all(s.healthy for s in services.status(stack))  # the session stack is untouched
    finally:
        stopped = services.down(settings)
    assert stopped == ["kafka", "postgresql"]
    assert not any(process.alive(pid) for pid in pids)
    assert [(s.state, s.healthy) for s in services.status(settings)] == [
        ("stopped", False), ("stopped", False)]
    assert services.down(settings) == []  # nothing of ours left to stop


def test_down_never_stops_what_up_did_not_start(stack: Settings, second_home: Path) -> None:
    # Same addresses as the session stack, another home: up must reuse, down must not stop.
    borrower = stack.model_copy(update={"tweetpipe_home": second_home})
    statuses = services.up(borrower)
    assert [s.owner for s in statuses] == ["external", "external"]
    assert services.down(borrower) == []
    assert all(s.healthy for s in services.status(stack))


def test_port_taken_by_something_else_is_a_clear_error(second_home: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        settings = load_settings(TWEETPIPE_HOME=str(second_home),
                                 KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{port}")
        with pytest.raises(ServiceError, match="taken by something that is not a Kafka broker"):
            kafka_broker.up(settings)


def test_wrong_password_for_existing_server_says_what_to_fix(stack: Settings) -> None:
    wrong = stack.model_copy(update={"db_pass": SecretStr("not-the-password")})
    with pytest.raises(ServiceError, match="DB_USER/DB_PASS") as info:
        postgres_server.up(wrong)
    assert "not-the-password" not in str(info.value)


@pytest.mark.skipif(not system.is_root(), reason="only root runs the cluster as `postgres`")
def test_postgres_works_from_a_home_the_postgres_account_cannot_reach() -> None:
    # Like a clone in /root (mode 700 on Debian): the cluster's data moves to a folder the
    # `postgres` account owns, keyed by the home; status says where; down stops it.
    private = Path(tempfile.mkdtemp(prefix="tweetpipe-private-"))
    private.chmod(0o700)
    settings = second_stack(private / "clone" / ".tweetpipe")
    where = postgres_server.location(settings)
    try:
        assert not where.is_relative_to(private)
        assert where.is_relative_to(postgres_server.SHARED_ROOT)
        up = postgres_server.up(settings)
        assert (up.owner, up.healthy) == ("ours", True)
        assert str(where) in up.detail
        assert postgres_server.location(settings) == where  # the same place every time
    finally:
        assert postgres_server.down(settings)
        shutil.rmtree(private, ignore_errors=True)
        shutil.rmtree(where.parent.parent, ignore_errors=True)
    assert not postgres_server.status(settings).healthy


def test_kafka_cluster_id_never_starts_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    # 1 id in 64 did, and `kafka-storage format -t -xyz` then failed to start the broker.
    import uuid

    dashed, plain = uuid.UUID(bytes=b"\xf8" + b"\x01" * 15), uuid.UUID(bytes=b"\x10" * 16)
    drawn = iter([dashed, plain])
    monkeypatch.setattr(uuid, "uuid4", lambda: next(drawn))
    cluster_id = kafka_broker._random_cluster_id()
    assert not cluster_id.startswith("-") and len(cluster_id) == 22
