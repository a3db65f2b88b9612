"""`make bench`: every figure of the suite beside its target, in one process and one run.

python -m benchmarks            # the full sizes (a few minutes)
python -m benchmarks --quick    # tiny sizes: checks that every figure runs (seconds)
python -m benchmarks --only like_throughput --only post_page
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from benchmarks.figures import Figure, figure_modules

RESULTS = Path(__file__).resolve().parent.parent / "bench" / "results"
console = Console()


def _run_all(bench: Any, only: list[str]) -> list[Figure]:
    figures: list[Figure] = []
    for module in figure_modules():
        name = module.__name__.rsplit(".", 1)[-1]
        if only and name not in only:
            continue
        console.print(f"[bold]{name}[/] ...")
        started = time.monotonic()
        try:
            found = module.measure(bench)
        except Exception as error:  # noqa: BLE001 - one broken figure must not hide the others
            console.print(Text(traceback.format_exc(), style="red"))
            found = [Figure(name, f"error: {error}", "-", False)]
        figures += found
        for figure in found:
            console.print(f"  {figure.name}: {figure.measured} ({figure.verdict})")
        console.print(f"  [dim]{time.monotonic() - started:.1f}s[/]")
    return figures


def _print(figures: list[Figure]) -> None:
    table = Table("figure", "measured", "target", "verdict", "detail", title="Benchmarks")
    for figure in figures:
        style = {"PASS": "green", "FAIL": "red"}.get(figure.verdict, "")
        table.add_row(
            Text(figure.name),
            Text(figure.measured),
            Text(figure.target),
            Text(figure.verdict, style=style),
            Text(figure.detail, style="dim"),
        )
    console.print(table)


def _write(figures: list[Figure], quick: bool, seconds: float, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC)
    path = directory / f"{stamp:%Y%m%dT%H%M%SZ}.json"
    document = {
        "at": stamp.isoformat(),
        "quick": quick,
        "seconds": round(seconds, 1),
        "python": platform.python_version(),
        "machine": platform.platform(),
        "figures": [figure.as_dict() for figure in figures],
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke run")
    parser.add_argument("--only", action="append", default=[], help="run only this figure module")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the JSON goes")
    args = parser.parse_args(argv)

    from benchmarks.environment import Bench
    from engine.launcher import LocalEngine

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dynamodb-lab-bench-") as tmp, LocalEngine() as engine:
        bench = Bench(
            quick=args.quick, data_dir=Path(tmp), endpoint=engine.endpoint, engine_pid=engine.pid
        )
        figures = _run_all(bench, args.only)
    _print(figures)
    path = _write(figures, args.quick, time.monotonic() - started, args.results)
    console.print(f"written to {path}")
    return 0 if all(figure.passed is not False for figure in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
