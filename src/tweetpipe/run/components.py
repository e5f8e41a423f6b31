"""One supervised component in a process of its own: `python -m tweetpipe.run.components NAME
PARAMS_JSON`. The settings come from the environment, as for any tweetpipe command (never
from the command line: no secret shows in `ps`). SIGTERM/SIGINT ask it to finish its batch and
exit 0; any other exit is a crash the supervisor restarts. The handlers are in place before
the heavy imports (done in each runner), and before the first report: the supervisor waits for
that report before it signals.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from tweetpipe import signals
from tweetpipe.monitor import reports
from tweetpipe.settings import Settings, load_settings

log = logging.getLogger(__name__)
Params = dict[str, Any]
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def collector(settings: Settings, params: Params, stop: threading.Event, run_dir: Path) -> None:
    """`source`: sample, stream, search (follows with since_id) or replay (then idles)."""
    from tweetpipe.api import Pipeline
    from tweetpipe.collect import CollectStats

    stats = CollectStats(ids=None)  # runs for days: counts, keeps no ids
    pipe = Pipeline(settings)
    with reports.reporting(run_dir, "collector", stats):
        source = params["source"]
        if source in ("sample", "stream"):
            pipe.collect_stream(sample=source == "sample", stop=stop, stats=stats)
        elif source == "search":
            pipe.collect_search(params["query"], archive=bool(params.get("archive")),
                                resume=True, follow=True, interval=float(params["interval"]),
                                stop=stop, stats=stats)
        elif source == "replay":
            pipe.replay(*params["files"], stats=stats)
            stop.wait()  # done: nothing more will come, but the run goes on
        else:
            raise ValueError(f"unknown source {source!r}")


def loader(settings: Settings, params: Params, stop: threading.Event, run_dir: Path) -> None:
    from tweetpipe.api import Pipeline
    from tweetpipe.load.loader import LoadStats

    stats = LoadStats()
    with reports.reporting(run_dir, "loader", stats):
        Pipeline(settings).load(False, stop=stop, stats=stats,
                                instance_id=params.get("instance_id"))


def transform(settings: Settings, params: Params, stop: threading.Event, run_dir: Path) -> None:
    from tweetpipe.transform import micro_batch

    stats = micro_batch.TransformStats()
    with reports.reporting(run_dir, "transform", stats):
        micro_batch.run_every(settings, float(params["every"]), stop, stats)


RUNNERS: dict[str, Callable[[Settings, Params, threading.Event, Path], None]] = {
    "collector": collector, "loader": loader, "transform": transform}


def main(argv: list[str] | None = None) -> None:
    stop = signals.stop_event()
    _stop_with_the_supervisor(stop)
    name, raw = (argv if argv is not None else sys.argv[1:])[:2]
    params: Params = orjson.loads(raw)
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {name} %(levelname)s "
                        "%(name)s: %(message)s")
    logging.getLogger("tweetpipe.kafka").setLevel(logging.ERROR)
    settings = load_settings()
    RUNNERS[name](settings, params, stop, Path(params["run_dir"]))
    log.info("%s stopped", name)


def _stop_with_the_supervisor(stop: threading.Event) -> None:
    """SIGTERM when the supervisor dies, even by SIGKILL (Linux's PR_SET_PDEATHSIG): no
    component outlives its run."""
    supervisor = os.getppid()
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        log.warning("cannot ask to be stopped with the supervisor on this system")
    if os.getppid() != supervisor:  # it died before the request was in place
        stop.set()


if __name__ == "__main__":
    main()
