"""The engine's readers-writer lock: reads together, a write alone, everyone in arrival order."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from engine.locking import ReadWriteLock

ARRIVAL = 0.05  # long enough for a started thread to reach the lock and queue up


def _start(action: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=action)
    thread.start()
    time.sleep(ARRIVAL)
    return thread


def test_readers_share_the_lock_and_a_writer_waits_for_all_of_them() -> None:
    lock = ReadWriteLock()
    order: list[str] = []

    def write() -> None:
        with lock:
            order.append("writer")

    with lock.shared():
        with lock.shared():  # a second reader enters beside the first
            order.append("two readers")
        writer = _start(write)
        order.append("reader still in")
    writer.join()
    assert order == ["two readers", "reader still in", "writer"]


def test_a_reader_that_came_after_a_waiting_writer_waits_for_it() -> None:
    lock = ReadWriteLock()
    order: list[str] = []
    release_first = threading.Event()

    def hold_shared(name: str, until: threading.Event | None = None) -> Callable[[], None]:
        def run() -> None:
            with lock.shared():
                order.append(name)
                if until is not None:
                    until.wait()

        return run

    def write() -> None:
        with lock:
            order.append("writer")

    first = _start(hold_shared("first reader", release_first))
    writer = _start(write)
    late = _start(hold_shared("late reader"))
    assert order == ["first reader"]  # the late reader queues behind the writer
    release_first.set()
    for thread in (first, writer, late):
        thread.join()
    assert order == ["first reader", "writer", "late reader"]


def test_writers_take_turns_in_arrival_order_and_readers_between_them_get_in() -> None:
    lock = ReadWriteLock()
    order: list[str] = []

    def write(name: str) -> Callable[[], None]:
        def run() -> None:
            with lock:
                order.append(name)

        return run

    def read(name: str) -> Callable[[], None]:
        def run() -> None:
            with lock.shared():
                order.append(name)

        return run

    with lock:
        threads = [
            _start(write("w1")),
            _start(read("r1")),
            _start(write("w2")),
            _start(read("r2")),
        ]
    for thread in threads:
        thread.join()
    assert order == ["w1", "r1", "w2", "r2"]
    assert not lock.locked()
