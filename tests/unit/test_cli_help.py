"""The CLI's help read in a Japanese terminal of 80 columns: all of it in Japanese (click's and
typer's words too), every line within the width, no line starting with closing punctuation or a
long-vowel mark, nothing cut short with an ellipsis; the English help reflowed, not broken where
the docstring's source lines happened to end."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len

PROJECT = Path(__file__).resolve().parents[2]
COMMANDS = ["--help", "seed --help", "run --help", "engine --help", "export --help"]
NO_LINE_START = tuple("、。）」ー")
# typer prints its own "Usage:" (hard-coded in its copy of click, no catalog can reach it).
ENGLISH_LEFT = ("Show this message", "Options", "Commands", "[default:", "Demo posts")


def help_text(arguments: str, language: str) -> str:
    env = {"LANG": language, "COLUMNS": "80", "PATH": "/usr/bin:/bin", "TERM": "dumb"}
    done = subprocess.run(
        [sys.executable, "manage.py", *arguments.split()],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("arguments", COMMANDS)
def test_japanese_help_is_japanese_and_fits_80_columns(arguments: str) -> None:
    text = help_text(arguments, "ja_JP.UTF-8")
    for word in ENGLISH_LEFT:
        assert word not in text, (word, text)
    for line in text.splitlines():
        assert cell_len(line) <= 80, line
        body = re.sub(r"^[│ ]+|[│ ]+$", "", line)
        cells = [part.strip() for part in re.split(r"\s{2,}", body) if part.strip()]
        assert not any(cell.startswith(NO_LINE_START) for cell in cells), line
        assert not re.search(r"[^\x00-\x7f] ?…", line), line  # Japanese cut short


def test_english_help_is_reflowed_not_broken_at_the_source_lines() -> None:
    text = help_text("--help", "en_US.UTF-8")
    lines = [line.strip() for line in text.splitlines()]
    # The docstring's second paragraph fills each line before breaking it.
    start = next(i for i, line in enumerate(lines) if line.startswith("Start with"))
    assert all(len(line) > 60 for line in lines[start : start + 2]), lines[start : start + 3]
    assert "Show this message and exit." in text and "Create the DynamoDB and RDB tables." in text
