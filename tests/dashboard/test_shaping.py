"""The dashboard's pure parts: rows shaped for the page, secrets masked, static paths that
cannot leave static/, a Status turned into facts, and our own page's files free of any
external address."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest

from tweetpipe.api import Status
from tweetpipe.dashboard import payload, queries, server, status
from tweetpipe.load.lag import PartitionPosition
from tweetpipe.services.health import ServiceStatus
from tweetpipe.settings import Settings

from ..isolation import suite_settings


def test_rows_are_shaped_for_the_page() -> None:
    minute = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert queries.minute_row(minute, 3, 2, 0.123456) == {
        "minute": "2024-05-01T12:00:00+00:00", "tweets": 3, "scored": 2,
        "mean_sentiment": 0.1235}
    assert queries.minute_row(minute, 1, 0, None)["mean_sentiment"] is None
    row = queries.tweet_row({"tweet_id": 1440716522796638212, "clean_text": None,
                             "created_at": minute + timedelta(seconds=5.5),
                             "hashtags": None, "sentiment": -1})
    assert row == {"id": "1440716522796638212", "created_at": "2024-05-01T12:00:05+00:00",
                   "author": None, "lang": None, "clean_text": "", "sentiment": -1.0,
                   "label": None, "hashtags": [], "mentions": []}
    paris = timezone(timedelta(hours=2))
    assert queries.iso(datetime(2024, 5, 1, 14, 0, tzinfo=paris)) == "2024-05-01T14:00:00+02:00"


def test_empty_document_has_every_section() -> None:
    doc = queries.empty()
    assert set(doc) == {"trends", "latest", "error"}
    assert set(doc["trends"]) == {"minutes", "hashtags", "mentions", "totals"}


def settings(**given: object) -> Settings:
    return suite_settings(**given)


def test_secrets_are_masked_but_not_the_default_password() -> None:
    assert payload.secrets_of(settings()) == []  # DB_PASS defaults to "tweetpipe"
    found = payload.secrets_of(settings(DB_PASS='p"a\\ss word', TWITTER_BEARER_TOKEN="AAAA1234"))
    assert set(found) == {'p"a\\ss word', "AAAA1234"}
    body = payload.encode({"e": 'auth p"a\\ss word failed', "t": ["AAAA1234"], "ok": "tweetpipe"},
                          found)
    assert orjson.loads(body) == {"e": "auth *** failed", "t": ["***"], "ok": "tweetpipe"}
    assert payload.secrets_of(settings(DB_PASS="short")) == []


def test_a_failing_facts_function_is_shown() -> None:
    def facts() -> dict[str, object]:
        raise RuntimeError("kafka down\nsecond line")

    assert payload.health(facts) == {"errors": {"facts": "kafka down"}}
    assert payload.health(lambda: None) == {"errors": {"facts": "no facts"}}  # type: ignore


@pytest.mark.parametrize("name", ["../server.py", "vendor/../../server.py", "/etc/passwd",
                                  ".hidden.css", "dashboard.js/", "x.py", "", "vendor",
                                  "a//b.js", "..", "index.html\x00.js", "%2e%2e/server.py"])
def test_static_files_stay_in_static(name: str) -> None:
    assert server.static_file(name) is None


def test_static_files_served() -> None:
    assert server.static_file("index.html") == server.STATIC / "index.html"
    assert server.static_file("dashboard.js") is not None


def test_urls() -> None:
    assert server.url_of("127.0.0.1", 8080) == "http://127.0.0.1:8080/"
    assert server.url_of("::1", 80) == "http://[::1]:80/"


def test_status_becomes_facts() -> None:
    found = status.from_status(Status(
        "tweet-crawl", "loader", [ServiceStatus("kafka", "127.0.0.1:9092", True, "ours", 42)],
        tables={"tweet_merge": 5}, dead_letters={"bad_json": 2},
        partitions=[PartitionPosition(0, 0, 10, 7), PartitionPosition(1, 0, 3, None)]))
    assert found["partitions"] == [{"partition": 0, "committed": 7, "end": 10, "lag": 3},
                                   {"partition": 1, "committed": None, "end": 3, "lag": 3}]
    assert found["lag"] == 6
    assert found["services"] == [{"name": "kafka", "state": "running", "pid": 42,
                                  "address": "127.0.0.1:9092"}]
    assert found["errors"] == {"database": None, "kafka": None}
    assert status.from_status(Status("t", "g", []))["partitions"] is None


def test_our_page_names_no_external_address() -> None:
    """The page, its script and style load nothing by URL but their own relative paths."""
    for name in ("index.html", "dashboard.js", "dashboard.css"):
        text = (server.STATIC / name).read_text()
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.I), name
        assert "@import" not in text and "url(" not in text, name



def test_the_chart_library_is_built_from_the_lockfile() -> None:
    """scripts/build_web.sh (run by setup) put the chart library that web/package-lock.json
    pins in static/vendor/, where tweetpipe serves it from."""
    lock = orjson.loads((server.STATIC.parents[3] / "web" / "package-lock.json").read_bytes())
    pinned = lock["packages"]["node_modules/chart.js"]["version"]
    built = server.static_file("vendor/chart.umd.min.js")
    assert built is not None, "the chart library is missing: run scripts/build_web.sh"
    assert f"Chart.js v{pinned}\n" in built.read_text()[:200]
