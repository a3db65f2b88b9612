"""Benchmarks: `make bench` (`python -m benchmarks`) measures what the lens costs."""
