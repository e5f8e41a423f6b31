"""Real recorded X API v2 responses bundled with the package, for tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

DATA = Path(__file__).resolve().parents[1] / "src" / "tweetpipe" / "data"


def sample(name: str) -> Path:
    return DATA / f"{name}.jsonl"


def payloads(name: str) -> list[Any]:
    out = []
    for line in sample(name).read_bytes().splitlines():
        try:
            out.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            continue
    return out


def all_files() -> list[Path]:
    return sorted(DATA.glob("*.jsonl"))


LONG_POST_ID = "1440716522796638212"  # brexit.jsonl: its hashtags come after character 180


def long_post(tweet: dict[str, Any], cut: int) -> dict[str, Any]:
    """A real tweet made a long post as X delivers one: `text` cut after `cut` characters with
    "…" and only the entities within it; the whole text and all its entities in `note_tweet`."""
    entities = {k: v for k, v in tweet.get("entities", {}).items() if k != "annotations"}
    within = {kind: [e for e in found if e["end"] <= cut] for kind, found in entities.items()}
    return {**tweet, "text": tweet["text"][:cut] + "…",
            "entities": {k: v for k, v in within.items() if v},
            "note_tweet": {"text": tweet["text"], "entities": entities}}


def page_with_long_post(cut: int = 100) -> tuple[dict[str, Any], str]:
    """The brexit.jsonl search page with LONG_POST_ID made a long post, and a real retweet of
    the page re-pointed to it (X cuts the retweet's text too); (page, the retweet's id)."""
    page = payloads("brexit")[0]
    post = long_post(next(t for t in page["data"] if t["id"] == LONG_POST_ID), cut)
    author = next(u for u in page["includes"]["users"] if u["id"] == post["author_id"])
    retweet = next(t for t in page["data"] if t["text"].startswith("RT @"))
    prefix = f"RT @{author['username']}: "
    retweet.update(
        text=prefix + post["note_tweet"]["text"][: 140 - len(prefix)] + "…",
        referenced_tweets=[{"type": "retweeted", "id": post["id"]}],
        entities={"mentions": [{"start": 3, "end": len(prefix) - 2,
                                "username": author["username"], "id": author["id"]}]})
    page["data"] = [post if t["id"] == LONG_POST_ID else t for t in page["data"]]
    page["includes"]["tweets"].append(post)
    return page, retweet["id"]


def write_jsonl(path: Path, pages: list[Any]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(p) + b"\n" for p in pages))
    return path
