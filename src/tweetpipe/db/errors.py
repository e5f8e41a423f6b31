"""PostgreSQL errors -> tweetpipe's errors, by SQLSTATE, in one place.

`classify` is the boundary every caller goes through (connect, migrate, the loader):

- class 22 (data exception) and 23 (integrity violation): `RowRefusedError`, the row is
  refused: the loader dead-letters it and stores the rest of its batch;
- 28000, 28P01 (login refused), 3D000 (no such database), 3F000 (no such schema), 42501 (no
  privilege): `DatabaseConfigError`, terminal, its message names the setting to fix;
- 53100 (disk full): `DatabaseError`, terminal, someone must free space;
- 53200 (out of memory), 53300 (too many connections), class 08 (connection), 57P01-57P03
  (server shutting down or restarting), 57014 (statement cancelled), 55P03 (lock not
  available), 40001 (serialization failure), 40P01 (deadlock), and connection failures without
  a SQLSTATE: `RetryableDatabaseError`, the same work may succeed later;
- anything else: `DatabaseError`, terminal.

A failed login reaches psycopg as an OperationalError whose sqlstate may be None: then the
server's message is recognised ("password authentication failed", "does not exist"). Messages
never contain the password.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import psycopg

from tweetpipe.errors import (
    DatabaseConfigError,
    DatabaseError,
    RetryableDatabaseError,
    RowRefusedError,
    TweetpipeError,
    last_line,
)

if TYPE_CHECKING:
    from tweetpipe.settings import Settings

RETRYABLE = frozenset({"40001", "40P01", "55P03", "57014", "57P01", "57P02", "57P03", "53200",
                       "53300"})
_PASSWORD = re.compile(r"(password\s*=\s*)\S+", re.IGNORECASE)


def classify(exc: BaseException, settings: Settings | None = None) -> TweetpipeError:
    """The tweetpipe error for `exc` (a psycopg error); tweetpipe errors pass through."""
    if isinstance(exc, TweetpipeError):
        return exc
    tls = _tls_message(exc, settings)
    if tls is not None:
        return DatabaseConfigError(tls)
    state = sqlstate(exc)
    detail = _scrub(_detail(exc), settings)
    if state is None:
        if isinstance(exc, psycopg.DataError | psycopg.IntegrityError):  # refused client-side
            return RowRefusedError(f"rejected by PostgreSQL: {type(exc).__name__}: {detail}")
        if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):  # no connection
            return RetryableDatabaseError(f"{_server(settings)} unavailable: {detail}")
        return DatabaseError(f"{_server(settings)} failed: {type(exc).__name__}: {detail}")
    if state[:2] in ("22", "23"):
        return RowRefusedError(f"rejected by PostgreSQL: {type(exc).__name__}: {detail}",
                               sqlstate=state)
    config = _config_message(state, detail, settings)
    if config is not None:
        return DatabaseConfigError(config, sqlstate=state)
    if state == "53100":
        return DatabaseError(f"{_server(settings)} is out of disk space ({detail}); free space "
                             "on the server, then run again", sqlstate=state)
    if state[:2] == "08" or state in RETRYABLE:
        return RetryableDatabaseError(f"{_server(settings)} unavailable: {_what(state, detail)}",
                                      sqlstate=state)
    return DatabaseError(f"{_server(settings)} failed: {detail}", sqlstate=state)


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of `exc`, or the one its message means when the driver gives none."""
    state = getattr(exc, "sqlstate", None)
    if state or not isinstance(exc, psycopg.OperationalError):
        return state if isinstance(state, str) else None
    return _state_in_message(str(exc))


def _state_in_message(text: str) -> str | None:
    if "password authentication failed" in text:
        return "28P01"
    if "no pg_hba.conf entry" in text:
        return "28000"
    if "does not exist" in text:
        if 'role "' in text:
            return "28000"
        if 'database "' in text:
            return "3D000"
    return None


#: libpq's words for a TLS failure -> the settings to fix
_TLS_FIXES = (
    ("no encryption", "the server accepts only TLS connections: set DB_SSLMODE to "
     "verify-full (or verify-ca, require) and DB_SSLROOTCERT to the CA file"),
    ("certificate verify failed", "the server's certificate is not signed by the CA in "
     "DB_SSLROOTCERT: fix DB_SSLROOTCERT (the CA file that signed the server's certificate)"),
    ("does not match host name", "the server's certificate does not name DB_HOST: fix DB_HOST "
     "(a name the certificate holds) or set DB_SSLMODE=verify-ca"),
    ("root certificate file", "DB_SSLMODE verifies the server but the CA file is missing: fix "
     "DB_SSLROOTCERT (or DB_SSLMODE)"),
    ("does not support SSL", "the server does not offer TLS: fix DB_SSLMODE (or the server)"),
    ("certificate file", "the client certificate cannot be read: fix DB_SSLCERT or DB_SSLKEY"),
    ("private key file", "the client key cannot be used: fix DB_SSLKEY (mode 0600, matching "
     "DB_SSLCERT)"),
)


def _tls_message(exc: BaseException, settings: Settings | None) -> str | None:
    """What to fix when a connection failed on TLS (libpq gives no SQLSTATE for these)."""
    if not isinstance(exc, psycopg.OperationalError):
        return None
    text = str(exc)
    fix = next((fix for words, fix in _TLS_FIXES if words in text), None)
    if fix is None:
        return None
    mode = f"DB_SSLMODE={settings.db_sslmode}" if settings else "DB_SSLMODE"
    return f"{_server(settings)}: {fix} ({mode}; {_scrub(last_line(exc), settings)})"


def is_retryable(exc: BaseException) -> bool:
    """Can running the same work again succeed (an outage, a deadlock)? For retry loops."""
    return isinstance(exc, psycopg.Error | TweetpipeError) and classify(exc).retryable


def refuses_row(exc: BaseException) -> bool:
    """Did PostgreSQL refuse the values of a row (dead-letter it) rather than fail?"""
    return isinstance(classify(exc), RowRefusedError)


def _config_message(state: str, detail: str, settings: Settings | None) -> str | None:
    user = repr(settings.db_user) if settings else "the configured user"
    server = _server(settings)
    if state == "28P01":
        return (f"{server} refused the login of user {user}: wrong password or no such user "
                "(fix DB_PASS or DB_USER, or DATABASE_URL; DB_PASS_FILE if the password "
                "comes from a file)")
    if state == "28000":
        return (f"{server} does not let user {user} connect ({detail}); fix DB_USER (or "
                "DATABASE_URL), or allow it in the server's pg_hba.conf")
    if state == "3D000":
        name = repr(settings.db_name) if settings else "the configured database"
        return (f"database {name} does not exist on {server}; fix DB_NAME (or DATABASE_URL), "
                "or create it with `tweetpipe services up`")
    if state == "3F000":
        schema = repr(settings.db_schema) if settings else "the configured schema"
        return (f"schema {schema} does not exist ({detail}); fix DB_SCHEMA or run "
                "`tweetpipe db migrate`")
    if state == "42501":
        return (f"user {user} lacks a privilege on {server} ({detail}); grant it, or fix DB_USER "
                "or DB_SCHEMA")
    return None


def _what(state: str, detail: str) -> str:
    named = {"53200": "out of memory", "53300": "too many connections",
             "40001": "serialization failure", "40P01": "deadlock"}.get(state)
    return f"{named}: {detail}" if named else detail


def _detail(exc: BaseException) -> str:
    """The server's primary message (never the data of the row), else the error's last line."""
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    return primary if isinstance(primary, str) and primary else last_line(exc)


def _server(settings: Settings | None) -> str:
    return f"PostgreSQL at {settings.db_display}" if settings else "PostgreSQL"


def _scrub(text: str, settings: Settings | None) -> str:
    text = _PASSWORD.sub(r"\1***", text)
    secret = settings.db_pass.get_secret_value() if settings else ""
    return text.replace(secret, "***") if secret else text
