"""The dashboard in a real headless Chromium: charts and tables filled from the trend tables,
updated without a reload as rows arrive, tweet text escaped, no console error, nothing loaded
from anywhere but tweetpipe itself; and a 1280x900 screenshot of the bundled real sample, run
through the real collect, load and transform path. With UPDATE_SCREENSHOT=1 the screenshot
replaces docs/dashboard.png (otherwise it stays in the test's temporary folder, so a test run
leaves the work tree as it was)."""

from __future__ import annotations

import os
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tweetpipe.dashboard.status import status_facts, status_facts_of
from tweetpipe.settings import Settings
from tweetpipe.transform import batch_job

from ..data import all_files
from ..pipeline import load_all, query, replay
from . import page, rows
from .conftest import HEIGHT, WIDTH, docs_folder, running

pytestmark = [pytest.mark.integration]
XSS = '<img src="x" onerror="window.__xss = 1"><script>window.__xss = 2</script>'


def this_minute() -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0)


def assert_clean(driver: Any, url: str) -> None:
    assert page.console_errors(driver) == []
    assert page.foreign(page.requested_urls(driver), url) == []


def test_the_page_fills_and_updates_without_a_reload(pipeline: Settings, browser: Any) -> None:
    now = this_minute()
    tweets = [t for back in range(5, 0, -1) for t in rows.burst(
        1000 * back, now - timedelta(minutes=back), 3 + back, tag=f"tag{back}")]
    tweets.append(rows.Tweet(9_000, now - timedelta(minutes=1), XSS, sentiment=-0.6,
                             author="<b>x</b>"))
    rows.add(pipeline, tweets)
    page.clear_logs(browser)
    with running(pipeline, status_facts_of(pipeline)) as url:
        browser.get(url)
        page.wait_for_number(browser, "kpi-tweets", len(tweets))
        for chart in page.CHARTS:
            assert page.chart_points(browser, chart) > 0, chart
            assert page.painted_pixels(browser, chart) > 500, chart
        assert page.chart_points(browser, "chart-minutes") == 5
        latest = page.rows(browser, "#latest li")
        assert len(latest) == 25  # queries.Limits.latest of the 31
        assert XSS in latest[0] and "@<b>x</b>" in latest[0]  # shown as text
        assert browser.execute_script(
            "return [window.__xss, document.querySelectorAll('#latest img, #latest b,"
            " #latest script').length]") == [None, 0]
        assert len(page.rows(browser, "#stages tbody tr")) == 3
        assert len(page.rows(browser, "#partitions tbody tr")) == pipeline.kafka_partitions
        assert page.value(browser, "kpi-lag") == "0"

        browser.execute_script("window.__same_page = true")
        more = rows.burst(20_000, now, 7, tag="fresh")
        rows.add(pipeline, more)
        page.wait_for_number(browser, "kpi-tweets", len(tweets) + len(more))
        assert browser.execute_script("return window.__same_page") is True  # no reload
        assert page.chart_points(browser, "chart-minutes") == 6
        assert browser.find_element("css selector", "#latest li").get_attribute(
            "data-id") == str(more[-1].tweet_id)
        assert "#fresh" in page.rows(browser, "#latest li")[0]
        assert_clean(browser, url)


def components(collected: Any, loaded: Any, transformed: batch_job.TransformResult
               ) -> dict[str, Any]:
    """The runs' own counters, as the supervisor's reports carry them."""
    return {
        "collector": {"state": "stopped", "restarts": 0, "line": collected.line(),
                      "counters": {"tweets": collected.tweets, "rate": collected.rate,
                                   "reconnects": collected.reconnects,
                                   "rate_limit_waits": collected.rate_limit_waits}},
        "loader": {"state": "stopped", "restarts": 0, "line": loaded.line(),
                   "counters": {"messages": loaded.messages, "rate": loaded.rate,
                                "dead_letters": loaded.dead_letters}},
        "transform": {"state": "stopped", "restarts": 0,
                      "line": f"{transformed.upserted} rows upserted, watermark "
                              f"{transformed.watermark_from} → {transformed.watermark_to}",
                      "counters": {"upserted": transformed.upserted}},
    }


@pytest.mark.spark
def test_screenshot_of_the_real_sample(pipeline: Settings, spark: Any, browser: Any,
                                      tmp_path: Path) -> None:
    collected = replay(pipeline, all_files())
    loaded = load_all(pipeline)
    transformed = batch_job.run_batch(pipeline, spark=spark)
    assert transformed.upserted > 100
    runs = components(collected, loaded, transformed)
    total = query(pipeline, "SELECT sum(tweets)::int FROM trend_minute")[0][0]
    page.clear_logs(browser)
    with running(pipeline, lambda: {**status_facts(pipeline), "components": runs}) as url:
        browser.get(url)
        page.wait_for_number(browser, "kpi-tweets", total)
        page.wait_for_number(browser, "kpi-behind", 0)
        for chart in page.CHARTS:
            assert page.painted_pixels(browser, chart) > 500, chart
        assert len(page.rows(browser, "#latest li")) == 25
        assert page.rows(browser, "#dead-letters tbody tr td.empty") == []  # the broken line
        browser.execute_script("document.getElementById('latest').scrollTop = 0")
        shot = browser.get_screenshot_as_png()
        assert_clean(browser, url)
    assert struct.unpack(">II", shot[16:24]) == (WIDTH, HEIGHT)
    (tmp_path / "dashboard.png").write_bytes(shot)
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        (docs_folder() / "dashboard.png").write_bytes(shot)
