"""PostgreSQL: the configured server if it answers, else a private cluster under TWEETPIPE_HOME.

The private cluster is made with the system's `initdb` and run with `pg_ctl`. Both refuse to run
as root, so as root they run as the `postgres` account, which owns the cluster's folder.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pwd
import shutil
from pathlib import Path

import psycopg
from psycopg import sql

from tweetpipe import net, retry
from tweetpipe.errors import ServiceError, last_line
from tweetpipe.services import process, system, tls
from tweetpipe.services.health import ServiceStatus
from tweetpipe.settings import Settings

NAME = "postgresql"
ACCOUNT = "postgres"


#: where the cluster lives when the `postgres` account cannot reach TWEETPIPE_HOME (e.g. a clone
#: in /root, mode 700 on Debian): a folder of its own, keyed by the home it belongs to.
SHARED_ROOT = Path("/var/lib/tweetpipe")


def _dir(settings: Settings) -> Path:
    """The cluster's folder: TWEETPIPE_HOME/postgres, or SHARED_ROOT/<key> when, as root, the
    `postgres` account cannot traverse TWEETPIPE_HOME. The choice depends only on the home and
    its permissions, so `up`, `status` and `down` always agree."""
    home = settings.state_dir
    if _reachable(str(home)):
        return home / "postgres"
    key = hashlib.sha256(str(home).encode()).hexdigest()[:12]
    return SHARED_ROOT / f"{home.name.strip('.') or 'home'}-{key}" / "postgres"


@functools.lru_cache(maxsize=16)
def _reachable(folder: str) -> bool:
    """Can the account the cluster runs as traverse `folder`? (Always, when not root.)"""
    account = _account()
    if account is None:
        return True
    probe = Path(folder)
    while not probe.exists():  # not made yet: what matters is the nearest existing parent
        probe = probe.parent
    return system.run_as(account, ["test", "-x", str(probe)]).returncode == 0


def location(settings: Settings) -> Path:
    """Where the private cluster's data lives (shown by `status`)."""
    return data_dir(settings)


def data_dir(settings: Settings) -> Path:
    return _dir(settings) / "data"


def log_file(settings: Settings) -> Path:
    return _dir(settings) / "postgres.log"


def _account() -> str | None:
    """The account the cluster runs as: `postgres` when we are root, else ourselves."""
    return ACCOUNT if system.is_root() else None


def our_pid(settings: Settings) -> int | None:
    pid = process.read_pid(data_dir(settings) / "postmaster.pid")
    return pid if process.alive(pid, "postgres") else None


def answers(settings: Settings) -> bool:
    return net.port_open(settings.db_host, settings.db_port)


def status(settings: Settings) -> ServiceStatus:
    pid = our_pid(settings)
    reachable = answers(settings)
    detail = ""
    healthy = False
    if reachable:
        try:
            with psycopg.connect(settings.conninfo(), connect_timeout=5):
                healthy = True
        except psycopg.Error as exc:
            detail = last_line(exc)
    owner = "ours" if pid else ("external" if reachable else None)
    if pid:
        detail = f"data in {data_dir(settings)}" + (f"; {detail}" if detail else "")
    return ServiceStatus(NAME, settings.db_display, healthy, owner, pid, detail)


def up(settings: Settings, *, timeout: float = 60.0) -> ServiceStatus:
    pgdata = data_dir(settings)
    if (pgdata / "PG_VERSION").exists() and tls.secured(settings) != secured_cluster(settings):
        raise ServiceError(
            f"the PostgreSQL cluster in {pgdata} was made "
            f"{'with' if secured_cluster(settings) else 'without'} --secure: start it the same "
            "way, or use another TWEETPIPE_HOME")
    if our_pid(settings) is None and not answers(settings):
        _init_cluster(settings)
        _start(settings, timeout)
    _ensure_database(settings)
    return status(settings)


def _init_cluster(settings: Settings) -> None:
    pgdata = data_dir(settings)
    if (pgdata / "PG_VERSION").exists():
        return
    bindir = system.postgres_bindir()
    home = _dir(settings)
    home.mkdir(parents=True, exist_ok=True)
    if not home.is_relative_to(settings.state_dir):
        home.parent.chmod(0o755)
    _give_to_account(home)
    pwfile = home / ".pwfile"
    pwfile.write_text(settings.db_pass.get_secret_value() + "\n")
    _give_to_account(pwfile, mode=0o600)
    try:
        done = system.run_as(_account(), [
            str(bindir / "initdb"), "-D", str(pgdata), "-U", settings.db_user,
            f"--pwfile={pwfile}", "--auth=scram-sha-256", "-E", "UTF8", "--no-locale",
        ])
    finally:
        pwfile.unlink(missing_ok=True)
    if done.returncode != 0:
        shutil.rmtree(pgdata, ignore_errors=True)
        raise ServiceError(f"initdb failed: {done.stderr.strip() or done.stdout.strip()}")
    if tls.secured(settings):
        _secure_cluster(settings, pgdata)


def _secure_cluster(settings: Settings, pgdata: Path) -> None:
    """TLS on (the local CA's server certificate, copied into the cluster for its account),
    and only `hostssl` logins (scram-sha-256): a connection without TLS is refused."""
    found = tls.material(settings)
    for source, name in ((found.cert, "server.crt"), (found.key, "server.key")):
        target = pgdata / name
        target.write_bytes(source.read_bytes())
        _give_to_account(target, mode=0o600)
    with (pgdata / "postgresql.conf").open("a") as conf:
        conf.write("\n# tweetpipe services up --secure\nssl = on\n"
                   "ssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n"
                   "ssl_min_protocol_version = 'TLSv1.2'\n")
    (pgdata / "pg_hba.conf").write_text(
        "# tweetpipe services up --secure: TLS only, SCRAM passwords\n"
        "hostssl all all 127.0.0.1/32 scram-sha-256\n"
        "hostssl all all ::1/128 scram-sha-256\n")
    _give_to_account(pgdata / "pg_hba.conf", mode=0o600)


def secured_cluster(settings: Settings) -> bool:
    """Was the private cluster made secure (`services up --secure`)?"""
    return (data_dir(settings) / "server.key").exists()


def _give_to_account(path: Path, mode: int = 0o700) -> None:
    """As root, hand `path` to the postgres account and check it can reach it."""
    os.chmod(path, mode)
    account = _account()
    if account is None:
        return
    entry = pwd.getpwnam(account)
    os.chown(path, entry.pw_uid, entry.pw_gid)
    check = system.run_as(account, ["test", "-r", str(path)])
    if check.returncode != 0:
        raise ServiceError(
            f"the `{account}` account cannot reach {path}: make its parent folders "
            f"traversable (chmod o+x) or set TWEETPIPE_HOME to a folder it can reach")


def _start(settings: Settings, timeout: float) -> None:
    bindir = system.postgres_bindir()
    options = (f"-p {settings.db_port} -c listen_addresses={settings.db_host} "
               "-c unix_socket_directories='' -c max_connections=200 "
               "-c shared_buffers=256MB -c max_wal_size=2GB")
    done = system.run_as(_account(), [
        str(bindir / "pg_ctl"), "-D", str(data_dir(settings)), "-l", str(log_file(settings)),
        "-o", options, "-w", "-t", str(int(timeout)), "start",
    ], timeout=timeout + 10)
    if done.returncode != 0:
        raise ServiceError(
            f"PostgreSQL did not start on {settings.db_host}:{settings.db_port}: "
            f"{done.stderr.strip() or done.stdout.strip()}\n"
            f"last lines of {log_file(settings)}:\n{process.tail(log_file(settings))}")


def _ensure_database(settings: Settings, timeout: float = 10.0) -> None:
    """Create the configured database if the server lacks it."""

    def create() -> None:
        with psycopg.connect(settings.conninfo("postgres"), autocommit=True,
                             connect_timeout=5) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (settings.db_name,)
            ).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(
                    sql.Identifier(settings.db_name)))

    retry.call(create, retry_on=psycopg.OperationalError, delay=0.5, timeout=timeout,
               what=f"PostgreSQL at {settings.db_display} to let us in", error=ServiceError,
               details=lambda: "Check DB_USER/DB_PASS (or DATABASE_URL)")


def down(settings: Settings, *, mode: str = "fast") -> bool:
    """Stop the private cluster `up` started; True if it was running."""
    if our_pid(settings) is None:
        return False
    bindir = system.postgres_bindir()
    done = system.run_as(_account(), [
        str(bindir / "pg_ctl"), "-D", str(data_dir(settings)), "-m", mode, "-w", "stop"])
    if done.returncode != 0 and our_pid(settings) is not None:
        raise ServiceError(f"pg_ctl stop failed: {done.stderr.strip()}")
    return True


def restart(settings: Settings, *, mode: str = "fast") -> None:
    """Stop and start the private cluster (used by tests of outage recovery)."""
    down(settings, mode=mode)
    _start(settings, 60.0)
