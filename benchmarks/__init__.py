"""Benchmarks: `make bench` measures what the lens costs (`python -m benchmarks`) and what a
read costs as the activity log grows (`python -m benchmarks.scale`)."""
