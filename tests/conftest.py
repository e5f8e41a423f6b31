"""Fixtures live in their own modules under tests/fixtures (as in psycopg's test suite).

Before anything builds settings, the developer's own configuration is shut out: the settings
variables are dropped from the environment and `TWEETPIPE_ENV_FILE=""` turns the `.env` file
off, for this process and every `tweetpipe` subprocess (see tests/isolation.py).
"""

from tests.isolation import isolate_environment

isolate_environment()

pytest_plugins = ["tests.fixtures.services", "tests.fixtures.spark", "tests.fixtures.secure"]
