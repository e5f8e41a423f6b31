"""deploy/'s env files, systemd units and Containerfile parse and name only settings and
commands tweetpipe has."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tweetpipe.settings import Settings, load_settings

from .files import (
    CONTAINERFILE,
    DEPLOY,
    DROP_INS,
    ENV_FILES,
    NODE_ROOT,
    SECRET_FILES,
    SERVICES,
    check_cli,
    containerfile_env,
    known_variables,
    read_containerfile,
    read_env_file,
    read_unit,
    tweetpipe_args,
    unit_environment,
    unit_values,
)


@pytest.mark.parametrize("path", ENV_FILES, ids=lambda p: p.name)
def test_env_file_parses_into_valid_settings(path: Path) -> None:
    values = read_env_file(path)
    unknown = set(values) - known_variables()
    assert not unknown, f"{path.name}: not tweetpipe settings: {sorted(unknown)}"
    settings = load_settings(_env_file=None, **values)  # the values are valid, too
    assert isinstance(settings, Settings)


def test_env_files_together_describe_msk_and_rds() -> None:
    rds = read_env_file(DEPLOY / "env" / "rds.env")
    assert (rds["DB_SSLMODE"], rds["DB_SSLROOTCERT"]) == (
        "verify-full", "/etc/tweetpipe/rds-global-bundle.pem")
    scram = read_env_file(DEPLOY / "env" / "msk-scram.env")
    iam = read_env_file(DEPLOY / "env" / "msk-iam.env")
    for values, port, mechanism in ((scram, "9096", "SCRAM-SHA-512"),
                                    (iam, "9098", "OAUTHBEARER")):
        assert values["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
        assert values["KAFKA_SASL_MECHANISM"] == mechanism
        assert {a.rsplit(":", 1)[1] for a in values["KAFKA_BOOTSTRAP_SERVERS"].split(",")} \
            == {port}
    assert "AWS_REGION" in iam


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: p.name)
def test_systemd_service(path: Path) -> None:
    unit = read_unit(path)
    assert set(unit) == {"Unit", "Service", "Install"}
    assert unit_values(unit, "Unit", "Description")
    assert unit_values(unit, "Install", "WantedBy") == ["multi-user.target"]
    assert unit_values(unit, "Service", "Restart") == ["always"]
    assert unit_values(unit, "Service", "User") not in ([], ["root"])
    assert unit_values(unit, "Service", "NoNewPrivileges") == ["yes"]
    assert unit_values(unit, "Service", "ProtectSystem") == ["strict"]
    env = unit_environment(unit)
    unknown = set(env) - known_variables()
    assert not unknown, f"{path.name}: not tweetpipe settings: {sorted(unknown)}"
    for file in unit_values(unit, "Service", "EnvironmentFile"):
        shipped = DEPLOY / "env" / Path(file).name
        assert shipped.exists() or Path(file).name == "kafka.env", f"{file}: not in deploy/env"
    # every secret comes from a credential: NAME_FILE=%d/<a credential the unit loads>
    loaded = {c.split(":", 1)[0] for c in unit_values(unit, "Service", "LoadCredential")}
    for name, value in env.items():
        if name in SECRET_FILES:
            assert value.startswith("%d/") and value[3:] in loaded, f"{name}={value}"
    [exec_start] = unit_values(unit, "Service", "ExecStart")
    check_cli(tweetpipe_args(exec_start))


@pytest.mark.parametrize("path", DROP_INS, ids=lambda p: p.name)
def test_systemd_drop_in(path: Path) -> None:
    unit = read_unit(path)
    assert set(unit) == {"Service"}
    env = unit_environment(unit)
    assert set(env) <= known_variables(), sorted(set(env) - known_variables())
    loaded = {c.split(":", 1)[0] for c in unit_values(unit, "Service", "LoadCredential")}
    assert all(v.startswith("%d/") and v[3:] in loaded for v in env.values())


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_accepts_every_directive(tmp_path: Path) -> None:
    """systemd's own parser: an unknown key, section or bad value is reported; only the
    missing /opt/tweetpipe/venv of this machine may be."""
    for service in SERVICES:
        shutil.copy(service, tmp_path)
        drop_ins = tmp_path / f"{service.name}.d"
        drop_ins.mkdir()
        for conf in DROP_INS:
            shutil.copy(conf, drop_ins)
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *(str(tmp_path / s.name) for s in SERVICES)],
        capture_output=True, text=True, timeout=60, check=False)
    complaints = [line for line in (done.stdout + done.stderr).splitlines()
                  if line.strip() and f"Command {NODE_ROOT}/venv/bin/tweetpipe is not executable"
                  not in line]
    assert not complaints, "\n".join(complaints)


def test_containerfile() -> None:
    instructions = read_containerfile(CONTAINERFILE)
    names = [name for name, _ in instructions]
    assert names.count("FROM") == 2 and instructions[-1][0] == "CMD"
    assert all(rest.startswith("python:3.11") for name, rest in instructions if name == "FROM")
    users = [rest for name, rest in instructions if name == "USER"]
    assert users and users[-1] not in ("root", "0")
    env = containerfile_env(instructions)
    assert set(env) <= known_variables(), sorted(set(env) - known_variables())
    entrypoint = json.loads(dict(instructions)["ENTRYPOINT"])
    cmd = json.loads(instructions[-1][1])
    assert entrypoint == ["tweetpipe"]
    check_cli(cmd)


