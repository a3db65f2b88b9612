"""`manage.py lab NAME`: run a lab in a terminal, with a progress bar and a table of results.

`--format json` prints exactly one JSON document on standard output (the progress bar goes to
standard error), for scripts and the smoke tests. `--endpoint URL` runs the lab against another
engine instead of a private one; the result's notes say what that engine cannot show.
"""

from __future__ import annotations

import inspect
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

from lens.labs.lab import Lab, LabOptions, OptionSpec, Result, build_options, option_specs
from lens.labs.registry import LABS
from lens.labs.runner import run_lab
from shared.errors import InvalidInput
from shared.i18n import N_, language_from_environment, use_language
from shared.i18n import gettext as _

console = Console()
progress_console = Console(stderr=True)


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


GROUP_HELP = N_("Run a lab: an experiment on a private engine that proves one lesson.")
FORMAT_HELP = N_("text (tables) or json (one document on stdout).")
ENDPOINT_HELP = N_(
    "Run against this DynamoDB endpoint instead of a private engine (real AWS included). The "
    "lab creates its own lab-* tables there and deletes them at the end."
)
METAVARS = {"int": "INTEGER", "ints": "N,N,..."}


def build_lab_cli(prepare: Callable[[], object]) -> typer.Typer:
    """The `lab` command group, one command per registered lab with one flag per option;
    `prepare` wires the app (the labs copy its registered models). Its help is written in the
    language of LANG, as the rest of the CLI's."""
    with use_language(language_from_environment()):
        lab_cli = typer.Typer(help=_(GROUP_HELP), no_args_is_help=True)
        for lab in LABS.values():
            lab_cli.command(lab.name, help=_(lab.proves))(lab_command(lab, prepare))
    return lab_cli


def lab_command(lab: Lab, prepare: Callable[[], object]) -> Callable[..., None]:
    """`manage.py lab NAME --option VALUE ...`: typer reads the flags from the signature given
    here, one per field of the lab's options model, each passed on as text so that the model
    alone decides what is valid (and says it in the learner's language)."""

    def command(output_format: OutputFormat, endpoint: str | None, **raw: str) -> None:
        prepare()
        try:
            options = build_options(lab.options, raw)
        except InvalidInput as error:
            progress_console.print(
                Text(f"{_(error.title)}: {error.detail}", style="red"), soft_wrap=True
            )
            raise typer.Exit(2) from None
        run(lab, options, output_format, endpoint)

    keyword = inspect.Parameter.KEYWORD_ONLY
    flags = [
        inspect.Parameter(
            spec.name,
            keyword,
            default=spec.text_default,
            annotation=Annotated[
                str, typer.Option(spec.flag, help=option_help(spec), metavar=_metavar(spec))
            ],
        )
        for spec in option_specs(lab.options)
    ]
    output = Annotated[OutputFormat, typer.Option("--format", help=_(FORMAT_HELP))]
    elsewhere = Annotated[str | None, typer.Option("--endpoint", help=_(ENDPOINT_HELP))]
    command.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            *flags,
            inspect.Parameter(
                "output_format", keyword, default=OutputFormat.text, annotation=output
            ),
            inspect.Parameter("endpoint", keyword, default=None, annotation=elsewhere),
        ]
    )
    return command


def option_help(spec: OptionSpec) -> str:
    """`Concurrent clients (1 to 64).` then the option's help, in the current language."""
    if spec.kind == "choice":
        bounds = ", ".join(spec.choices)
    elif spec.kind == "ints":
        bounds = _("{low} to {high}, comma-separated").format(
            low=f"{spec.low:,}", high=f"{spec.high:,}"
        )
    else:
        bounds = _("{low} to {high}").format(low=f"{spec.low:,}", high=f"{spec.high:,}")
    # Japanese writes its own brackets and full stop: the sentence is the catalog's.
    text = _("{label} ({bounds}). {help}").format(
        label=_(spec.label), bounds=bounds, help=_(spec.help) if spec.help else ""
    )
    return text.strip()


def _metavar(spec: OptionSpec) -> str:
    return METAVARS.get(spec.kind) or "|".join(spec.choices)


def run(lab: Lab, options: LabOptions, output_format: OutputFormat, endpoint: str | None) -> None:
    try:
        with _progress_bar() as sink:
            result = run_lab(lab, options, endpoint=endpoint, progress=sink)
    except KeyboardInterrupt:
        where = _("its tables were deleted") if endpoint else _("its private engine was stopped")
        message = _("Cancelled: the {name} lab stopped and {where}.")
        typer.echo(message.format(name=lab.name, where=where), err=True)
        raise typer.Exit(130) from None
    if output_format is OutputFormat.json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    else:
        print_result(result)


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
    console.rule(Text(f"{_(lab.title)}  ({result['seconds']}s)"))
    for result_table in view.tables:
        table = Table(*result_table.columns, title=result_table.title)
        for row in result_table.rows:
            table.add_row(*(Text(cell) for cell in row))
        console.print(table)
        if result_table.note:
            console.print(Text(result_table.note, style="dim"))
    console.print(Text(_("What this shows:") + " ", style="bold") + Text(view.shows))
    for note in result["notes"]:
        console.print(Text(_("note: {note}").format(note=note), style="yellow"))
    for mirror in lab.mirrors:
        kind = _("model class") if mirror.kind == "model" else _("service function")
        line = f"{kind} {mirror.name}: {_(mirror.why)}"
        console.print(Text(line, style="dim"))
