"""The suite never reads the developer's `.env`: a hostile one in the working directory (a
DATABASE_URL to a closed port, a bogus broker, a token) changes none of the settings the suite
builds, in this process or in `tweetpipe` subprocesses started in that directory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tweetpipe.cli import common
from tweetpipe.services import process
from tweetpipe.settings import ENV_FILE_VARIABLE, Settings, load_settings

from .isolation import suite_settings
from .pipeline import settings_env

SHOW = ("import json; from tweetpipe.cli.common import settings; s = settings(); "
        "print(json.dumps([s.db_host, s.db_port, s.db_user, s.db_name, "
        "s.kafka_bootstrap_servers, s.kafka_topic, s.x_api_base_url, "
        "s.bearer_token is not None, str(s.state_dir)]))")


def shown(settings: Settings) -> list[object]:
    return [settings.db_host, settings.db_port, settings.db_user, settings.db_name,
            settings.kafka_bootstrap_servers, settings.kafka_topic, settings.x_api_base_url,
            settings.bearer_token is not None, str(settings.state_dir)]


@pytest.fixture
def hostile_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (closed,) = process.free_ports(1)  # nothing listens there
    (tmp_path / ".env").write_text(
        f"DATABASE_URL=postgresql://evil:evil-pw@127.0.0.1:{closed}/evil\n"
        "KAFKA_BOOTSTRAP_SERVERS=bogus.invalid:1\nKAFKA_TOPIC=evil-topic\n"
        "TWITTER_BEARER_TOKEN=evil-token\nX_API_BASE_URL=http://evil.invalid\n"
        "TWEETPIPE_HOME=/nonexistent/evil\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_hostile_dotenv_is_one_a_user_would_get(hostile_cwd: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The control: outside the suite's isolation this file is read, so the tests below could
    fail."""
    monkeypatch.delenv(ENV_FILE_VARIABLE, raising=False)
    settings = load_settings()
    assert (settings.db_user, settings.kafka_topic, settings.kafka_bootstrap_servers) == (
        "evil", "evil-topic", "bogus.invalid:1")


def test_settings_built_in_the_suite_ignore_a_hostile_dotenv(
        hostile_cwd: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = ["127.0.0.1", 5432, "tweetpipe", "tweetpipe", "127.0.0.1:9092", "tweet-crawl",
                "https://api.x.com", False, str(hostile_cwd / ".tweetpipe")]
    assert shown(suite_settings()) == defaults
    assert shown(load_settings()) == defaults  # as the spark fixture and scripts build them
    monkeypatch.setattr(common.State, "settings", None)
    assert shown(common.settings()) == defaults  # as CliRunner-driven commands build them


def test_cli_subprocesses_ignore_a_hostile_dotenv_in_their_cwd(hostile_cwd: Path) -> None:
    given = suite_settings(TWEETPIPE_HOME=str(hostile_cwd / "home"), DB_PORT=15432,
                           DB_NAME="suite_db", KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:19092",
                           KAFKA_TOPIC="suite-topic")
    done = subprocess.run([sys.executable, "-c", SHOW], env=settings_env(given),
                          cwd=hostile_cwd, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == shown(given)
