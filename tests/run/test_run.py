"""`tweetpipe run sample` against the emulator's synthetic sample stream, on real Kafka,
PostgreSQL and Spark: rows reach tweet_transformed while it runs, a killed loader is restarted,
SIGTERM stops everything in order, and every tweet collected is stored once and transformed."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tweetpipe.settings import Settings

from ..collect.kit import emulator, merged_ids, with_api
from ..data import DATA
from ..pipeline import count
from ..waiting import reap, wait_until
from .kit import alive, kill_group, report, start_run

pytestmark = pytest.mark.integration
COMPONENTS = ("collector", "loader", "transform")


def test_run_sample_survives_a_killed_loader_and_stops_in_order(pipeline: Settings,
                                                                tmp_path: Path) -> None:
    emu = emulator(synthetic_rate=40.0, seed=21)
    api = with_api(pipeline, emu)
    log = tmp_path / "run.log"
    run = start_run(api, "sample", "--transform-every", "2", "--no-dashboard", log=log)
    pids: list[int] = []
    try:
        wait_until(lambda: count(api, "tweet_transformed") > 0, 60,
                   lambda: f"no row in tweet_transformed; run output:\n{log.read_text()}")
        loader = report(api, "loader")["pid"]
        pids.append(loader)
        signal_time = time.monotonic()
        os.kill(loader, signal.SIGKILL)
        wait_until(lambda: report(api, "loader").get("pid") not in (None, loader), 30,
                   "the supervisor restarts the killed loader")
        wait_until(lambda: report(api, "loader")["counters"]["messages"] > 0, 30,
                   "the restarted loader loads")
        assert time.monotonic() - signal_time < 30
        pids += [report(api, name)["pid"] for name in COMPONENTS]
        os.kill(pids[-2], signal.SIGKILL)  # stopped while the loader is down: it must drain
        time.sleep(1.5)  # a backlog of ~60 tweets (the restart waits 2 s)
        run.send_signal(signal.SIGTERM)
        stopping = time.monotonic()
        reap(run, 30, lambda: f"run did not stop on SIGTERM:\n{log.read_text()}")
        took = time.monotonic() - stopping
    finally:
        kill_group(run)
        emu.stop()
    output = log.read_text()
    assert run.returncode == 0, output
    assert took < 30
    assert "restarting the loader" in output
    assert not [pid for pid in pids if alive(pid)], "no component outlives the run"
    served = emu.stream_stats("stream_sample").served_ids
    collected = report(api, "collector")["counters"]["tweets"]
    merged = merged_ids(api)
    assert collected > 0 and merged <= served
    assert len(merged) == collected == count(api, "tweet_merge"), "each collected tweet once"
    assert count(api, "tweet_transformed") == len(merged), "and transformed"


def test_components_stop_when_the_run_is_killed(pipeline: Settings, tmp_path: Path) -> None:
    """kill -9 of `tweetpipe run` itself: its components get SIGTERM from the kernel
    (PR_SET_PDEATHSIG) and finish, rather than running on as orphans."""
    log = tmp_path / "run.log"
    run = start_run(pipeline, "replay", str(DATA / "brexit.jsonl"), "--no-dashboard", log=log)
    try:
        wait_until(lambda: all(report(pipeline, n).get("pid") for n in COMPONENTS), 60,
                   lambda: f"components did not start:\n{log.read_text()}")
        pids = [report(pipeline, n)["pid"] for n in COMPONENTS]
        os.killpg(run.pid, signal.SIGKILL)  # the run, not its components (own session)
        run.wait(10)
        wait_until(lambda: not [p for p in pids if alive(p)], 30,
                   lambda: f"orphans left: {[p for p in pids if alive(p)]}")
    finally:
        kill_group(run)
