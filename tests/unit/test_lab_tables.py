"""The results `manage.py lab NAME` prints, read in a terminal of 80 columns, in English and in
Japanese: nothing cut short with an ellipsis, no line wider than the terminal, every header
word (a BudouX phrase in Japanese) whole on one line of its column, and every cell's text all
there in its column. The results are real runs of each lab at small sizes (lab_results.json),
a few with more rows, and the counter's with a second attempt (its extra table)."""

from __future__ import annotations

import dataclasses
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len
from rich.console import Console

import activity.models  # noqa: F401 - registers the tables the labs copy
import engagement.comments.models  # noqa: F401
import engagement.likes.models  # noqa: F401
import sessions.models  # noqa: F401
from lens.labs import LABS
from lens.labs.cli import print_result, rich_table, table_layout
from shared.i18n import _tokens, use_language

RESULTS: dict[str, Any] = json.loads(Path(__file__).with_name("lab_results.json").read_text())
WIDTH = 80


def terminal() -> Console:
    return Console(width=WIDTH, file=io.StringIO(), record=True, color_system=None)


def words(text: str, language: str) -> list[str]:
    """What a header may not be broken inside: a word, or a BudouX phrase in Japanese."""
    if language == "ja":
        return [token.strip() for token in _tokens(text) if token.strip()]
    return text.split()


def unspaced(text: str) -> str:
    return re.sub(r"\s+", "", text)


def cells(line: str) -> list[str]:
    """The line cell by cell: a wide character, then '' for the cell it also covers."""
    out: list[str] = []
    for char in line:
        out += [char] + [""] * (cell_len(char) - 1)
    return out


def test_every_lab_has_a_result_here() -> None:
    assert {result["lab"] for result in RESULTS.values()} == set(LABS)


@pytest.mark.parametrize("language", ["en", "ja"])
@pytest.mark.parametrize("case", sorted(RESULTS))
def test_a_lab_result_reads_whole_in_80_columns(case: str, language: str) -> None:
    result = RESULTS[case]
    with use_language(language):
        out = terminal()
        print_result(result, out)
        text = out.export_text()
        assert "…" not in text, text
        assert all(cell_len(line) <= WIDTH for line in text.splitlines()), text
        for table in LABS[result["lab"]].view(result).tables:
            _check_table(table, language)


def _check_table(table: Any, language: str) -> None:
    out = terminal()
    layout = table_layout(table, out)
    header, rows = list(table.columns), [list(row) for row in table.rows]
    if layout.turned:  # the same figures, one column per row of the result
        assert list(layout.header) == [header[0], *(row[0] for row in rows)]
        assert [list(r) for r in layout.rows] == [
            [name, *(row[i] for row in rows)] for i, name in enumerate(header) if i
        ]
    else:
        assert (list(layout.header), [list(r) for r in layout.rows]) == (header, rows)
    out.print(rich_table(dataclasses.replace(table, title=""), out))
    lines = out.export_text().splitlines()
    rule = next(i for i, line in enumerate(lines) if set(line.strip()) == {"─"})
    # Columns are their width, then a cell of padding and one of the box's blank separator.
    starts = [sum(width + 2 for width in layout.widths[:i]) for i in range(len(layout.widths))]
    spans = [(start, start + width) for start, width in zip(starts, layout.widths, strict=True)]
    for i, (start, end) in enumerate(spans):
        heading = ["".join(cells(line)[start:end]) for line in lines[:rule]]
        body = ["".join(cells(line)[start:end]) for line in lines[rule + 1 :]]
        # Every cell's text is all there, in order, in its column (however it wrapped).
        assert unspaced("".join(heading)) == unspaced(layout.header[i]), (heading, lines)
        assert unspaced("".join(body)) == unspaced("".join(r[i] for r in layout.rows)), lines
        # Every word of a header stays whole on one line of its column.
        kept = [(layout.header[i], heading)]
        if layout.turned and i == 0:
            kept += [(row[0], body) for row in layout.rows]
        for name, column in kept:
            for word in words(name, language):
                assert any(word in line for line in column), (word, name, lines)
