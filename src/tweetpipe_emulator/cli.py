"""`tweetpipe-emulator` (also `python -m tweetpipe_emulator`, `tweetpipe emulator`).

Serves until interrupted. With `--ready-json` the first line on stdout is a JSON object with the
server's `url` and `match_all_query`, a keyword query matching every loaded tweet, for programs
that start the emulator as a subprocess (the demo does). The bearer token it accepts comes from
`--token` or, so that it never shows in `ps`, from the environment variable
`TWEETPIPE_EMULATOR_TOKEN`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from datetime import datetime
from importlib import resources
from pathlib import Path

from tweetpipe_emulator.emulator import run_forever
from tweetpipe_emulator.options import ACCESS_LEVELS, DEFAULT_TOKEN, EmulatorOptions
from tweetpipe_emulator.store import TweetStore

TOKEN_ENV = "TWEETPIPE_EMULATOR_TOKEN"


def bundled_sample() -> list[Path]:
    """tweetpipe's bundled sample of real X API v2 responses."""
    folder = resources.files("tweetpipe.data")
    return sorted(Path(str(f)) for f in folder.iterdir() if f.name.endswith(".jsonl"))


def match_all_query(store: TweetStore) -> str:
    """A keyword query (`w1 OR w2 OR ...`) matching every tweet of the store."""
    todo = {e.id: set(e.subject.tokens) - {""} for e in store.newest_first()}
    words: list[str] = []
    while todo:
        counts = Counter(w for tokens in todo.values() for w in tokens
                         if w not in ("or", "and"))  # X: ambiguous outside quotes
        if not counts:
            break
        best = max(sorted(counts), key=counts.__getitem__)
        words.append(best)
        todo = {i: t for i, t in todo.items() if best not in t}
    return " OR ".join(words)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tweetpipe-emulator",
                                description="A local X API v2 server for offline work.")
    p.add_argument("--data", type=Path, action="append", default=[],
                   help="recorded X API v2 JSONL (default: the bundled sample)")
    p.add_argument("--synthetic", type=float, default=0.0, help="synthetic tweets per second")
    p.add_argument("--synthetic-keep", type=float, default=300.0, metavar="SECONDS",
                   help="how long synthetic tweets are kept (default 300: X's 5-minute "
                        "backfill window); older ones are forgotten, so memory stays flat")
    p.add_argument("--port", type=int, default=8000, help="port (0 = a free one)")
    p.add_argument("--faults", default="", help="fault spec, e.g. '429:0.1,500:0.05,seed=7'")
    p.add_argument("--token", default=None,
                   help=f"bearer token it accepts (default ${TOKEN_ENV} or {DEFAULT_TOKEN!r})")
    p.add_argument("--ready-json", action="store_true",
                   help="print {url, match_all_query} as the first stdout line")
    p.add_argument("--access-level", choices=sorted(ACCESS_LEVELS), default="pro",
                   help="X access level whose query-length and rule limits apply (default pro)")
    p.add_argument("--query-max-length", type=int, default=None,
                   help="longest recent-search query (default: the access level's, 512)")
    p.add_argument("--max-rules", type=int, default=None,
                   help="most filtered-stream rules (default: the access level's)")
    p.add_argument("--clock", type=_clock, default=None,
                   help="the emulator's now: an RFC 3339 time or 'newest' (the newest recorded "
                        "tweet's time); default: the wall clock for synthetic tweets, each "
                        "recording's newest tweet for its tweets")
    return p


def _clock(text: str) -> datetime | str:
    if text == "newest":
        return text
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an RFC 3339 time: {text!r}") from exc
    if when.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give a time zone (e.g. Z): {text!r}")
    return when


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    files = tuple(args.data or ([] if args.synthetic else bundled_sample()))
    token = args.token or os.environ.get(TOKEN_ENV) or DEFAULT_TOKEN
    options = EmulatorOptions(port=args.port, data_files=files, synthetic_rate=args.synthetic,
                              synthetic_keep_s=args.synthetic_keep,
                              faults=args.faults, token=token, access_level=args.access_level,
                              query_max_length=args.query_max_length, max_rules=args.max_rules,
                              clock=args.clock)

    def announce(url: str, store: TweetStore) -> None:
        if args.ready_json:
            print(json.dumps({"url": url, "match_all_query": match_all_query(store)}),
                  flush=True)
            return
        print(f"X API v2 emulator on {url} ({len(files)} files, {args.synthetic:g} synthetic "
              f"tweets/s); use it with:\n  export X_API_BASE_URL={url} "
              "TWITTER_BEARER_TOKEN=<the token>\nCtrl-C stops it.", file=sys.stderr, flush=True)

    run_forever(options, on_start=announce)
