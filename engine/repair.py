"""What to do when the journal is damaged in the middle: look, keep a copy, recover what is left.

At start the engine refuses a journal whose damaged record is not the last one (see `journal`):
it cannot know what the lost record held, so it will not guess. `manage.py engine-check` is the
way on:

- `examine` reads every journal file of a data directory and names each record it cannot read
  (file, byte offset, length), and counts the records it can.
- `repair` first copies every damaged file into `damaged-<UTC time>/` in the data directory,
  untouched, then rewrites each one without its unreadable records. The writes those records
  held are lost: a later update that built on them (an `ADD`, a condition) is replayed on what
  is left and may now come out otherwise; the engine's start reports such records as replayed
  "with another outcome than before".

Both refuse to touch a directory an engine is using.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from engine.export_format import flush_to_disk, sync_directory, temp_file
from engine.journal import decode, generations, journal_path
from engine.store import LOCK_NAME, DirectoryInUse


@dataclass(frozen=True)
class Damage:
    file: str
    offset: int
    length: int


@dataclass(frozen=True)
class Examination:
    directory: Path
    readable: int = 0
    damaged: list[Damage] = field(default_factory=list)

    @property
    def damaged_files(self) -> list[str]:
        return sorted({damage.file for damage in self.damaged})


@dataclass(frozen=True)
class Repair:
    examination: Examination
    backup: Path | None  # None when nothing was damaged


def examine(directory: Path) -> Examination:
    """Every journal record of `directory`, readable or not, without changing anything."""
    directory = directory.resolve()
    with _unused(directory):
        return _examine(directory)


def repair(directory: Path) -> Repair:
    """Copy each damaged journal file aside, then rewrite it with its readable records only."""
    directory = directory.resolve()
    with _unused(directory):
        found = _examine(directory)
        if not found.damaged:
            return Repair(found, None)
        backup = directory / time.strftime("damaged-%Y%m%dT%H%M%SZ", time.gmtime())
        backup.mkdir()
        for name in found.damaged_files:
            shutil.copy2(directory / name, backup / name)
        sync_directory(backup)
        for name in found.damaged_files:
            _rewrite_readable(directory / name)
        sync_directory(directory)
        return Repair(found, backup)


def _examine(directory: Path) -> Examination:
    readable = 0
    damaged: list[Damage] = []
    for generation in generations(directory):
        path = journal_path(directory, generation)
        for offset, line in _lines(path):
            if decode(line) is None:
                damaged.append(Damage(path.name, offset, len(line)))
            else:
                readable += 1
    return Examination(directory, readable, damaged)


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    with path.open("rb") as handle:
        offset = 0
        for line in iter(handle.readline, b""):
            yield offset, line
            offset += len(line)


def _rewrite_readable(path: Path) -> None:
    handle = temp_file(path.parent, path.stem)
    with handle:
        for _offset, line in _lines(path):
            if decode(line) is not None:
                handle.write(line.decode("utf-8"))
        flush_to_disk(handle)
    os.replace(handle.name, path)


@contextmanager
def _unused(directory: Path) -> Iterator[None]:
    """Hold the engine's own directory lock, without waiting: a running engine keeps it."""
    if not directory.is_dir():
        raise FileNotFoundError(f"no data directory at {directory}")
    descriptor = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DirectoryInUse(f"an engine is using {directory}: stop it first") from None
        yield
    finally:
        os.close(descriptor)
