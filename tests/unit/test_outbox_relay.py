"""The outbox relay on SQLite: other writers commit while it delivers, and it does not lock up."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient

import app as composition_root
from shared import events
from shared.database import close_connection, database


@contextmanager
def subscribed(
    cls: type[events.Event],
    handler: Callable[[Any], None],
    many: Callable[[Any], None] | None = None,
) -> Iterator[None]:
    """`handler` (and its `many` form) subscribed to `cls` for the block only."""
    events.subscribe(cls, handler, many=many)
    try:
        yield
    finally:
        events.unsubscribe(cls, handler)


def record_deleted(post_ids: range) -> list[int]:
    """A PostDeleted event per post id in the outbox; their row ids."""
    return [
        events.record(events.PostDeleted(post_id=n, user_id="1", username="author"))
        for n in post_ids
    ]


def write_from_another_connection() -> None:
    """What a request thread does meanwhile: commit an event of its own."""

    def write() -> None:
        try:
            events.record(events.PostViewed(post_id=1, user_id="1", username="reader"))
        finally:
            close_connection()

    writer = threading.Thread(target=write)
    writer.start()
    writer.join()


def test_the_relay_delivers_while_another_connection_commits(unit_client: TestClient) -> None:
    delivered: list[int] = []

    def slow_subscriber(event: events.PostDeleted) -> None:
        write_from_another_connection()  # as if a request committed during a DynamoDB call
        delivered.append(event.post_id)

    with subscribed(events.PostDeleted, slow_subscriber):
        assert events.deliver(record_deleted(range(1, 4))) == 3
    assert delivered == [1, 2, 3]
    assert events.pending_count() == 3, "only the other writer's three events wait"


def test_writers_and_the_relay_run_together_without_database_is_locked(
    unit_client: TestClient,
) -> None:
    def publish(n: int) -> None:
        try:
            with database.atomic():
                events.record(events.PostViewed(post_id=n, user_id="1", username="reader"))
        finally:
            close_connection()

    with ThreadPoolExecutor(8) as pool:
        writes = [pool.submit(publish, n) for n in range(1, 81)]
        rounds = [events.deliver_pending(limit=20) for _ in range(6)]
        for write in writes:
            write.result()
    while events.pending_count():
        rounds.append(events.deliver_pending())
    assert sum(delivered for delivered, _ in rounds) == 80


def test_a_run_of_one_event_type_goes_to_the_many_form_in_one_call(unit_client: TestClient) -> None:
    runs: list[list[int]] = []
    singles: list[int] = []

    def one(event: events.PostDeleted) -> None:
        singles.append(event.post_id)

    def many(run: list[events.PostDeleted]) -> None:
        runs.append([event.post_id for event in run])

    with subscribed(events.PostDeleted, one, many=many):
        ids = record_deleted(range(1, 5))
        ids.append(events.record(events.PostViewed(post_id=9, user_id="1", username="reader")))
        ids += record_deleted(range(5, 6))
        assert events.deliver(ids) == 6
    assert runs == [[1, 2, 3, 4]], "consecutive events of one type form a run, in outbox order"
    assert singles == [5], "a run of one goes to the one-event form"
    assert events.pending_count() == 0


def test_a_failed_run_is_retried_one_by_one_and_only_the_bad_event_waits(
    unit_client: TestClient,
) -> None:
    delivered: list[int] = []

    def one(event: events.PostDeleted) -> None:
        if event.post_id == 2:
            raise RuntimeError("this one cannot be written yet")
        delivered.append(event.post_id)

    def many(run: list[events.PostDeleted]) -> None:
        raise RuntimeError("the batch call failed")

    with subscribed(events.PostDeleted, one, many=many):
        assert events.deliver(record_deleted(range(1, 4))) == 2
    assert delivered == [1, 3]
    assert events.pending_count() == 1


def test_publish_hands_over_the_event_it_recorded_and_marks_its_row(
    unit_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The subscribers get the event as the row holds it (the relay's `_to_event`); a delivered
    row is marked, a failed one stays pending with its error, for the relay to retry."""
    monkeypatch.setattr(composition_root, "_relay_round", lambda: None)  # the test relays
    received: list[events.Event] = []

    def subscriber(event: events.PostDeleted) -> None:
        received.append(event)
        if event.post_id == 2:
            raise RuntimeError("not now")

    with subscribed(events.PostDeleted, subscriber):
        first = events.PostDeleted(post_id=1, user_id="1", username="a")
        assert events.publish(first) is True
        assert events.publish(events.PostDeleted(post_id=2, user_id="1", username="a")) is False
    rows = list(events.OutboxEvent.select().order_by(events.OutboxEvent.id))
    assert received[0] == first == events._to_event(rows[0])
    assert (rows[0].delivered_at is not None, rows[0].attempts, rows[0].last_error) == (
        True,
        1,
        None,
    )
    assert (rows[1].delivered_at, rows[1].attempts, rows[1].last_error) == (None, 1, "not now")
    assert events.pending_ids() == [rows[1].id]


def test_events_that_keep_failing_do_not_hold_back_newer_ones(
    unit_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A round takes the least-tried events first: two stuck events and a round of two still
    leave room for the new one."""
    monkeypatch.setattr(composition_root, "_relay_round", lambda: None)  # the test relays

    def not_yet(event: events.LikeChangeUnfinished) -> None:
        raise events.RetryLater("still in flight")

    with subscribed(events.LikeChangeUnfinished, not_yet):
        stuck = [
            events.record_alone(events.LikeChangeUnfinished(post_id=n, user_id="1")) for n in (1, 2)
        ]
        assert events.deliver_pending(limit=2) == (0, 2)
        fresh = events.record_alone(events.PostDeleted(post_id=3, user_id="1", username="a"))
        assert events.pending_ids(limit=2)[0] == fresh
        assert events.deliver_pending(limit=2) == (1, 1)
    assert set(events.pending_ids()) == set(stuck)


def test_record_alone_commits_one_insert_without_holding_the_write_lock_across_python(
    unit_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outside a transaction the INSERT is its own transaction (no BEGIN ... COMMIT around it,
    which held SQLite's write lock while the thread waited for the GIL); inside one it is a
    savepoint, rolled back with the caller's transaction."""
    began: list[str] = []
    real_begin = database.obj.begin
    monkeypatch.setattr(
        database.obj, "begin", lambda *a, **k: began.append("BEGIN") or real_begin(*a, **k)
    )
    alone = events.record_alone(events.PostViewed(post_id=1, user_id="1", username="reader"))
    assert began == [] and events.OutboxEvent.get_by_id(alone)

    class Undo(Exception):
        pass

    with pytest.raises(Undo), database.atomic():
        inside = events.record_alone(events.PostViewed(post_id=2, user_id="1", username="r"))
        raise Undo
    assert began == ["BEGIN"]
    assert events.OutboxEvent.get_or_none(events.OutboxEvent.id == inside) is None


def test_many_threads_record_and_mark_events_without_database_is_locked(
    unit_client: TestClient,
) -> None:
    """40 threads publishing beside threads that keep the GIL busy, as 64 likers do: with the
    INSERT inside BEGIN ... COMMIT, some writers gave up after SQLite's 5 s busy timeout."""
    stop = threading.Event()
    failures: list[str] = []

    def publish_until_stopped(n: int) -> None:
        while not stop.is_set():
            try:
                row = events.record_alone(
                    events.PostViewed(post_id=n, user_id="1", username="reader")
                )
                events.OutboxEvent.update(attempts=events.OutboxEvent.attempts + 1).where(
                    events.OutboxEvent.id == row
                ).execute()
            except Exception as error:  # noqa: BLE001 - counted, then asserted
                failures.append(str(error))
            finally:
                close_connection()

    def keep_the_gil_busy() -> None:
        while not stop.is_set():
            sum(i * i for i in range(20_000))

    threads = [threading.Thread(target=publish_until_stopped, args=(n,)) for n in range(40)]
    threads += [threading.Thread(target=keep_the_gil_busy) for _ in range(4)]
    for thread in threads:
        thread.start()
    stop.wait(4)
    stop.set()
    for thread in threads:
        thread.join()
    assert failures == []
