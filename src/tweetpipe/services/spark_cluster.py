"""A local Spark standalone cluster (one master, one worker) from pyspark's own `spark-class`.

For testing that jobs give the same results on a cluster as on `local[*]`, and for trying
`--master spark://…` without installing Spark: `start(settings)` returns the master URL.
"""

from __future__ import annotations

from pathlib import Path

from tweetpipe import net, retry
from tweetpipe.errors import ServiceError
from tweetpipe.services import process
from tweetpipe.settings import Settings

MASTER = "org.apache.spark.deploy.master.Master"
WORKER = "org.apache.spark.deploy.worker.Worker"


def _dir(settings: Settings) -> Path:
    return settings.state_dir / "spark-cluster"


def spark_class() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent / "bin" / "spark-class"


def start(settings: Settings, *, cores: int = 2, memory: str = "2g") -> str:
    home = _dir(settings)
    home.mkdir(parents=True, exist_ok=True)
    port, master_ui, worker_ui = process.free_ports(3)
    url = f"spark://127.0.0.1:{port}"
    env = {"SPARK_LOCAL_IP": "127.0.0.1", "PATH": "/usr/bin:/bin",
           "SPARK_HOME": str(spark_class().parent.parent)}
    process.start_detached(
        [str(spark_class()), MASTER, "--host", "127.0.0.1", "--port", str(port),
         "--webui-port", str(master_ui)],
        log_file=home / "master.log", pid_file=home / "master.pid", env=env)
    _wait_port(port, home / "master.log")
    process.start_detached(
        [str(spark_class()), WORKER, url, "--host", "127.0.0.1", "--cores", str(cores),
         "--memory", memory, "--webui-port", str(worker_ui),
         "--work-dir", str(home / "work")],
        log_file=home / "worker.log", pid_file=home / "worker.pid", env=env)
    _wait_log(home / "worker.log", "Successfully registered with master")
    return url


def stop(settings: Settings) -> None:
    for name in ("worker", "master"):
        pid = process.read_pid(_dir(settings) / f"{name}.pid")
        if process.alive(pid):
            process.stop(pid or 0, timeout=15)


def _wait_port(port: int, log: Path, timeout: float = 60) -> None:
    retry.until(lambda: net.port_open("127.0.0.1", port), delay=0.3, timeout=timeout,
                what=f"the Spark master to listen on port {port}", error=ServiceError,
                details=lambda: process.tail(log))


def _wait_log(log: Path, text: str, timeout: float = 60) -> None:
    retry.until(lambda: log.exists() and text in log.read_text(errors="replace"), delay=0.3,
                timeout=timeout, what=f"the Spark worker to log {text!r}", error=ServiceError,
                details=lambda: process.tail(log))
