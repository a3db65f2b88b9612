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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich import box
from rich.cells import cell_len
from rich.console import Console, Group
from rich.markup import escape
from rich.measure import Measurement
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from lens.labs.lab import (
    Lab,
    LabOptions,
    OptionSpec,
    Result,
    ResultTable,
    build_options,
    option_specs,
)
from lens.labs.registry import LABS
from lens.labs.runner import run_lab
from shared.errors import InvalidInput
from shared.i18n import (
    N_,
    PhraseText,
    current_language,
    language_from_environment,
    use_language,
)
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


def print_result(result: Result, out: Console | None = None) -> None:
    """The lab's tables, what they show, its notes and where the lesson lives in the app."""
    out = out or console
    lab = LABS[result["lab"]]
    view = lab.view(result)
    title = f"{_(lab.title)}  ({result['seconds']}s)"
    if cell_len(title) + 6 <= out.width:
        out.rule(Text(title))
    else:  # a rule cuts its title short with an ellipsis: the title goes above it, wrapped
        _say(out, _text(title, style="bold"))
        out.rule()
    for result_table in view.tables:
        out.print(rich_table(result_table, out))
        if result_table.note:
            _say(out, _text(result_table.note, style="dim"))
    shows = _text(_("What this shows:") + " " + view.shows)
    shows.stylize("bold", 0, len(_("What this shows:")))
    _say(out, shows)
    for note in result["notes"]:
        _say(out, _text(_("note: {note}").format(note=note), style="yellow"))
    for mirror in lab.mirrors:
        kind = _("model class") if mirror.kind == "model" else _("service function")
        _say(out, _text(f"{kind} {mirror.name}: {_(mirror.why)}", style="dim"))


def _say(out: Console, text: Text) -> None:
    """`text` on its own lines: in a Group, since `Console.print` joins bare Text into a
    plain Text, which would lose a PhraseText's line breaks."""
    out.print(Group(text))


def _text(text: str, style: str = "") -> Text:
    """Text a terminal wraps where the language breaks lines: Japanese between BudouX
    phrases (rich alone breaks at spaces, which a Japanese sentence hardly has)."""
    return PhraseText(text, style=style) if current_language() == "ja" else Text(text, style=style)


@dataclass(frozen=True)
class TableLayout:
    """A result table as the terminal draws it: its header, rows and column widths (without
    padding), turned (one column per row of the result, its headers down the first column)
    when its columns cannot fit side by side."""

    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    widths: Sequence[int]
    turned: bool


def rich_table(result_table: ResultTable, out: Console) -> Table:
    """A result table that fits `out`: every header word whole (a header wraps at its spaces,
    or between phrases in Japanese), a cell folded rather than cut short, the columns only
    two cells apart, rows spaced apart only when a cell takes more than one line."""
    layout = table_layout(result_table, out)
    texts = [[_text(cell) for cell in row] for row in layout.rows]
    spaced = any(
        Measurement.get(out, out.options, text).maximum > width
        for row in texts
        for text, width in zip(row, layout.widths, strict=True)
    )
    table = Table(
        title=_text(result_table.title),
        box=box.SIMPLE_HEAD,
        show_edge=False,
        padding=PADDING,
        show_lines=spaced,
    )
    for header, width in zip(layout.header, layout.widths, strict=True):
        table.add_column(_text(header), width=width, overflow="fold")
    for row in texts:
        table.add_row(*row)
    return table


PADDING = (0, 1, 0, 0)
"""A cell's right padding; with the box's blank separator, columns are two cells apart."""


def table_layout(result_table: ResultTable, out: Console) -> TableLayout:
    """The result table's columns side by side if their words fit the console, else turned if
    that fits; failing both, side by side with only the header words kept whole (a cell's long
    word folds), else whichever keeps the header words whole."""
    header, rows = list(result_table.columns), [list(row) for row in result_table.rows]
    grids = [(header, rows, [[cell] for cell in header], False)]
    if rows:
        turned_header = [header[0], *(row[0] for row in rows)]
        turned_rows = [[name, *(row[i] for row in rows)] for i, name in enumerate(header) if i]
        whole = [header, *([cell] for cell in turned_header[1:])]
        grids.append((turned_header, turned_rows, whole, True))
    for need in ("words", "headers"):
        for grid_header, grid_rows, whole, turned in grids:
            widths = _widths(out, [grid_header, *grid_rows], whole, need)
            if widths is not None:
                return TableLayout(grid_header, grid_rows, widths, turned)
    return TableLayout(header, rows, _squeezed(out, [header, *rows], [[c] for c in header]), False)


def _widths(
    out: Console, lines: list[list[str]], whole: list[list[str]], need: str
) -> list[int] | None:
    """Column widths that keep every word whole (`need="words"`) or the words of `whole` only
    (`"headers"`) within the console, or None when those words do not fit side by side."""
    room = _room(out, len(lines[0]))
    widest = _columns(out, lines, whole)
    least = widest[1] if need == "words" else widest[0]
    if sum(least) > room:
        return None
    return _squeezed(out, lines, whole)


def _squeezed(out: Console, lines: list[list[str]], whole: list[list[str]]) -> list[int]:
    """Widths sharing the console's room: the words of `whole` first, then every cell's words,
    then whole lines."""
    room = _room(out, len(lines[0]))
    kept, words, most = _columns(out, lines, whole)
    widths = _grow([1] * len(kept), kept, room - len(kept))
    widths = _grow(widths, words, room - sum(widths))
    return _grow(widths, most, room - sum(widths))


def _room(out: Console, columns: int) -> int:
    """The cells left for text: the console less each column's padding and separators."""
    return out.width - columns * sum(PADDING[1::2]) - (columns - 1)


def _columns(
    out: Console, lines: list[list[str]], whole: list[list[str]]
) -> tuple[list[int], list[int], list[int]]:
    """Per column: its widest word that must stay whole, its widest word, its widest line."""

    def measured(text: str) -> Measurement:
        return Measurement.get(out, out.options, _text(text))

    kept = [max(measured(text).minimum for text in texts) for texts in whole]
    words = [max(measured(line[i]).minimum for line in lines) for i in range(len(kept))]
    most = [max(measured(line[i]).maximum for line in lines) for i in range(len(kept))]
    return kept, [max(k, w) for k, w in zip(kept, words, strict=True)], most


def _grow(widths: list[int], targets: list[int], budget: int) -> list[int]:
    """`widths` raised toward `targets`, never past them, within `budget` cells: the columns
    that lack least first, so that as few columns as possible wrap."""
    grown = list(widths)
    for i in sorted(range(len(grown)), key=lambda i: targets[i] - grown[i]):
        share = min(max(0, targets[i] - grown[i]), max(0, budget))
        grown[i] += share
        budget -= share
    return grown
