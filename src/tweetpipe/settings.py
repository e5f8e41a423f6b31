"""One typed, frozen settings object, built once at the entry point and passed down.

Values come from the environment and a `.env` file. The names users of the original notebook
know (`TWITTER_BEARER_TOKEN`, `DB_USER`, `DB_PASS`) keep working. Nothing else in the package
reads `os.environ`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tweetpipe.errors import ConfigError


def _default_jar_cache() -> Path:
    return Path.home() / ".cache" / "tweetpipe" / "jars"


class Settings(BaseSettings):
    """Everything tweetpipe can be told. Secrets are `SecretStr`: they never show in reprs."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True,
        populate_by_name=True,
    )

    bearer_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("TWITTER_BEARER_TOKEN", "X_BEARER_TOKEN")
    )
    x_api_base_url: str = Field(default="https://api.x.com", validation_alias="X_API_BASE_URL")

    db_user: str = Field(default="tweetpipe", validation_alias="DB_USER")
    db_pass: SecretStr = Field(default=SecretStr("tweetpipe"), validation_alias="DB_PASS")
    db_host: str = Field(default="127.0.0.1", validation_alias="DB_HOST")
    db_port: int = Field(default=5432, ge=1, le=65535, validation_alias="DB_PORT")
    db_name: str = Field(default="tweetpipe", validation_alias="DB_NAME")
    db_schema: str = Field(default="public", validation_alias="DB_SCHEMA")
    database_url: SecretStr | None = Field(default=None, validation_alias="DATABASE_URL")

    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092", validation_alias="KAFKA_BOOTSTRAP_SERVERS"
    )
    kafka_topic: str = Field(default="tweet-crawl", validation_alias="KAFKA_TOPIC")
    kafka_partitions: int = Field(default=6, ge=1, validation_alias="KAFKA_PARTITIONS")
    kafka_group: str = Field(default="tweetpipe-loader", validation_alias="KAFKA_GROUP")

    spark_master: str = Field(default="local[*]", validation_alias="SPARK_MASTER")

    tweetpipe_home: Path = Field(default=Path(".tweetpipe"), validation_alias="TWEETPIPE_HOME")
    jar_cache: Path = Field(
        default_factory=_default_jar_cache, validation_alias="TWEETPIPE_JAR_CACHE"
    )

    @model_validator(mode="before")
    @classmethod
    def _split_database_url(cls, values: Any) -> Any:
        """`DATABASE_URL=postgresql://user:pass@host:port/name` fills the DB_* fields."""
        if not isinstance(values, dict):
            return values
        url = values.get("DATABASE_URL") or values.get("database_url")
        if isinstance(url, SecretStr):
            url = url.get_secret_value()
        if not url:
            return values
        parts = urlsplit(str(url))
        if parts.scheme not in ("postgres", "postgresql") or not parts.hostname:
            raise ValueError(
                "DATABASE_URL must look like postgresql://USER:PASSWORD@HOST:PORT/DBNAME"
            )
        parsed = {
            "DB_HOST": parts.hostname,
            "DB_PORT": parts.port or 5432,
            "DB_USER": unquote(parts.username or "tweetpipe"),
            "DB_PASS": unquote(parts.password or ""),
            "DB_NAME": parts.path.lstrip("/") or "tweetpipe",
        }
        return {**values, **parsed}

    # ---- derived values -------------------------------------------------------------------

    @property
    def kafka_host_port(self) -> tuple[str, int]:
        first = self.kafka_bootstrap_servers.split(",")[0].strip()
        host, _, port = first.rpartition(":")
        return (host or "127.0.0.1"), int(port or 9092)

    def conninfo(self, dbname: str | None = None) -> str:
        """libpq connection string. Contains the password: never log it."""
        user = quote(self.db_user, safe="")
        password = quote(self.db_pass.get_secret_value(), safe="")
        name = quote(dbname or self.db_name, safe="")
        return f"postgresql://{user}:{password}@{self.db_host}:{self.db_port}/{name}"

    @property
    def db_display(self) -> str:
        """Where the database is, safe to print."""
        return f"{self.db_user}@{self.db_host}:{self.db_port}/{self.db_name}"

    def jdbc_url(self) -> str:
        return (
            f"jdbc:postgresql://{self.db_host}:{self.db_port}/{self.db_name}"
            f"?currentSchema={self.db_schema}&reWriteBatchedInserts=true"
        )

    @property
    def state_dir(self) -> Path:
        return self.tweetpipe_home.resolve()

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"


def load_settings(**overrides: Any) -> Settings:
    """Build the settings at an entry point; a bad value is a `ConfigError` saying what to fix."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}") from None
