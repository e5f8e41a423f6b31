"""The EMR step names only tweetpipe's settings, its bootstrap is valid bash, and its command
runs against a local standalone Spark master."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tweetpipe.services import jars, spark_cluster
from tweetpipe.settings import Settings, load_settings

from ..data import sample
from ..isolation import settings_variables
from ..pipeline import count, load_all, replay
from .files import (
    BOOTSTRAP,
    NODE_ROOT,
    NOT_SETTINGS,
    SECRET_FILES,
    known_variables,
    read_step,
    step_environment,
)


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



def test_emr_bootstrap_is_valid_bash() -> None:
    done = subprocess.run(["bash", "-n", str(BOOTSTRAP)], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr


# ---- (c) no secrets --------------------------------------------------------------------------


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
