from pathlib import Path

import pytest

from tweetpipe.errors import ConfigError
from tweetpipe.settings import ENV_FILE_VARIABLE, load_settings


def test_notebook_names_keep_working(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TWITTER_BEARER_TOKEN", "AAAA-secret-token")
    monkeypatch.setenv("DB_USER", "alice")
    monkeypatch.setenv("DB_PASS", "pw-secret")
    settings = load_settings()
    assert settings.bearer_token is not None
    assert settings.bearer_token.get_secret_value() == "AAAA-secret-token"
    assert settings.db_user == "alice"
    assert settings.kafka_topic == "tweet-crawl"
    assert settings.x_api_base_url == "https://api.x.com"
    assert settings.spark_master == "local[*]"
    assert settings.state_dir == tmp_path / ".tweetpipe"


def test_x_bearer_token_alias(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TWITTER_BEARER_TOKEN", raising=False)
    monkeypatch.setenv("X_BEARER_TOKEN", "xyz")
    token = load_settings().bearer_token
    assert token is not None and token.get_secret_value() == "xyz"


def test_secrets_never_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWITTER_BEARER_TOKEN", "AAAA-secret-token")
    monkeypatch.setenv("DATABASE_URL", "postgresql://bob:pw-secret@db.example:6543/tweets")
    settings = load_settings()
    shown = repr(settings) + str(settings) + settings.db_display
    assert "AAAA-secret-token" not in shown
    assert "pw-secret" not in shown
    assert (settings.db_user, settings.db_host, settings.db_port, settings.db_name) == (
        "bob", "db.example", 6543, "tweets")


def test_dotenv_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV_FILE_VARIABLE, raising=False)  # the suite turns .env off; users not
    monkeypatch.delenv("KAFKA_TOPIC", raising=False)
    (tmp_path / ".env").write_text("KAFKA_TOPIC=from-dotenv\nDB_PORT=6000\n")
    settings = load_settings()
    assert (settings.kafka_topic, settings.db_port) == ("from-dotenv", 6000)


def test_bad_value_says_what_to_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_PORT", "not-a-port")
    monkeypatch.setenv("DB_PASS", "pw-secret")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "DB_PORT" in str(info.value)
    assert "pw-secret" not in str(info.value)


def test_bad_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://x@y/z")
    with pytest.raises(ConfigError, match="postgresql://"):
        load_settings()


# -- precedence: keyword arguments > environment > .env; DATABASE_URL fills only what is free --

@pytest.fixture
def dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A working directory whose `.env` is read as a user's would be."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV_FILE_VARIABLE, raising=False)
    return tmp_path / ".env"


def test_keywords_beat_environment_beats_dotenv(dotenv: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    dotenv.write_text("KAFKA_TOPIC=from-dotenv\nDB_NAME=from-dotenv\nDB_USER=from-dotenv\n")
    monkeypatch.setenv("KAFKA_TOPIC", "from-env")
    monkeypatch.setenv("DB_NAME", "from-env")
    settings = load_settings(KAFKA_TOPIC="from-keyword")
    assert (settings.kafka_topic, settings.db_name, settings.db_user) == (
        "from-keyword", "from-env", "from-dotenv")
    assert load_settings(kafka_topic="by-field-name").kafka_topic == "by-field-name"


def test_dotenv_database_url_fills_only_what_is_not_given(
        dotenv: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dotenv.write_text("DATABASE_URL=postgresql://dot:dot-pw@dotenv-host:1111/dotdb\n")
    monkeypatch.setenv("DB_HOST", "env-host")
    settings = load_settings(DB_PORT=2222)
    assert (settings.db_host, settings.db_port, settings.db_user, settings.db_name) == (
        "env-host", 2222, "dot", "dotdb")
    assert settings.db_pass.get_secret_value() == "dot-pw"
    assert load_settings(db_port=3333).db_port == 3333  # by field name, too


def test_environment_database_url_beats_dotenv_but_not_keywords(
        dotenv: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dotenv.write_text("DB_HOST=dotenv-host\nDB_PORT=7\nDB_NAME=dotdb\n")
    monkeypatch.setenv("DATABASE_URL", "postgresql://env:pw@env-host:6543/envdb")
    settings = load_settings(DB_NAME="keyword-db")
    assert (settings.db_host, settings.db_port, settings.db_user, settings.db_name) == (
        "env-host", 6543, "env", "keyword-db")


def test_keyword_database_url_beats_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_HOST", "env-host")
    monkeypatch.setenv("DB_PORT", "1234")
    settings = load_settings(DATABASE_URL="postgresql://kw:pw@kw-host/kwdb")
    assert (settings.db_host, settings.db_port, settings.db_user, settings.db_name) == (
        "kw-host", 5432, "kw", "kwdb")


def test_database_url_wins_over_the_db_fields_of_its_own_source(dotenv: Path) -> None:
    # .env.template spells out every DB_*; adding a DATABASE_URL there must still take effect
    dotenv.write_text("DB_HOST=127.0.0.1\nDB_PORT=5432\nDB_USER=tweetpipe\n"
                      "DATABASE_URL=postgresql://remote:pw@db.example:6000/remote\n")
    settings = load_settings()
    assert (settings.db_host, settings.db_port, settings.db_user, settings.db_name) == (
        "db.example", 6000, "remote", "remote")


def test_env_file_switch(dotenv: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    dotenv.write_text("KAFKA_TOPIC=from-dotenv\n")
    other = tmp_path / "other.env"
    other.write_text("KAFKA_TOPIC=from-other\n")
    assert load_settings().kafka_topic == "from-dotenv"
    monkeypatch.setenv(ENV_FILE_VARIABLE, str(other))
    assert load_settings().kafka_topic == "from-other"
    monkeypatch.setenv(ENV_FILE_VARIABLE, "")
    assert load_settings().kafka_topic == "tweet-crawl"
    monkeypatch.delenv(ENV_FILE_VARIABLE, raising=False)
    assert load_settings(_env_file=None).kafka_topic == "tweet-crawl"


def test_secrets_from_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`NAME_FILE` names a file whose content is the secret (systemd credentials, Docker
    secrets); the file wins over the plain variable, and the path is no secret."""
    for name, value in {"DB_PASS": "db-secret", "KAFKA_SASL_PASSWORD": "scram-secret",
                        "TWITTER_BEARER_TOKEN": "token-secret"}.items():
        (tmp_path / name).write_text(f"{value}\n")
        monkeypatch.setenv(f"{name}_FILE", str(tmp_path / name))
    monkeypatch.setenv("DB_PASS", "ignored")
    settings = load_settings()
    assert settings.db_pass.get_secret_value() == "db-secret"
    assert settings.kafka_sasl_password is not None
    assert settings.kafka_sasl_password.get_secret_value() == "scram-secret"
    assert settings.bearer_token is not None
    assert settings.bearer_token.get_secret_value() == "token-secret"
    assert not [v for v in ("db-secret", "scram-secret", "token-secret") if v in repr(settings)]


def test_unreadable_secret_file_names_the_variable(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    monkeypatch.setenv("DB_PASS_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="DB_PASS_FILE: cannot read"):
        load_settings()


def test_security_settings_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "TLS")
    with pytest.raises(ConfigError, match="KAFKA_SECURITY_PROTOCOL"):
        load_settings()
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("DB_SSLMODE", "verify_full")
    with pytest.raises(ConfigError, match="DB_SSLMODE"):
        load_settings()
