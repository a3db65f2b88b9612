"""Benchmarks: `make bench` (`python -m benchmarks`) measures every figure beside its target.

One process, one engine, one run: `__main__` starts the project's embedded engine, wires the
app to it once (`environment.Bench`), then runs every module of `benchmarks/figures/` in the
order of its `ORDER`. It prints one table (figure, measured, target, verdict) and writes the
same as JSON to `bench/results/<timestamp>.json`.

Adding a figure is adding a module to `benchmarks/figures/` with `ORDER: int` and
`measure(bench) -> list[Figure]`; nothing else changes. `--quick` shrinks every size so the
whole suite runs in seconds (the smoke test in `tests/integration` does that).
"""
