"""tweetpipe: X API v2 -> Kafka -> PostgreSQL -> PySpark, exactly once, on real services.

Read the stages top to bottom: `collect` (X API, replay) and `merge` (includes onto tweets) ->
`stream` (Kafka producer) -> `load` with `normalize` and `sink` (Kafka -> PostgreSQL, exactly
once) -> `transform` (PySpark: tweet_merge -> tweet_transformed, trends).

In Python (notebooks): `from tweetpipe import Pipeline` (see `tweetpipe.api`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tweetpipe.api import Pipeline, Status
    from tweetpipe.settings import Settings, load_settings

__version__ = "0.1.0"
__all__ = ["Pipeline", "Settings", "Status", "load_settings"]

_EXPORTS = {"Pipeline": "tweetpipe.api", "Status": "tweetpipe.api",
            "Settings": "tweetpipe.settings", "load_settings": "tweetpipe.settings"}


def __getattr__(name: str) -> Any:
    """`from tweetpipe import Pipeline` imports the API on first use, so `import tweetpipe.x`
    stays light and free of import cycles."""
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'tweetpipe' has no attribute {name!r}")
