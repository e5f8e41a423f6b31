#!/usr/bin/env bash
# Installs everything tweetpipe needs on a fresh Debian/Ubuntu machine: Java 17+, Maven and
# PostgreSQL from the distribution (as root), a Python venv with the package, and the JVM jars
# (Kafka broker, PostgreSQL JDBC driver, Spark Kafka connector) from Maven Central.
# One line per step on the terminal; everything the tools print goes to $LOG.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
EXTRAS=${EXTRAS:-dev}
LOG=${SETUP_LOG:-$PWD/.tweetpipe-setup.log}
: > "$LOG"

STEP_PREFIX=setup
# shellcheck source=scripts/step.sh
. scripts/step.sh

need=()
command -v java >/dev/null || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || need+=(maven)
if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  need+=(postgresql)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    step "apt-get update" apt-get update -q
    step "apt-get install ${need[*]}" apt-get install -y -q --no-install-recommends "${need[@]}"
  else
    echo "setup: please install: ${need[*]} (e.g. sudo apt-get install ${need[*]})" >&2
    exit 1
  fi
fi

"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "setup: Python >= 3.11 is required (found $("$PYTHON" --version))" >&2; exit 1; }
[ -x "$VENV/bin/python" ] || step "python venv in $VENV" "$PYTHON" -m venv "$VENV"
step "pip itself" "$VENV/bin/python" -m pip install -q --upgrade pip
# pyspark is a ~450 MB sdist: the first install builds and caches a wheel (a few minutes).
step "pip install -e .[$EXTRAS] (first time: builds pyspark, a few minutes)" \
  "$VENV/bin/python" -m pip install -q -e ".[$EXTRAS]"
step "JVM jars from Maven Central" "$VENV/bin/tweetpipe" services jars
step "dashboard assets from npm (web/: npm ci)" bash scripts/build_web.sh
if [[ ",$EXTRAS," == *",dev,"* ]]; then
  step "test tools from Debian (Chromium, chromedriver, Prometheus)" \
    bash scripts/install_test_tools.sh
fi
touch "$VENV/.installed"
echo "setup: done (log: $LOG)"
