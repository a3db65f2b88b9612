"""What one access pattern cost, for the feed page's side-by-side comparison.

The rules themselves (item size, 4 KB read units, eventual consistency halving, Query and Scan
summed before rounding) live in `shared.capacity_rules`, which the operation inspector uses
too. This module only adds them up per access pattern: requests, items evaluated and returned,
bytes and read units. A filter expression would not lower the figure: DynamoDB charges for what
it evaluates, not for what it returns. That is why ScannedCount, not Count, is the number to watch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from shared.capacity_rules import item_size, query_read_units, read_units

SCAN_PAGE_BYTES = 1024 * 1024


def scan_cost(*, items: int, average_item_bytes: float) -> tuple[float, int]:
    """(RCU, requests) of one full Scan of a table of `items` items: 1 MB pages, each rounded."""
    total = items * average_item_bytes
    requests = max(1, math.ceil(total / SCAN_PAGE_BYTES))
    return read_units(math.ceil(total), consistent=False), requests


@dataclass
class ReadStats:
    """What one access pattern cost: requests, items evaluated and returned, read units."""

    operation: str
    target: str
    calls: int = 0
    returned: int = 0
    scanned: int = 0
    hidden_expired: int = 0
    bytes_read: int = 0
    computed_rcu: float = 0.0
    reported_rcu: float | None = None

    def add_page(self, page: dict[str, Any]) -> None:
        """Account for one Query or Scan response."""
        items = page.get("Items", [])
        size = sum(item_size(item) for item in items)
        self.calls += 1
        self.returned += int(page.get("Count", len(items)))
        self.scanned += int(page.get("ScannedCount", len(items)))
        self.bytes_read += size
        self.computed_rcu += query_read_units([size], consistent=False)
        reported = page.get("ConsumedCapacity", {}).get("CapacityUnits")
        if reported is not None:
            self.reported_rcu = (self.reported_rcu or 0.0) + float(reported)

    @property
    def average_item_bytes(self) -> float:
        return self.bytes_read / self.scanned if self.scanned else 0.0
