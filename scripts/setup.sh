#!/usr/bin/env bash
# Installs everything tweetpipe needs on a fresh Debian/Ubuntu machine: Java 17+, Maven and
# PostgreSQL from the distribution (as root), a Python venv with the package, and the JVM jars
# (Kafka broker, PostgreSQL JDBC driver, Spark Kafka connector) from Maven Central.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

need=()
command -v java >/dev/null || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || need+=(maven)
if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  need+=(postgresql)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing ${need[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}"
  else
    echo "setup: please install: ${need[*]} (e.g. sudo apt-get install ${need[*]})" >&2
    exit 1
  fi
fi

"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "setup: Python >= 3.11 is required (found $("$PYTHON" --version))" >&2; exit 1; }
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
# pyspark is a ~450 MB sdist: the first install builds and caches a wheel (a few minutes).
"$VENV/bin/python" -m pip install -q -e ".[dev]"
"$VENV/bin/tweetpipe" services jars
touch "$VENV/.installed"
echo "setup: done"
