"""The one progress renderer: rich's Live on a terminal, periodic plain lines elsewhere; and
the counters' own lines (steady load rate, --full wording)."""

from __future__ import annotations

import io
import re
import time
from dataclasses import dataclass

import pytest
from rich.console import Console

from tweetpipe import progress
from tweetpipe.cli.render import rows_read
from tweetpipe.collect import CollectStats
from tweetpipe.load.loader import LoadStats


@dataclass
class Ticking:
    n: int = 0

    def line(self) -> str:
        self.n += 1
        return f"[yellow]tick {self.n}[/]"


def console(*, terminal: bool) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    # the same whatever TERM the suite runs under (rich takes TERM=dumb for a terminal that
    # can neither redraw a line nor show colours)
    return Console(file=out, force_terminal=terminal, force_interactive=terminal,
                   color_system="standard" if terminal else None, width=100), out


def test_not_a_terminal_prints_one_plain_line_per_interval() -> None:
    plain, out = console(terminal=False)
    with progress.show(plain, Ticking(), every=0.1):
        time.sleep(0.55)  # e.g. a rate-limit wait: nothing else happens meanwhile
    lines = out.getvalue().splitlines()
    assert 4 <= len(lines) <= 7, lines  # ~5 periodic lines and the final one
    assert all(line.startswith("tick ") for line in lines)
    assert "\x1b" not in out.getvalue()  # plain text: no styles, no cursor control


def test_a_plain_line_is_never_wrapped_and_a_wait_counts_down() -> None:
    plain, out = console(terminal=False)
    stats = CollectStats(rate_limit="rate limit: 0/450 left " + "x" * 100)
    stats.on_wait("rate limit exhausted", 900)
    with progress.show(plain, stats, every=0.2):
        time.sleep(0.3)
    lines = out.getvalue().splitlines()
    assert len(lines) >= 2 and all(" · rate limit: 0/450 left xxx" in line for line in lines)
    left = [float(re.findall(r"waiting ([\d.]+)s more: rate limit exhausted$", line)[0])
            for line in lines]
    assert 850 < left[-1] < left[0] < 900  # counts down to the reset


def test_a_terminal_renders_through_rich_live(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")  # the suite may run under TERM=dumb
    term, out = console(terminal=True)
    with progress.show(term, Ticking(), every=0.1) as counters:
        time.sleep(0.6)
    text = out.getvalue()
    assert "\x1b[?25l" in text and "\x1b[?25h" in text  # Live hides, then shows the cursor
    assert counters.n >= 3  # rich refreshed the line by itself
    assert "\r\x1b[2K" in text and "\x1b[33mtick 2" in text  # redrawn in place, styled
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)
    assert plain.rstrip().endswith(f"tick {counters.n}")  # then the final line, printed once


def test_the_final_line_is_printed_even_when_the_stage_fails() -> None:
    plain, out = console(terminal=False)
    with pytest.raises(RuntimeError), progress.show(plain, Ticking(), every=60):
        raise RuntimeError("broker gone")
    assert out.getvalue() == "tick 1\n"


def test_phase_and_no_final_line() -> None:
    plain, out = console(terminal=False)
    with progress.show(plain, progress.Phase("transforming with Spark…"), every=0.05,
                       final=False):
        time.sleep(0.12)
    assert out.getvalue().startswith("transforming with Spark… (0s)\n")


def test_load_rate_is_measured_from_the_first_to_the_last_batch() -> None:
    stats = LoadStats(messages=10_000, started=0.0, first_batch=100.0, last_batch=102.0)
    assert stats.rate == 5000  # not 10_000 / (time since start, idle wait included)
    assert "5,000 msg/s" in stats.line()
    assert LoadStats().rate == 0.0


def test_load_line_tells_stored_from_unchanged() -> None:
    line = LoadStats(messages=532, rows=531, stored=0, unchanged=531, dead_letters=1).line()
    assert "0 rows stored, 531 unchanged, 1 dead letters" in line


def test_collect_line_and_transform_wording() -> None:
    stats = CollectStats()
    stats.sent("1")
    stats.sent("1")
    stats.bad("file:3", "truncated")
    stats.on_wait("rate limit exhausted", 900)
    line = stats.line()
    assert line.startswith("2 tweets (1 distinct)")
    assert "1 bad lines" in line and "waiting 900.0s more: rate limit exhausted" in line
    assert stats.problems == ["file:3: truncated"]
    assert rows_read(431, full=True) == "re-read 431 rows (full)"
    assert rows_read(3, full=False) == "read 3 new rows"


def test_a_dumb_terminal_gets_plain_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "dumb")  # a terminal that cannot redraw a line in place
    out = io.StringIO()
    dumb = Console(file=out, force_terminal=True, width=100)
    with progress.show(dumb, Ticking(), every=0.1):
        time.sleep(0.35)
    lines = out.getvalue().splitlines()
    assert len(lines) >= 3 and all(line.startswith("tick ") for line in lines)
    assert "\x1b[?25l" not in out.getvalue()
