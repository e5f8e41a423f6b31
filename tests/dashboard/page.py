"""Reading the dashboard as a user sees it, in the real browser (Selenium)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

CHARTS = ("chart-minutes", "chart-sentiment", "chart-hashtags", "chart-mentions")


def clear_logs(driver: Any) -> None:
    driver.get("about:blank")
    for kind in ("browser", "performance"):
        driver.get_log(kind)


def value(driver: Any, element_id: str) -> str:
    return str(driver.find_element(By.ID, element_id).get_attribute("data-value") or "")


def wait_until(driver: Any, predicate: Any, timeout: float, message: str) -> None:
    WebDriverWait(driver, timeout, poll_frequency=0.2).until(
        lambda d: predicate(d), message=message)


def wait_for_number(driver: Any, element_id: str, expected: int, timeout: float = 20) -> None:
    def shows(d: Any) -> bool:
        return value(d, element_id) == str(expected)

    wait_until(driver, shows, timeout, f"#{element_id} to show {expected} (it shows "
               f"{value(driver, element_id)!r})")


def chart_points(driver: Any, chart_id: str) -> int:
    """The points of the chart's data set, as the Chart.js instance holds them."""
    return int(driver.execute_script(
        "const c = Chart.getChart(arguments[0]);"
        " return c ? c.data.datasets[0].data.filter(v => v !== null).length : -1;", chart_id))


def painted_pixels(driver: Any, chart_id: str) -> int:
    """Pixels of the canvas that are not transparent: something was drawn."""
    return int(driver.execute_script(
        "const c = document.getElementById(arguments[0]);"
        " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n;", chart_id))


def rows(driver: Any, css: str) -> list[str]:
    """The rendered text of the elements `css` selects, read in one step: the page redraws
    its lists as it polls, so texts read element by element may meet a replaced one."""
    return [str(t) for t in driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]), e => e.innerText)", css)]


def console_errors(driver: Any) -> list[dict[str, Any]]:
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def requested_urls(driver: Any) -> set[str]:
    """Every URL the page asked for: the network log (Chromium's performance log) and the
    page's own resource timing entries."""
    urls = set(driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"))
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.add(message["params"]["request"]["url"])
    return urls


def foreign(urls: set[str], base: str) -> list[str]:
    """The URLs not served by `base` (data: URLs load nothing)."""
    origin = urlsplit(base)
    return sorted(u for u in urls if not u.startswith("data:")
                  and (urlsplit(u).scheme, urlsplit(u).netloc) != (origin.scheme, origin.netloc))
