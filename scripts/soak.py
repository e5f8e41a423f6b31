"""Soak: `tweetpipe run` at a fixed rate for a long time; memory and lag over time.

    .venv/bin/python scripts/soak.py --rate 150 --minutes 60 --every 30

Not part of CI. Starts, in a TWEETPIPE_HOME of its own on free ports, PostgreSQL and Kafka
(`services up`), the emulator with a synthetic sample (or filtered) stream of `--rate` tweets/s,
and `tweetpipe run sample|stream` (collector, loader, transform, dashboard). Every `--every`
seconds it samples the RSS of each process (emulator, run with its dashboard, collector, loader,
transform driver, its Spark JVM, Kafka, PostgreSQL), the Kafka lag per partition, rows in
tweet_merge and tweet_transformed, dead letters and the collector's count. After `--minutes` it
stops the run with SIGTERM, checks collected = tweet_merge = tweet_transformed exactly and no
dead letters, stops what it started and writes docs/soak.md and docs/soak.json
(scripts/soak_report.py). Exits 1 if the verdict is not a pass.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import soak_report  # scripts/ is on the path: these scripts run as files

from tweetpipe import services
from tweetpipe.monitor import facts
from tweetpipe.run import live
from tweetpipe.services import kafka_broker, postgres_server, process
from tweetpipe.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "soak-token"
COMPONENTS = ("collector", "loader", "transform")


def rss_mb(pid: int) -> float | None:
    """Resident memory of one process in MB (psutil when installed, else /proc)."""
    try:
        import psutil  # type: ignore[import-untyped]
    except ImportError:
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            return None
        return None
    try:
        return float(psutil.Process(pid).memory_info().rss) / 2**20
    except psutil.Error:
        return None


def children(pid: int) -> list[tuple[int, str]]:
    """Every descendant of `pid` as (pid, command name), from /proc."""
    parents: dict[int, list[tuple[int, str]]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        parents.setdefault(ppid, []).append((int(entry.name), name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child[0])
    return found


def shared_split_mb(pid: int) -> tuple[float, float] | None:
    """(private, shared) resident MB of one process: RssAnon, and RssFile + RssShmem (the
    binary and the shared memory, the same pages in every backend), from /proc."""
    fields: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                key, _, value = line.partition(":")
                if key in ("RssAnon", "RssFile", "RssShmem"):
                    fields[key] = int(value.split()[0])
    except OSError:
        return None
    if len(fields) < 3:
        return None
    return fields["RssAnon"] / 1024, (fields["RssFile"] + fields["RssShmem"]) / 1024


def tree_mb(pid: int) -> float | None:
    """A server and its children (PostgreSQL's backends): their private memory, plus the shared
    pages (shared_buffers, the binary) once, not once per backend that touched them."""
    parts = [shared_split_mb(p) for p in [pid, *(c for c, _ in children(pid))]]
    found = [p for p in parts if p is not None]
    if not found or parts[0] is None:
        return None
    return sum(private for private, _ in found) + max(shared for _, shared in found)


def processes(snapshot: dict[str, Any], emulator: int, run: int) -> dict[str, float]:
    """RSS in MB by process name, for the processes alive now."""
    found: dict[str, float | None] = {"emulator": rss_mb(emulator), "run+dashboard": rss_mb(run)}
    for name in COMPONENTS:
        pid = (snapshot["components"].get(name) or {}).get("pid")
        if pid:
            found[name] = rss_mb(int(pid))
            if name == "transform":
                jvms = [c for c, cmd in children(int(pid)) if cmd == "java"]
                found["spark-jvm"] = sum(rss_mb(j) or 0.0 for j in jvms) if jvms else None
    for service in snapshot["services"]:
        if service.get("pid"):
            label = "postgres" if service["name"].startswith("postgres") else service["name"]
            found[label] = tree_mb(int(service["pid"]))
    return {k: round(v, 1) for k, v in found.items() if v is not None}


def sample(settings: Settings, started: float, emulator: int, run: int) -> soak_report.Sample:
    snap = facts.snapshot(settings, run_dir=live.run_dir(settings))
    tables = snap.get("tables") or {}
    collector = (snap["components"].get("collector") or {}).get("counters", {})
    return {
        "t": round(time.monotonic() - started, 1),
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "rss_mb": processes(snap, emulator, run),
        "lag": {str(p["partition"]): p["lag"] for p in snap.get("partitions") or []},
        "lag_total": snap.get("lag") or 0,
        "tweet_merge": int(tables.get("tweet_merge", 0)),
        "tweet_transformed": int(tables.get("tweet_transformed", 0)),
        "dead_letters": sum((snap.get("dead_letters") or {}).values()),
        "collected": int(collector.get("tweets", 0)),
    }


def start_emulator(rate: float, keep: float) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "TWEETPIPE_EMULATOR_TOKEN": TOKEN}
    proc = subprocess.Popen([sys.executable, "-m", "tweetpipe_emulator", "--synthetic",
                             str(rate), "--synthetic-keep", str(keep), "--port", "0",
                             "--ready-json"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    ready = json.loads(proc.stdout.readline())
    return proc, str(ready["url"])


def settings_for(home: Path, url: str) -> Settings:
    db_port, kafka_port = process.free_ports(2)
    return load_settings(_env_file=None, TWEETPIPE_HOME=str(home), DB_HOST="127.0.0.1",
                         DB_PORT=db_port, DB_PASS="soak-secret", DB_NAME="tweetpipe_soak",
                         KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{kafka_port}",
                         KAFKA_PARTITIONS=3, SPARK_MASTER="local[2]",
                         X_API_BASE_URL=url, TWITTER_BEARER_TOKEN=TOKEN)


def poke(url: str) -> None:
    """Read the dashboard's metrics, as Prometheus would (its caches must stay bounded)."""
    try:
        with urllib.request.urlopen(f"{url}/metrics", timeout=10) as answer:
            answer.read()
    except OSError:
        pass


def final_counts(settings: Settings, collected: int) -> dict[str, int]:
    snap = facts.snapshot(settings)
    tables = snap.get("tables") or {}
    return {"collected": collected, "tweet_merge": int(tables.get("tweet_merge", 0)),
            "tweet_transformed": int(tables.get("tweet_transformed", 0)),
            "dead_letters": sum((snap.get("dead_letters") or {}).values())}


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rate", type=float, default=200.0, help="synthetic tweets/s")
    p.add_argument("--minutes", type=float, default=60.0)
    p.add_argument("--every", type=float, default=30.0, help="seconds between samples")
    p.add_argument("--source", choices=("sample", "stream"), default="sample")
    p.add_argument("--transform-every", type=float, default=5.0)
    p.add_argument("--warmup", type=float, default=5.0, help="minutes before the memory fit")
    p.add_argument("--flat", type=float, default=20.0, help="MB/hour still called flat")
    p.add_argument("--lag-limit", type=int, default=None,
                   help="most tweets behind still called bounded (default: 60 s of --rate)")
    p.add_argument("--emulator-keep", type=float, default=300.0,
                   help="seconds the emulator keeps its synthetic tweets (its backfill window)")
    p.add_argument("--out", type=Path, default=ROOT / "docs", help="where soak.md/json go")
    p.add_argument("--note", action="append", default=[], help="a paragraph for soak.md")
    return p.parse_args()


def main() -> int:
    args = parse()
    limits = soak_report.Limits(warmup_s=args.warmup * 60, flat_mb_per_hour=args.flat,
                                lag_limit=args.lag_limit or int(args.rate * 60))
    home = Path(tempfile.mkdtemp(prefix="tweetpipe-soak-"))
    home.chmod(0o755)  # the postgres account must reach the cluster folder inside
    run: subprocess.Popen[bytes] | None = None
    samples: list[soak_report.Sample] = []
    about: dict[str, Any] = {
        "command": "python scripts/soak.py " + " ".join(without_notes(sys.argv[1:])),
        "started": datetime.now(UTC).isoformat(timespec="seconds"), "rate": args.rate,
        "minutes": args.minutes, "every": args.every, "source": args.source,
        "emulator_keep_s": args.emulator_keep,
        "transform_every": args.transform_every, "warmup_s": limits.warmup_s,
        "flat": limits.flat_mb_per_hour, "lag_limit": limits.lag_limit,
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python "
                   f"{platform.python_version()}", "notes": args.note}
    emulator, url = start_emulator(args.rate, args.emulator_keep)
    settings = settings_for(home, url)
    try:
        services.up(settings)
        port = process.free_ports(1)[0]
        env = {**os.environ, **settings.as_environment()}
        with (home / "run.log").open("wb") as log:
            run = subprocess.Popen([sys.executable, "-m", "tweetpipe.cli", "run", args.source,
                                    "--transform-every", str(args.transform_every),
                                    "--port", str(port)], env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        started = time.monotonic()
        end = started + args.minutes * 60
        while time.monotonic() < end and run.poll() is None:
            time.sleep(max(0.0, min(args.every, end - time.monotonic())))
            poke(f"http://127.0.0.1:{port}")
            samples.append(sample(settings, started, emulator.pid, run.pid))
            s = samples[-1]
            print(f"{s['t'] / 60:6.1f} min lag {s['lag_total']:>6} collected {s['collected']:>8}"
                  f" merged {s['tweet_merge']:>8} transformed {s['tweet_transformed']:>8} "
                  + " ".join(f"{k}={v:.0f}" for k, v in s["rss_mb"].items()), flush=True)
        if run.poll() is not None:
            about["notes"] = [*about["notes"], f"The run exited early ({run.returncode})."]
        collected = int(samples[-1]["collected"]) if samples else 0
        collected = _stop(run, settings, collected)
        about["run_exit"] = run.returncode
        final = final_counts(settings, collected)
    finally:
        if run is not None and run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
        emulator.send_signal(signal.SIGTERM)
        emulator.wait(30)
        kafka_broker.down(settings)
        postgres_server.down(settings)
        log_text = (home / "run.log").read_text(errors="replace") if (home / "run.log").exists() \
            else ""
        shutil.rmtree(home, ignore_errors=True)
    result = soak_report.verdict(samples, final, limits)
    about["run_log_tail"] = log_text.splitlines()[-15:]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "soak.md").write_text(soak_report.markdown(samples, result, about))
    (args.out / "soak.json").write_text(
        json.dumps(soak_report.as_json(samples, result, about), indent=1) + "\n")
    print(json.dumps({"ok": result.ok, "problems": result.problems, "final": final}))
    return 0 if result.ok else 1


def without_notes(argv: list[str]) -> list[str]:
    """The command line without its `--note TEXT` (shown as paragraphs of their own)."""
    return [a for i, a in enumerate(argv) if a != "--note" and (i == 0 or argv[i - 1] != "--note")]


def _stop(run: subprocess.Popen[bytes], settings: Settings, collected: int) -> int:
    """SIGTERM, wait for the orderly stop; the collector's last count from its report."""
    if run.poll() is None:
        run.send_signal(signal.SIGTERM)
        run.wait(300)
    snap = facts.snapshot(settings, run_dir=live.run_dir(settings))
    counters = (snap["components"].get("collector") or {}).get("counters", {})
    return int(counters.get("tweets", collected))


if __name__ == "__main__":
    sys.exit(main())
