"""Finding (and on Debian, as root, installing) the system programs the services need."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tweetpipe.errors import ServiceError, last_line


def is_root() -> bool:
    return os.geteuid() == 0


def apt_install(*packages: str) -> None:
    """Install Debian packages; only possible as root on a Debian-like system."""
    if not (is_root() and shutil.which("apt-get")):
        raise ServiceError(
            f"missing {', '.join(packages)}: install it with your package manager "
            f"(Debian/Ubuntu: sudo apt-get install -y {' '.join(packages)})"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "update", "-qq"],
                 ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages]):
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ServiceError(
                f"`{' '.join(argv)}` failed: {last_line(done.stderr)}")


def require(program: str, package: str) -> str:
    """Path of `program`, installing `package` first when it is missing."""
    found = shutil.which(program)
    if found:
        return found
    apt_install(package)
    found = shutil.which(program)
    if not found:
        raise ServiceError(f"{program} is still missing after installing {package}")
    return found


def postgres_bindir() -> Path:
    """The folder with PostgreSQL's server programs (initdb, pg_ctl, postgres)."""
    def find() -> Path | None:
        on_path = shutil.which("pg_ctl")
        if on_path and Path(on_path).with_name("initdb").exists():
            return Path(on_path).resolve().parent
        versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=_major)
        return versions[-1].parent if versions else None

    found = find()
    if found is None:
        apt_install("postgresql")
        found = find()
    if found is None:
        raise ServiceError("PostgreSQL's initdb/pg_ctl not found even after installing postgresql")
    return found


def _major(initdb: Path) -> int:
    version = initdb.parent.parent.name
    return int(version) if version.isdigit() else 0


def run_as(user: str | None, argv: list[str], *,
           timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    """Run `argv` as `user` (when root) or as ourselves."""
    if user and is_root():
        argv = ["runuser", "-u", user, "--", *argv]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
