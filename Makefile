# launchday: every command sets up what it needs first (scripts/setup.sh).
VENV := .venv/bin
PORT ?= 8080
DATA ?= data
SPEED ?= 15

.PHONY: setup run serve test test-all test-timing check lint typecheck bench bench-foundation bench-launch bench-cluster bench-national bench-console bench-smoke loadtest soak soak-locust clean

setup:
	@./scripts/setup.sh

## run: the demo (Thanh Hóa today: 166 communes and wards, ~1,000 points, grouped by commune) on the embedded store,
## with a simulated morning (SPEED=15: ~6 min to 08:00); REFERENCE=1: the registry of 8 May 2025 (27 districts);
## NATIONAL=1: the whole country (~36,500 points, 2,000 of them simulated)
REFERENCE ?=
NATIONAL ?=
run: setup
	$(VENV)/launchday demo --simulate --speed $(SPEED) --host 127.0.0.1 --port $(PORT) --data $(DATA) \
		$(if $(REFERENCE),--reference-2025) $(if $(NATIONAL),--national)

serve: setup
	$(VENV)/launchday serve --host 127.0.0.1 --port $(PORT) --data $(DATA)

## test: the default suite (core, I/O, browser); scale runs are in test-all
test: setup
	$(VENV)/python -m pytest -m "not slow" -q

test-all: setup
	$(VENV)/python -m pytest -q

## test-timing: the timing tests with the issues' strict bounds (fire error, console staleness); run on a quiet machine
test-timing: setup
	LAUNCHDAY_STRICT_TIMING=1 $(VENV)/python -m pytest tests/scenarios/test_launch_sync.py tests/scenarios/test_cluster.py tests/browser/test_console.py -q -s -k "fire_together or kill_9 or live_load or follows_1000 or identical or keys_pressed"

lint: setup
	$(VENV)/ruff check server checkin loadtest tests

typecheck: setup
	$(VENV)/mypy

check: lint typecheck test

## bench: every benchmark (foundation, then the launch at 1k/5k/10k beside reference servers); appends to docs/benchmarks.md
bench: bench-foundation bench-launch bench-cluster bench-national bench-console

bench-foundation: setup
	$(VENV)/python -m loadtest.bench_foundation

## bench-launch: launchday vs websockets.broadcast vs Node ws at 1,000/5,000/10,000 points (~8 min; BENCH_ARGS="--points 10000")
bench-launch: setup
	$(VENV)/python -m loadtest.bench $(BENCH_ARGS)

## bench-cluster: several processes on Redis: durable appends (always, WAIT 1), 10,000 points on 1/2/3 processes, 20,000 on 2 (~10 min)
bench-cluster: setup
	$(VENV)/python -m loadtest.bench_cluster $(BENCH_ARGS)

## bench-national: the national registry (36,566 points) on 3 processes on one Redis (AOF always), a morning and a launch (~10 min; BENCH_ARGS="--points 20000" where the full size does not fit)
bench-national: setup
	$(VENV)/python -m loadtest.bench_national $(BENCH_ARGS)

## bench-console: the national registry (36,566 points) in the console: import, roll-up per fact, deltas, the snapshot; Chromium's first render, the Map, per-delta parse and render under ~200 changes/s (~2 min; BENCH_ARGS="--per-unit 1 --no-docs" for a check)
bench-console: setup
	$(VENV)/python -m loadtest.bench_console $(BENCH_ARGS)

## bench-smoke: the same harness at 200 points, not written to the docs (what tests/loadtest runs)
bench-smoke: setup
	$(VENV)/python -m loadtest.bench --smoke --no-docs

## loadtest: Locust, headless, against a running server; CSV and HTML reports in loadtest/out/
## (LAUNCHDAY_ADMIN_TOKEN in the environment; SHAPE = launch, morning, storm or steady)
HOST ?= http://127.0.0.1:8080
USERS ?= 1000
SHAPE ?= launch
RUN_TIME ?= 60s
LOCUST_OUT ?= loadtest/out/locust-$(SHAPE)
loadtest: setup
	@mkdir -p loadtest/out
	LAUNCHDAY_SHAPE=$(SHAPE) $(VENV)/locust -f loadtest/locustfile.py --headless --host $(HOST) -u $(USERS) \
		-t $(RUN_TIME) --csv $(LOCUST_OUT) --html $(LOCUST_OUT).html --only-summary

## soak: the fault runs (as root: it mounts tmpfs and makes a network namespace): kill -9 x10 during a
## 1,000-point morning, disk full, read-only data dir, 100 stalled readers, points behind a bad link.
## Results go in docs/reliability.md.
soak: setup
	$(VENV)/python -m pytest tests/faults -m slow -q -s -p no:cacheprovider

## soak-locust: Locust's steady shape for SOAK_TIME (default 30m), with the server's RSS/CPU/FDs sampled every 10 s
SOAK_TIME ?= 30m
soak-locust: setup
	@mkdir -p loadtest/out
	LAUNCHDAY_SHAPE=steady LAUNCHDAY_SOAK_CSV=loadtest/out/soak-server.csv $(VENV)/locust -f loadtest/locustfile.py \
		--headless --host $(HOST) -u $(USERS) -t $(SOAK_TIME) --csv loadtest/out/locust-soak --csv-full-history \
		--html loadtest/out/locust-soak.html --only-summary

clean:
	rm -rf .venv build *.egg-info .pytest_cache .mypy_cache .ruff_cache artifacts
