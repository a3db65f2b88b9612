"""The outbox relay on SQLite: other writers commit while it delivers, and it does not lock up."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient

from shared import events
from shared.database import close_connection, database


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

    events.subscribe(events.PostDeleted, slow_subscriber)
    try:
        ids = [
            events.record(events.PostDeleted(post_id=n, user_id="1", username="author"))
            for n in range(1, 4)
        ]
        assert events.deliver(ids) == 3
    finally:
        events.unsubscribe(events.PostDeleted, slow_subscriber)
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
