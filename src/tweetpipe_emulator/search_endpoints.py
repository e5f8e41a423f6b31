"""GET /2/tweets/search/recent and /2/tweets/search/all."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from tweetpipe_emulator.expand import RequestedFields, render
from tweetpipe_emulator.problems import ApiError, bad_param, invalid_request
from tweetpipe_emulator.query import Node, QueryError, parse_query
from tweetpipe_emulator.store import Entry, Json, TweetStore
from tweetpipe_emulator.validation import ascii_int, is_id, time_param

MAX_RESULTS = {"search_recent": 100, "search_all": 500}
_TOKEN_PREFIX = "b26v89c19zqg8o3f"  # X's tokens look like this: lowercase base36


def encode_token(last_id: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out, n = "", last_id
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return _TOKEN_PREFIX + (out or "0")


def decode_token(token: str) -> int:
    if not token.startswith(_TOKEN_PREFIX):
        raise ValueError(token)
    return int(token[len(_TOKEN_PREFIX) :], 36)


def _int_param(params: Mapping[str, str], name: str, lo: int, hi: int, default: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    value = ascii_int(raw)
    if value is None or not lo <= value <= hi:
        msg = f"The `{name}` query parameter value [{raw}] is not between {lo} and {hi}"
        raise bad_param(name, raw, msg)
    return value


def id_param(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    if not is_id(raw):
        raise bad_param(name, raw, f"The `{name}` query parameter value [{raw}] is not valid")
    return int(raw)


def query_param(params: Mapping[str, str]) -> Node:
    raw = params.get("query", "")
    if not raw.strip():
        msg = "The `query` query parameter can not be empty"
        raise ApiError(400, invalid_request(msg, {"query": []}))
    try:
        return parse_query(raw)
    except QueryError as exc:
        msg = f"There were errors processing your request: {exc.message}"
        raise bad_param("query", raw, msg) from exc
    except RecursionError as exc:  # nested deeper than the parser goes: X answers 400 too
        msg = "There were errors processing your request: the query is nested too deeply"
        raise bad_param("query", raw, msg) from exc


def _in_time(entry: Entry, start: datetime | None, end: datetime | None) -> bool:
    if start is None and end is None:
        return True
    if entry.created_at is None:
        return False
    return (start is None or entry.created_at >= start) and (end is None or entry.created_at < end)


def page_cursor(params: Mapping[str, str], until: int | None) -> int | None:
    token = params.get("next_token") or params.get("pagination_token")
    if token is None:
        return until
    try:
        after = decode_token(token)
    except ValueError as exc:
        name = "next_token" if "next_token" in params else "pagination_token"
        msg = f"The `{name}` query parameter value [{token}] is not valid"
        raise bad_param(name, token, msg) from exc
    return after if until is None else min(after, until)


def search(store: TweetStore, endpoint: str, params: Mapping[str, str],
           visible: Callable[[Entry], bool] | None = None) -> Json:
    """Answer one search request; raises ApiError for invalid parameters. `visible` says which
    tweets exist for this request (recent search's 7-day window, a set clock)."""
    node = query_param(params)
    limit = _int_param(params, "max_results", 10, MAX_RESULTS[endpoint], 10)
    since, until = id_param(params, "since_id"), id_param(params, "until_id")
    start, end = time_param(params, "start_time"), time_param(params, "end_time")
    sel = RequestedFields.from_params(params)
    if sel.unknown_expansions():
        bad = ",".join(sel.unknown_expansions())
        msg = f"The `expansions` query parameter value [{bad}] is not one of the allowed values"
        raise bad_param("expansions", bad, msg)
    hits: list[Entry] = []
    more = False
    for entry in store.newest_first(below=page_cursor(params, until), above=since):
        if (visible is None or visible(entry)) and _in_time(entry, start, end) \
                and node.match(entry.subject):
            if len(hits) == limit:
                more = True
                break
            hits.append(entry)
    return _page(store, sel, hits, more)


def _page(store: TweetStore, sel: RequestedFields, hits: list[Entry], more: bool) -> Json:
    meta: Json = {"result_count": len(hits)}
    if not hits:
        return {"meta": meta}
    body = render(store, sel, (e.tweet for e in hits))
    meta = {"newest_id": str(hits[0].id), "oldest_id": str(hits[-1].id), **meta}
    if more:
        meta["next_token"] = encode_token(hits[-1].id)
    body["meta"] = meta
    return body
