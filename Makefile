VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
BENCH_ARGS ?=

.PHONY: setup demo test check bench clean services-down airflow-venv

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml scripts/setup.sh src/tweetpipe/jvm/kafka.xml src/tweetpipe/jvm/spark.xml \
		web/package-lock.json scripts/build_web.sh scripts/install_test_tools.sh
	bash scripts/setup.sh

demo: setup
	$(BIN)/tweetpipe demo

test: setup airflow-venv
	$(BIN)/pytest $(PYTEST_ARGS)

# Apache Airflow in a virtualenv of its own (its pins clash with ours), for the DAG's test
airflow-venv:
	bash scripts/airflow_venv.sh

check: setup
	$(BIN)/ruff check src tests bench scripts airflow
	$(BIN)/mypy

# the benchmark suite (bench/): prints a table, writes docs/benchmarks.md and docs/benchmarks.json
bench: setup
	$(BIN)/python -m bench $(BENCH_ARGS)

services-down:
	$(BIN)/tweetpipe services down

clean:
	rm -rf .tweetpipe .pytest_cache .mypy_cache .ruff_cache
