"""Request validation X does before an endpoint runs: parameters, lengths, numbers, time.

X answers 400 with an invalid-request problem naming the parameter for: a parameter the
endpoint does not know ("The query parameter [foo] is not one of [...]"), a parameter given
twice, numbers or ids not written in ASCII digits (Python's `int()` and `str.isdigit()` accept
`¹²³` or `١٢٣`; X does not), a query longer than the access level allows or nested deeper than
the parser goes, a `sort_order` other than recency|relevancy, `end_time` not after
`start_time`, and time bounds outside the endpoint's window (recent search: the last 7 days
before the clock; full-archive: from 2006-03-21).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tweetpipe_emulator.options import EmulatorOptions
from tweetpipe_emulator.problems import ApiError, bad_param, invalid_request
from tweetpipe_emulator.store import Entry, TweetStore, parse_time

FIELDS = ("expansions", "tweet.fields", "media.fields", "poll.fields", "place.fields",
          "user.fields")
SEARCH = ("query", "start_time", "end_time", "since_id", "until_id", "max_results",
          "next_token", "pagination_token", "sort_order", *FIELDS)
COUNTS = ("query", "start_time", "end_time", "since_id", "until_id", "next_token",
          "pagination_token", "granularity", "search_count.fields")
#: the query parameters each endpoint accepts, in X's order (its error message lists them).
PARAMETERS: Mapping[str, tuple[str, ...]] = {
    "search_recent": SEARCH,
    "search_all": SEARCH,
    "counts_recent": COUNTS,
    "counts_all": COUNTS,
    "rules_get": ("ids", "max_results", "pagination_token"),
    "rules_post": ("dry_run", "delete_all"),
    "stream_search": ("backfill_minutes", "start_time", "end_time", *FIELDS),
    "stream_sample": ("backfill_minutes", *FIELDS),
}
SORT_ORDERS = ("recency", "relevancy")
MAX_QUERY_DEPTH = 100  # parentheses and negations nested deeper get a 400, not a RecursionError
ARCHIVE_START = datetime(2006, 3, 21, tzinfo=UTC)
END_TIME_MARGIN = timedelta(seconds=10)  # X: end_time at least 10 s before the request
_DIGITS = re.compile(r"[0-9]{1,19}", re.ASCII)
_ID = re.compile(r"[0-9]{1,19}", re.ASCII)
_BOOLEANS = {"true": True, "false": False}


def ascii_int(raw: str) -> int | None:
    """`raw` as an int if it is 1-19 ASCII digits, else None (no signs, spaces, `_`, `¹`)."""
    return int(raw) if _DIGITS.fullmatch(raw) else None


def is_id(raw: str) -> bool:
    """X's id pattern `^[0-9]{1,19}$`, ASCII digits only."""
    return _ID.fullmatch(raw) is not None


def query_params(endpoint: str, pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    """The parameters as a dict; 400 for one given twice or, on endpoints with a known
    parameter list, one it does not accept."""
    allowed = PARAMETERS.get(endpoint)
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            msg = f"The query parameter [{name}] was given more than once; give it once"
            raise ApiError(400, invalid_request(msg, {name: [params[name], value]}))
        if allowed is not None and name not in allowed:
            msg = f"The query parameter [{name}] is not one of [{','.join(allowed)}]"
            raise bad_param(name, value, msg)
        params[name] = value
    return params


def boolean(params: Mapping[str, str], name: str) -> bool:
    raw = params.get(name)
    if raw is None:
        return False
    value = _BOOLEANS.get(raw.lower())
    if value is None:
        msg = f"The `{name}` query parameter value [{raw}] is not one of [true,false]"
        raise bad_param(name, raw, msg)
    return value


def nesting(query: str) -> int:
    """How deep parentheses and negations nest, outside "quoted phrases" (an upper bound)."""
    depth = deepest = run = 0
    quoted = False
    prev = " "
    for ch in query:
        if ch == '"':
            quoted = not quoted
        elif not quoted:
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth = max(depth - 1, 0)
            if ch == "-" and (prev.isspace() or prev in "(-"):
                run += 1
            elif ch != "(":
                run = 0
            deepest = max(deepest, depth + run)
        prev = ch
    return deepest


def check_query(raw: str, max_length: int, what: str = "query") -> str | None:
    """Why `raw` is refused before parsing (too long, nested too deep), or None."""
    if len(raw) > max_length:
        return (f"The {what} is too long: {len(raw)} characters, the limit for this endpoint "
                f"and access level is {max_length}")
    if nesting(raw) > MAX_QUERY_DEPTH:
        return (f"The {what} nests parentheses or negations more than {MAX_QUERY_DEPTH} "
                "levels deep")
    return None


def time_param(params: Mapping[str, str], name: str) -> datetime | None:
    """An RFC 3339 time parameter, or None; 400 problem when it is not one."""
    raw = params.get(name)
    if raw is None:
        return None
    try:
        when: datetime | None = parse_time(raw)
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        msg = f"Invalid '{name}':'{raw}'. '{name}' must be a valid RFC 3339 date-time"
        raise bad_param(name, raw, msg)
    return when


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


@dataclass
class Clock:
    """The emulator's "now" and recent search's window (see `EmulatorOptions`)."""

    options: EmulatorOptions
    store: TweetStore
    _seen: tuple[int, bool, datetime | None] = (-1, False, None)  # size, any recorded, newest
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def window(self) -> timedelta:
        return timedelta(days=self.options.recent_window_days)

    def fixed(self) -> datetime | None:
        """The set clock (a datetime, or the newest recorded tweet's time), or None."""
        clock = self.options.clock
        if isinstance(clock, datetime):
            return clock
        if clock == "newest":
            return self._recorded()[1]
        return None

    def _recorded(self) -> tuple[bool, datetime | None]:
        """Whether the store holds recorded tweets, and the newest one's time (cached until
        the store grows)."""
        with self._lock, self.store.lock:
            size = len(self.store.ids)
            if self._seen[0] != size:
                recorded = [e for e in self.store.entries.values() if e.recorded]
                times = [e.created_at for e in recorded if e.created_at is not None]
                self._seen = (size, bool(recorded), max(times, default=None))
            return self._seen[1], self._seen[2]

    def reference(self) -> datetime | None:
        """The "now" time parameters are checked against: the set clock, else the wall clock
        when every tweet is measured from it (no recordings), else None (no check)."""
        fixed = self.fixed()
        if fixed is not None:
            return fixed
        return None if self._recorded()[0] else datetime.now(UTC)

    def visible(self, endpoint: str) -> Visible:
        """Which tweets exist for this request: none after a set clock, and recent search
        only the window before the clock. Without a set clock, synthetic tweets are measured
        from the wall clock and recorded ones from their recording's newest tweet."""
        fixed = self.fixed()
        if not endpoint.endswith("_recent"):
            return Visible(fixed, None, None, None)
        if fixed is not None:
            return Visible(fixed, fixed - self.window, None, None)
        return Visible(None, None, datetime.now(UTC) - self.window, self.window)


@dataclass(frozen=True)
class Visible:
    ceiling: datetime | None  # nothing created after this (a set clock)
    floor: datetime | None  # nothing created before this (a set clock's window)
    live_floor: datetime | None  # synthetic tweets: the wall clock's window
    recorded_window: timedelta | None  # recorded tweets: this before their recording's newest

    def __call__(self, entry: Entry) -> bool:
        when = entry.created_at
        if when is None:
            return True
        if self.ceiling is not None:
            return when <= self.ceiling and (self.floor is None or when >= self.floor)
        if not entry.recorded:
            return self.live_floor is None or when >= self.live_floor
        now = entry.recording_now
        return self.recorded_window is None or now is None or when >= now - self.recorded_window


def check_search(endpoint: str, params: Mapping[str, str], options: EmulatorOptions,
                 clock: Clock) -> None:
    """What X checks on a search (or counts) request before it searches: 400 problem on
    failure. `endpoint`: search_recent, search_all, counts_recent or counts_all."""
    raw = params.get("query")
    limits = options.limits
    if raw is not None and raw.strip():
        longest = (limits.query_max_length if endpoint.endswith("_recent")
                   else limits.archive_query_max_length)
        why = check_query(raw, longest)
        if why:
            raise bad_param("query", raw, f"There were errors processing your request: {why}")
    order = params.get("sort_order")
    if order is not None and order not in SORT_ORDERS:
        msg = (f"The `sort_order` query parameter value [{order}] is not one of "
               f"[{','.join(SORT_ORDERS)}]")
        raise bad_param("sort_order", order, msg)
    for name in ("since_id", "until_id"):
        value = params.get(name)
        if value is not None and not is_id(value):
            raise bad_param(name, value, f"The `{name}` query parameter value [{value}] is "
                            "not valid")
    check_times(endpoint, params, clock)


def check_times(endpoint: str, params: Mapping[str, str], clock: Clock) -> None:
    start, end = time_param(params, "start_time"), time_param(params, "end_time")
    s_raw, e_raw = params.get("start_time", ""), params.get("end_time", "")
    if start is not None and end is not None and end <= start:
        msg = f"Invalid 'end_time':'{e_raw}'. 'end_time' must be after 'start_time':'{s_raw}'"
        raise ApiError(400, invalid_request(msg, {"end_time": [e_raw], "start_time": [s_raw]}))
    now = clock.reference()
    if endpoint.endswith("_all"):
        earliest: datetime | None = ARCHIVE_START
    else:
        earliest = now - clock.window if now is not None else None
    if start is not None and earliest is not None and start < earliest:
        msg = f"Invalid 'start_time':'{s_raw}'. 'start_time' must be on or after {_stamp(earliest)}"
        raise bad_param("start_time", s_raw, msg)
    if end is not None and now is not None and end > now - END_TIME_MARGIN:
        msg = (f"Invalid 'end_time':'{e_raw}'. 'end_time' must be a minimum of 10 seconds "
               "prior to the request time.")
        raise bad_param("end_time", e_raw, msg)
