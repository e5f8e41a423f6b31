"""`/metrics` scraped by a real Prometheus (Debian's package) during `tweetpipe run replay` of
the bundled real X responses: PromQL's loaded tweets equal the rows of tweet_merge; and the
exposition passes Prometheus' own linter (`promtool check metrics`)."""

from __future__ import annotations

import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tweetpipe.demo import distinct_ids, sample_files
from tweetpipe.monitor import prometheus
from tweetpipe.run import live
from tweetpipe.services import process
from tweetpipe.settings import Settings

from ..pipeline import count, load_all, replay
from ..run.kit import kill_group, start_run
from ..waiting import reap, wait_until

pytestmark = pytest.mark.integration


def need(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        pytest.fail(f"{tool} is missing: `make setup` installs Debian's prometheus package")
    return found


def promql(base: str, query: str) -> list[dict[str, Any]]:
    body = httpx.get(f"{base}/api/v1/query", params={"query": query}, timeout=5).json()
    assert body["status"] == "success", body
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def value(base: str, query: str) -> float | None:
    result = promql(base, query)
    return float(result[0]["value"][1]) if result else None


def start_prometheus(tmp: Path, target: str) -> tuple[subprocess.Popen[bytes], str]:
    (port,) = process.free_ports(1)
    config = tmp / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                      "scrape_configs:\n  - job_name: tweetpipe\n"
                      f"    static_configs:\n      - targets: ['{target}']\n")
    with (tmp / "prometheus.log").open("wb") as log:
        proc = subprocess.Popen(
            [need("prometheus"), f"--config.file={config}", f"--storage.tsdb.path={tmp / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT)
    return proc, f"http://127.0.0.1:{port}"


def test_prometheus_scrapes_a_live_run(pipeline: Settings, tmp_path: Path) -> None:
    (port,) = process.free_ports(1)
    files = sample_files()
    run = start_run(pipeline, "replay", *map(str, files), "--transform-every", "2",
                    "--port", str(port), log=tmp_path / "run.log")
    prom, base = start_prometheus(tmp_path, f"127.0.0.1:{port}")
    try:
        expected = len(distinct_ids(files))
        wait_until(lambda: count(pipeline, "tweet_transformed") == expected, 120,
                   lambda: f"run output:\n{(tmp_path / 'run.log').read_text()}")
        rows = count(pipeline, "tweet_merge")
        wait_until(lambda: promql(base, "up{job='tweetpipe'} == 1"), 60,
                   lambda: f"not scraped:\n{(tmp_path / 'prometheus.log').read_text()}")
        loaded = 'tweetpipe_rows{table="tweet_merge"}'
        wait_until(lambda: value(base, loaded) == rows, 30, "PromQL sees every loaded row")
        assert value(base, "tweetpipe_stored_rows_total") == rows == expected
        assert value(base, 'tweetpipe_component_up{component="loader"}') == 1
        assert value(base, "sum(tweetpipe_kafka_lag)") == 0
        assert value(base, "tweetpipe_load_batch_seconds_count") >= 1  # type: ignore[operator]
        run.send_signal(signal.SIGTERM)
        reap(run, 30, "run stops on SIGTERM")
    finally:
        kill_group(run)
        prom.terminate()
        prom.wait(10)


def test_the_exposition_passes_promtool(pipeline: Settings) -> None:
    replay(pipeline, sample_files()[:2])
    load_all(pipeline)
    text = prometheus.render(live.snapshot_of(pipeline))
    assert 'tweetpipe_rows{table="tweet_merge"}' in text
    checked = subprocess.run([need("promtool"), "check", "metrics"], input=text.encode(),
                             capture_output=True, check=False)
    assert checked.returncode == 0, checked.stdout.decode() + checked.stderr.decode()
