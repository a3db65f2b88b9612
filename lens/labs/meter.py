"""Measuring a lab's DynamoDB calls: requests, items, latency and capacity, two ways.

Every measured call asks for `ReturnConsumedCapacity=INDEXES`, so the engine's own figure is
recorded ("reported"), and the same request and response are priced by DynamoDB's documented
rules in `lens.capacity` ("computed"). On real DynamoDB the reported figure is the bill; on
an emulator it may be a placeholder, and the computed one says what AWS would charge.

A `Tally` belongs to one thread (a lab's concurrent clients each keep their own and add them
up afterwards), so recording needs no lock.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore import xform_name
from botocore.exceptions import ClientError

from lens import capacity
from lens.capacity import Precision, TableSchema, Units, format_units
from lens.labs.tables import LabTable

CONDITION_FAILED = "ConditionalCheckFailedException"
THROTTLED = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException"})


@dataclass
class Tally:
    """What a series of calls did and cost."""

    requests: int = 0
    scanned: int = 0
    returned: int = 0
    computed: Units = field(default_factory=Units)
    reported: Units | None = None
    ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    def add(self, other: Tally) -> Tally:
        reported = self.reported
        if other.reported is not None:
            reported = other.reported if reported is None else reported + other.reported
        return Tally(
            requests=self.requests + other.requests,
            scanned=self.scanned + other.scanned,
            returned=self.returned + other.returned,
            computed=self.computed + other.computed,
            reported=reported,
            ms=self.ms + other.ms,
            errors=self.errors + other.errors,
        )

    def capacity(self) -> dict[str, Any]:
        """Computed and reported units, for a result document."""
        reported = self.reported
        return {
            "rcu": round(self.computed.read, 2),
            "wcu": round(self.computed.write, 2),
            "precision": self.computed.precision.label,
            "rcu_reported": None if reported is None else round(reported.read, 2),
            "wcu_reported": None if reported is None else round(reported.write, 2),
        }


def sum_tallies(tallies: Iterable[Tally]) -> Tally:
    total = Tally()
    for tally in tallies:
        total = total.add(tally)
    return total


class Meter:
    """Makes measured calls through one boto3 client, priced against the lab's table schemas."""

    def __init__(self, client: Any, tables: Iterable[LabTable] = ()) -> None:
        self.client = client
        self._schemas: dict[str, TableSchema] = {table.name: table.schema for table in tables}

    def call(self, operation: str, tally: Tally, **params: Any) -> dict[str, Any]:
        """One call, recorded in `tally`; a ClientError is recorded, then raised to the lab."""
        if operation in capacity.DATA_OPERATIONS:
            params.setdefault("ReturnConsumedCapacity", "INDEXES")
        method = getattr(self.client, xform_name(operation))
        started = time.perf_counter()
        try:
            response: dict[str, Any] = method(**params)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "ClientError")
            tally.requests += 1
            tally.errors[code] += 1
            if code == CONDITION_FAILED:
                tally.computed += capacity.computed(operation, params, None, succeeded=False)
            raise
        tally.ms.append((time.perf_counter() - started) * 1000)
        tally.requests += 1
        tally.returned += _returned(operation, response)
        tally.scanned += int(response.get("ScannedCount", 0))
        tally.computed += capacity.computed(operation, params, response, schemas=self._schemas.get)
        reported = capacity.reported(operation, response)
        if reported is not None:
            tally.reported = reported if tally.reported is None else tally.reported + reported
        return response


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "ClientError"))


def _returned(operation: str, response: dict[str, Any]) -> int:
    if operation == "GetItem":
        return 1 if response.get("Item") else 0
    return int(response.get("Count", 0))


def units_text(value: float | None, precision: Precision = Precision.EXACT) -> str:
    """`0.5`, `≥ 1`, or `n/a` when the engine reported nothing."""
    if value is None:
        return "n/a"
    prefix = "≥ " if precision is Precision.AT_LEAST else ""
    return prefix + format_units(value)
