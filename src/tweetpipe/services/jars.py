"""JVM dependencies from Maven Central, resolved by `mvn` into a cache outside git.

Each bundle is a pom under `tweetpipe/jvm/`; its jars land in `<jar cache>/<bundle>-<pom hash>/`,
so a changed version resolves anew and several homes share one download.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
from importlib import resources
from pathlib import Path

from tweetpipe.errors import ServiceError
from tweetpipe.services import system
from tweetpipe.settings import Settings

BUNDLES = ("kafka", "spark")


def pom_text(bundle: str) -> str:
    return resources.files("tweetpipe.jvm").joinpath(f"{bundle}.xml").read_text("utf-8")


def bundle_dir(settings: Settings, bundle: str) -> Path:
    digest = hashlib.sha256(pom_text(bundle).encode()).hexdigest()[:12]
    return settings.jar_cache.expanduser().resolve() / f"{bundle}-{digest}"


def resolve(settings: Settings, bundle: str) -> Path:
    """The folder holding the bundle's jars, downloading them on first use."""
    target = bundle_dir(settings, bundle)
    if (target / ".complete").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with (target.parent / f".{bundle}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / ".complete").exists():
            _download(bundle, target)
    return target


def _download(bundle: str, target: Path) -> None:
    mvn = system.require("mvn", "maven")
    work = target.with_name(target.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    pom = work / "pom.xml"
    pom.write_text(pom_text(bundle))
    done = subprocess.run(
        [mvn, "-q", "-B", "-f", str(pom), "dependency:copy-dependencies",
         f"-DoutputDirectory={work / 'lib'}", "-DincludeScope=runtime"],
        capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        shutil.rmtree(work, ignore_errors=True)
        last = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise ServiceError(f"Maven could not fetch the {bundle} jars:\n{last}")
    shutil.rmtree(target, ignore_errors=True)
    (work / "lib").rename(target)
    (target / ".complete").write_text("ok\n")
    shutil.rmtree(work, ignore_errors=True)


def classpath(settings: Settings, bundle: str) -> list[Path]:
    return sorted(resolve(settings, bundle).glob("*.jar"))
