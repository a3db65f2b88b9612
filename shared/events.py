"""Events between contexts, and the transactional outbox that makes them survive failures.

Contexts never reach into each other's models. When something happens that another context
cares about, the owner publishes an event here and subscribers react.

Two ways to publish:

* `record(event)` writes the event into the RDB outbox table. Call it inside the same
  `database.atomic()` block as the RDB change it describes: the post and its event commit
  together or not at all. `deliver(ids)` then hands the events to their subscribers; an event
  whose subscriber failed (DynamoDB down, throttled) stays pending and `deliver_pending()` (run
  periodically by the app and by `manage.py relay-outbox`) retries it. Delivery is therefore
  at-least-once: every subscriber must be idempotent (the activity log derives its item key from
  `event_id`, so a redelivered event writes the same item).
* `emit(event)` calls subscribers at once and only logs failures: for disposable signals such as
  page views, where losing one is acceptable and slowing the page is not.

A subscriber may also give a `many` form that takes a run of events of its type at once (the
activity log writes 25 of them in one BatchWriteItem instead of 25 PutItems). `deliver` uses it
for consecutive events of one type, as the seed and the relay after an outage produce; if the
run fails, each event is retried alone, so one bad event never holds the others back.
"""

from __future__ import annotations

__doc_ja__ = """コンテキスト間のイベントと、障害があってもイベントを失わないためのトランザクショ
ナルアウトボックス。

コンテキストは互いのモデルに手を出さない。ほかのコンテキストが関心を持つことが起
きたら、持ち主がここにイベントを発行し、購読者がそれに反応する。

発行の方法は 2 つ:

* `record(event)` はイベントを RDB のアウトボックステーブルに書き込む。
  それが表す RDB の変更と同じ `database.atomic()` ブロックの中で呼ぶこと。
  投稿とそのイベントは一緒にコミットされるか、どちらもされないかのどちらか。
  そのあと `deliver(ids)` がイベントを購読者に渡す。
  購読者が失敗したイベント（DynamoDB が落ちている、スロットリングされた）
  は未配信のまま残り、`deliver_pending()`（アプリと `manage.py relay-outbox`
  が定期的に実行する）が再試行する。したがって配信は at-least-once で、
  購読者はすべて冪等でなければならない（アクティビティログは項目のキーを
  `event_id` から作るので、再配信されたイベントは同じ項目を書く）。
* `emit(event)` はその場で購読者を呼び、失敗はログに残すだけ。
  閲覧のような使い捨てのシグナル向けで、1 つ失っても構わないが、
  ページを遅くするのは困るときに使う。

購読者は、同じ型のイベントの連なりを一度に受け取る `many` 版を渡すこともできる
（アクティビティログは 25 件を PutItem 25 回ではなく BatchWriteItem 1 回で書く）。
`deliver` は同じ型が続くイベント（シードや障害後のリレーで生じる）にそれを使い、
まとめての配信が失敗したら 1 件ずつ再試行する。1 件の不良イベントがほかを止めることはない。
"""

import dataclasses
import json
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from itertools import groupby
from operator import attrgetter
from typing import Any, ClassVar, TypeVar

import peewee

from shared.database import BaseModel, database, register_rdb_model

log = logging.getLogger(__name__)

EventT = TypeVar("EventT", bound="Event")
Handler = Callable[[Any], None]
ManyHandler = Callable[[Sequence[Any]], None]


def _new_event_id() -> str:
    return uuid.uuid4().hex


@dataclasses.dataclass(frozen=True, kw_only=True)
class Event:
    """Base of every event: a unique id (the idempotency key of its effects) and a time."""

    event_id: str = dataclasses.field(default_factory=_new_event_id)
    occurred_at: float = dataclasses.field(default_factory=time.time)
    name: ClassVar[str] = "Event"


_event_types: dict[str, type[Event]] = {}
_handlers: dict[type[Event], list[Handler]] = defaultdict(list)
_many: dict[Handler, ManyHandler] = {}


def event_type(cls: type[EventT]) -> type[EventT]:
    """Class decorator: registers an event class by name so the outbox can rebuild it."""
    cls.name = cls.__name__
    _event_types[cls.name] = cls
    return cls


@event_type
@dataclasses.dataclass(frozen=True, kw_only=True)
class PostCreated(Event):
    post_id: int
    user_id: str
    username: str
    title: str


@event_type
@dataclasses.dataclass(frozen=True, kw_only=True)
class PostDeleted(Event):
    post_id: int
    user_id: str
    username: str


@event_type
@dataclasses.dataclass(frozen=True, kw_only=True)
class PostViewed(Event):
    post_id: int
    user_id: str
    username: str


@event_type
@dataclasses.dataclass(frozen=True, kw_only=True)
class PostLiked(Event):
    post_id: int
    user_id: str
    username: str


@event_type
@dataclasses.dataclass(frozen=True, kw_only=True)
class PostUnliked(Event):
    post_id: int
    user_id: str
    username: str


@event_type
@dataclasses.dataclass(frozen=True, kw_only=True)
class CommentAdded(Event):
    post_id: int
    comment_id: str
    user_id: str
    username: str


@event_type
@dataclasses.dataclass(frozen=True, kw_only=True)
class LikeChangeUnfinished(Event):
    """A like or unlike failed after it may have written its first step and before its last
    (DynamoDB stopped answering midway). Recorded by the failing request, so that the relay
    finishes the change without waiting for the user's next click or a restart."""

    post_id: int
    user_id: str


class RetryLater(Exception):  # noqa: N818 - a subscriber's answer, not a failure
    """A subscriber's "not yet": the event stays pending and the relay offers it again later,
    logged quietly (unlike a failure)."""


def subscribe(
    cls: type[EventT],
    handler: Callable[[EventT], None],
    *,
    many: Callable[[Sequence[EventT]], None] | None = None,
) -> None:
    """Call `handler` for each event of type `cls`; `many`, if given, takes a run of them at
    once and must leave the same result as `handler` on each (idempotent, like it)."""
    if handler not in _handlers[cls]:
        _handlers[cls].append(handler)
    if many is not None:
        _many[handler] = many


def unsubscribe(cls: type[EventT], handler: Callable[[EventT], None]) -> None:
    if handler in _handlers[cls]:
        _handlers[cls].remove(handler)
    _many.pop(handler, None)


@register_rdb_model
class OutboxEvent(BaseModel):
    """An event written in the same RDB transaction as the change it describes."""

    __doc_ja__ = "イベント 1 件。それが表す変更と同じ RDB トランザクションで書き込まれる。"

    id = peewee.AutoField()

    event_id = peewee.CharField(max_length=32, unique=True)
    name = peewee.CharField(max_length=64)
    payload = peewee.TextField()
    created_at = peewee.DateTimeField(default=lambda: datetime.now(UTC).replace(tzinfo=None))
    delivered_at = peewee.DateTimeField(null=True, index=True)
    attempts = peewee.IntegerField(default=0)
    last_error = peewee.TextField(null=True)

    class Meta:
        table_name = "outbox_events"


def _to_event(row: OutboxEvent) -> Event:
    return _event_types[row.name](**json.loads(row.payload))


def _dispatch(event: Event) -> None:
    for handler in _handlers.get(type(event), []):
        handler(event)


def _dispatch_run(run: list[Event]) -> None:
    """Hand a run of events of one type to each subscriber, in one call where it can take one."""
    for handler in _handlers.get(type(run[0]), []):
        many = _many.get(handler)
        if many is not None:
            many(run)
        else:
            for event in run:
                handler(event)


def _runs(rows: list[OutboxEvent]) -> list[list[OutboxEvent]]:
    """Consecutive rows of one event type, in outbox order."""
    return [list(run) for _name, run in groupby(rows, key=attrgetter("name"))]


def record(event: Event) -> int:
    """Store the event in the outbox (inside the caller's transaction). Returns its row id."""
    row = OutboxEvent.create(
        event_id=event.event_id, name=event.name, payload=json.dumps(dataclasses.asdict(event))
    )
    return int(row.id)


def deliver(ids: Iterable[int]) -> int:
    """Hand the given outbox rows to their subscribers; returns how many were delivered."""
    # Read every row before delivering any: iterating the query lazily would keep its read
    # transaction open across the (slow) DynamoDB calls, and SQLite then refuses the status
    # update with "database is locked" as soon as anyone else has written. Each update below is
    # its own short transaction.
    rows = list(
        OutboxEvent.select()
        .where(OutboxEvent.id.in_(list(ids)), OutboxEvent.delivered_at.is_null())
        .order_by(OutboxEvent.id)
    )
    delivered: list[int] = []
    for run in _runs(rows):
        if len(run) > 1:
            try:
                _dispatch_run([_to_event(row) for row in run])
            except Exception as exc:  # noqa: BLE001 - retried one by one just below
                log.info(
                    "a run of %d %s events failed, delivering one by one: %s",
                    len(run),
                    run[0].name,
                    exc,
                )
            else:
                delivered += [row.id for row in run]
                continue
        delivered += [row.id for row in run if _deliver_one(row.id, _to_event(row))]
    _mark_delivered(delivered)
    return len(delivered)


def _mark_delivered(ids: list[int]) -> None:
    for chunk in peewee.chunked(ids, 500):
        OutboxEvent.update(
            delivered_at=datetime.now(UTC).replace(tzinfo=None),
            attempts=OutboxEvent.attempts + 1,
            last_error=None,
        ).where(OutboxEvent.id.in_(chunk)).execute()


def _deliver_one(row_id: int, event: Event) -> bool:
    try:
        _dispatch(event)
    except Exception as exc:  # noqa: BLE001 - any subscriber failure leaves the event pending
        level = logging.DEBUG if isinstance(exc, RetryLater) else logging.WARNING
        log.log(level, "event %s %s not delivered yet: %s", event.name, event.event_id, exc)
        OutboxEvent.update(attempts=OutboxEvent.attempts + 1, last_error=str(exc)[:2000]).where(
            OutboxEvent.id == row_id
        ).execute()
        return False
    return True


def record_alone(event: Event) -> int:
    """Store an event in the outbox in a transaction of its own, for the relay to deliver (no
    RDB change goes with it). Returns its row id.

    Outside a transaction the INSERT runs on its own, which the database commits as one
    transaction: SQLite takes its write lock and lets it go within that one call, while no
    Python runs. Wrapped in BEGIN ... COMMIT, the lock was held across the thread's waits for
    Python's interpreter lock; under 64 concurrent likes, other writers kept finding the file
    locked, and one that had polled for 5 s failed its request after its DynamoDB write.
    (Inside a caller's transaction it is a savepoint of that transaction, as before.)
    """
    if database.in_transaction():
        with database.atomic():
            return record(event)
    return record(event)


def _record_once(event: Event) -> int:
    """`record_alone`, or the row already holding this event: an event whose id is built from
    what it reports (a like change's) may be published
    again by a replay after its first publication reached the outbox."""
    try:
        return record_alone(event)
    except peewee.IntegrityError:
        row = OutboxEvent.get_or_none(OutboxEvent.event_id == event.event_id)
        if row is None:
            raise
        return int(row.id)


def publish(event: Event) -> bool:
    """Record an event durably and try to deliver it now. True if delivered at once.

    The row holds this very event, so the event in hand goes to the subscribers without reading
    the row back. Delivery stays at least once, as always: the relay may read the row before it
    is marked delivered and hand it over again, and every subscriber is idempotent."""
    try:
        row_id = _record_once(event)
    except Exception:
        deliver_unrecorded(event)
        raise
    if not _deliver_one(row_id, event):
        return False
    _mark_delivered([row_id])
    return True


def deliver_unrecorded(event: Event) -> None:
    """The outbox cannot take `event` (the RDB failed) although the write it reports has landed
    in DynamoDB: hand it to the subscribers now instead, once, so its effects (an activity in
    the log) are not lost with the outbox. They are idempotent, as for any delivery. If this
    fails too, the event is lost, and the error log says which one."""
    try:
        _dispatch(event)
    except Exception:
        log.exception(
            "event %s %s lost: the outbox could not record it and delivering it at once failed",
            event.name,
            event.event_id,
        )


def pending_ids(limit: int = 100) -> list[int]:
    """Up to `limit` pending events, those tried least first, then oldest first: events that
    keep failing, or keep answering RetryLater (a like waiting to be safely finished), never
    hold back the ones behind them, however many they are."""
    query = (
        OutboxEvent.select(OutboxEvent.id)
        .where(OutboxEvent.delivered_at.is_null())
        .order_by(OutboxEvent.attempts, OutboxEvent.id)
        .limit(limit)
    )
    return [row.id for row in query]


def deliver_pending(limit: int = 100) -> tuple[int, int]:
    """Retry pending events (`pending_ids`). Returns (delivered, still pending in this batch)."""
    ids = pending_ids(limit)
    delivered = deliver(ids)
    return delivered, len(ids) - delivered


def pending_count() -> int:
    return OutboxEvent.select().where(OutboxEvent.delivered_at.is_null()).count()


def emit(event: Event) -> None:
    """Deliver a disposable event now; a failure is logged, never raised."""
    try:
        _dispatch(event)
    except Exception as exc:  # noqa: BLE001 - a lost view log must never break the page
        log.warning("disposable event %s dropped: %s", event.name, exc)
