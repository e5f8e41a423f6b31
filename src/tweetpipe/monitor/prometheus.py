"""A snapshot (`facts.snapshot`) in Prometheus' text exposition format (version 0.0.4).

Gauges read from the sources of truth at scrape time (rows per table, lag per partition,
dead letters by reason, the transform's distance behind the loader, services and components
up); counters and the batch-latency histograms come from the components' own reports (a
restarted component starts its counters again, which `rate()` and `increase()` allow for).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tweetpipe.monitor.facts import Facts

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: metric name -> (component, counter field, help)
COUNTERS = {
    "tweetpipe_collected_tweets_total": ("collector", "tweets", "Tweets the collector sent"),
    "tweetpipe_collected_pages_total": ("collector", "pages", "Search pages read"),
    "tweetpipe_rate_limit_waits_total": ("collector", "rate_limit_waits",
                                         "Waits for X's rate-limit window"),
    "tweetpipe_reconnects_total": ("collector", "reconnects", "Stream reconnects"),
    "tweetpipe_loaded_messages_total": ("loader", "messages", "Kafka messages loaded"),
    "tweetpipe_stored_rows_total": ("loader", "stored", "tweet_merge rows inserted or changed"),
    "tweetpipe_dead_lettered_total": ("loader", "dead_letters", "Records dead-lettered"),
    "tweetpipe_transformed_rows_total": ("transform", "upserted",
                                         "tweet_transformed rows upserted"),
}
#: metric name -> (component, histogram field, help)
HISTOGRAMS = {
    "tweetpipe_load_batch_seconds": ("loader", "batch_seconds",
                                     "Loader batch: in hand to committed"),
    "tweetpipe_transform_batch_seconds": ("transform", "batch_seconds",
                                          "Transform micro-batch: start to commit"),
}


def render(facts: Facts) -> str:
    lines: list[str] = []
    _gauge(lines, "tweetpipe_rows", "Rows per table",
           [({"table": t}, n) for t, n in (facts.get("tables") or {}).items()])
    _gauge(lines, "tweetpipe_dead_letters", "Dead letters by reason",
           [({"reason": r}, n) for r, n in (facts.get("dead_letters") or {}).items()])
    partitions = facts.get("partitions") or []
    _gauge(lines, "tweetpipe_kafka_lag", "Messages not loaded yet, per partition",
           [({"partition": str(p["partition"])}, p["lag"]) for p in partitions])
    _gauge(lines, "tweetpipe_kafka_log_end_offset", "Log end offset, per partition",
           [({"partition": str(p["partition"])}, p["end"]) for p in partitions])
    transform = facts.get("transform") or {}
    if transform:
        _gauge(lines, "tweetpipe_transform_behind",
               "Load sequences loaded but not transformed yet", [({}, transform["behind"])])
    _gauge(lines, "tweetpipe_service_up", "1 when the service answers",
           [({"service": s["name"]}, int(bool(s.get("healthy"))))
            for s in facts.get("services") or []])
    comps: Mapping[str, Any] = facts.get("components") or {}
    _gauge(lines, "tweetpipe_component_up", "1 while the component runs",
           [({"component": c}, int(v.get("state") == "running")) for c, v in comps.items()])
    _counter(lines, "tweetpipe_component_restarts_total", "Restarts by the supervisor",
             [({"component": c}, v.get("restarts", 0)) for c, v in comps.items()])
    for name, (component, key, help_text) in COUNTERS.items():
        value = (comps.get(component) or {}).get("counters", {}).get(key)
        if isinstance(value, int | float):
            _counter(lines, name, help_text, [({}, value)])
    for name, (component, key, help_text) in HISTOGRAMS.items():
        hist = (comps.get(component) or {}).get("counters", {}).get(key)
        if isinstance(hist, dict) and hist.get("count"):
            _histogram(lines, name, help_text, hist)
    return "\n".join(lines) + "\n"


Samples = Iterable[tuple[Mapping[str, str], Any]]


def _gauge(lines: list[str], name: str, help_text: str, samples: Samples) -> None:
    _family(lines, name, "gauge", help_text, samples)


def _counter(lines: list[str], name: str, help_text: str, samples: Samples) -> None:
    _family(lines, name, "counter", help_text, samples)


def _family(lines: list[str], name: str, kind: str, help_text: str, samples: Samples) -> None:
    rows = [(labels, value) for labels, value in samples if isinstance(value, int | float)]
    if not rows:
        return
    lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    lines += [f"{name}{_labels(labels)} {_number(value)}" for labels, value in rows]


def _histogram(lines: list[str], name: str, help_text: str, hist: Mapping[str, Any]) -> None:
    lines += [f"# HELP {name} {help_text}", f"# TYPE {name} histogram"]
    for bound, n in zip(hist["bounds"], hist["counts"], strict=True):
        lines.append(f'{name}_bucket{{le="{_number(bound)}"}} {n}')
    lines += [f'{name}_bucket{{le="+Inf"}} {hist["count"]}',
              f"{name}_sum {_number(hist['sum'])}", f"{name}_count {hist['count']}"]


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()))
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)
