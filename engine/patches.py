"""The engine's patches to moto's DynamoDB backend, applied in the engine's own process.

Each patch lives in its own module, is written against one moto version (checked here, and
pinned in pyproject.toml) and is small enough to be offered upstream:

- `engine.memory`: moto no longer keeps every DynamoDB object it ever made alive;
- `engine.indexes`: Query and Scan read sorted partitions instead of the whole table;
- `engine.capacity`: ConsumedCapacity as DynamoDB computes it;
- `engine.transactions`: a transaction copies the items it touches, not whole tables;
- `engine.serialization`: item responses written as JSON without moto's shape walk;
- `engine.replicas`: eventually consistent reads may land on a lagging replica (`engine.lag`);
- `engine.locking`: a GetItem changes nothing, so reads can run beside each other;
- `engine.sizing`: moto's attribute sizes computed without copying the attributes;
- `engine.front`: moto's list of handler methods is kept, not inspected per call;
- `engine.expressions`: an expression is parsed once per text, not once per request;
- `engine.parsing`: moto's request parser looks up handlers and members once per shape.

`install_all()` is idempotent; the engine's entry point calls it before it serves.
"""

from __future__ import annotations

import moto
import moto.dynamodb.models  # noqa: F401 - defines the model classes the patches change

from engine import (
    capacity,
    expressions,
    front,
    indexes,
    locking,
    memory,
    parsing,
    replicas,
    serialization,
    sizing,
    transactions,
)

MOTO_VERSION = "5.2.5"


class UnsupportedMotoVersion(RuntimeError):
    """The installed moto is not the one the patches were written and tested against."""


def install_all() -> None:
    """Apply every patch to moto's DynamoDB backend in this process (safe to call again)."""
    if moto.__version__ != MOTO_VERSION:
        raise UnsupportedMotoVersion(
            f"the engine's patches are written for moto {MOTO_VERSION}, "
            f"but moto {moto.__version__} is installed: reinstall with `make setup`"
        )
    memory.stop_tracking()
    sizing.install()
    indexes.install()
    capacity.install()
    transactions.install()
    serialization.install()
    locking.install()  # under `replicas`: a read of the leader adds no empty partition
    replicas.install()
    front.install()
    expressions.install()
    parsing.install()
