"""The supervisor's own rules, without services: one run per topic and schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from tweetpipe.errors import ConfigError
from tweetpipe.run.supervisor import Supervisor
from tweetpipe.settings import load_settings


def test_a_second_run_on_the_same_topic_and_schema_is_refused(tmp_path: Path) -> None:
    settings = load_settings(TWEETPIPE_HOME=str(tmp_path))
    first = Supervisor(settings, [], tmp_path / "run")
    with pytest.raises(ConfigError, match=r"another `tweetpipe run` \(pid \d+\)"):
        Supervisor(settings, [], tmp_path / "run")
    assert Supervisor(settings, [], tmp_path / "other-run")  # another pipeline may run
    del first
