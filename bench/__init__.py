"""Benchmarks of the cockpit (not tests: pytest collects only `tests/`).

`python -m bench` runs them all and prints a summary; see bench/README.md.
"""
