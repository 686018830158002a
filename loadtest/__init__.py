"""Load tests and benchmarks (run as modules: ``python -m loadtest.bench_foundation``)."""
