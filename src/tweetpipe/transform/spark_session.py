"""The SparkSession tweetpipe's jobs run in: master from settings, JDBC driver and Kafka
connector jars from the Maven cache, the venv's Python for the workers."""

from __future__ import annotations

import os
import sys
from typing import Any

from tweetpipe.services import jars
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


def session(settings: Settings, *, app: str = "tweetpipe-transform", master: str | None = None,
            conf: dict[str, str] | None = None) -> Any:
    from pyspark.sql import SparkSession

    # PySpark picks the workers' Python from this variable (not from spark.pyspark.python):
    # the venv's interpreter, so workers import tweetpipe and its dependencies.
    os.environ["PYSPARK_PYTHON"] = sys.executable
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
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={log_config}")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.memory", "1g")
        .config("spark.local.dir", str(settings.state_dir / "spark" / "tmp"))
    )
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def jdbc_properties(settings: Settings, **extra: str) -> dict[str, str]:
    """Connection properties for Spark's JDBC source and sink (holds the password)."""
    return {
        "user": settings.db_user,
        "password": settings.db_pass.get_secret_value(),
        "driver": "org.postgresql.Driver",
        **extra,
    }
