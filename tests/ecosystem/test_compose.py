"""compose.yaml: the `monitoring` profile (Grafana, Prometheus) next to Kafka and PostgreSQL.

Docker is not needed (nor started): the file is parsed, and what it mounts and sets is checked
against the files of monitoring/.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "compose.yaml").read_text()))


def binds(service: dict[str, Any]) -> dict[str, Path]:
    """Container path -> host path of the service's bind mounts (`./host:container[:ro]`)."""
    found = {}
    for volume in service.get("volumes", []):
        host, container, *_ = volume.split(":")
        if host.startswith(("./", "../", "/")):
            found[container] = (ROOT / host).resolve()
    return found


def test_kafka_and_postgres_still_start_without_a_profile() -> None:
    services = compose()["services"]
    for name in ("kafka", "postgres"):
        assert "profiles" not in services[name], name
    assert services["postgres"]["ports"] == ["5432:5432"]
    assert services["kafka"]["ports"] == ["9092:9092"]


def test_the_monitoring_profile_has_grafana_and_prometheus() -> None:
    services = compose()["services"]
    profiled = {name for name, s in services.items() if "monitoring" in s.get("profiles", [])}
    assert profiled == {"grafana", "prometheus"}
    assert services["grafana"]["image"].startswith("grafana/grafana:")
    assert services["prometheus"]["image"].startswith("prom/prometheus:")
    assert ":" in services["grafana"]["image"] and "latest" not in services["grafana"]["image"]


def test_every_mounted_file_exists_and_named_volumes_are_declared() -> None:
    config = compose()
    for name, service in config["services"].items():
        for container, host in binds(service).items():
            assert host.exists(), f"{name}: {host} (mounted at {container}) does not exist"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith(("./", "../", "/")):
                assert source in config["volumes"], f"{name}: volume {source} not declared"


def test_grafana_gets_the_provisioning_and_the_variables_it_expands() -> None:
    grafana = compose()["services"]["grafana"]
    mounts = binds(grafana)
    provisioning = ROOT / "monitoring" / "grafana" / "provisioning"
    assert mounts["/etc/grafana/provisioning/datasources"] == provisioning / "datasources"
    assert mounts["/etc/grafana/provisioning/dashboards"] == provisioning / "dashboards"
    used = set(re.findall(r"\$\{?([A-Z_][A-Z0-9_]*)",
                          (provisioning / "datasources" / "tweetpipe.yaml").read_text()))
    assert used == {"DB_HOST", "DB_PORT", "DB_USER", "DB_PASS", "DB_NAME", "PROMETHEUS_URL"}
    assert used <= set(grafana["environment"])
    assert grafana["environment"]["DB_HOST"] == "postgres"  # the compose service
    assert grafana["environment"]["PROMETHEUS_URL"] == "http://prometheus:9090"
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    folder, file = home.rsplit("/", 1)
    assert (mounts[folder] / file).exists()


def test_prometheus_reads_the_compose_configuration() -> None:
    prometheus = compose()["services"]["prometheus"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    mounts = binds(prometheus)
    config = ROOT / "monitoring" / "prometheus.compose.yml"
    assert mounts["/etc/prometheus/prometheus.yml"] == config
    assert "host.docker.internal:host-gateway" in prometheus["extra_hosts"]
