"""The `Emulator` (background server thread) and `run_forever` for the CLI."""

from __future__ import annotations

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
from tweetpipe_emulator.store import LoadReport, TweetStore


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
        source = SyntheticSource(self.options.seed)
        interval = 1.0 / self.options.synthetic_rate
        due = next_forget = time.monotonic() + interval  # on a schedule: the rate does not drift
        while not self.state.stopping.wait(max(due - time.monotonic(), 0.0)):
            now = time.monotonic()
            self.generate(source, forget=now >= next_forget)
            if now >= next_forget:
                next_forget = now + 1.0
            due = max(due + interval, now - 1.0)  # after a stall: catch up one second at most

    def generate(self, source: SyntheticSource, *, forget: bool = True) -> str:
        """The generator's step: one tweet from `source`; with `forget`, the generator's
        tweets created more than `synthetic_keep_s` before it are forgotten (X's backfill
        reaches back 5 minutes: the default window). Returns the new tweet's id."""
        added = self.add_synthetic(source)
        for tid in added:
            entry = self.state.store.entries.get(int(tid))
            if entry is not None and entry.created_at is not None:
                self._generated.append((entry.created_at, entry.id))
        if forget and self._generated:
            keep, newest = timedelta(seconds=self.options.synthetic_keep_s), self._generated[-1][0]
            old = []
            while self._generated and newest - self._generated[0][0] > keep:
                old.append(self._generated.popleft()[1])
            self.state.store.forget(old)
        return added[0] if added else ""

    def add_synthetic(self, source: SyntheticSource, count: int = 1) -> list[str]:
        """Generate `count` tweets from `source` into the store now; returns their ids."""
        ids: list[str] = []
        for _ in range(count):
            tweet, includes = source.make()
            self.state.store.add_includes(includes)
            ids += [str(i) for i in self.state.store.add_tweets([tweet], streamed=True)]
        return ids

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
