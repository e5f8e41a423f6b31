"""Secrets never show: not on the command line of any process a live run starts (services,
the emulator, the run's components), and not in any output or log written on the failure
paths (a wrong database password, a refused bearer token, Kafka down)."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import orjson
import pytest
from pydantic import SecretStr

from tweetpipe import db, kafka
from tweetpipe.services import process, tls
from tweetpipe.settings import Settings

from .fixtures.services import DATA, isolated
from .pipeline import count, settings_env
from .run.kit import CLI, kill_group, start_run
from .waiting import reap, wait_until

pytestmark = pytest.mark.integration
TOKEN = "bearer-secret-7f3a9c"  # what a leak would show


def command_lines() -> dict[int, str]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                raw = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            found[int(entry.name)] = raw.replace(b"\0", b" ").decode(errors="replace")
    return found


def leaks(text: str, secrets: list[str]) -> list[str]:
    return [s for s in secrets if s in text]


def emulator_cli(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`tweetpipe emulator` as a user starts it: the token from the environment."""
    proc = subprocess.Popen([*CLI, "emulator", "--port", "0", "--ready-json", "--synthetic",
                             "20"], env={**env, "TWEETPIPE_EMULATOR_TOKEN": TOKEN},
                            stdout=subprocess.PIPE, stderr=log.open("wb"))
    assert proc.stdout is not None
    ready = orjson.loads(proc.stdout.readline())
    return proc, str(ready["url"])


def test_no_process_of_a_live_run_shows_a_secret(pipeline: Settings, tmp_path: Path) -> None:
    secrets = [pipeline.db_pass.get_secret_value(), TOKEN]
    emu, url = emulator_cli(settings_env(pipeline), tmp_path / "emulator.log")
    api = pipeline.model_copy(update={"x_api_base_url": url,
                                      "bearer_token": SecretStr(TOKEN)})
    (port,) = process.free_ports(1)
    run = start_run(api, "sample", "--transform-every", "2", "--port", str(port),
                    log=tmp_path / "run.log")
    try:
        wait_until(lambda: count(api, "tweet_transformed") > 0, 90,
                   lambda: (tmp_path / "run.log").read_text())
        shown = {pid: line for pid, line in command_lines().items() if leaks(line, secrets)}
        assert shown == {}, "secrets on command lines"
        lines = command_lines().values()
        for started in ("tweetpipe.run.components loader", "kafka.Kafka", "postgres",
                        "tweetpipe_emulator", "SparkSubmit"):
            assert any(started in line for line in lines), f"{started} runs (and was looked at)"
        run.send_signal(signal.SIGTERM)
        reap(run, 30, "the run stops")
    finally:
        kill_group(run)
        emu.terminate()
        emu.wait(10)
    written = "".join(p.read_text(errors="replace") for p in tmp_path.glob("*.log"))
    assert leaks(written, secrets) == []


def test_failure_paths_never_print_or_log_a_secret(pipeline: Settings, tmp_path: Path) -> None:
    wrong_password = "wrong-db-secret-51d2"
    (closed,) = process.free_ports(1)
    emu, url = emulator_cli(settings_env(pipeline), tmp_path / "emulator.log")
    cases = {
        "wrong database password": (pipeline.model_copy(update={
            "db_pass": SecretStr(wrong_password)}), ["load", "--until-idle"]),
        "refused bearer token": (pipeline.model_copy(update={
            "x_api_base_url": url, "bearer_token": SecretStr("refused-" + TOKEN)}),
            ["collect", "search", "brexit", "--limit", "5"]),
        "Kafka down": (pipeline.model_copy(update={
            "kafka_bootstrap_servers": f"127.0.0.1:{closed}"}), ["status"]),
    }
    secrets = [wrong_password, TOKEN, pipeline.db_pass.get_secret_value()]
    try:
        for what, (settings, argv) in cases.items():
            done = subprocess.run([*CLI, *argv], env=settings_env(settings), timeout=120,
                                  capture_output=True, check=False)
            output = (done.stdout + done.stderr).decode(errors="replace")
            assert done.returncode != 0 or what == "Kafka down", (what, output)
            assert output.strip(), what
            assert leaks(output, secrets) == [], (what, output)
    finally:
        emu.terminate()
        emu.wait(10)
    logs = [p for p in Path(pipeline.state_dir).rglob("*.log") if p.is_file()]
    written = "".join(p.read_text(errors="replace") for p in logs)
    assert logs and leaks(written, secrets) == []


def test_secure_stack_shows_no_secret(secure_stack: Settings, other_ca: Path,
                                      tmp_path: Path) -> None:
    """`services up --secure`: the SCRAM and database passwords are on no command line (the
    broker, PostgreSQL, a running loader), and the failure paths (a wrong SASL password, a
    wrong CA, TLS refused by PostgreSQL) print and log none while naming the setting."""
    found = tls.material(secure_stack)
    secrets = [found.secret(p) for p in (found.kafka_password, found.broker_password,
                                         found.db_password)]
    settings = isolated(secure_stack)
    db.migrate(settings)
    kafka.ensure_topic(settings)
    loader = subprocess.Popen([*CLI, "load"], env=settings_env(settings),
                              stdout=subprocess.DEVNULL, stderr=(tmp_path / "load.log").open("wb"))
    try:
        wait_until(lambda: any("tweetpipe" in line and " load" in line
                               for line in command_lines().values()), 30, "the loader runs")
        lines = command_lines()
        assert {pid: line for pid, line in lines.items() if leaks(line, secrets)} == {}
        for started in ("kafka.Kafka", "postgres", " load"):
            assert any(started in line for line in lines.values()), started
    finally:
        loader.send_signal(signal.SIGTERM)
        reap(loader, 30, "the loader stops")
    wrong = tmp_path / "wrong.password"
    wrong.write_text("wrong-sasl-secret-93c1\n")
    secrets.append("wrong-sasl-secret-93c1")
    cases = {
        "wrong SASL password": (settings.model_copy(update={
            "kafka_sasl_password_file": wrong}), ["load", "--until-idle"], "KAFKA_SASL_PASSWORD"),
        "wrong Kafka CA": (settings.model_copy(update={
            "kafka_ssl_ca_location": other_ca}),
            ["collect", "replay", str(DATA / "brexit.jsonl")], "KAFKA_SSL_CA_LOCATION"),
        "TLS refused by PostgreSQL": (settings.model_copy(update={"db_sslmode": "disable"}),
                                      ["load", "--until-idle"], "DB_SSLMODE"),
        "wrong PostgreSQL CA": (settings.model_copy(update={
            "db_sslrootcert": other_ca}),
            ["load", "--until-idle"], "DB_SSLROOTCERT"),
    }
    for what, (case, argv, setting) in cases.items():
        done = subprocess.run([*CLI, *argv], env=settings_env(case), timeout=120,
                              capture_output=True, check=False)
        output = (done.stdout + done.stderr).decode(errors="replace")
        assert done.returncode != 0, (what, output)
        assert setting in output, (what, output)
        assert leaks(output, secrets) == [], (what, output)
    logs = [p for p in Path(secure_stack.state_dir).rglob("*.log") if p.is_file()]
    written = "".join(p.read_text(errors="replace") for p in [*logs, tmp_path / "load.log"])
    assert logs and leaks(written, secrets) == []
    assert not list(Path(secure_stack.state_dir).rglob("format.args"))  # the argfile is gone
