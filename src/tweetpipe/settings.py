"""One typed, frozen settings object, built once at the entry point and passed down.

Values come from, highest precedence first: keyword arguments to `load_settings`, the
environment, a `.env` file (`TWEETPIPE_ENV_FILE` names another one; empty means none). A
`DATABASE_URL` fills only the DB_* fields no higher source sets (within one source it wins over
that source's DB_*). The names users of the original notebook know (`TWITTER_BEARER_TOKEN`,
`DB_USER`, `DB_PASS`) keep working. Nothing else in the package reads `os.environ`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, unquote, urlsplit

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from tweetpipe.errors import ConfigError

#: names another dotenv file than `.env` in the working directory; empty: read none
ENV_FILE_VARIABLE = "TWEETPIPE_ENV_FILE"
_URL_FORMAT = "DATABASE_URL must look like postgresql://USER:PASSWORD@HOST:PORT/DBNAME"


def _default_jar_cache() -> Path:
    return Path.home() / ".cache" / "tweetpipe" / "jars"


def _database_url_fields(url: Any) -> dict[str, Any] | None:
    """The DB_* values a `postgresql://user:pass@host:port/name` URL stands for (None if bad)."""
    if isinstance(url, SecretStr):
        url = url.get_secret_value()
    if not url:
        return None
    parts = urlsplit(str(url))
    try:
        port = parts.port or 5432
    except ValueError:
        return None
    if parts.scheme not in ("postgres", "postgresql") or not parts.hostname:
        return None
    return {
        "DB_HOST": parts.hostname,
        "DB_PORT": port,
        "DB_USER": unquote(parts.username or "tweetpipe"),
        "DB_PASS": unquote(parts.password or ""),
        "DB_NAME": parts.path.lstrip("/") or "tweetpipe",
    }


def _expand_bootstrap(servers: str, brokers: int) -> str:
    """`host:9092` -> `host:9092,host:9093,...` (N addresses); N listed stay as they are."""
    addresses = [a.strip() for a in servers.split(",") if a.strip()]
    if brokers == 1 or len(addresses) == brokers:
        return servers
    if len(addresses) != 1:
        raise ValueError(
            f"{len(addresses)} addresses listed but KAFKA_BROKERS is {brokers}: list one "
            f"(the other brokers take the next ports) or all {brokers}")
    host, _, port = addresses[0].rpartition(":")
    if not port.isdigit() or int(port) + brokers - 1 > 65535:
        raise ValueError(f"{addresses[0]!r} needs a port (HOST:PORT) with {brokers} free "
                         "ports from it")
    return ",".join(f"{host or '127.0.0.1'}:{int(port) + i}" for i in range(brokers))


KafkaProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"]
SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]

#: secrets that may instead come from a file: `NAME_FILE=/path` (Docker/Kubernetes secrets,
#: systemd credentials); the file's content, stripped of surrounding whitespace, is the value
SECRET_FILE_VARIABLES = ("TWITTER_BEARER_TOKEN", "DB_PASS", "KAFKA_SASL_PASSWORD",
                         "KAFKA_SSL_KEY_PASSWORD")


def _read_secret_files(values: dict[str, Any]) -> dict[str, Any]:
    """`DB_PASS_FILE=/run/secrets/db` -> `DB_PASS=<its content>` (the file wins when both are
    set). A missing or unreadable file is an error naming the variable, never the content."""
    for name in SECRET_FILE_VARIABLES:
        path = values.get(f"{name}_FILE") or values.get(f"{name}_FILE".lower())
        if not path:
            continue
        try:
            values[name] = Path(str(path)).expanduser().read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ValueError(f"{name}_FILE: cannot read {path}: {exc.strerror}") from None
    return values


class _SplitDatabaseUrl(PydanticBaseSettingsSource):
    """One settings source with its own `DATABASE_URL` split into the DB_* fields.

    Splitting per source, before pydantic-settings merges the sources, keeps their precedence:
    a DB_PORT given as a keyword or in the environment beats the port of a `.env` DATABASE_URL.
    Within one source the URL wins over that source's DB_* (it stands for all five).
    """

    def __init__(self, source: PydanticBaseSettingsSource) -> None:
        super().__init__(source.settings_cls)
        self.source = source
        self.__name__ = type(source).__name__

    def _set_current_state(self, state: dict[str, Any]) -> None:
        super()._set_current_state(state)
        self.source._set_current_state(state)

    def _set_settings_sources_data(self, states: dict[str, dict[str, Any]]) -> None:
        super()._set_settings_sources_data(states)
        self.source._set_settings_sources_data(states)

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self.source.get_field_value(field, field_name)

    def __call__(self) -> dict[str, Any]:
        values = self.source()
        parsed = _database_url_fields(values.get("DATABASE_URL"))
        return values if parsed is None else {**values, **parsed}


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

    #: brokers of the local cluster `services up` starts (before the bootstrap servers: the
    #: validator of those reads it). `model_copy` skips validators: update both together.
    kafka_brokers: int = Field(default=1, ge=1, le=9, validation_alias="KAFKA_BROKERS")
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092", validation_alias="KAFKA_BOOTSTRAP_SERVERS"
    )
    kafka_topic: str = Field(default="tweet-crawl", validation_alias="KAFKA_TOPIC")
    kafka_partitions: int = Field(default=6, ge=1, validation_alias="KAFKA_PARTITIONS")
    kafka_group: str = Field(default="tweetpipe-loader", validation_alias="KAFKA_GROUP")

    # ---- Kafka security: every producer, consumer, admin client and Spark's Kafka source ----
    kafka_security_protocol: KafkaProtocol = Field(
        default="PLAINTEXT", validation_alias="KAFKA_SECURITY_PROTOCOL")
    #: SCRAM-SHA-512 (MSK's SCRAM), OAUTHBEARER (MSK IAM, signed with AWS_REGION's credentials)
    kafka_sasl_mechanism: SaslMechanism | None = Field(
        default=None, validation_alias="KAFKA_SASL_MECHANISM")
    kafka_sasl_username: str | None = Field(default=None, validation_alias="KAFKA_SASL_USERNAME")
    kafka_sasl_password: SecretStr | None = Field(
        default=None, validation_alias="KAFKA_SASL_PASSWORD")
    #: PEM file of the CA that signed the brokers' certificates (the system's CAs when unset)
    kafka_ssl_ca_location: Path | None = Field(
        default=None, validation_alias="KAFKA_SSL_CA_LOCATION")
    #: client certificate and key (PEM) for brokers that require mutual TLS
    kafka_ssl_certificate_location: Path | None = Field(
        default=None, validation_alias="KAFKA_SSL_CERTIFICATE_LOCATION")
    kafka_ssl_key_location: Path | None = Field(
        default=None, validation_alias="KAFKA_SSL_KEY_LOCATION")
    kafka_ssl_key_password: SecretStr | None = Field(
        default=None, validation_alias="KAFKA_SSL_KEY_PASSWORD")
    #: region whose MSK cluster OAUTHBEARER signs tokens for (aws-msk-iam-sasl-signer-python)
    aws_region: str | None = Field(default=None, validation_alias="AWS_REGION")

    # ---- PostgreSQL TLS: psycopg and Spark's JDBC reads and writes -------------------------
    db_sslmode: SslMode = Field(default="prefer", validation_alias="DB_SSLMODE")
    #: CA file (verify-full with RDS: the RDS CA bundle)
    db_sslrootcert: Path | None = Field(default=None, validation_alias="DB_SSLROOTCERT")
    db_sslcert: Path | None = Field(default=None, validation_alias="DB_SSLCERT")
    db_sslkey: Path | None = Field(default=None, validation_alias="DB_SSLKEY")

    #: files holding the secrets above (`NAME_FILE`; see SECRET_FILE_VARIABLES)
    bearer_token_file: Path | None = Field(
        default=None, validation_alias="TWITTER_BEARER_TOKEN_FILE")
    db_pass_file: Path | None = Field(default=None, validation_alias="DB_PASS_FILE")
    kafka_sasl_password_file: Path | None = Field(
        default=None, validation_alias="KAFKA_SASL_PASSWORD_FILE")
    kafka_ssl_key_password_file: Path | None = Field(
        default=None, validation_alias="KAFKA_SSL_KEY_PASSWORD_FILE")

    spark_master: str = Field(default="local[*]", validation_alias="SPARK_MASTER")

    tweetpipe_home: Path = Field(default=Path(".tweetpipe"), validation_alias="TWEETPIPE_HOME")
    jar_cache: Path = Field(
        default_factory=_default_jar_cache, validation_alias="TWEETPIPE_JAR_CACHE"
    )

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keyword arguments > environment > `.env`; each source splits its own DATABASE_URL."""
        return tuple(_SplitDatabaseUrl(source) for source in (
            init_settings, env_settings, dotenv_settings, file_secret_settings))

    @model_validator(mode="before")
    @classmethod
    def _secrets_from_files(cls, data: Any) -> Any:
        return _read_secret_files(dict(data)) if isinstance(data, dict) else data

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, url: SecretStr | None) -> SecretStr | None:
        if url is not None and _database_url_fields(url) is None:
            raise ValueError(_URL_FORMAT)
        return url

    @field_validator("kafka_bootstrap_servers")
    @classmethod
    def _bootstrap_all_brokers(cls, servers: str, info: ValidationInfo) -> str:
        """With KAFKA_BROKERS=N > 1, one address stands for N on consecutive ports, so every
        client bootstraps from all brokers."""
        return _expand_bootstrap(servers, int(info.data.get("kafka_brokers", 1)))

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
        tls = "&".join(f"{key}={quote(value, safe='/')}" for key, value in self.db_tls().items())
        return f"postgresql://{user}:{password}@{self.db_host}:{self.db_port}/{name}?{tls}"

    def db_tls(self) -> dict[str, str]:
        """PostgreSQL's TLS parameters (libpq's and pgjdbc's names): sslmode and the files
        set. Paths only, no secret."""
        files = {"sslrootcert": self.db_sslrootcert, "sslcert": self.db_sslcert,
                 "sslkey": self.db_sslkey}
        return {"sslmode": self.db_sslmode, **{
            key: str(path.expanduser().resolve()) for key, path in files.items() if path}}

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

    def as_environment(self) -> dict[str, str]:
        """These settings as the environment variables that build them again, for a child
        process (`tweetpipe run`'s components). Holds secrets: pass it as a process's
        environment, never on a command line or into a log. No `.env` is read on top."""
        env = {ENV_FILE_VARIABLE: ""}
        for name, info in type(self).model_fields.items():
            value = getattr(self, name)
            alias = info.validation_alias
            if value is None or name == "database_url" or alias is None:
                continue
            key = alias.choices[0] if isinstance(alias, AliasChoices) else alias
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            env[str(key)] = str(value.resolve() if isinstance(value, Path) else value)
        return env

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"


def load_settings(**overrides: Any) -> Settings:
    """Build the settings at an entry point; a bad value is a `ConfigError` saying what to fix.

    Keyword arguments (aliases like `DB_PORT=` or field names) beat the environment, which
    beats the dotenv file: `.env` in the working directory, or the file `TWEETPIPE_ENV_FILE`
    names, or none when it is set but empty (the test suite sets it so). `_env_file=` given
    here decides instead.
    """
    if "_env_file" not in overrides and ENV_FILE_VARIABLE in os.environ:
        overrides["_env_file"] = os.environ[ENV_FILE_VARIABLE] or None
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}") from None
