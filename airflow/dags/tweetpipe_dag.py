"""tweetpipe on a schedule with Apache Airflow: collect → load → transform, every 15 minutes.

Airflow runs in a virtualenv of its own (`scripts/airflow_venv.sh` makes `.venv-airflow`: Airflow
pins many of the packages tweetpipe uses, at other versions), so each task runs tweetpipe's
command line, from tweetpipe's venv, with a BashOperator:

    collect    tweetpipe collect search QUERY --resume --follow   for at most COLLECT_SECONDS
               (or, with tweetpipe_collect=stream: tweetpipe collect stream --duration SECONDS)
    load       tweetpipe load --until-idle
    transform  tweetpipe transform

`--resume` continues the search where the previous run stopped (the position is kept under
TWEETPIPE_HOME, so every run must use the same working directory); once the search is complete,
`--follow` asks X for the tweets newer than the newest one collected, every POLL_SECONDS, until
`timeout` stops the command with SIGTERM after COLLECT_SECONDS (the search position is saved only
once a page is in Kafka, so the page in flight is fetched again by the next run).
Loading and transforming are exactly once and incremental: a retried or repeated task never
duplicates a row.

Run settings are Airflow Variables (the UI, `airflow variables set NAME VALUE`, or an environment
variable AIRFLOW_VAR_NAME), else the environment variable NAME in upper case (of the worker, when
the task runs), else the default:

    tweetpipe_bin              the tweetpipe command (default: WORKDIR/.venv/bin/tweetpipe if
                               there, else `tweetpipe` on PATH)
    tweetpipe_workdir          the working directory: where `.env` and the default TWEETPIPE_HOME
                               (.tweetpipe) are (default: the checkout this file is in)
    tweetpipe_collect          search (default) or stream
    tweetpipe_query            the search query (for search)
    tweetpipe_collect_args     more options of `collect search` / `collect stream`, split on
                               spaces (e.g. `--archive`, `--sample`)
    tweetpipe_collect_seconds  how long one run collects (default 300)
    tweetpipe_poll_seconds     `--follow`'s pause between searches for newer tweets (default 60)

tweetpipe's own settings (TWITTER_BEARER_TOKEN, DB_*, KAFKA_*, TWEETPIPE_HOME …) come, as for any
`tweetpipe` command, from the environment of Airflow's workers or from the `.env` file of the
working directory. The DAG's shape is read when Airflow parses this file, from the environment
only: TWEETPIPE_SCHEDULE (cron or preset, default */15 * * * *), TWEETPIPE_RETRIES (default 2),
TWEETPIPE_RETRY_DELAY_SECONDS (default 120), TWEETPIPE_TASK_TIMEOUT_MINUTES (default 60).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

try:  # Airflow 3
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG  # type: ignore[no-redef,attr-defined,unused-ignore]
try:  # Airflow 3, and Airflow 2 with the standard provider
    from airflow.providers.standard.operators.bash import BashOperator
except ImportError:  # Airflow 2
    from airflow.operators.bash import BashOperator  # type: ignore[no-redef,import-not-found,unused-ignore]

DAG_ID = "tweetpipe"
#: the checkout this file is in (airflow/dags/tweetpipe_dag.py), the default working directory
CHECKOUT = Path(__file__).resolve().parents[2]

#: run settings: Airflow Variable name -> default; the environment variable of the same name in
#: upper case, read when the task runs, comes between the two
SETTINGS = {
    "tweetpipe_bin": "",
    "tweetpipe_workdir": str(CHECKOUT),
    "tweetpipe_collect": "search",
    "tweetpipe_query": "",
    "tweetpipe_collect_args": "",
    "tweetpipe_collect_seconds": "300",
    "tweetpipe_poll_seconds": "60",
}


def _number(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


#: every task gets the Airflow Variables as TP_* (templates rendered when the task runs) and the
#: defaults as TP_DEFAULT_*: values are never spliced into the command
ENV = {}
for _name, _default in SETTINGS.items():
    _key = _name.removeprefix("tweetpipe_").upper()
    ENV[f"TP_{_key}"] = "{{ var.value.get('" + _name + "', '') }}"
    ENV[f"TP_DEFAULT_{_key}"] = _default

#: every task starts with this: the settings, the working directory and the tweetpipe command
PRELUDE = """set -euo pipefail
setting() {  # setting KEY: the Airflow Variable, else $TWEETPIPE_KEY, else the default
  local variable="TP_$1" environment="TWEETPIPE_$1" default="TP_DEFAULT_$1"
  if [ -n "${!variable:-}" ]; then printf '%s' "${!variable}"
  elif [ -n "${!environment:-}" ]; then printf '%s' "${!environment}"
  else printf '%s' "${!default:-}"; fi
}
cd "$(setting WORKDIR)"
tweetpipe=$(setting BIN)
if [ -z "$tweetpipe" ] && [ -x .venv/bin/tweetpipe ]; then tweetpipe=$PWD/.venv/bin/tweetpipe; fi
tweetpipe=${tweetpipe:-tweetpipe}
"""

COLLECT = PRELUDE + """query=$(setting QUERY)
seconds=$(setting COLLECT_SECONDS)
read -r -a extra <<< "$(setting COLLECT_ARGS)" || true
case "$(setting COLLECT)" in
  search)
    if [ -z "$query" ]; then
      echo "tweetpipe: set the Airflow Variable tweetpipe_query (or TWEETPIPE_QUERY)" >&2
      exit 1
    fi
    status=0
    timeout --signal=TERM --kill-after=60 "$seconds" \\
      "$tweetpipe" collect search "$query" --resume --follow \\
      --interval "$(setting POLL_SECONDS)" "${extra[@]}" || status=$?
    if [ "$status" -eq 124 ]; then  # timeout's: the window is over, the command stopped
      echo "tweetpipe: collected for ${seconds}s; the next run resumes from the saved position"
      status=0
    fi
    exit "$status" ;;
  stream)
    exec "$tweetpipe" collect stream --duration "$seconds" "${extra[@]}" ;;
  *)
    echo "tweetpipe: tweetpipe_collect is search or stream, not '$(setting COLLECT)'" >&2
    exit 1 ;;
esac
"""

LOAD = PRELUDE + 'exec "$tweetpipe" load --until-idle\n'
TRANSFORM = PRELUDE + 'exec "$tweetpipe" transform\n'

default_args = {
    "owner": "tweetpipe",
    "retries": int(_number("TWEETPIPE_RETRIES", 2)),
    "retry_delay": timedelta(seconds=_number("TWEETPIPE_RETRY_DELAY_SECONDS", 120)),
    "execution_timeout": timedelta(minutes=_number("TWEETPIPE_TASK_TIMEOUT_MINUTES", 60)),
}

with DAG(
    dag_id=DAG_ID,
    description="X API v2 → Kafka → PostgreSQL → PySpark, with tweetpipe's command line",
    schedule=os.environ.get("TWEETPIPE_SCHEDULE", "*/15 * * * *"),
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,  # a run's load and transform never overlap the next run's
    default_args=default_args,
    tags=["tweetpipe"],
    doc_md=__doc__,
) as dag:
    collect = BashOperator(task_id="collect", bash_command=COLLECT, env=ENV, append_env=True)
    load = BashOperator(task_id="load", bash_command=LOAD, env=ENV, append_env=True)
    transform = BashOperator(task_id="transform", bash_command=TRANSFORM, env=ENV,
                             append_env=True)
    collect >> load >> transform
