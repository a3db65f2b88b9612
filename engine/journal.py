"""The engine's journal: every mutating DynamoDB request it applied, in the order it applied them.

Files in the data directory: `journal-<generation>.log`. A snapshot records the generation that
follows it, so recovery loads the snapshot and replays every journal file from that generation
on; once the snapshot is safely on disk, older generations are deleted (that is the truncation).

One record per line: the CRC-32 of the JSON (8 hex digits), a space, then the JSON:
`{"op": "PutItem", "region": ..., "account": ..., "status": 200, "at": <epoch s>, "request": {...}}`
where `request` is the request body exactly as the client sent it, so the file can be read.

Durability, in two steps:
1. `append` runs under the engine's lock right after the request was applied and hands the whole
   line to the kernel with `write()`. From then on a crash of the engine process (`kill -9`) can
   no longer lose it: the bytes are in the page cache, which belongs to the kernel.
2. `wait_durable` runs outside the lock, before the response is sent, and returns once an
   `fdatasync` has covered the record. Group commit: one sync covers every record appended
   before it started, so concurrent writers share it instead of queueing one sync each.

What a power loss can lose: no acknowledged write. It can lose writes applied in the last
moments whose responses had not gone out yet; reads do not wait for the sync, so a value read
once may be among them. With `sync=False` (`--no-fsync`) the second step is skipped: a crash of
the process still loses nothing, a power loss loses what the kernel had not yet written back
(typically the last few seconds).

A torn last record (the process or the machine died in the middle of a write) is dropped with a
warning and cut off the file before new records are appended. A damaged record anywhere else is
not a torn write but a damaged file: recovery stops with `JournalCorrupt` instead of guessing.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.export_format import sync_directory

logger = logging.getLogger(__name__)

_FILE = re.compile(r"journal-(\d{8})\.log")
_REQUEST = b',"request":'


class JournalCorrupt(RuntimeError):
    """A journal record other than the last one cannot be read."""


class JournalWriteFailed(RuntimeError):
    """The journal could not be written or synced: the engine must stop (see `append`)."""


@dataclass(frozen=True)
class Record:
    op: str
    region: str
    account: str
    status: int
    raw_request: bytes

    @property
    def request(self) -> dict[str, Any]:
        return json.loads(self.raw_request)  # type: ignore[no-any-return]


def journal_path(directory: Path, generation: int) -> Path:
    return directory / f"journal-{generation:08d}.log"


def generations(directory: Path) -> list[int]:
    """The generations of the journal files in `directory`, oldest first."""
    found = (_FILE.fullmatch(path.name) for path in directory.glob("journal-*.log"))
    return sorted(int(match.group(1)) for match in found if match)


def encode(op: str, region: str, account: str, status: int, at: float, raw_request: bytes) -> bytes:
    """One line. The body is embedded as sent (it is JSON already) unless it spans lines."""
    body = raw_request.decode("utf-8")
    if "\n" in body or "\r" in body:
        body = json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=False)
    head = json.dumps(
        {"op": op, "region": region, "account": account, "status": status, "at": round(at, 3)},
        separators=(",", ":"),
    )
    payload = f'{head[:-1]},"request":{body}}}'.encode()
    return b"%08x " % zlib.crc32(payload) + payload + b"\n"


def decode(line: bytes) -> Record | None:
    """The record on one line (newline included), or None when it is damaged or incomplete."""
    if len(line) < 10 or not line.endswith(b"\n") or line[8:9] != b" ":
        return None
    payload = line[9:-1]
    # The head's values are JSON strings and numbers, which cannot hold this byte sequence
    # unescaped: its first occurrence starts the request, which runs to the closing brace.
    split = payload.find(_REQUEST)
    try:
        if split < 0 or int(line[:8], 16) != zlib.crc32(payload):
            return None
        head = json.loads(payload[:split] + b"}")
        raw = payload[split + len(_REQUEST) : -1]
        return Record(head["op"], head["region"], head["account"], head["status"], raw)
    except (ValueError, KeyError, TypeError):
        return None


def read(path: Path, *, last_file: bool) -> Iterator[Record]:
    """Every record of one file. In the last file a damaged final record is a torn write: it is
    dropped with a warning and cut off the file, so the next append starts on a clean line."""
    with path.open("rb") as handle:
        offset = 0
        lines = iter(handle.readline, b"")
        for line in lines:
            record = decode(line)
            if record is None:
                if last_file and next(lines, b"") == b"":
                    _cut_torn_tail(path, offset, len(line))
                    return
                raise JournalCorrupt(f"{path}: damaged record at byte {offset}")
            offset += len(line)
            yield record


def _cut_torn_tail(path: Path, offset: int, length: int) -> None:
    logger.warning(
        "journal %s: the last record (%d bytes at byte %d) is incomplete, from a write cut short "
        "by a crash; it was never acknowledged, so it is dropped",
        path,
        length,
        offset,
    )
    with path.open("r+b") as handle:
        handle.truncate(offset)
        handle.flush()
        os.fsync(handle.fileno())


class Journal:
    """The open journal file of the current generation, appended to under the engine's lock."""

    def __init__(self, directory: Path, generation: int, *, sync: bool = True) -> None:
        self.directory = directory
        self.sync = sync
        self.generation = generation
        self.records_since_snapshot = 0
        self.replay_seconds_since_snapshot = 0.0  # CPU time its records took to apply
        self._fd = self._open(generation)
        self._state = threading.Condition()
        self._written = 0  # tickets: one per record appended, over every generation
        self._synced = 0
        self._syncing = False

    def append(self, line: bytes, cost: float = 0.0) -> int:
        """Write one encoded record, whose request took `cost` seconds of CPU to apply; return
        its ticket for `wait_durable`.

        Called right after the request changed the engine's memory. If the write fails, memory
        and journal disagree and no later answer could be trusted, so the caller stops the
        engine (fail-stop) and recovery rebuilds the state from what the journal holds.
        """
        with self._state:
            try:
                _write_all(self._fd, line)
            except OSError as error:
                raise JournalWriteFailed(f"cannot append to the journal: {error}") from error
            self._written += 1
            self.records_since_snapshot += 1
            self.replay_seconds_since_snapshot += cost
            return self._written

    def wait_durable(self, ticket: int) -> None:
        """Return once the record with `ticket` is synced to disk (group commit)."""
        if not self.sync:
            return
        with self._state:
            while self._synced < ticket:
                if self._syncing:
                    self._state.wait()
                    continue
                self._sync_locked()

    def rotate(self) -> int:
        """Start the next generation (under the engine's lock); return it. The previous file is
        synced and closed first, so every record it holds is on disk."""
        with self._state:
            while self._syncing:
                self._state.wait()
            self._sync_locked()
            os.close(self._fd)
            self.generation += 1
            self._fd = self._open(self.generation)
            self.records_since_snapshot = 0
            self.replay_seconds_since_snapshot = 0.0
            return self.generation

    def close(self) -> None:
        with self._state:
            while self._syncing:
                self._state.wait()
            self._sync_locked()
            os.close(self._fd)

    def _sync_locked(self) -> None:
        """Sync with the condition released, so appends continue meanwhile."""
        self._syncing = True
        target, fd = self._written, self._fd
        self._state.release()
        try:
            _datasync(fd)
        except OSError as error:
            raise JournalWriteFailed(f"cannot sync the journal: {error}") from error
        finally:
            self._state.acquire()
            self._syncing = False
            self._state.notify_all()
        self._synced = max(self._synced, target)

    def _open(self, generation: int) -> int:
        path = journal_path(self.directory, generation)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        sync_directory(self.directory)  # the new file's name must survive a power loss too
        return fd


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _datasync(fd: int) -> None:
    """fdatasync where it exists (Linux): the record's data and the file size, not its times."""
    if hasattr(os, "fdatasync"):
        os.fdatasync(fd)
    else:
        os.fsync(fd)
