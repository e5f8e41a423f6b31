"""Fixtures live in their own modules under tests/fixtures (as in psycopg's test suite)."""

pytest_plugins = ["tests.fixtures.services", "tests.fixtures.spark"]
