"""The SparkSession tweetpipe's jobs run in: master from settings, JDBC driver and Kafka
connector jars from the Maven cache, the venv's Python for the workers."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tweetpipe.errors import TransformError
from tweetpipe.kafka.configuration import check_security
from tweetpipe.services import jars, process
from tweetpipe.settings import Settings

QUIET_LOG4J2 = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""

#: what every tweetpipe job needs of its session, however the session was started
JOB_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}


def session(settings: Settings, *, app: str = "tweetpipe-transform", master: str | None = None,
            conf: dict[str, str] | None = None) -> Any:
    from pyspark.sql import SparkSession

    # PySpark picks the workers' Python from this variable (not from spark.pyspark.python):
    # the venv's interpreter, so workers import tweetpipe and its dependencies.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    # The driver binds to loopback (spark.driver.* below), and the JVM launcher must not look the
    # machine's hostname up either: containers and chroots often have one that does not resolve.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("SPARK_LOCAL_HOSTNAME", "localhost")
    classpath = ",".join(str(p) for p in jars.classpath(settings, "spark"))
    log_config = settings.state_dir / "spark" / "log4j2.properties"
    log_config.parent.mkdir(parents=True, exist_ok=True)
    log_config.write_text(QUIET_LOG4J2)
    builder = (
        SparkSession.builder.master(master or settings.spark_master)
        .appName(app)
        .config("spark.jars", classpath)
        .config("spark.pyspark.python", sys.executable)
        .config("spark.pyspark.driver.python", sys.executable)
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={log_config}")
        .config("spark.driver.memory", "1g")
        .config("spark.local.dir", str(settings.state_dir / "spark" / "tmp"))
        # options whose keys match are shown as *** in plans and the UI (the Kafka source's
        # JAAS config holds the SASL password)
        .config("spark.sql.redaction.options.regex", "(?i)url|jaas|password")
        .config("spark.redaction.regex", "(?i)secret|password|token|access[.]key|jaas")
    )
    for key, value in {**JOB_CONF, **(conf or {})}.items():
        builder = builder.config(key, value)
    with _jvm_output_to(settings.log_dir / "spark.log"):
        spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def submitted_session() -> Any:
    """The session of a job `spark-submit` started (`transform/submit.py`): its master, jars,
    Python, driver address and resources stay spark-submit's (`--master yarn`, `--jars`,
    `spark.pyspark.python`); only JOB_CONF is added. `session` would pin the driver to
    loopback and the jars to the local cache, which breaks a job on a cluster's nodes."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder
    for key, value in JOB_CONF.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


@contextlib.contextmanager
def _jvm_output_to(log: Path) -> Iterator[None]:
    """Start the JVM with its stderr in `log`: its launch warnings (incubator modules, default
    log level) and later logs go there, not to the terminal. Spark's errors still reach Python
    as exceptions."""
    log.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with log.open("ab") as target:
            os.dup2(target.fileno(), 2)
        yield
    except Exception as exc:
        if "JAVA_GATEWAY_EXITED" not in str(exc):
            raise
        raise TransformError(f"Spark's JVM did not start; last lines of {log}:\n"
                             f"{process.tail(log)}") from exc
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def jdbc_properties(settings: Settings, **extra: str) -> dict[str, str]:
    """Connection properties for Spark's JDBC source and sink (holds the password): the
    user, the password and pgjdbc's TLS properties (DB_SSLMODE, DB_SSLROOTCERT, DB_SSLCERT,
    DB_SSLKEY; pgjdbc reads a client key as PKCS-8 DER or PKCS-12, not PEM)."""
    return {
        "user": settings.db_user,
        "password": settings.db_pass.get_secret_value(),
        "driver": "org.postgresql.Driver",
        **settings.db_tls(),
        **extra,
    }


def kafka_options(settings: Settings) -> dict[str, str]:
    """Spark's Kafka source options of the security settings (`kafka.`-prefixed Kafka client
    properties). The JAAS config holds the SASL password: it goes to Spark as an option only
    (Spark's Kafka connector redacts `sasl.jaas.config` in what it logs)."""
    check_security(settings)
    protocol = settings.kafka_security_protocol
    options: dict[str, str] = {"kafka.security.protocol": protocol}
    mechanism = settings.kafka_sasl_mechanism
    if protocol.startswith("SASL_") and mechanism == "OAUTHBEARER":
        # MSK IAM: needs software.amazon.msk:aws-msk-iam-auth on Spark's classpath
        options.update({
            "kafka.sasl.mechanism": "AWS_MSK_IAM",
            "kafka.sasl.jaas.config":
                "software.amazon.msk.auth.iam.IAMLoginModule required;",
            "kafka.sasl.client.callback.handler.class":
                "software.amazon.msk.auth.iam.IAMClientCallbackHandler"})
    elif protocol.startswith("SASL_") and mechanism is not None:
        assert settings.kafka_sasl_password is not None  # check_security
        module = ("org.apache.kafka.common.security.plain.PlainLoginModule"
                  if mechanism == "PLAIN"
                  else "org.apache.kafka.common.security.scram.ScramLoginModule")
        options.update({
            "kafka.sasl.mechanism": mechanism,
            "kafka.sasl.jaas.config": (
                f"{module} required username={_jaas_quote(settings.kafka_sasl_username or '')}"
                f" password={_jaas_quote(settings.kafka_sasl_password.get_secret_value())};")})
    if protocol in ("SSL", "SASL_SSL") and settings.kafka_ssl_ca_location is not None:
        options.update({"kafka.ssl.truststore.type": "PEM",
                        "kafka.ssl.truststore.location":
                            str(settings.kafka_ssl_ca_location.expanduser().resolve())})
    return options


def _jaas_quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

