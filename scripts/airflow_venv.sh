#!/usr/bin/env bash
# Makes .venv-airflow: Apache Airflow in a virtualenv of its own (Airflow pins many of the
# packages tweetpipe uses, at other versions), for airflow/dags/tweetpipe_dag.py, which runs the
# `tweetpipe` command of tweetpipe's own venv.
#
# Airflow is installed with its constraints file: the official one for this Airflow and Python
# (github raw) when it can be fetched, else the one kept in airflow/ (a `pip freeze` of an
# install that passed tests/ecosystem/test_airflow.py; for the Python version it names), else
# none: only Airflow's version is pinned then.
# Quiet: one line per step, the tools' output in $LOG. Idempotent: a second run with the same
# Airflow, Python and constraints only checks and exits.
#
# Usage: scripts/airflow_venv.sh        (AIRFLOW_VENV, AIRFLOW_VERSION, PYTHON, AIRFLOW_SETUP_LOG)
set -euo pipefail
cd "$(dirname "$0")/.."
AIRFLOW_VERSION=${AIRFLOW_VERSION:-3.3.2}
VENV=${AIRFLOW_VENV:-.venv-airflow}
VENV=${VENV%/}
case $VENV in /*) ;; *) VENV=$PWD/$VENV ;; esac
PYTHON=${PYTHON:-python3}
LOG=${AIRFLOW_SETUP_LOG:-$PWD/.tweetpipe-airflow-setup.log}

py=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
official="https://raw.githubusercontent.com/apache/airflow/constraints-$AIRFLOW_VERSION/constraints-$py.txt"
kept="airflow/constraints-$AIRFLOW_VERSION-py$py.txt"
stamp="$VENV/.tweetpipe-airflow"

STEP_PREFIX=airflow-venv
# shellcheck source=scripts/step.sh
. scripts/step.sh

fetch() {  # fetch URL FILE: without curl or wget (a minimal Debian has neither)
  "$PYTHON" - "$1" "$2" <<'EOF'
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=15) as response:
    data = response.read()
open(sys.argv[2], "wb").write(data)
EOF
}

# Fast path: the same Airflow for the same Python, and it still starts.
if [ -f "$stamp" ] && [ "$(head -n 1 "$stamp")" = "apache-airflow==$AIRFLOW_VERSION python$py" ] \
    && [ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("apache-airflow"))' \
          2>/dev/null)" = "$AIRFLOW_VERSION" ]; then
  echo "airflow-venv: $VENV has Apache Airflow $AIRFLOW_VERSION ($(tail -n 1 "$stamp"))"
  exit 0
fi

: > "$LOG"
[ -x "$VENV/bin/python" ] || step "python venv in $VENV" "$PYTHON" -m venv "$VENV"
rm -f "$stamp"
step "pip itself" "$VENV/bin/python" -m pip install -q --upgrade pip

constraints="$VENV/constraints.txt"
if fetch "$official" "$constraints.part" >>"$LOG" 2>&1; then
  mv "$constraints.part" "$constraints"
  source="the official constraints"
elif [ -f "$kept" ]; then
  rm -f "$constraints.part"
  cp "$kept" "$constraints"
  source="the constraints kept in $kept"
else
  rm -f "$constraints.part"
  : > "$constraints"
  source="no constraints file"
fi
step "pip install apache-airflow==$AIRFLOW_VERSION ($source)" \
  "$VENV/bin/python" -m pip install -q "apache-airflow==$AIRFLOW_VERSION" -c "$constraints"
step "airflow version" env AIRFLOW_HOME="$stamp.home" "$VENV/bin/airflow" version
printf 'apache-airflow==%s python%s\n%s\n' "$AIRFLOW_VERSION" "$py" "$source" > "$stamp"
echo "airflow-venv: done: $VENV/bin/airflow (log: $LOG)"
