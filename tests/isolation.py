"""The test suite never reads the developer's configuration.

A developer's `.env` (or exported DB_*/DATABASE_URL/KAFKA_*) could otherwise point the whole
suite at their own database and broker. So: every settings object the suite builds ignores the
dotenv file, tests/conftest.py strips the settings variables from the environment at start and
sets `TWEETPIPE_ENV_FILE=""` (inherited by every `tweetpipe` subprocess), and `cli_env` builds
a subprocess environment from exactly the settings given.
"""

from __future__ import annotations

import os
from typing import Any

from pydantic import AliasChoices

from tweetpipe.settings import ENV_FILE_VARIABLE, Settings, load_settings

#: a cache, not a target: the developer's choice is kept so jars are not fetched twice
KEPT = frozenset({"TWEETPIPE_JAR_CACHE"})


def settings_variables() -> frozenset[str]:
    """Every environment variable a `Settings` field reads."""
    names: set[str] = set()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        if isinstance(alias, str):
            names.add(alias)
        elif isinstance(alias, AliasChoices):
            names.update(c for c in alias.choices if isinstance(c, str))
    return frozenset(names)


def isolate_environment(environ: Any = os.environ) -> None:
    """Drop the developer's settings variables and switch the dotenv file off (in place)."""
    for name in settings_variables() - KEPT:
        environ.pop(name, None)
    environ[ENV_FILE_VARIABLE] = ""


def suite_settings(**overrides: Any) -> Settings:
    """`load_settings` as the suite uses it: never from a `.env` file."""
    return load_settings(_env_file=None, **overrides)


def cli_env(settings: Settings) -> dict[str, str]:
    """Environment for a `tweetpipe` subprocess that should use exactly these settings, and no
    `.env` of its working directory."""
    env = {k: v for k, v in os.environ.items() if k not in settings_variables()}
    env.update(settings.as_environment())
    return env
