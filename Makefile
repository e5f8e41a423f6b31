VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: setup demo test check bench clean services-down

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml scripts/setup.sh src/tweetpipe/jvm/kafka.xml src/tweetpipe/jvm/spark.xml \
		web/package-lock.json scripts/build_web.sh scripts/install_test_tools.sh
	bash scripts/setup.sh

demo: setup
	$(BIN)/tweetpipe demo

test: setup
	$(BIN)/pytest $(PYTEST_ARGS)

check: setup
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/mypy

bench: setup
	$(BIN)/python bench/load_throughput.py

services-down:
	$(BIN)/tweetpipe services down

clean:
	rm -rf .tweetpipe .pytest_cache .mypy_cache .ruff_cache
