"""deploy/ (AWS: MSK, RDS, EMR, EC2/ECS): every file parses, names only settings and commands
tweetpipe has, holds no secret, and the EMR step's command runs against a local standalone
Spark master."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from tweetpipe.cli import app
from tweetpipe.services import jars, spark_cluster
from tweetpipe.settings import SECRET_FILE_VARIABLES, Settings, load_settings

from .data import sample
from .isolation import settings_variables
from .pipeline import count, load_all, replay

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
ENV_FILES = sorted((DEPLOY / "env").glob("*.env"))
SERVICES = sorted((DEPLOY / "systemd").glob("*.service"))
DROP_INS = sorted((DEPLOY / "systemd").glob("*.conf"))
STEP = DEPLOY / "emr" / "step.json"
BOOTSTRAP = DEPLOY / "emr" / "bootstrap.sh"
CONTAINERFILE = DEPLOY / "container" / "Containerfile"

#: variables the configs set that are no `Settings` field, each with its reason
NOT_SETTINGS = {
    "TWEETPIPE_ENV_FILE": "tweetpipe's own: the dotenv file load_settings reads (empty: none)",
    "PYTHONUNBUFFERED": "Python's: the container's logs reach the runtime at once",
}
SECRET_FILES = frozenset(f"{name}_FILE" for name in SECRET_FILE_VARIABLES)
ENV_LINE = re.compile(r"([A-Z][A-Z0-9_]*)=(\S*)")
#: where the EMR bootstrap action installs things on every node (deploy/emr/bootstrap.sh)
NODE_ROOT = "/opt/tweetpipe"
DIRECTIVES = {"FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT",
              "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK",
              "SHELL"}


def known_variables() -> frozenset[str]:
    return settings_variables() | set(NOT_SETTINGS)


# ---- readers ---------------------------------------------------------------------------------

def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as systemd's EnvironmentFile=, `docker --env-file` and dotenv all read
    them alike: no quotes, no spaces, no `export`."""
    values: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        match = ENV_LINE.fullmatch(line)
        assert match, f"{path.name}:{number}: not KEY=VALUE (no quotes or spaces): {line!r}"
        assert match[1] not in values, f"{path.name}:{number}: {match[1]} set twice"
        values[match[1]] = match[2]
    return values


def read_unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    """A systemd unit or drop-in: [Section] headers and Key=Value lines (keys may repeat)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: str | None = None
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        assert not line.endswith("\\"), f"{path.name}:{number}: keep directives on one line"
        if line.startswith("["):
            assert line.endswith("]"), f"{path.name}:{number}: bad section header {line!r}"
            current = line[1:-1]
            assert current not in sections, f"{path.name}:{number}: [{current}] twice"
            sections[current] = []
            continue
        key, sep, value = line.partition("=")
        assert sep and current and re.fullmatch(r"[A-Za-z]+", key), \
            f"{path.name}:{number}: not Key=Value inside a section: {line!r}"
        sections[current].append((key, value))
    return sections


def unit_values(unit: dict[str, list[tuple[str, str]]], section: str, key: str) -> list[str]:
    return [v for k, v in unit.get(section, []) if k == key]


def unit_environment(unit: dict[str, list[tuple[str, str]]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for assignment in unit_values(unit, "Service", "Environment"):
        for word in shlex.split(assignment):
            name, sep, value = word.partition("=")
            assert sep, f"Environment={assignment!r}: not NAME=VALUE"
            env[name] = value
    return env


def read_containerfile(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        word, _, rest = (pending + line).partition(" ")
        assert word.upper() in DIRECTIVES, f"{path.name}: unknown instruction {word!r}"
        instructions.append((word.upper(), rest.strip()))
        pending = ""
    assert not pending, f"{path.name}: ends in a continuation line"
    return instructions


def containerfile_env(instructions: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for word in (w for name, rest in instructions if name == "ENV" for w in shlex.split(rest)):
        name, sep, value = word.partition("=")
        assert sep, f"ENV {word!r}: write ENV NAME=VALUE"
        env[name] = value
    return env


def read_step() -> dict[str, Any]:
    steps = json.loads(STEP.read_text())
    assert isinstance(steps, list) and len(steps) == 1, "`aws emr add-steps --steps` takes a list"
    return dict(steps[0])


def step_environment(args: list[str]) -> tuple[dict[str, str], list[str]]:
    """The step's `/usr/bin/env NAME=VALUE... COMMAND...` split into the environment and the
    command (EMR steps have no other way to give the driver an environment in client mode)."""
    assert args[0] == "/usr/bin/env", "the step sets the driver's settings through env"
    env: dict[str, str] = {}
    rest = args[1:]
    while rest and ENV_LINE.fullmatch(rest[0]):
        name, _, value = rest.pop(0).partition("=")
        env[name] = value
    return env, rest


def check_cli(argv: list[str]) -> None:
    """`tweetpipe ARGV` names a real command with real options: parsed by the CLI's own
    parser (typer's click), not run. A wrong command or option raises a usage error."""
    command: Any = typer.main.get_command(app)
    context = command.context_class(command, info_name="tweetpipe")
    args = list(argv)
    while hasattr(command, "list_commands"):  # a group: the next word picks the command
        assert args, f"tweetpipe {' '.join(argv)}: no command given"
        sub = command.get_command(context, args[0])
        assert sub is not None, f"tweetpipe {' '.join(argv)}: no command {args[0]!r}"
        parent, command, args = context, sub, args[1:]
        context = command.context_class(command, info_name=argv[len(argv) - len(args) - 1],
                                        parent=parent)
    command.make_context(context.info_name, args, parent=context.parent)


def tweetpipe_args(command_line: str) -> list[str]:
    """`/opt/tweetpipe/venv/bin/tweetpipe load --instance-id loader-%i` -> its arguments, with
    systemd's instance specifier filled in."""
    words = shlex.split(command_line.replace("%i", "1"))
    assert Path(words[0]).name == "tweetpipe", f"not a tweetpipe command: {command_line!r}"
    return words[1:]


# ---- (a) everything parses, (b) names only what tweetpipe has --------------------------------

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


def test_emr_step_names_only_tweetpipe_settings() -> None:
    step = read_step()
    assert (step["Type"], step["Jar"]) == ("CUSTOM_JAR", "command-runner.jar")
    assert step["ActionOnFailure"] in ("CONTINUE", "CANCEL_AND_WAIT", "TERMINATE_CLUSTER")
    env, command = step_environment(step["Args"])
    assert set(env) <= known_variables(), sorted(set(env) - known_variables())
    load_settings(_env_file=None, **{k: v for k, v in env.items()
                                     if k not in NOT_SETTINGS and k not in SECRET_FILES})
    confs = [command[i + 1] for i, word in enumerate(command) if word == "--conf"]
    for conf in confs:
        key = conf.split("=", 1)[0]
        for prefix in ("spark.yarn.appMasterEnv.", "spark.executorEnv."):
            if key.startswith(prefix):
                assert key[len(prefix):] in known_variables(), key


def readme_commands(text: str) -> list[str]:
    """The `tweetpipe ...` command lines of a markdown text: in code blocks (continuation
    lines joined, comments dropped) and in inline code."""
    found = re.findall(r"`(tweetpipe [^`]+)`", text)
    for block in re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            starts = [i for i, w in enumerate(words)
                      if (i == 0 and w == "tweetpipe") or w.endswith("/bin/tweetpipe")]
            found += [shlex.join(words[i:]) for i in starts[:1]]
    return found


def test_deploy_readme_commands_are_real() -> None:
    commands = readme_commands((DEPLOY / "README.md").read_text())
    assert len(commands) >= 5
    for command in commands:
        check_cli(shlex.split(command)[1:])


def test_emr_bootstrap_is_valid_bash() -> None:
    done = subprocess.run(["bash", "-n", str(BOOTSTRAP)], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr


# ---- (c) no secrets --------------------------------------------------------------------------

def secret_findings(text: str) -> list[str]:
    """What looks like a secret written into a config: a secret setting with a value (not its
    NAME_FILE), a URL with a password, an AWS access key, a private key."""
    secrets = "|".join([*SECRET_FILE_VARIABLES, "X_BEARER_TOKEN", "DATABASE_URL"])
    patterns = [rf"\b({secrets})\s*[=:]\s*\S", r"\b[a-z][a-z0-9+.-]*://[^/\s:@]+:[^@\s/]+@",
                r"\bAKIA[0-9A-Z]{16}\b", r"-----BEGIN [A-Z ]*PRIVATE KEY-----"]
    return [m.group(0) for p in patterns for m in re.finditer(p, text)]


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

def local_step(args: list[str], *, master: str, settings: Settings,
               password_file: Path) -> tuple[list[str], dict[str, str]]:
    """The EMR step's command and environment made runnable on this machine. The one place
    where EMR turns into local; everything not named here runs as the step says:

    - the bootstrap action's `/opt/tweetpipe/bin/spark-submit` wrapper -> the venv's pyspark's
      `bin/spark-submit` (the same Spark the wrapper runs, with SPARK_HOME set as it does);
    - `--master yarn` -> the local standalone master; `--deploy-mode` must stay `client`;
    - `--jars /opt/tweetpipe/jars/NAME` -> NAME in the jar cache (`tweetpipe services jars`,
      the same files the bootstrap action copies from S3): a jar the cache lacks fails here;
    - `/opt/tweetpipe/venv/bin/python` -> this venv's Python, `/opt/tweetpipe/submit.py` ->
      tweetpipe/transform/submit.py;
    - executor sizes and the job's `--partitions` -> what a 1-core, 1 GiB worker has;
    - where RDS is (DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_SCHEMA) -> the test's PostgreSQL;
      its TLS (verify-full, the RDS CA bundle) -> the local server's default; DB_PASS_FILE ->
      a file holding the local password (read the same way).
    """
    import pyspark

    from tweetpipe.transform import submit

    step_env, command = step_environment(args)
    spark_home = Path(pyspark.__file__).parent
    jar_dir = jars.resolve(settings, "spark")
    local_python = {f"{NODE_ROOT}/venv/bin/python": sys.executable,
                    f"{NODE_ROOT}/submit.py": str(Path(submit.__file__))}
    sizes = {"spark.executor.instances": "1", "spark.executor.cores": "1",
             "spark.executor.memory": "512m"}
    assert command[0] == f"{NODE_ROOT}/bin/spark-submit"
    argv = [str(spark_home / "bin" / "spark-submit")]
    words = iter(command[1:])
    for word in words:
        if word == "--partitions":  # submit.py's, after the entry point
            argv += [word, str(int(next(words)) and 2)]
        elif word in ("--master", "--deploy-mode", "--jars", "--conf"):
            value = next(words)
            if word == "--master":
                assert value == "yarn"
                value = master
            elif word == "--deploy-mode":
                assert value == "client", "Python drivers run in client mode on standalone"
            elif word == "--jars":
                names = [Path(j).name for j in value.split(",")]
                assert all(j.startswith(f"{NODE_ROOT}/jars/") for j in value.split(","))
                missing = [n for n in names if not (jar_dir / n).exists()]
                assert not missing, f"not what `tweetpipe services jars` fetches: {missing}"
                value = ",".join(str(jar_dir / n) for n in names)
            else:
                key, _, conf = value.partition("=")
                value = f"{key}={sizes.get(key, local_python.get(conf, conf))}"
            argv += [word, value]
        else:
            argv.append(local_python.get(word, word))
    local = settings.as_environment()
    env = {k: v for k, v in os.environ.items() if k not in settings_variables()}
    env.update(step_env)
    env.update({k: local[k] for k in ("DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_SCHEMA",
                                      "DB_SSLMODE", "TWEETPIPE_HOME")})
    env.pop("DB_SSLROOTCERT", None)
    password_file.write_text(settings.db_pass.get_secret_value())
    env["DB_PASS_FILE"] = str(password_file)
    env.update(SPARK_HOME=str(spark_home), SPARK_LOCAL_IP="127.0.0.1",
               SPARK_LOCAL_HOSTNAME="localhost")
    return argv, env


@pytest.mark.integration
@pytest.mark.spark
def test_emr_step_runs_on_a_standalone_master(stack: Settings, pipeline: Settings,
                                              tmp_path: Path) -> None:
    replay(pipeline, [sample("brexit")])
    load_all(pipeline)
    assert count(pipeline, "tweet_merge") == 100
    master = spark_cluster.start(stack, cores=1, memory="1g")
    apps = stack.state_dir / "spark-cluster" / "work"
    before = set(apps.glob("app-*"))
    try:
        argv, env = local_step(read_step()["Args"], master=master, settings=pipeline,
                               password_file=tmp_path / "db_pass")
        assert "DB_PASS" not in env and not any(  # the password is only in the file
            pipeline.db_pass.get_secret_value() in word for word in argv)
        done = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True,
                              timeout=300, check=False)
    finally:
        spark_cluster.stop(stack)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    assert "upserted 100" in done.stdout
    assert set(apps.glob("app-*")) - before, "the job did not run on the standalone master"
    assert count(pipeline, "tweet_transformed") == 100
