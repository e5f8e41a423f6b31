"""PostgreSQL errors classified by SQLSTATE at one boundary, and what a wrong login does."""

from __future__ import annotations

import subprocess
import sys
import time

import psycopg
import pytest
from pydantic import SecretStr

from tweetpipe import db
from tweetpipe.db.errors import classify, is_retryable, refuses_row
from tweetpipe.errors import (
    DatabaseConfigError,
    DatabaseError,
    RetryableDatabaseError,
    RowRefusedError,
)
from tweetpipe.settings import Settings

from ..fixtures.services import isolated
from ..isolation import suite_settings
from ..pipeline import settings_env

SECRET = "s3cret-Pa55word"


def server_error(sqlstate: str, message: str = "boom") -> psycopg.Error:
    return psycopg.errors.lookup(sqlstate)(message)  # type: ignore[no-any-return]


@pytest.mark.parametrize(("sqlstate", "kind", "retryable"), [
    ("22003", RowRefusedError, False),  # numeric value out of range
    ("22P02", RowRefusedError, False),  # invalid text representation
    ("23514", RowRefusedError, False),  # check violation
    ("23502", RowRefusedError, False),  # not-null violation
    ("28P01", DatabaseConfigError, False),
    ("28000", DatabaseConfigError, False),
    ("3D000", DatabaseConfigError, False),
    ("3F000", DatabaseConfigError, False),
    ("42501", DatabaseConfigError, False),
    ("53100", DatabaseError, False),
    ("53200", RetryableDatabaseError, True),
    ("53300", RetryableDatabaseError, True),
    ("08006", RetryableDatabaseError, True),
    ("57P01", RetryableDatabaseError, True),
    ("57P03", RetryableDatabaseError, True),
    ("40001", RetryableDatabaseError, True),
    ("40P01", RetryableDatabaseError, True),
    ("42P01", DatabaseError, False),  # undefined table: a bug, not an outage
])
def test_classified_by_sqlstate(sqlstate: str, kind: type, retryable: bool) -> None:
    error = classify(server_error(sqlstate))
    assert type(error) is kind
    assert error.retryable is retryable is is_retryable(server_error(sqlstate))
    assert refuses_row(server_error(sqlstate)) is (kind is RowRefusedError)
    assert error.context["sqlstate"] == sqlstate


def test_messages_name_the_setting_and_never_the_password() -> None:
    settings = suite_settings(DB_PASS=SECRET)
    expected = {"28P01": "DB_PASS", "28000": "DB_USER", "3D000": "DB_NAME", "3F000": "DB_SCHEMA",
                "42501": "DB_USER"}
    for sqlstate, setting in expected.items():
        error = classify(server_error(sqlstate, f"failed with password={SECRET}"), settings)
        assert setting in str(error) and SECRET not in str(error), str(error)
    disk = classify(server_error("53100", "could not extend file"), settings)
    assert "out of disk space" in str(disk)
    crowded = classify(server_error("53300", "sorry, too many clients already"), settings)
    assert "too many connections" in str(crowded)


@pytest.mark.parametrize(("message", "kind"), [
    ('FATAL:  password authentication failed for user "x"', DatabaseConfigError),
    ('FATAL:  database "nope" does not exist', DatabaseConfigError),
    ('FATAL:  role "nobody" does not exist', DatabaseConfigError),
    ("Connection refused\n\tIs the server running on that host", RetryableDatabaseError),
    ("server closed the connection unexpectedly", RetryableDatabaseError),
])
def test_errors_without_sqlstate_are_read_from_the_message(message: str, kind: type) -> None:
    assert type(classify(psycopg.OperationalError(message))) is kind


def test_client_side_errors_are_not_outages() -> None:
    assert not is_retryable(psycopg.ProgrammingError("cannot adapt type 'dict'"))
    assert not is_retryable(ValueError("not a database error"))


# ---- a wrong login against the real server ---------------------------------------------------

@pytest.mark.integration
@pytest.mark.parametrize(("change", "names"), [
    ({"db_pass": SecretStr(SECRET)}, ("DB_PASS", "DB_USER")),
    ({"db_user": "nobody", "db_pass": SecretStr(SECRET)}, ("DB_PASS", "DB_USER")),
    ({"db_name": "no_such_db"}, ("DB_NAME",)),
])
def test_wrong_login_fails_fast_with_the_setting_to_fix(
        stack: Settings, change: dict[str, object], names: tuple[str, ...]) -> None:
    settings = isolated(stack, **change)
    started = time.monotonic()
    with pytest.raises(DatabaseConfigError) as info:
        db.connect(settings)
    assert time.monotonic() - started < 10
    assert not info.value.retryable
    assert all(name in str(info.value) for name in names), str(info.value)
    assert SECRET not in str(info.value)


@pytest.mark.integration
def test_load_with_a_wrong_password_exits_at_once(stack: Settings) -> None:
    settings = isolated(stack, db_pass=SecretStr(SECRET))
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "tweetpipe.cli", "load", "--until-idle"],
        env=settings_env(settings), capture_output=True, text=True, timeout=120, check=False)
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert time.monotonic() - started < 60
    assert "DB_PASS" in output and "DB_USER" in output, output
    assert SECRET not in output
