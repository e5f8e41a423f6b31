from pathlib import Path

import pytest

from tweetpipe.errors import ConfigError
from tweetpipe.settings import load_settings


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
