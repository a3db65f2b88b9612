"""The labs' tables: the app's key designs, read from the model registry, under private names.

A lab table has the key schema and the secondary indexes of one of the app's tables, exactly as
its model classes declare them (the same `_get_schema()` PynamoDB's own `create_table` sends),
so a change to a model's keys changes the lab too. A lab may keep only some of the indexes
(the GSI cost lab compares index sets). The lens imports no context: the classes are found by
their base table name in the kernel's registry, which the composition root fills.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pynamodb.models import Model

from lens.capacity import TableSchema
from lens.inspector import schema_of
from shared.dynamo import models_by_table, ttl_attribute_name


@dataclass(frozen=True)
class LabTable:
    """A table a lab created: its name on the engine, the app model it mirrors, its schema."""

    name: str
    mirrors: str
    schema: TableSchema
    ttl_attribute: str | None


def app_models(base_name: str) -> list[type[Model]]:
    """The model classes of one of the app's tables, or a clear error when none is registered."""
    models = models_by_table().get(base_name)
    if not models:
        raise LookupError(
            f"no model class of the app is registered for the table {base_name!r}: "
            "the labs copy the app's key design, so the app must be wired first"
        )
    return models


def mirrored_name(base_name: str) -> str:
    owner = app_models(base_name)[0]
    return f"{owner.__module__}.{owner.__name__}"


def create_table_request(
    base_name: str,
    *,
    name: str,
    indexes: Iterable[str] | None = None,
    provisioned: tuple[int, int] | None = None,
) -> tuple[dict[str, Any], LabTable]:
    """CreateTable parameters for a copy of an app table, and its `LabTable`.

    `indexes=None` keeps every GSI of the app's table; otherwise only the ones named, in the
    order given. The table is on-demand, or provisioned with `provisioned` (write units, read
    units) for the table and each of its indexes.
    """
    models = app_models(base_name)
    schema = models[0]._get_schema()
    all_indexes = {index["index_name"]: index for index in schema["global_secondary_indexes"]}
    chosen = list(all_indexes) if indexes is None else list(indexes)
    missing = [index for index in chosen if index not in all_indexes]
    if missing:
        raise LookupError(f"the app's {base_name} table has no index {', '.join(missing)}")
    key_schema = sorted(schema["key_schema"], key=lambda key: key["KeyType"] != "HASH")
    gsis = [_gsi_request(all_indexes[index], provisioned) for index in chosen]
    used = {key["AttributeName"] for key in key_schema}
    used |= {key["AttributeName"] for gsi in gsis for key in gsi["KeySchema"]}
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": key_schema,
        "AttributeDefinitions": [
            a for a in schema["attribute_definitions"] if a["AttributeName"] in used
        ],
        **_billing(provisioned),
    }
    if gsis:
        request["GlobalSecondaryIndexes"] = gsis
    full = schema_of(tuple(models))
    kept = tuple(index for index in full.indexes if index.name in chosen)
    kept = tuple(sorted(kept, key=lambda index: chosen.index(index.name)))
    table = LabTable(
        name=name,
        mirrors=mirrored_name(base_name),
        schema=TableSchema(hash_key=full.hash_key, range_key=full.range_key, indexes=kept),
        ttl_attribute=next(filter(None, map(ttl_attribute_name, models)), None),
    )
    return request, table


def _billing(provisioned: tuple[int, int] | None) -> dict[str, Any]:
    if provisioned is None:
        return {"BillingMode": "PAY_PER_REQUEST"}
    writes, reads = provisioned
    return {
        "BillingMode": "PROVISIONED",
        "ProvisionedThroughput": {"ReadCapacityUnits": reads, "WriteCapacityUnits": writes},
    }


def _gsi_request(index: Mapping[str, Any], provisioned: tuple[int, int] | None) -> dict[str, Any]:
    key_schema = sorted(index["key_schema"], key=lambda key: key["KeyType"] != "HASH")
    request = {
        "IndexName": index["index_name"],
        "KeySchema": key_schema,
        "Projection": index["projection"],
    }
    if provisioned is not None:
        request["ProvisionedThroughput"] = _billing(provisioned)["ProvisionedThroughput"]
    return request
