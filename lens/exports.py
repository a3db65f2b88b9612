"""The tables as other tools read them, generated from the same design as /design.

* CloudFormation (`manage.py export cloudformation`): one `AWS::DynamoDB::Table` per registered
  model, with its keys, secondary indexes and projections, TTL and on-demand billing, as
  `create-tables` makes them. Table names are `${TablePrefix}<base name>`, the prefix a stack
  parameter, so one template serves several environments. Only key attributes are defined
  (`AttributeDefinitions`): DynamoDB is schemaless beyond its keys, and rejects a definition no
  key uses. Tables are retained when the stack is deleted or a change would replace them: a
  template change must never delete a learner's data.
* NoSQL Workbench (`manage.py export workbench`): the data-model JSON that AWS's modelling tool
  imports and exports (format version 3.0), with a sample of items per table, so the same
  design can be opened, visualised and committed from AWS's own tool.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any

import yaml
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from engine.snapshots import table_file
from lens.design import Design, IndexDesign, TableDesign

PREFIX_PARAMETER = "TablePrefix"
WORKBENCH_VERSION = "3.0"
Item = dict[str, Any]


# -- CloudFormation ----------------------------------------------------------------------------


def cloudformation_template(design: Design, *, default_prefix: str) -> dict[str, Any]:
    resources = {logical_id(table): _table_resource(table) for table in design.tables}
    outputs = {
        f"{logical_id(table)}Name": {
            "Description": f"The {table.base_name} table",
            "Value": {"Ref": logical_id(table)},
        }
        for table in design.tables
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "DynamoDB Lab tables, generated from the PynamoDB model classes.",
        "Parameters": {
            PREFIX_PARAMETER: {
                "Type": "String",
                "Default": default_prefix,
                "AllowedPattern": "[A-Za-z0-9_.-]*",
                "Description": "Prefix of every table name (TABLE_PREFIX in the app's settings).",
            }
        },
        "Resources": resources,
        "Outputs": outputs,
    }


def cloudformation_yaml(design: Design, *, default_prefix: str) -> str:
    template = cloudformation_template(design, default_prefix=default_prefix)
    text: str = yaml.safe_dump(template, sort_keys=False, allow_unicode=True, width=100)
    return text


def logical_id(table: TableDesign) -> str:
    """`activities` -> `ActivitiesTable`: CloudFormation ids are alphanumeric."""
    words = re.split(r"[^A-Za-z0-9]+", table.base_name)
    return "".join(word[:1].upper() + word[1:] for word in words) + "Table"


def _table_resource(table: TableDesign) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "TableName": {"Fn::Sub": f"${{{PREFIX_PARAMETER}}}{table.base_name}"},
        "BillingMode": table.billing_mode,
        "AttributeDefinitions": _attribute_definitions(table),
        "KeySchema": _key_schema(table.hash_key, table.range_key),
    }
    for kind, name in (("global", "GlobalSecondaryIndexes"), ("local", "LocalSecondaryIndexes")):
        indexes = [_index(index) for index in table.indexes if index.kind == kind]
        if indexes:
            properties[name] = indexes
    if table.ttl_attribute:
        properties["TimeToLiveSpecification"] = {
            "AttributeName": table.ttl_attribute,
            "Enabled": True,
        }
    return {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": properties,
    }


def _key_names(table: TableDesign) -> list[str]:
    names = [table.hash_key, table.range_key]
    for index in table.indexes:
        names += [index.hash_key, index.range_key]
    return list(dict.fromkeys(name for name in names if name))


def _attribute_definitions(table: TableDesign) -> list[dict[str, str]]:
    return [
        {"AttributeName": name, "AttributeType": table.attribute(name).dynamodb_type}
        for name in _key_names(table)
    ]


def _key_schema(hash_key: str, range_key: str | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return schema


def _projection(index: IndexDesign) -> dict[str, Any]:
    projection: dict[str, Any] = {"ProjectionType": index.projection}
    if index.non_key_attributes:
        projection["NonKeyAttributes"] = list(index.non_key_attributes)
    return projection


def _index(index: IndexDesign) -> dict[str, Any]:
    return {
        "IndexName": index.name,
        "KeySchema": _key_schema(index.hash_key, index.range_key),
        "Projection": _projection(index),
    }


# -- NoSQL Workbench ---------------------------------------------------------------------------


def workbench_model(
    design: Design, samples: Mapping[str, list[Item]], *, now: datetime, name: str = "DynamoDB Lab"
) -> dict[str, Any]:
    """A NoSQL Workbench data model; `samples` maps real table names to DynamoDB-JSON items."""
    stamp = now.strftime("%b %d, %Y, %I:%M %p")
    return {
        "ModelName": name,
        "ModelMetadata": {
            "Author": "DynamoDB Lab (manage.py export workbench)",
            "DateCreated": stamp,
            "DateLastModified": stamp,
            "Description": _workbench_description(design),
            "AWSService": "Amazon DynamoDB",
            "Version": WORKBENCH_VERSION,
        },
        "DataModel": [
            _workbench_table(table, samples.get(table.table_name, [])) for table in design.tables
        ],
    }


def workbench_json(
    design: Design, samples: Mapping[str, list[Item]], *, now: datetime, name: str = "DynamoDB Lab"
) -> str:
    return json.dumps(
        workbench_model(design, samples, now=now, name=name), indent=2, ensure_ascii=False
    )


def _workbench_description(design: Design) -> str:
    lines = ["Generated from the PynamoDB model classes. Access patterns:"]
    for table in design.tables:
        patterns = list(table.patterns) + [p for index in table.indexes for p in index.patterns]
        for pattern in patterns:
            where = pattern.index or "table"
            lines.append(f"- {table.base_name} ({where}): {pattern.name} [{pattern.operation}]")
    return "\n".join(lines)


def _key_attribute(table: TableDesign, name: str) -> dict[str, str]:
    return {"AttributeName": name, "AttributeType": table.attribute(name).dynamodb_type}


def _key_attributes(table: TableDesign, hash_key: str, range_key: str | None) -> dict[str, Any]:
    keys = {"PartitionKey": _key_attribute(table, hash_key)}
    if range_key:
        keys["SortKey"] = _key_attribute(table, range_key)
    return keys


def _workbench_table(table: TableDesign, items: list[Item]) -> dict[str, Any]:
    keys = {table.hash_key, table.range_key}
    entry: dict[str, Any] = {
        "TableName": table.table_name,
        "KeyAttributes": _key_attributes(table, table.hash_key, table.range_key),
        "NonKeyAttributes": [
            {"AttributeName": a.name, "AttributeType": a.dynamodb_type}
            for a in table.attributes
            if a.name not in keys
        ],
    }
    indexes = [
        {
            "IndexName": index.name,
            "KeyAttributes": _key_attributes(table, index.hash_key, index.range_key),
            "Projection": _projection(index),
        }
        for index in table.indexes
        if index.kind == "global"
    ]
    if indexes:
        entry["GlobalSecondaryIndexes"] = indexes
    entry["TableData"] = items
    entry["DataAccess"] = {"MySql": {}}
    entry["BillingMode"] = table.billing_mode
    return entry


# -- sample items ------------------------------------------------------------------------------


def sample_from_engine(client: BaseClient, table_name: str, limit: int) -> list[Item]:
    """The first `limit` items of one Scan page; none when the table does not exist."""
    try:
        page = client.scan(TableName=table_name, Limit=limit)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return []
        raise
    return [_json_item(item) for item in page.get("Items", [])]


def sample_from_snapshot(directory: Path, table_name: str, limit: int) -> list[Item]:
    """The first `limit` items of the table's snapshot file (`make run` writes them)."""
    path = table_file(directory, table_name)
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line)["Item"] for line in islice(_non_blank(lines), limit)]


def _non_blank(lines: Iterable[str]) -> Iterator[str]:
    return (line for line in lines if line.strip())


def _json_item(item: Mapping[str, Any]) -> Item:
    return {name: _json_value(value) for name, value in item.items()}


def _json_value(value: Mapping[str, Any]) -> dict[str, Any]:
    """boto3 hands Binary over as bytes; DynamoDB JSON (and Workbench) writes base64 text."""
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": base64.b64encode(inner).decode("ascii")}
    if kind == "BS":
        return {"BS": [base64.b64encode(element).decode("ascii") for element in inner]}
    if kind == "L":
        return {"L": [_json_value(element) for element in inner]}
    if kind == "M":
        return {"M": _json_item(inner)}
    return {kind: inner}
