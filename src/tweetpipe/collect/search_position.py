"""Where a search collection is, saved atomically under `state_dir/collect/`.

The file is written only after a page's records were flushed to Kafka, so a kill at any moment
loses nothing: `--resume` refetches at most the page that was in flight (the loader dedupes).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from tweetpipe.errors import ConfigError


@dataclass
class SearchPosition:
    """The query and its fixed parameters, and how far the current pass has got."""

    endpoint: str
    query: str
    params: dict[str, str] = field(default_factory=dict)
    pass_since_id: str | None = None  # since_id of the current pass (follow passes move it)
    next_token: str | None = None
    newest_id: str | None = None
    done: bool = False
    passes: int = 0
    pages: int = 0
    tweets: int = 0

    @property
    def key(self) -> str:
        ident = orjson.dumps([self.endpoint, self.query, sorted(self.params.items())])
        return hashlib.sha256(ident).hexdigest()[:16]

    def request_params(self, max_results: int) -> dict[str, str]:
        """The first pass uses the fixed parameters; --follow passes only `since_id`."""
        params = dict(self.params) if self.passes == 0 else {}
        params |= {"query": self.query, "max_results": str(max_results)}
        if self.passes and self.pass_since_id:
            params["since_id"] = self.pass_since_id
        if self.next_token:
            params["next_token"] = self.next_token
        return params

    def advance(self, meta: dict[str, Any], *, page_complete: bool) -> None:
        """Note one page's `meta`; an incomplete (trimmed) page keeps its token for --resume."""
        newest = meta.get("newest_id")
        if newest and (self.newest_id is None or int(newest) > int(self.newest_id)):
            self.newest_id = str(newest)
        self.pages += 1
        if page_complete:
            self.next_token = meta.get("next_token")
            self.done = self.next_token is None

    def next_pass(self) -> None:
        """Start a --follow pass: only tweets newer than the newest seen."""
        self.passes += 1
        self.pass_since_id = self.newest_id or self.pass_since_id or self.params.get("since_id")
        self.next_token = None
        self.done = False


def position_file(state_dir: Path, position: SearchPosition) -> Path:
    return state_dir / "collect" / f"search-{position.key}.json"


def save(path: Path, position: SearchPosition) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as handle:
        handle.write(orjson.dumps(asdict(position), option=orjson.OPT_INDENT_2))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def load(path: Path) -> SearchPosition | None:
    if not path.is_file():
        return None
    try:
        return SearchPosition(**orjson.loads(path.read_bytes()))
    except (orjson.JSONDecodeError, TypeError) as exc:
        raise ConfigError(f"cannot read the saved search position {path}: {exc}; "
                          "delete it to start over") from None
