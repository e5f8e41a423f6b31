"""The dashboard of a live `tweetpipe run sample` (the emulator's synthetic sample stream, real
Kafka, PostgreSQL and Spark), in Debian's real headless Chromium: charts and tables fill, the
tweet count grows while the run goes on (no reload), each stage shows as running, and the page
logs no error and asks nothing of any host but tweetpipe's own."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

from tweetpipe.services import process
from tweetpipe.settings import Settings

from ..collect.kit import emulator, with_api
from ..run.kit import kill_group, start_run
from ..waiting import reap
from . import page

pytestmark = pytest.mark.integration


def shown(driver: Any) -> int:
    return int(page.value(driver, "kpi-tweets") or 0)


def test_the_dashboard_of_a_live_run_grows(pipeline: Settings, browser: Any,
                                           tmp_path: Path) -> None:
    emu = emulator(synthetic_rate=25.0, seed=33)
    api = with_api(pipeline, emu)
    (port,) = process.free_ports(1)
    url = f"http://127.0.0.1:{port}/"
    log = tmp_path / "run.log"
    run = start_run(api, "sample", "--transform-every", "2", "--port", str(port), log=log)
    try:
        page.clear_logs(browser)
        page.wait_until(browser, lambda d: _opened(d, url), 60, f"the run serves {url}")
        page.wait_until(browser, lambda d: shown(d) > 0, 90,
                        f"tweets on the page; run output:\n{log.read_text()}")
        first = shown(browser)
        browser.execute_script("window.__same_page = true")
        page.wait_until(browser, lambda d: shown(d) > first, 30, "the count grows")
        assert browser.execute_script("return window.__same_page") is True  # no reload
        for chart in ("chart-minutes", "chart-sentiment"):
            assert page.chart_points(browser, chart) > 0, chart
        assert page.rows(browser, "#latest li"), "latest tweets listed"
        stages = page.rows(browser, "#stages tbody tr")
        for name in ("collector", "loader", "transform"):
            assert any(row.startswith(name) and "running" in row for row in stages), stages
        assert page.console_errors(browser) == []
        assert page.foreign(page.requested_urls(browser), url) == []
        run.send_signal(signal.SIGTERM)
        reap(run, 30, "the run stops on SIGTERM")
    finally:
        kill_group(run)
        emu.stop()


def _opened(driver: Any, url: str) -> bool:
    try:
        driver.get(url)
    except Exception:  # not listening yet
        return False
    return bool(page.rows(driver, "#stages"))
