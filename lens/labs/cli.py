"""`manage.py lab NAME`: run a lab in a terminal, with a progress bar and a table of results.

`--format json` prints exactly one JSON document on standard output (the progress bar goes to
standard error), for scripts and the smoke tests. `--endpoint URL` runs the lab against another
engine instead of a private one; the result's notes say what that engine cannot show.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from lens.labs import LABS
from lens.labs.lab import Result, build_options, option_specs
from lens.labs.runner import run_lab

console = Console()
progress_console = Console(stderr=True)


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


FormatOption = Annotated[
    OutputFormat, typer.Option("--format", help="text (tables) or json (one document on stdout).")
]
EndpointOption = Annotated[
    str | None,
    typer.Option(
        "--endpoint",
        help="Run against this DynamoDB endpoint instead of a private engine (real AWS "
        "included). The lab creates its own lab-* tables there and deletes them at the end.",
    ),
]


def _default(lab: str, name: str) -> Any:
    for field_name, _spec, default in option_specs(LABS[lab].options):
        if field_name == name:
            return ",".join(map(str, default)) if isinstance(default, list) else default
    raise KeyError(name)


def _help(lab: str, name: str) -> str:
    for field_name, spec, _default in option_specs(LABS[lab].options):
        if field_name == name:
            bounds = f"{spec.low:,} to {spec.high:,}"
            return f"{spec.label} ({bounds}). {spec.help}".strip()
    raise KeyError(name)


def build_lab_cli(prepare: Callable[[], object]) -> typer.Typer:
    """The `lab` command group; `prepare` wires the app (the labs copy its registered models)."""
    lab_cli = typer.Typer(
        help="Run a lab: an experiment on a private engine that proves one lesson.",
        no_args_is_help=True,
    )

    def run(
        name: str, raw: dict[str, Any], output_format: OutputFormat, endpoint: str | None
    ) -> None:
        prepare()
        lab = LABS[name]
        options = build_options(lab.options, raw)
        try:
            with _progress_bar() as sink:
                result = run_lab(lab, options, endpoint=endpoint, progress=sink)
        except KeyboardInterrupt:
            where = "its tables were deleted" if endpoint else "its private engine was stopped"
            typer.echo(f"Cancelled: the {name} lab stopped and {where}.", err=True)
            raise typer.Exit(130) from None
        if output_format is OutputFormat.json:
            sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        else:
            print_result(result)

    @lab_cli.command("query-vs-scan")
    def query_vs_scan(
        sizes: Annotated[str, typer.Option(help=_help("query-vs-scan", "sizes"))] = _default(
            "query-vs-scan", "sizes"
        ),
        output_format: FormatOption = OutputFormat.text,
        endpoint: EndpointOption = None,
    ) -> None:
        """Query cost stays flat as the table grows; Scan cost grows with it."""
        run("query-vs-scan", {"sizes": sizes}, output_format, endpoint)

    @lab_cli.command("counter")
    def counter(
        clients: Annotated[int, typer.Option(help=_help("counter", "clients"))] = _default(
            "counter", "clients"
        ),
        increments: Annotated[int, typer.Option(help=_help("counter", "increments"))] = _default(
            "counter", "increments"
        ),
        output_format: FormatOption = OutputFormat.text,
        endpoint: EndpointOption = None,
    ) -> None:
        """Read-modify-write loses concurrent updates; ADD and optimistic locking do not."""
        run("counter", {"clients": clients, "increments": increments}, output_format, endpoint)

    @lab_cli.command("hot-partition")
    def hot_partition(
        clients: Annotated[int, typer.Option(help=_help("hot-partition", "clients"))] = _default(
            "hot-partition", "clients"
        ),
        seconds: Annotated[int, typer.Option(help=_help("hot-partition", "seconds"))] = _default(
            "hot-partition", "seconds"
        ),
        shards: Annotated[int, typer.Option(help=_help("hot-partition", "shards"))] = _default(
            "hot-partition", "shards"
        ),
        partition_limit: Annotated[
            int, typer.Option(help=_help("hot-partition", "partition_limit"))
        ] = _default("hot-partition", "partition_limit"),
        output_format: FormatOption = OutputFormat.text,
        endpoint: EndpointOption = None,
    ) -> None:
        """One hot counter item is throttled at its partition's limit; shard items are not."""
        raw = {
            "clients": clients,
            "seconds": seconds,
            "shards": shards,
            "partition_limit": partition_limit,
        }
        run("hot-partition", raw, output_format, endpoint)

    @lab_cli.command("ttl")
    def ttl(
        seconds: Annotated[int, typer.Option(help=_help("ttl", "seconds"))] = _default(
            "ttl", "seconds"
        ),
        output_format: FormatOption = OutputFormat.text,
        endpoint: EndpointOption = None,
    ) -> None:
        """TTL deletes late and for free; reads must filter expired items."""
        run("ttl", {"seconds": seconds}, output_format, endpoint)

    @lab_cli.command("gsi-cost")
    def gsi_cost(
        items: Annotated[int, typer.Option(help=_help("gsi-cost", "items"))] = _default(
            "gsi-cost", "items"
        ),
        output_format: FormatOption = OutputFormat.text,
        endpoint: EndpointOption = None,
    ) -> None:
        """A write pays every GSI the item lands in; a sparse GSI only for items with its key."""
        run("gsi-cost", {"items": items}, output_format, endpoint)

    @lab_cli.command("consistency")
    def consistency(
        reads: Annotated[int, typer.Option(help=_help("consistency", "reads"))] = _default(
            "consistency", "reads"
        ),
        delays_ms: Annotated[str, typer.Option(help=_help("consistency", "delays"))] = _default(
            "consistency", "delays"
        ),
        lag_ms: Annotated[int, typer.Option(help=_help("consistency", "lag_ms"))] = _default(
            "consistency", "lag_ms"
        ),
        output_format: FormatOption = OutputFormat.text,
        endpoint: EndpointOption = None,
    ) -> None:
        """Strong reads never miss a fresh write and cost twice; eventual and GSI reads can."""
        raw = {"reads": reads, "delays": delays_ms, "lag_ms": lag_ms}
        run("consistency", raw, output_format, endpoint)

    return lab_cli


class _progress_bar:
    """A rich progress bar on standard error, one line per stage; earlier stages are completed
    when a new one starts. The sink is called from the lab's worker threads too."""

    def __init__(self) -> None:
        self._bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=progress_console,
        )
        self._tasks: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> Callable[[str, int, int | None], None]:
        self._bar.start()
        return self.report

    def __exit__(self, *_exc: object) -> None:
        self._bar.stop()

    def report(self, stage: str, done: int, total: int | None) -> None:
        with self._lock:
            task = self._tasks.get(stage)
            if task is None:
                for earlier in self._tasks.values():
                    finished = self._bar.tasks[earlier].total
                    self._bar.update(earlier, completed=finished)
                task = self._tasks[stage] = self._bar.add_task(escape(stage), total=total)
            self._bar.update(task, completed=done, total=total)


def print_result(result: Result) -> None:
    """The lab's tables, what they show, its notes and where the lesson lives in the app."""
    lab = LABS[result["lab"]]
    view = lab.view(result)
    console.rule(Text(f"{lab.title}  ({result['seconds']}s)"))
    for result_table in view.tables:
        table = Table(*result_table.columns, title=result_table.title)
        for row in result_table.rows:
            table.add_row(*(Text(cell) for cell in row))
        console.print(table)
        if result_table.note:
            console.print(Text(result_table.note, style="dim"))
    console.print(Text("What this shows: ", style="bold") + Text(view.shows))
    for note in result["notes"]:
        console.print(Text(f"note: {note}", style="yellow"))
    for mirror in lab.mirrors:
        console.print(Text(f"mirrors {mirror.kind} {mirror.name}: {mirror.why}", style="dim"))
