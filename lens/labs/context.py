"""What a running lab is given: an engine's clients, its own tables, and a way to report.

Table names carry a prefix unique to the run (`lab-<lab>-<random>-`), so a lab never touches the
app's tables even on a shared engine. On the private engine the tables vanish with the engine;
elsewhere the context deletes every table it created when the run ends.
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import ClientError

from engine.launcher import HEALTH_PATH
from lens.labs.meter import Meter
from lens.labs.tables import LabTable, create_table_request
from shared.dynamo import LOCAL_CREDENTIALS, batch_write

ProgressSink = Callable[[str, int, int | None], None]


class LabCancelled(Exception):  # noqa: N818 - it is what happened, not an error
    """Raised by a run's progress sink once someone asked to cancel it: every lab reports
    progress as it goes, so a run stops at its next report, in whichever thread makes it."""


LOAD_CHUNK = 500
TIMEOUT_SECONDS = 30


def no_progress(_stage: str, _done: int, _total: int | None) -> None:
    """The sink of a run nobody watches."""


class LabContext:
    def __init__(
        self,
        *,
        lab: str,
        endpoint: str,
        region: str,
        private: bool,
        progress: ProgressSink = no_progress,
    ) -> None:
        self.endpoint = endpoint
        self.region = region
        self.private = private
        self.prefix = f"lab-{lab}-{secrets.token_hex(3)}-"
        self.notes: list[str] = []
        self._progress = progress
        self._created: list[str] = []
        self._admin = self.client(retries=True)

    # -- clients ---------------------------------------------------------------------------

    def client(self, *, retries: bool = False, pool: int = 10) -> BaseClient:
        """A boto3 client for the lab's engine. Measured calls use `retries=False` (one attempt:
        a throttle or a failed condition reaches the lab, which counts it); loading and admin
        work retry as any client would."""
        session = boto3.session.Session()
        credentials: dict[str, str] = {}
        if self.private or session.get_credentials() is None:
            key_id, secret = LOCAL_CREDENTIALS
            credentials = {"aws_access_key_id": key_id, "aws_secret_access_key": secret}
        return session.client(
            "dynamodb",
            endpoint_url=self.endpoint,
            region_name=self.region,
            config=Config(
                connect_timeout=TIMEOUT_SECONDS,
                read_timeout=TIMEOUT_SECONDS,
                retries={"total_max_attempts": 4 if retries else 1, "mode": "standard"},
                max_pool_connections=pool,
            ),
            **credentials,
        )

    def meter(self, tables: Iterable[LabTable] = (), *, pool: int = 10) -> Meter:
        return Meter(self.client(pool=pool), tables)

    # -- tables ------------------------------------------------------------------------------

    def create_table(
        self,
        base_name: str,
        label: str,
        *,
        indexes: Sequence[str] | None = (),
        ttl: bool = False,
        provisioned: tuple[int, int] | None = None,
    ) -> LabTable:
        """A private copy of the app's `base_name` table (with only `indexes`, none by default),
        on-demand or `provisioned` (write units, read units), with TTL on its TTL attribute
        when `ttl` is set."""
        request, table = create_table_request(
            base_name, name=f"{self.prefix}{label}", indexes=indexes, provisioned=provisioned
        )
        self.create_table_from(request)
        if ttl:
            if table.ttl_attribute is None:
                raise LookupError(f"the app's {base_name} table has no TTL attribute")
            self._admin.update_time_to_live(
                TableName=table.name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
            )
        return table

    def create_table_from(self, request: dict[str, Any]) -> None:
        """A table from CreateTable parameters a lab built itself (a design the app does not
        use), named under the run's prefix and dropped with the run's other tables."""
        if not request["TableName"].startswith(self.prefix):
            raise ValueError(f"a lab table's name starts with {self.prefix!r}")
        self._admin.create_table(**request)
        self._created.append(request["TableName"])
        self._wait_active(request["TableName"])

    def _wait_active(self, name: str) -> None:
        """Local engines create tables at once; real DynamoDB takes a few seconds."""
        for _ in range(TIMEOUT_SECONDS * 4):
            status = self._admin.describe_table(TableName=name)["Table"]["TableStatus"]
            if status == "ACTIVE":
                return
            time.sleep(0.25)
        raise TimeoutError(f"table {name} was not ACTIVE after {TIMEOUT_SECONDS}s")

    def engine_health(self) -> dict[str, Any]:
        """What the private engine says of itself (its partitions per table and the splits so
        far); empty on any other engine, which has no such page."""
        if not self.private:
            return {}
        with urllib.request.urlopen(self.endpoint + HEALTH_PATH, timeout=TIMEOUT_SECONDS) as reply:
            return dict(json.load(reply))

    def describe(self, table: LabTable) -> dict[str, Any]:
        return dict(self._admin.describe_table(TableName=table.name)["Table"])

    def load(self, table: LabTable, items: Sequence[dict[str, Any]], *, stage: str) -> None:
        """BatchWriteItem (with backoff on unprocessed items), reporting progress as it goes."""
        done = 0
        for start in range(0, len(items), LOAD_CHUNK):
            chunk = items[start : start + LOAD_CHUNK]
            done += batch_write(self._admin, table.name, puts=chunk)
            self.progress(stage, done, len(items))

    def drop_tables(self) -> None:
        """Delete what this run created (used on engines other than the private one)."""
        for name in self._created:
            try:
                self._admin.delete_table(TableName=name)
            except ClientError as error:
                self.note(f"Could not delete the lab table {name}: {error}")
        self._created.clear()

    # -- reporting ---------------------------------------------------------------------------

    def progress(self, stage: str, done: int, total: int | None = None) -> None:
        self._progress(stage, done, total)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)
