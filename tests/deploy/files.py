"""Readers of deploy/'s files (env files, systemd units, the Containerfile, the EMR step) and
the checks the deploy tests share."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import typer

from tweetpipe.cli import app
from tweetpipe.settings import SECRET_FILE_VARIABLES

from ..isolation import settings_variables

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
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



def secret_findings(text: str) -> list[str]:
    """What looks like a secret written into a config: a secret setting with a value (not its
    NAME_FILE), a URL with a password, an AWS access key, a private key."""
    secrets = "|".join([*SECRET_FILE_VARIABLES, "X_BEARER_TOKEN", "DATABASE_URL"])
    patterns = [rf"\b({secrets})\s*[=:]\s*\S", r"\b[a-z][a-z0-9+.-]*://[^/\s:@]+:[^@\s/]+@",
                r"\bAKIA[0-9A-Z]{16}\b", r"-----BEGIN [A-Z ]*PRIVATE KEY-----"]
    return [m.group(0) for p in patterns for m in re.finditer(p, text)]


