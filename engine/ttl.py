"""The TTL sweeper: deletes expired items in the background, as DynamoDB does and moto does not.

On a table with TTL enabled, an item whose TTL attribute is a Number of epoch seconds in the
past is expired. DynamoDB deletes such items in the background, typically within a few days,
and until then reads still return them. The sweeper mimics that with a much shorter, fixed lag:
every `interval` seconds (default a minute, so the lag stays visible; `--ttl-interval`), half
a second past a whole second, it deletes what has expired. Reads in the app must still treat an
expired item as absent.

Each deletion is an ordinary DeleteItem, applied through the gate and journalled like any
write, with a condition that the item is still expired: between finding the expired items and
deleting them the lock is released (the deletions run in small chunks, so a large expiry never
holds up clients for long), and an item rewritten meanwhile with a new TTL must stay.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import Table

from engine.gate import Gate, backends, stored_items

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL_SECONDS = 60.0
CHUNK = 100  # deletions per hold of the lock


@dataclass(frozen=True)
class Expired:
    account: str
    region: str
    table: str
    attribute: str
    key: dict[str, Any]


class TtlSweeper:
    """A daemon thread that sweeps every `interval` seconds until `stop()`."""

    def __init__(
        self,
        gate: Gate,
        interval: float = DEFAULT_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if interval <= 0:
            raise ValueError("the TTL interval must be positive")
        self.gate = gate
        self.interval = interval
        self._clock = clock
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="ttl-sweeper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()

    def sweep(self) -> int:
        """Delete every item expired now; return how many were deleted."""
        now = int(self._clock())
        with self.gate.lock:
            expired = list(_expired(now))
        deleted = 0
        for start in range(0, len(expired), CHUNK):
            with self.gate.lock:
                deleted += sum(self._delete(item, now) for item in expired[start : start + CHUNK])
        if deleted:
            logger.info("TTL sweeper deleted %d expired items", deleted)
        return deleted

    def _delete(self, expired: Expired, now: int) -> bool:
        request = {
            "TableName": expired.table,
            "Key": expired.key,
            "ConditionExpression": "#ttl <= :now",
            "ExpressionAttributeNames": {"#ttl": expired.attribute},
            "ExpressionAttributeValues": {":now": {"N": str(now)}},
        }
        return self.gate.apply("DeleteItem", expired.region, expired.account, request)

    def next_wait(self) -> float:
        """Seconds until the next sweep. Sweeps fall half a second past a whole second, every
        `interval` seconds (x.5 s for a one-second interval): TTLs are whole seconds, so with a
        whole-second interval an expired item always stays readable for at least half a second
        before it is deleted, whatever the moment the engine started. A free-running timer
        could sweep a few milliseconds after each expiry and hide the lag the TTL lab shows."""
        return self.interval - ((self._clock() - 0.5) % self.interval)

    def _run(self) -> None:
        while not self._stopping.wait(self.next_wait()):
            try:
                self.sweep()
            except Exception:  # noqa: BLE001 - one failed sweep must not end the sweeper
                logger.exception("TTL sweep failed")


def _expired(now: int) -> Iterator[Expired]:
    for account, region, backend in backends():
        for name, table in list(backend.tables.items()):
            attribute = _ttl_attribute(table)
            if attribute is None:
                continue
            for item in stored_items(table):
                if _is_expired(item, attribute, now):
                    yield Expired(account, region, name, attribute, _key(table, item))


def _ttl_attribute(table: Table) -> str | None:
    if table.ttl.get("TimeToLiveStatus") != "ENABLED":
        return None
    return table.ttl.get("AttributeName")


def _is_expired(item: Item, attribute: str, now: int) -> bool:
    value = item.attrs.get(attribute)
    if value is None or value.type != "N":
        return False  # DynamoDB ignores a TTL attribute that is not a Number
    try:
        return float(value.value) <= now
    except ValueError:
        return False


def _key(table: Table, item: Item) -> dict[str, Any]:
    key = {table.hash_key_attr: item.hash_key.to_json()}
    if table.range_key_attr is not None and item.range_key is not None:
        key[table.range_key_attr] = item.range_key.to_json()
    return key
