"""deploy/'s README names real commands, and no file of deploy/ holds a secret."""

from __future__ import annotations

import shlex

import pytest

from .files import (
    DEPLOY,
    check_cli,
    readme_commands,
    secret_findings,
)


def test_deploy_readme_commands_are_real() -> None:
    commands = readme_commands((DEPLOY / "README.md").read_text())
    assert len(commands) >= 5
    for command in commands:
        check_cli(shlex.split(command)[1:])




def test_no_secret_in_deploy() -> None:
    files = [p for p in DEPLOY.rglob("*") if p.is_file()]
    assert len(files) >= 10
    found = {str(p.relative_to(DEPLOY)): secret_findings(p.read_text()) for p in files}
    assert not {k: v for k, v in found.items() if v}


@pytest.mark.parametrize("text", [
    "DB_PASS=hunter2", "KAFKA_SASL_PASSWORD = s3cret", "Environment=TWITTER_BEARER_TOKEN=AAAA",
    "DATABASE_URL=postgresql://u:p@h/db", "--conf spark.x=postgresql://tweetpipe:pw@host/db",
    "aws_access_key_id=AKIAABCDEFGHIJKLMNOP"])
def test_secret_findings_see_secrets(text: str) -> None:
    assert secret_findings(text)


def test_secret_findings_leave_file_references_alone() -> None:
    assert not secret_findings("DB_PASS_FILE=%d/db_pass\nKAFKA_SASL_PASSWORD_FILE=/run/x\n"
                               "LoadCredential=db_pass:/etc/tweetpipe/credentials/db_pass")


# ---- (d) the EMR step's command on a local standalone Spark master ---------------------------

