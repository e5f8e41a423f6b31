"""The dashboard's HTTP side on the real database: routes, the JSON document, server-sent
events, errors that never crash the server, no secret in any answer, and query plans that use
the indexes (the dashboard must stay fast with millions of tweets)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from psycopg import sql

from tweetpipe import db
from tweetpipe.dashboard import queries
from tweetpipe.dashboard.status import status_facts
from tweetpipe.settings import Settings

from . import rows
from .conftest import running

pytestmark = [pytest.mark.integration]
MINUTE = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def fill(settings: Settings) -> list[rows.Tweet]:
    tweets = [*rows.burst(100, MINUTE, 4, tag="python", mention="guido"),
              *rows.burst(200, MINUTE + timedelta(minutes=1), 6, tag="kafka", sentiment=0.8),
              rows.Tweet(300, MINUTE + timedelta(minutes=3), "no score", sentiment=None)]
    rows.add(settings, tweets)
    return tweets


def test_routes(pipeline: Settings) -> None:
    fill(pipeline)
    with running(pipeline, lambda: status_facts(pipeline), metrics=lambda: "up 1\n") as url, \
            httpx.Client(base_url=url, timeout=10) as http:
        page = http.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert http.get("/static/dashboard.js").headers["content-type"].startswith(
            "text/javascript")
        assert http.get("/static/dashboard.css").status_code == 200
        assert http.head("/healthz").status_code == 200
        assert http.head("/events").headers["content-type"] == "text/event-stream"
        assert http.get("/healthz").text == "ok\n"
        metrics = http.get("/metrics")
        assert metrics.text == "up 1\n"
        assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
        for path in ("/nope", "/static/../server.py", "/static/%2e%2e/server.py",
                     "/static/vendor/../../server.py", "/static/.hidden.js", "/static/x.py",
                     "/api", "/static/"):
            assert http.get(path).status_code == 404, path
        for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
            answer = http.request(method, "/api/dashboard")
            assert answer.status_code == 405 and answer.headers["allow"] == "GET, HEAD", method
        assert http.get("/healthz").status_code == 200  # still serving


def test_the_document(pipeline: Settings) -> None:
    tweets = fill(pipeline)
    with running(pipeline, lambda: status_facts(pipeline)) as url:
        doc = orjson.loads(httpx.get(url + "api/dashboard", timeout=10).content)
    trends = doc["trends"]
    assert [m["tweets"] for m in trends["minutes"]] == [4, 6, 1]
    assert trends["minutes"][0] == {"minute": "2024-05-01T12:00:00+00:00", "tweets": 4,
                                    "scored": 4, "mean_sentiment": 0.0}
    assert trends["minutes"][2]["mean_sentiment"] is None
    assert trends["hashtags"] == [{"name": "kafka", "tweets": 6}, {"name": "python", "tweets": 4}]
    assert trends["mentions"] == [{"name": "kafka", "tweets": 3}, {"name": "guido", "tweets": 2}]
    assert trends["totals"] == {"tweets": len(tweets), "scored": len(tweets) - 1, "minutes": 3,
                                "newest": "2024-05-01T12:03:00+00:00"}
    assert [t["id"] for t in doc["latest"]] == [str(t.tweet_id) for t in sorted(
        tweets, key=lambda t: -t.tweet_id)]
    assert doc["latest"][0]["label"] is None and doc["latest"][1]["label"] == "positive"
    health = doc["health"]
    assert health["topic"] == pipeline.kafka_topic and health["tables"]["tweet_transformed"] == 11
    assert health["transform"] == {"watermark": 0, "max_load_seq": 0, "behind": 0,
                                   "updated_at": None}
    assert doc["error"] is None


def test_limits_bound_every_section(pipeline: Settings) -> None:
    """Only the newest minutes are shown, and the top hashtags and mentions are those of the
    minutes shown."""
    tweets = fill(pipeline)
    doc = queries.read(pipeline, queries.Limits(minutes=2, top=2, latest=3))
    assert [m["minute"][11:16] for m in doc["trends"]["minutes"]] == ["12:01", "12:03"]
    assert doc["trends"]["hashtags"] == [{"name": "kafka", "tweets": 6}]
    assert doc["trends"]["mentions"] == [{"name": "kafka", "tweets": 3}]
    assert doc["trends"]["totals"]["tweets"] == len(tweets)  # the total is of all minutes
    assert [t["id"] for t in doc["latest"]] == ["300", "205", "204"]


def test_events_push_the_document_again_and_again(pipeline: Settings) -> None:
    fill(pipeline)
    with running(pipeline, lambda: {"topic": "t"}, interval=0.3) as url, \
            httpx.stream("GET", url + "events", timeout=10) as events:
        assert events.headers["content-type"] == "text/event-stream"
        documents = []
        for line in events.iter_lines():
            if line.startswith("data: "):
                documents.append(orjson.loads(line.removeprefix("data: ")))
            if len(documents) == 3:
                break
    assert len(documents) == 3
    assert {d["health"]["topic"] for d in documents} == {"t"}
    assert len({d["trends"]["totals"]["tweets"] for d in documents}) == 1


def test_failures_are_shown_not_raised_and_secrets_never(pipeline: Settings) -> None:
    secret = pipeline.db_pass.get_secret_value()
    assert len(secret) >= 6

    def facts() -> dict[str, Any]:
        raise RuntimeError(f"cannot reach postgresql://u:{secret}@h/db")

    with db.connect(pipeline, autocommit=True) as conn:
        conn.execute("DROP TABLE trend_minute")
    with running(pipeline, facts) as url:
        answer = httpx.get(url + "api/dashboard", timeout=10)
        assert answer.status_code == 200
        assert secret.encode() not in answer.content
        doc = orjson.loads(answer.content)
        assert "not there yet" in doc["error"]
        assert doc["health"]["errors"]["facts"] == "cannot reach postgresql://u:***@h/db"
        assert httpx.get(url, timeout=10).status_code == 200


def test_metrics_failing_is_a_500_and_the_server_goes_on(pipeline: Settings) -> None:
    def metrics() -> str:
        raise ValueError("broken")

    with running(pipeline, dict, metrics=metrics) as url:
        assert httpx.get(url + "metrics", timeout=10).status_code == 500
        assert httpx.get(url + "healthz", timeout=10).status_code == 200


class Explaining:
    """A connection that explains every statement before running it."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.plans: list[str] = []

    def execute(self, statement: Any, params: Any = None) -> Any:
        query = statement if isinstance(statement, sql.Composable) else sql.SQL(statement)
        plan = self.conn.execute(sql.SQL("EXPLAIN {}").format(query), params).fetchall()
        self.plans.append("\n".join(str(line[0]) for line in plan))
        return self.conn.execute(statement, params)


def test_the_queries_use_the_indexes(pipeline: Settings) -> None:
    """With sequential scans made expensive, the queries of tweets and of the per-minute
    hashtags and mentions have index paths: none reads a whole table. (The total sums
    trend_minute, one row a minute.)"""
    fill(pipeline)
    with db.connect(pipeline, autocommit=True) as conn:
        conn.execute("SET enable_seqscan = off")
        explaining = Explaining(conn)
        queries.latest(explaining, 25)  # type: ignore[arg-type]
        queries.trends(explaining, queries.Limits())  # type: ignore[arg-type]
    assert len(explaining.plans) == 5
    text = "\n".join(explaining.plans)
    for table in ("tweet_transformed", "trend_hashtag", "trend_mention"):
        assert f"Seq Scan on {table}" not in text, text
        assert f"{table}_pkey" in text, text
    assert "Index Scan Backward using trend_minute_pkey" in text, text
