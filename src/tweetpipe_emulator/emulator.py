"""The `Emulator` (background server thread) and `run_forever` for the CLI."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from types import TracebackType

from tweetpipe.collect.synthetic import SyntheticSource
from tweetpipe.errors import ConfigError
from tweetpipe_emulator.options import EmulatorOptions
from tweetpipe_emulator.server import EmulatorServer
from tweetpipe_emulator.state import EmulatorState, StreamEndpointStats
from tweetpipe_emulator.store import Entry, LoadReport, TweetStore

#: how often the synthetic generator makes the tweets that are due
GENERATOR_TICK_S = 0.01
#: how far behind the offered rate the generator may fall and still catch up (beyond, the
#: tweets due are given up: the process cannot make the rate)
GENERATOR_SLACK_S = 1.0
#: a tick makes at most this many ticks' worth of tweets (catching up over several ticks)
GENERATOR_CATCH_UP = 4


class Emulator:
    """A local X API v2 server. `start()` serves in a background thread; `stop()` ends it."""

    def __init__(self, options: EmulatorOptions | None = None) -> None:
        self.options = options or EmulatorOptions()
        self.state = EmulatorState(self.options)  # parses the fault spec: fails early
        for path in self.options.data_files:
            self.state.store.load_file(path)
        self._server: EmulatorServer | None = None
        self._threads: list[threading.Thread] = []
        #: the generator's tweets still kept, oldest first: (created_at, id)
        self._generated: deque[tuple[datetime, int]] = deque()

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> Emulator:
        if self._server is not None:
            return self
        try:
            self._server = EmulatorServer((self.options.host, self.options.port), self.state)
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {self.options.host}:{self.options.port} ({exc}); "
                "pick another --port or 0 for a free one"
            ) from exc
        self._spawn(self._server.serve_forever, "x-emulator-http")
        if self.options.synthetic_rate > 0:
            self._spawn(self._generate, "x-emulator-synthetic")
        return self

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        self.state.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._server = None
        self._threads.clear()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- synthetic tweets -------------------------------------------------------------------
    def _generate(self) -> None:
        """Keep the offered rate: every tick, make the tweets due since the start in one batch
        (one lock, one wake-up of the streams), so thousands per second are not capped by the
        cost of a wait per tweet. A late tick catches up over the next ones (at most
        GENERATOR_CATCH_UP ticks' worth each, so no batch holds the store long); tweets due
        more than GENERATOR_SLACK_S ago are given up: when the process cannot make the rate,
        it falls short instead of starving its own HTTP threads."""
        source = SyntheticSource(self.options.seed)
        rate = self.options.synthetic_rate
        most = max(1, math.ceil(rate * GENERATOR_TICK_S * GENERATOR_CATCH_UP))
        slack = max(most, math.ceil(rate * GENERATOR_SLACK_S))
        began, made = time.monotonic(), 0
        next_forget = began + 1.0
        while not self.state.stopping.wait(GENERATOR_TICK_S):
            now = time.monotonic()
            due = int((now - began) * rate) - made
            if due > slack:  # too far behind: give those up rather than catch up
                made += due - slack
                due = slack
            due = min(due, most)
            if due > 0:
                self.generate(source, due, forget=now >= next_forget)
                made += due
            if now >= next_forget:
                next_forget = now + 1.0

    def generate(self, source: SyntheticSource, count: int = 1, *,
                 forget: bool = True) -> list[str]:
        """The generator's step: `count` tweets from `source`; with `forget`, the generator's
        tweets created more than `synthetic_keep_s` before the newest are forgotten (X's
        backfill reaches back 5 minutes: the default window). Returns the new tweets' ids."""
        added = self._add_synthetic(source, count)
        self._generated.extend((e.created_at, e.id) for e in added if e.created_at is not None)
        if forget and self._generated:
            keep, newest = timedelta(seconds=self.options.synthetic_keep_s), self._generated[-1][0]
            old = []
            while self._generated and newest - self._generated[0][0] > keep:
                old.append(self._generated.popleft()[1])
            self.state.store.forget(old)
        return [str(e.id) for e in added]

    def add_synthetic(self, source: SyntheticSource, count: int = 1) -> list[str]:
        """Generate `count` tweets from `source` into the store now; returns their ids."""
        return [str(e.id) for e in self._add_synthetic(source, count)]

    def _add_synthetic(self, source: SyntheticSource, count: int) -> list[Entry]:
        made = [source.make() for _ in range(count)]
        store = self.state.store
        with store.lock:
            for _, includes in made:
                store.add_includes(includes)
            added = store.add_tweets([tweet for tweet, _ in made], streamed=True)
            return [store.entries[i] for i in added]

    # -- introspection ----------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._server is None:
            raise ConfigError("the emulator is not started; call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def load_report(self) -> LoadReport:
        """Lines read, bad (truncated) lines skipped, distinct tweets loaded."""
        return self.state.store.report

    def stream_stats(self, name: str) -> StreamEndpointStats:
        """`stream_search` or `stream_sample`: connections, refused, keepalives, served ids."""
        return self.state.streams[name]

    @property
    def fault_counts(self) -> dict[tuple[str, str], int]:
        return dict(self.state.faults.counts)


def run_forever(options: EmulatorOptions,
                on_start: Callable[[str, TweetStore], None] | None = None) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM); `on_start` gets the URL and the store."""
    emulator = Emulator(options).start()
    if on_start:
        on_start(emulator.url, emulator.state.store)
    try:
        emulator.state.stopping.wait()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
