"""The dashboard served for real (`serve` on a free port, in a thread) and a real headless
Chromium driven by Selenium (Debian's `chromium` and `chromium-driver`: scripts/
install_test_tools.sh). Without Chromium the browser tests are skipped, except in CI (`CI` set),
where they fail."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import pytest

from tweetpipe.dashboard import serve
from tweetpipe.settings import Settings

from ..waiting import join, wait_for

Facts = Callable[[], dict[str, Any]]
WIDTH, HEIGHT = 1280, 900
CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                  "--disable-extensions", "--disable-default-apps", "--mute-audio",
                  "--force-device-scale-factor=1", f"--window-size={WIDTH},{HEIGHT}")


@contextmanager
def running(settings: Settings, facts: Facts, *, metrics: Callable[[], str] = lambda: "",
            interval: float = 0.5) -> Iterator[str]:
    """The dashboard of `settings` on a free port of 127.0.0.1 while the block runs: its URL."""
    stop, listening = threading.Event(), threading.Event()
    urls: list[str] = []
    failed: list[BaseException] = []

    def ready(url: str) -> None:
        urls.append(url)
        listening.set()

    def target() -> None:
        try:
            serve(settings, port=0, facts=facts, metrics=metrics, stop=stop, ready=ready,
                  interval=interval)
        except BaseException as exc:
            failed.append(exc)
            listening.set()

    thread = threading.Thread(target=target, name="dashboard-under-test", daemon=True)
    thread.start()
    try:
        wait_for(listening, 15, "the dashboard to listen")
        assert not failed, f"serve failed: {failed}"
        yield urls[0]
    finally:
        stop.set()
        join(thread, 10, "the dashboard to stop")


def browser_missing(reason: str) -> NoReturn:
    """Skip, or fail in CI: CI must run the browser tests."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: the browser tests must run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        browser_missing("Chromium or chromedriver is missing: run scripts/install_test_tools.sh")
    try:
        from selenium import webdriver
    except ImportError:
        browser_missing("selenium is missing: pip install -e '.[dev]'")
    folder = tmp_path_factory.mktemp("chromium")
    options = webdriver.ChromeOptions()
    options.binary_location = str(chromium)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={folder / 'profile'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    service = webdriver.ChromeService(executable_path=str(driver_path),
                                      log_output=str(folder / "chromedriver.log"))
    driver = webdriver.Chrome(options=options, service=service)
    try:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False})
        driver.set_page_load_timeout(30)
        yield driver
    finally:
        driver.quit()


def docs_folder() -> Path:
    return Path(__file__).resolve().parents[2] / "docs"
