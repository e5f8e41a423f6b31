"""Spark in local mode never needs the machine's hostname to resolve (containers, chroots and
some cloud images have one that does not), and its JVM prints nothing on the terminal."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tweetpipe.settings import Settings

from ..data import sample
from ..pipeline import count, load_all, replay, settings_env

pytestmark = [pytest.mark.integration, pytest.mark.spark]
UNRESOLVABLE = "tweetpipe-no-such-host-7f3a"


def _can_rename_host() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-u", "hostname", UNRESOLVABLE], capture_output=True,
                           check=False)
    return probe.returncode == 0


@pytest.mark.skipif(not _can_rename_host(), reason="needs `unshare -u` (root)")
def test_transform_runs_when_the_hostname_does_not_resolve(pipeline: Settings) -> None:
    replay(pipeline, [sample("brexit")])
    load_all(pipeline)
    script = (f"hostname {UNRESOLVABLE} && getent hosts {UNRESOLVABLE} >/dev/null && exit 99; "
              f"exec {sys.executable} -m tweetpipe.cli transform")
    done = subprocess.run(["unshare", "-u", "sh", "-c", script], env=settings_env(pipeline),
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert count(pipeline, "tweet_transformed") == count(pipeline, "tweet_merge") == 100
    output = done.stdout + done.stderr
    for noise in ("WARNING", "WARN", "log4j", "Setting default log level"):
        assert noise not in output, output[-2000:]
