"""`make bench` (`python -m bench`): every comparison side by side in one run on the same
real-shaped data, on services of its own; prints a table, writes docs/benchmarks.md and
docs/benchmarks.json.

    .venv/bin/python -m bench [--sections produce,load,end_to_end,transform] [--count N]
        [--rates 500,1000,2000,4000,6000] [--seconds S] [--long-seconds S]
        [--transform-every S] [--transform-rows N]

Machines are shared and noisy: read the ratios within one run, not the absolutes.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import signal
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from bench import end_to_end, produce, report, transform_bench
from bench.data import real_shaped_messages
from bench.memory import Sampler
from bench.stack import bench_stack
from tweetpipe.services import postgres_server

log = logging.getLogger("bench")
SECTIONS = ("produce", "load", "end_to_end", "transform")
DOCS = Path(__file__).resolve().parents[1] / "docs"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--sections", default=",".join(SECTIONS))
    p.add_argument("--count", type=int, default=50_000, help="tweets produced per producer")
    p.add_argument("--load-count", type=int, default=50_000, help="tweets per loader")
    p.add_argument("--rates", default="500,1000,2000,4000,6000", help="offered tweets/s")
    p.add_argument("--seconds", type=float, default=20.0, help="measured window per rate")
    p.add_argument("--long-seconds", type=float, default=300.0,
                   help="the long run at the highest sustained rate (0: none)")
    p.add_argument("--transform-every", type=float, default=end_to_end.TRANSFORM_EVERY_S,
                   help="end to end: seconds between micro-batch starts (tweetpipe run's "
                        "--transform-every)")
    p.add_argument("--transform-rows", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", type=Path, default=DOCS, help="where benchmarks.md/.json go")
    p.add_argument("--render", type=Path, default=None, metavar="JSON",
                   help="only write the table and page again from a results file")
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if args.render:
        write(orjson.loads(args.render.read_bytes()), args.out)
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    for noisy in ("tweetpipe.kafka", "kafka", "py4j"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    # SIGTERM (e.g. from `timeout`) unwinds like Ctrl-C: the services are stopped on the way out
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sections = [s for s in args.sections.split(",") if s]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        raise SystemExit(f"unknown sections {sorted(unknown)}: choose from {SECTIONS}")
    began = time.monotonic()
    results: dict[str, Any] = {"started": datetime.now(UTC).isoformat(timespec="seconds"),
                               "command": "make bench", "machine": machine(),
                               "args": {k: str(v) for k, v in vars(args).items()}}
    with bench_stack() as settings, Sampler(
            postgres_pid=lambda: postgres_server.our_pid(settings)).running() as sampler:
        messages = real_shaped_messages(max(args.count, args.load_count), args.seed)
        steps: dict[str, Callable[[], Any]] = {
            "produce": lambda: produce.run(settings, messages[:args.count]),
            "load": lambda: _load(settings, args.load_count, messages),
            "end_to_end": lambda: end_to_end.run(
                settings, [int(r) for r in args.rates.split(",")], args.seconds,
                args.long_seconds, sampler, args.transform_every),
            "transform": lambda: transform_bench.run(settings, args.transform_rows),
        }
        for name in sections:
            with sampler.during(name):
                results[name] = _section(name, steps[name])
            _save(results, args.out / "benchmarks.partial.json")  # a crash keeps what was done
        results["memory"] = sampler.summary("long run" if args.long_seconds else None)
    results["seconds"] = round(time.monotonic() - began)
    write(results, args.out)


def _load(settings: Any, count: int, messages: list[bytes]) -> Any:
    from bench import load  # bench-load's module

    return load.run(settings, count, messages=messages[:count])


def _section(name: str, step: Callable[[], Any]) -> Any:
    log.info("bench: %s", name)
    began = time.monotonic()
    try:
        found = step()
    except Exception as exc:  # one section failing must not lose the others' figures
        log.error("bench %s failed:\n%s", name, traceback.format_exc())
        return {"error": f"{type(exc).__name__}: {exc}"}
    log.info("bench: %s done in %.0f s", name, time.monotonic() - began)
    if isinstance(found, dict):
        found["section_seconds"] = round(time.monotonic() - began)
    return found


def _save(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "python": platform.python_version(),
            "system": platform.platform(), "loadavg_at_start": os.getloadavg()[0],
            "note": "shared with other jobs while measured: read the ratios"}


def write(results: dict[str, Any], out: Path) -> None:
    table = report.rows(results)
    print(report.text_table(table))
    out.mkdir(parents=True, exist_ok=True)
    (out / "benchmarks.json").write_bytes(
        orjson.dumps(results, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
    (out / "benchmarks.partial.json").unlink(missing_ok=True)
    (out / "benchmarks.md").write_text(report.markdown_page(results, table), "utf-8")
    print(f"\nwritten: {out / 'benchmarks.md'}, {out / 'benchmarks.json'} "
          f"({results.get('seconds', '?')} s)")


if __name__ == "__main__":
    main()
