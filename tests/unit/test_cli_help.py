"""The CLI's help read in a Japanese terminal of 80 columns: all of it in Japanese (click's and
typer's words too, and click's usage errors), values named in words, every line within the
width, no line starting with closing punctuation or a long-vowel mark, nothing cut short with an
ellipsis; the English help reflowed, not broken where the docstring's source lines happened to
end."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len

PROJECT = Path(__file__).resolve().parents[2]
COMMANDS = [
    "--help",
    "seed --help",
    "run --help",
    "engine --help",
    "export --help",
    "cost --help",
    "shard-post --help",
    "lab --help",
    "lab counter --help",
    "lab hot-partition --help",
]
NO_LINE_START = tuple("、。）」ー")
ENGLISH_LEFT = ("Usage:", "Show this message", "Options", "Commands", "[default:", "Demo posts")
# Python's type names where a reader expects words (or nothing, for a flag).
RAW_TYPES = ("<bool>", "<int", "<float", "<str>", "<path>", "<list", "<text|json>")


def help_text(arguments: str, language: str) -> str:
    done = manage(arguments, language)
    assert done.returncode == 0, done.stderr
    return done.stdout


def manage(arguments: str, language: str) -> subprocess.CompletedProcess[str]:
    env = {"LANG": language, "COLUMNS": "80", "PATH": "/usr/bin:/bin", "TERM": "dumb"}
    return subprocess.run(
        [sys.executable, "manage.py", *arguments.split()],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


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
        assert not re.search(r"\d$", body) or "[" in body, line  # "1 / つ", "2 / 倍" split
    for raw in RAW_TYPES:
        assert raw not in text, (raw, text)
    # The option column is as wide as the line leaves it, not fourteen cells: the help option's
    # sentence breaks (if at all) once, between phrases.
    assert "このメッセージを" in text, text


@pytest.mark.parametrize("arguments", ["--help", "cost --help", "lab counter --help"])
def test_english_help_names_values_in_words(arguments: str) -> None:
    text = help_text(arguments, "en_US.UTF-8")
    for raw in RAW_TYPES:
        assert raw not in text, (raw, text)
    if arguments != "--help":
        assert re.search(r"--format +text\|json ", text), text


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        ("seed --users many", "'--users' の値が正しくありません: 整数を入力してください"),
        ("no-such-command", "'no-such-command' というコマンドはありません。"),
        ("shard-post", "引数 'post_id' を指定してください。"),
        ("seed --user 3", "--user というオプションはありません。（候補: --users）"),
        ("relay-outbox extra", "余分な引数があります: extra"),
    ],
)
def test_japanese_usage_errors_are_japanese(arguments: str, said: str) -> None:
    done = manage(arguments, "ja_JP.UTF-8")
    assert done.returncode == 2, done.stderr
    assert said in done.stderr, done.stderr
    assert "使い方: manage.py" in done.stderr and "ヘルプは" in done.stderr, done.stderr
    for english in ("Usage:", "Error", "Try ", "Invalid", "Missing", "No such", "Got "):
        assert english not in done.stderr, (english, done.stderr)


def test_english_usage_errors_stay_clicks() -> None:
    done = manage("seed --user 3", "en_US.UTF-8")
    assert done.returncode == 2
    assert "Usage: manage.py seed" in done.stderr
    assert "No such option: --user (Possible options: --users)" in done.stderr, done.stderr


def test_english_help_is_reflowed_not_broken_at_the_source_lines() -> None:
    text = help_text("--help", "en_US.UTF-8")
    lines = [line.strip() for line in text.splitlines()]
    # The docstring's second paragraph fills each line before breaking it.
    start = next(i for i, line in enumerate(lines) if line.startswith("Start with"))
    assert all(len(line) > 60 for line in lines[start : start + 2]), lines[start : start + 3]
    assert "Show this message and exit." in text and "Create the DynamoDB and RDB tables." in text
