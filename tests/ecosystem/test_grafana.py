"""The Grafana dashboard of monitoring/grafana/: valid by Grafana's own schema, its SQL runs on
tweetpipe's tables and returns what its panels show, its PromQL names the metrics tweetpipe
serves, and its data sources are the provisioned ones.

The schema: JSON Schema (draft-07) generated from the npm package @grafana/schema, the types
Grafana generates from its CUE kinds (the dashboard kind, each panel plugin's options and field
config), vendored in grafana_schema/ with the script that regenerates them (generate.sh; the
versions in grafana_schema/SOURCE). Why this one: docs/monitoring.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tweetpipe import db
from tweetpipe.monitor import prometheus
from tweetpipe.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "monitoring" / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "tweetpipe.json"
DATASOURCES = GRAFANA / "provisioning" / "datasources" / "tweetpipe.yaml"
SCHEMAS = Path(__file__).parent / "grafana_schema"

#: the metrics tweetpipe serves at /metrics that the dashboard shows (its pipeline health)
METRICS = {
    "tweetpipe_rows", "tweetpipe_dead_letters", "tweetpipe_kafka_lag",
    "tweetpipe_transform_behind", "tweetpipe_component_up",
    "tweetpipe_collected_tweets_total", "tweetpipe_loaded_messages_total",
    "tweetpipe_transformed_rows_total", "tweetpipe_rate_limit_waits_total",
    "tweetpipe_reconnects_total", "tweetpipe_component_restarts_total",
    "tweetpipe_load_batch_seconds",
}

#: the columns each SQL panel shows, in order
COLUMNS = {
    "Tweets per minute": ["time", "tweets", "scored"],
    "Sentiment over time": ["time", "mean_sentiment"],
    "Top hashtags (last hour)": ["hashtag", "tweets"],
    "Top mentions (last hour)": ["mention", "tweets"],
    "Latest tweets": ["time", "author", "clean_text", "sentiment_label", "sentiment"],
    "Dead letters by reason": ["reason", "letters", "latest"],
}
#: PostgreSQL type oids: timestamptz, timestamp; int2, int4, int8, float4, float8, numeric
TIME_OIDS = {1184, 1114}
NUMBER_OIDS = {21, 23, 20, 700, 701, 1700}


def dashboard() -> dict[str, Any]:
    return dict(json.loads(DASHBOARD.read_text()))


def panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, rows' nested panels too, rows themselves not."""
    for panel in board.get("panels", []):
        if panel.get("type") == "row":
            yield from panel.get("panels", [])
        else:
            yield panel


def targets(board: dict[str, Any], kind: str) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for panel in panels(board):
        for target in panel.get("targets", []):
            datasource = target.get("datasource") or panel.get("datasource") or {}
            if datasource.get("type") == kind:
                yield panel, target


def load_schema(name: str) -> jsonschema.Draft7Validator:
    schema = json.loads((SCHEMAS / name).read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def schema_errors(board: dict[str, Any]) -> list[str]:
    """Everything the dashboard schema, and each panel plugin's schema, finds wrong."""
    found = [f"dashboard {'/'.join(map(str, e.absolute_path))}: {e.message}"
             for e in load_schema("dashboard.schema.json").iter_errors(board)]
    for panel in panels(board):
        kind, title = panel["type"], panel.get("title")
        options = SCHEMAS / "panels" / f"{kind}.options.schema.json"
        if not options.exists():
            found.append(f"panel {title!r}: no schema for panel type {kind!r} in "
                         f"{options.parent} (add it to generate.sh's PANELS)")
            continue
        found += [f"panel {title!r} options {'/'.join(map(str, e.absolute_path))}: {e.message}"
                  for e in load_schema(options.relative_to(SCHEMAS).as_posix())
                  .iter_errors(panel.get("options", {}))]
        custom = panel.get("fieldConfig", {}).get("defaults", {}).get("custom")
        field_config = SCHEMAS / "panels" / f"{kind}.fieldconfig.schema.json"
        if custom is not None and field_config.exists():
            found += [f"panel {title!r} fieldConfig.defaults.custom "
                      f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                      for e in load_schema(field_config.relative_to(SCHEMAS).as_posix())
                      .iter_errors(custom)]
        elif custom is not None:
            found.append(f"panel {title!r}: type {kind!r} has no custom field config")
    return found


# ---- the dashboard against Grafana's schema ----------------------------------------------------

def test_the_schema_is_the_pinned_one() -> None:
    source = (SCHEMAS / "SOURCE").read_text().split()
    assert source[:2] == ["@grafana/schema", "12.4.11"]
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert compose["services"]["grafana"]["image"] == f"grafana/grafana:{source[1]}", \
        "Grafana's image and the schema the dashboard is tested against are the same version"


def test_the_dashboard_is_valid_by_grafanas_schema() -> None:
    board = dashboard()
    assert schema_errors(board) == []
    assert {p["type"] for p in panels(board)} <= {
        p.name.split(".")[0] for p in (SCHEMAS / "panels").glob("*.options.schema.json")}


@pytest.mark.parametrize("mistake", [
    "a misspelt panel property", "a legend mode Grafana does not have",
    "a panel without a position", "a dashboard without schemaVersion",
    "a table column option of another panel type", "a threshold without a color",
])
def test_the_schema_catches_mistakes(mistake: str) -> None:
    """The check has teeth: the same dashboard with one mistake is refused."""
    board = dashboard()
    chart = next(p for p in panels(board) if p["type"] == "timeseries")
    table = next(p for p in panels(board) if p["type"] == "table")
    if mistake == "a misspelt panel property":
        chart["gridpos"] = chart.pop("gridPos")
    elif mistake == "a legend mode Grafana does not have":
        chart["options"]["legend"]["displayMode"] = "sidebar"
    elif mistake == "a panel without a position":
        del chart["gridPos"]["h"]
    elif mistake == "a dashboard without schemaVersion":
        del board["schemaVersion"]
    elif mistake == "a table column option of another panel type":
        table["fieldConfig"]["defaults"]["custom"]["drawStyle"] = "line"
    else:
        del chart["fieldConfig"]["defaults"]["thresholds"]["steps"][0]["color"]
    assert schema_errors(board) != []


def test_panels_do_not_overlap_and_ids_are_unique() -> None:
    board = dashboard()
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    taken: set[tuple[int, int]] = set()
    for panel in board["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        cells = {(x, y) for x in range(pos["x"], pos["x"] + pos["w"])
                 for y in range(pos["y"], pos["y"] + pos["h"])}
        assert not cells & taken, f"{panel['title']!r} overlaps another panel"
        taken |= cells


def test_every_data_source_is_a_provisioned_one() -> None:
    provisioned = {d["uid"]: d["type"]
                   for d in yaml.safe_load(DATASOURCES.read_text())["datasources"]}
    board = dashboard()
    used = set()
    for panel in panels(board):
        for ref in [panel.get("datasource")] + [t.get("datasource") for t in panel["targets"]]:
            if ref is not None:
                used.add((ref["uid"], ref["type"]))
    assert used == set(provisioned.items())


def test_the_dashboards_provider_reads_the_folder_compose_mounts() -> None:
    provider = yaml.safe_load(
        (GRAFANA / "provisioning" / "dashboards" / "tweetpipe.yaml").read_text())
    path = provider["providers"][0]["options"]["path"]
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    mounts = dict(v.split(":")[:2][::-1] for v in compose["services"]["grafana"]["volumes"]
                  if v.startswith("./"))
    assert (ROOT / mounts[path]).resolve() == DASHBOARD.parent


# ---- PromQL: the metrics tweetpipe serves ------------------------------------------------------

def served() -> dict[str, set[str]]:
    """Metric name -> label names, from tweetpipe's own /metrics rendering of a snapshot in
    which every component reports every counter and histogram."""
    counters: dict[str, dict[str, Any]] = {}
    for component, key, _help in prometheus.COUNTERS.values():
        counters.setdefault(component, {})[key] = 1
    for component, key, _help in prometheus.HISTOGRAMS.values():
        counters.setdefault(component, {})[key] = {
            "bounds": [0.1, 1.0], "counts": [1, 2], "count": 2, "sum": 0.6}
    facts = {
        "tables": {"tweet_merge": 3}, "dead_letters": {"unparseable": 1},
        "partitions": [{"partition": 0, "committed": 1, "end": 2, "lag": 1}],
        "transform": {"behind": 0, "watermark": 3, "max_load_seq": 3},
        "services": [{"name": "kafka", "healthy": True}],
        "components": {c: {"state": "running", "restarts": 0, "counters": v}
                       for c, v in counters.items()},
    }
    labels: dict[str, set[str]] = {}
    for line in prometheus.render(facts).splitlines():
        match = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? ", line)
        if match and not line.startswith("#"):
            names = set(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="', match[2] or ""))
            labels.setdefault(match[1], set()).update(names)
    return labels


def metric_names(expr: str) -> set[str]:
    return set(re.findall(r"\btweetpipe_[a-z0-9_]+", expr))


def test_the_health_panels_show_every_metric_and_only_served_ones() -> None:
    exposed = served()
    used: set[str] = set()
    for panel, target in targets(dashboard(), "prometheus"):
        names = metric_names(target["expr"])
        assert names, f"{panel['title']!r}: {target['expr']!r} names no tweetpipe metric"
        for name in names:
            assert name in exposed, f"{panel['title']!r}: tweetpipe serves no {name}"
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            used.add(base if base in prometheus.HISTOGRAMS else name)
        wanted = set(re.findall(r"\{\{\s*(\w+)\s*\}\}", target.get("legendFormat", "")))
        wanted |= {w.strip() for group in re.findall(r"\bby\s*\(([^)]*)\)", target["expr"])
                   for w in group.split(",")}
        have = set().union(*(exposed[n] for n in names)) | {"le"}
        assert wanted <= have, f"{panel['title']!r}: no label {wanted - have} on {names}"
    assert used == METRICS


def test_prometheus_scrapes_tweetpipe_on_port_8080() -> None:
    for name, target in (("prometheus.yml", "127.0.0.1:8080"),
                         ("prometheus.compose.yml", "host.docker.internal:8080")):
        config = yaml.safe_load((ROOT / "monitoring" / name).read_text())
        jobs = {j["job_name"]: j for j in config["scrape_configs"]}
        assert jobs["tweetpipe"]["metrics_path"] == "/metrics"
        assert jobs["tweetpipe"]["static_configs"] == [{"targets": [target]}]
        assert config["global"]["scrape_interval"] == "15s"  # the data source's timeInterval
    provisioned = {d["uid"]: d for d in yaml.safe_load(DATASOURCES.read_text())["datasources"]}
    assert provisioned["tweetpipe-prometheus"]["jsonData"]["timeInterval"] == "15s"


# ---- SQL: runs on tweetpipe's tables -----------------------------------------------------------

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
RANGE = (T0 - timedelta(hours=3), T0 + timedelta(hours=1))


def grafana_sql(text: str, start: datetime, end: datetime) -> str:
    """`text` with Grafana's PostgreSQL macros expanded as Grafana expands them."""
    def stamp(when: datetime) -> str:
        return "'" + when.strftime("%Y-%m-%dT%H:%M:%SZ") + "'"

    text = re.sub(r"\$__timeFilter\(([^)]+)\)",
                  lambda m: f"{m[1].strip()} BETWEEN {stamp(start)} AND {stamp(end)}", text)
    text = text.replace("$__timeFrom()", stamp(start)).replace("$__timeTo()", stamp(end))
    assert "$" not in text, f"a macro or variable the test does not expand: {text}"
    return text


def fill(settings: Settings) -> None:
    """A few rows in every table the dashboard reads; one of each kind outside the last hour."""
    old, mid, new = T0 - timedelta(hours=2), T0, T0 + timedelta(minutes=30)
    with db.connect(settings) as conn:
        conn.cursor().executemany(
            "INSERT INTO trend_minute (minute, tweets, scored, mean_sentiment)"
            " VALUES (%s, %s, %s, %s)",
            [(old, 9, 9, -0.5), (mid, 3, 2, 0.25), (new, 2, 0, None)])
        conn.cursor().executemany(
            "INSERT INTO trend_hashtag (minute, hashtag, tweets) VALUES (%s, %s, %s)",
            [(old, "old", 9), (mid, "python", 3), (new, "python", 2), (new, "kafka", 1)])
        conn.cursor().executemany(
            "INSERT INTO trend_mention (minute, mention, tweets) VALUES (%s, %s, %s)",
            [(old, "someone", 9), (mid, "xdevelopers", 1), (new, "xdevelopers", 1)])
        conn.cursor().executemany(
            "INSERT INTO tweet_transformed (tweet_id, created_at, minute, author_username,"
            " clean_text, sentiment, sentiment_label, load_seq, transform_version)"
            " VALUES (%s, %s, date_trunc('minute', %s::timestamptz), %s, %s, %s, %s, %s, 1)",
            [(1, old, old, "early", "long ago", 0.1, "neutral", 1),
             (2, mid + timedelta(seconds=5), mid, "ann", "I love python", 0.6369, "positive", 2),
             (3, new + timedelta(seconds=9), new, "bob", "kafka is down", -0.34, "negative", 3)])
        conn.cursor().executemany(
            "INSERT INTO dead_letters (reason, kafka_topic, kafka_partition, kafka_offset)"
            " VALUES (%s, 't', 0, %s)", [("unparseable", 1), ("unparseable", 2), ("schema", 3)])
        conn.commit()


@pytest.mark.integration
def test_every_query_runs_on_our_tables_and_returns_the_panels_columns(
        pipeline: Settings) -> None:
    fill(pipeline)
    board = dashboard()
    results: dict[str, list[tuple[Any, ...]]] = {}
    with db.connect(pipeline) as conn:
        for panel, target in targets(board, "grafana-postgresql-datasource"):
            title = panel["title"]
            text = grafana_sql(target["rawSql"], *RANGE)
            conn.execute("SET TRANSACTION READ ONLY")  # a reader's account is enough
            cursor = conn.execute(text.encode())
            assert cursor.description is not None
            columns = [c.name for c in cursor.description]
            types = {c.name: c.type_code for c in cursor.description}
            results[title] = cursor.fetchall()
            conn.rollback()
            assert columns == COLUMNS[title], title
            if target["format"] == "time_series":
                assert types["time"] in TIME_OIDS, title
                assert all(types[c] in NUMBER_OIDS for c in columns[1:]), title
            else:
                assert target["format"] == "table", title
            shown = {o["matcher"]["options"] for o in panel["fieldConfig"]["overrides"]
                     if o["matcher"]["id"] == "byName"}
            shown |= {panel["options"][k] for k in ("xField", "colorByField")
                      if k in panel["options"]}
            assert shown <= set(columns), f"{title!r} shows columns its query lacks"
    assert results.keys() == COLUMNS.keys()
    assert [r[1:] for r in results["Tweets per minute"]] == [(9, 9), (3, 2), (2, 0)]
    assert [r[1] for r in results["Sentiment over time"]] == [-0.5, 0.25]
    assert results["Top hashtags (last hour)"] == [("#python", 5), ("#kafka", 1)]
    assert results["Top mentions (last hour)"] == [("@xdevelopers", 2)]
    assert [(r[1], r[3]) for r in results["Latest tweets"]] == [
        ("bob", "negative"), ("ann", "positive"), ("early", "neutral")]
    assert [r[:2] for r in results["Dead letters by reason"]] == [
        ("unparseable", 2), ("schema", 1)]


def test_the_macros_expand_as_grafana_does() -> None:
    text = grafana_sql("WHERE $__timeFilter(t.minute) AND x < $__timeTo()", *RANGE)
    assert text == ("WHERE t.minute BETWEEN '2024-05-01T09:00:00Z' AND '2024-05-01T13:00:00Z'"
                    " AND x < '2024-05-01T13:00:00Z'")
