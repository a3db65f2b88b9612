"""The engine's data directory: recovery at start, compaction while running, a clean close.

Recovery: load the latest snapshot (its tables and items), then replay every journal generation
from the one the snapshot names, in order. The journal is then reopened for appending.

Compaction (a new snapshot, then the journal before it deleted) runs in the background once
replaying the journal would take `replay_budget` seconds (the CPU time its requests took to
apply, measured as they ran: a PutItem costs about 0.3 ms, an UpdateItem about 2 ms in moto),
or once it holds `compact_after` records; and at every clean shutdown. So a restart after a
crash takes a few seconds, and a learner clicking around rarely causes a snapshot. A snapshot
holds the lock only to copy the items (about 20 microseconds each), never to write files,
and holds it shared: reads go on meanwhile, writes wait.

A snapshot written by `make run` before the engine took its own has no table definitions: the
engine leaves it for the app, which creates the tables and imports it once.
"""

from __future__ import annotations

import fcntl
import gc
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from engine import compaction
from engine.gate import Gate
from engine.journal import Journal, generations, journal_path, read

logger = logging.getLogger(__name__)

COMPACT_AFTER_RECORDS = 20_000
REPLAY_BUDGET_SECONDS = 5.0
LOCK_NAME = ".lock"
LOCK_WAIT_SECONDS = 120.0  # an engine that is still taking its last snapshot gets this long


class DirectoryInUse(RuntimeError):
    """Another engine holds the data directory."""


@dataclass(frozen=True)
class Recovery:
    snapshot_items: int
    snapshot_seconds: float
    replayed: int
    replay_seconds: float
    diverged: int


@dataclass(frozen=True)
class Compaction:
    items: int
    bytes: int
    locked_seconds: float
    seconds: float


class Store:
    """A data directory holding one engine's snapshot and journal."""

    def __init__(
        self,
        directory: Path,
        *,
        sync: bool = True,
        home_region: str,
        compact_after: int = COMPACT_AFTER_RECORDS,
        replay_budget: float = REPLAY_BUDGET_SECONDS,
    ) -> None:
        # Absolute from the start: temp files come back with absolute names, and a relative
        # directory could not tell that they lie inside it.
        self.directory = directory.resolve()
        self.sync = sync
        self.home_region = home_region
        self.compact_after = compact_after
        self.replay_budget = replay_budget
        self.gate = Gate()
        self._compacting = threading.Lock()
        self._lock_fd: int | None = None
        self.last_compaction: Compaction | None = None

    def open(self) -> Recovery:
        """Rebuild the state from disk, then start journalling through the gate.

        The garbage collector is paused meanwhile: recovery creates millions of objects that
        all stay alive, and each full collection would walk all of them again (at 50,000 items
        that doubled the time)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock_directory()
        gc.disable()
        try:
            return self._recover()
        finally:
            gc.enable()

    def _recover(self) -> Recovery:
        started = time.perf_counter()
        generation, items = compaction.load_snapshot(self.directory, self.gate)
        loaded = time.perf_counter()
        live = self._live_generations(generation)
        replayed = diverged = 0
        replay_cpu = time.thread_time()
        for position, number in enumerate(live):
            last = position == len(live) - 1
            for record in read(journal_path(self.directory, number), last_file=last):
                succeeded = self.gate.replay(
                    record.op, record.region, record.account, record.raw_request
                )
                replayed += 1
                diverged += succeeded != (record.status == 200)
        if diverged:
            logger.warning("%d journal records replayed with another outcome than before", diverged)
        current = live[-1] if live else generation
        self.gate.journal = Journal(self.directory, current, sync=self.sync)
        self.gate.journal.records_since_snapshot = replayed
        self.gate.journal.replay_seconds_since_snapshot = time.thread_time() - replay_cpu
        self.gate.after_journal_write = self._compact_if_due
        done = time.perf_counter()
        return Recovery(items, loaded - started, replayed, done - loaded, diverged)

    def _lock_directory(self) -> None:
        """Two engines on one directory would interleave their journals: take an exclusive
        lock, held until this process ends. An engine whose app was killed gets SIGTERM and
        takes its last snapshot before it exits; its successor waits for that here."""
        self._lock_fd = os.open(self.directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        waiting = False
        while True:
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise DirectoryInUse(f"another engine is using {self.directory}") from None
                if not waiting:
                    logger.info("waiting for the engine still using %s to stop", self.directory)
                    waiting = True
                time.sleep(0.1)

    def _live_generations(self, first: int) -> list[int]:
        """Journal generations after the snapshot; older ones (left by a crash between a
        snapshot and their deletion) are covered by it and go now."""
        found = generations(self.directory)
        for number in found:
            if number < first:
                journal_path(self.directory, number).unlink()
        return [number for number in found if number >= first]

    def compact(self) -> Compaction:
        """Snapshot the state as of now and drop the journal that led to it."""
        with self._compacting:
            return self._compact()

    def _compact(self) -> Compaction:
        journal = self.gate.journal
        assert journal is not None, "open() first"
        started = time.perf_counter()
        with self.gate.lock.shared():  # writes wait for the copy; reads go on beside it
            captured = compaction.capture()
            generation = journal.rotate()
        locked = time.perf_counter() - started
        items, size = compaction.write_snapshot(
            self.directory, captured, generation, self.home_region
        )
        self._live_generations(generation)
        result = Compaction(items, size, locked, time.perf_counter() - started)
        self.last_compaction = result
        logger.info(
            "snapshot of %d items (%.1f MB) in %.2fs, %.2fs of it holding the lock",
            items,
            size / 1e6,
            result.seconds,
            locked,
        )
        return result

    def close(self, *, compact: bool = True) -> None:
        """A clean shutdown: the gate refuses further requests, a last snapshot is taken (so
        the next start replays nothing), and the journal is synced and closed."""
        journal = self.gate.journal
        if journal is None:
            return
        with self.gate.lock:
            self.gate.closed = True
        if compact:
            self.compact()
        journal.close()
        self.gate.journal = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the directory lock
            self._lock_fd = None

    def _compact_if_due(self) -> None:
        journal = self.gate.journal
        if journal is None or (
            journal.records_since_snapshot < self.compact_after
            and journal.replay_seconds_since_snapshot < self.replay_budget
        ):
            return
        if not self._compacting.acquire(blocking=False):
            return  # one is running already
        threading.Thread(target=self._compact_in_background, name="compaction", daemon=True).start()

    def _compact_in_background(self) -> None:
        """Runs with `_compacting` held by the thread that started it."""
        try:
            self._compact()
        except Exception:  # noqa: BLE001 - the journal still holds everything; retried later
            logger.exception("snapshot failed; the journal keeps every write meanwhile")
        finally:
            self._compacting.release()
