"""GET /2/tweets/counts/recent and /2/tweets/counts/all: how many tweets a query matches per
minute, hour or day, as X answers them.

As in X's recorded answers: `data` holds every bucket of the window, oldest first, zeros
included; the first bucket starts at `start_time` and the last ends at `end_time` (seconds
precision, `.000Z`), the ones between on whole minutes/hours/days (UTC). A page holds 31 days'
worth of buckets (31 days, 744 hours, 44,640 minutes); pages go back in time, `next_token`
naming the next one, and `meta.total_tweet_count` is the page's total.

The window: `end_time` defaults to 30 seconds before now (the emulator's clock when one is set)
and `start_time` to 7 days (recent) or 30 days (all) before `end_time`; like the emulator's
searches, which serve recordings whatever their age, a default window reaches back to the
oldest matching tweet, so a query's counts add up to what searching it returns.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from tweetpipe_emulator.problems import ApiError, bad_param, invalid_request
from tweetpipe_emulator.search_endpoints import (
    encode_token,
    id_param,
    page_cursor,
    query_param,
)
from tweetpipe_emulator.store import Entry, Json, TweetStore
from tweetpipe_emulator.validation import time_param

GRANULARITY_S = {"minute": 60, "hour": 3600, "day": 86400}
PAGE_SPAN_S = 31 * 86400  # X pages counts at 31 days' worth of buckets
DEFAULT_SPAN = {"counts_recent": timedelta(days=7), "counts_all": timedelta(days=30)}
END_MARGIN = timedelta(seconds=30)  # X: end_time defaults to now - 30 seconds
FIELDS = ("end", "start", "tweet_count")


def iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _granularity(params: Mapping[str, str]) -> int:
    raw = params.get("granularity", "hour")
    if raw not in GRANULARITY_S:
        msg = f"The `granularity` query parameter value [{raw}] is not one of [minute,hour,day]"
        raise bad_param("granularity", raw, msg)
    return GRANULARITY_S[raw]


def _fields(params: Mapping[str, str]) -> None:
    raw = params.get("search_count.fields")
    if raw is None:
        return
    bad = [v for v in raw.split(",") if v not in FIELDS]
    if bad or not raw:
        msg = (f"The `search_count.fields` query parameter value [{','.join(bad) or raw}] is not "
               f"one of [{','.join(FIELDS)}]")
        raise bad_param("search_count.fields", raw, msg)


def _epoch(when: datetime) -> int:
    return int(when.timestamp())  # X's counts work in whole seconds


def bucket_bounds(start: int, end: int, step: int, limit: int) -> list[int]:
    """Up to `limit` buckets ending at `end`, going back no further than `start`: their
    boundaries, ascending. Inner boundaries fall on multiples of `step` (UTC)."""
    bounds = [end]
    cur = end
    while cur > start and len(bounds) <= limit:
        aligned = (cur - 1) // step * step
        cur = max(aligned, start)
        bounds.append(cur)
    bounds.reverse()
    return bounds


def counts(store: TweetStore, endpoint: str, params: Mapping[str, str],
           visible: Callable[[Entry], bool] | None = None,
           now: datetime | None = None) -> Json:
    """Answer one counts request; raises ApiError for invalid parameters. `visible` says which
    tweets exist for this request; `now` is the emulator's clock (None: the wall clock)."""
    node = query_param(params)
    step = _granularity(params)
    _fields(params)
    since, until = id_param(params, "since_id"), id_param(params, "until_id")
    start_at, end_at = time_param(params, "start_time"), time_param(params, "end_time")
    if start_at is not None and end_at is not None and end_at <= start_at:
        s_raw, e_raw = params["start_time"], params["end_time"]
        msg = f"Invalid 'end_time':'{e_raw}'. 'end_time' must be after 'start_time':'{s_raw}'"
        raise ApiError(400, invalid_request(msg, {"end_time": [e_raw], "start_time": [s_raw]}))
    times = sorted(
        _epoch(e.created_at) for e in store.newest_first(below=until, above=since)
        if e.created_at is not None and (visible is None or visible(e)) and node.match(e.subject)
    )
    end = _epoch(end_at) if end_at else _epoch((now or datetime.now(UTC)) - END_MARGIN)
    if end_at is None and times and times[-1] >= end:  # a set clock at the newest tweet
        end = times[-1] + 1
    if start_at is not None:
        start = _epoch(start_at)
    else:
        start = _epoch(datetime.fromtimestamp(end, UTC) - DEFAULT_SPAN[endpoint])
        if times:
            start = min(start, times[0])
    page_end = _page_end(params, start, end)
    bounds = bucket_bounds(start, page_end, step, PAGE_SPAN_S // step)
    data: list[Json] = []
    total = 0
    for lo, hi in itertools.pairwise(bounds):
        n = _count(times, lo, hi)
        total += n
        data.append({"end": iso(hi), "start": iso(lo), "tweet_count": n})
    meta: Json = {"total_tweet_count": total}
    if bounds[0] > start:
        meta["next_token"] = encode_token(bounds[0])
    return {"data": data, "meta": meta} if data else {"meta": meta}


def _page_end(params: Mapping[str, str], start: int, end: int) -> int:
    cursor = page_cursor(params, None)
    if cursor is None:
        return end
    token = params.get("next_token") or params.get("pagination_token") or ""
    if not start < cursor <= end:
        name = "next_token" if "next_token" in params else "pagination_token"
        raise bad_param(name, token, f"The `{name}` query parameter value [{token}] is not valid")
    return cursor


def _count(times: list[int], lo: int, hi: int) -> int:
    return bisect.bisect_left(times, hi) - bisect.bisect_left(times, lo)
