# launchday: every command sets up what it needs first (scripts/setup.sh).
VENV := .venv/bin
PORT ?= 8080
DATA ?= data

.PHONY: setup run serve test test-all test-timing check lint typecheck bench soak clean

setup:
	@./scripts/setup.sh

## run: the demo (Thanh Hóa, ~1,000 points) on the embedded store
run: setup
	$(VENV)/launchday demo --host 127.0.0.1 --port $(PORT) --data $(DATA)

serve: setup
	$(VENV)/launchday serve --host 127.0.0.1 --port $(PORT) --data $(DATA)

## test: the default suite (core, I/O, browser); scale runs are in test-all
test: setup
	$(VENV)/python -m pytest -m "not slow" -q

test-all: setup
	$(VENV)/python -m pytest -q

## test-timing: the timing tests with the issues' strict bounds (fire error, console staleness); run on a quiet machine
test-timing: setup
	LAUNCHDAY_STRICT_TIMING=1 $(VENV)/python -m pytest tests/io/test_launch_sync.py tests/browser/test_console.py -q -s -k "fire_together or kill_9 or live_load or follows_1000"

lint: setup
	$(VENV)/ruff check server checkin loadtest tests

typecheck: setup
	$(VENV)/mypy

check: lint typecheck test

bench: setup
	$(VENV)/python -m loadtest.bench_foundation

clean:
	rm -rf .venv build *.egg-info .pytest_cache .mypy_cache .ruff_cache artifacts
