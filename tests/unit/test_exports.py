"""CloudFormation and NoSQL Workbench exports, generated from the same classes as /design."""

from __future__ import annotations

import importlib.util
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient
from pynamodb.models import Model
from typer.testing import CliRunner

import manage
from engine.snapshots import export_tables
from lens.design import describe_design
from lens.exports import (
    cloudformation_template,
    cloudformation_yaml,
    logical_id,
    sample_from_engine,
    sample_from_snapshot,
    workbench_model,
)
from shared import dynamo
from shared.dynamo import boto3_client, bound_settings, registered_models
from tests.conftest import require

pytest_plugins = ["tests.unit.design_fixtures"]
NOW = datetime(2026, 11, 25, 13, 30, tzinfo=UTC)


def resources(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return template["Resources"]  # type: ignore[no-any-return]


def gadget_resource(template: dict[str, Any]) -> dict[str, Any]:
    return resources(template)["GadgetsTable"]["Properties"]  # type: ignore[no-any-return]


def test_cloudformation_has_one_on_demand_table_per_table_of_the_models(
    unit_client: TestClient,
) -> None:
    template = yaml.safe_load(cloudformation_yaml(describe_design(), default_prefix="lab-"))
    assert template["AWSTemplateFormatVersion"] == "2010-09-09"
    assert template["Parameters"]["TablePrefix"]["Default"] == "lab-"
    base_names = {dynamo.base_table_name(model) for model in registered_models()}
    tables = resources(template)
    assert len(tables) == len(base_names)
    for base_name in base_names:
        resource = next(
            r
            for r in tables.values()
            if r["Properties"]["TableName"] == {"Fn::Sub": "${TablePrefix}" + base_name}
        )
        assert resource["Type"] == "AWS::DynamoDB::Table"
        assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain"
        assert resource["Properties"]["BillingMode"] == "PAY_PER_REQUEST"


def test_cloudformation_keys_indexes_and_ttl_come_from_the_class(
    unit_client: TestClient, gadget_model: type[Model]
) -> None:
    properties = gadget_resource(cloudformation_template(describe_design(), default_prefix="x-"))
    assert properties["KeySchema"] == [
        {"AttributeName": "gadget_id", "KeyType": "HASH"},
        {"AttributeName": "made_at", "KeyType": "RANGE"},
    ]
    assert properties["AttributeDefinitions"] == [
        {"AttributeName": "gadget_id", "AttributeType": "S"},
        {"AttributeName": "made_at", "AttributeType": "S"},
        {"AttributeName": "owner", "AttributeType": "S"},
    ]  # only key attributes: DynamoDB refuses definitions no key uses
    assert properties["GlobalSecondaryIndexes"] == [
        {
            "IndexName": "OwnerIndex",
            "KeySchema": [
                {"AttributeName": "owner", "KeyType": "HASH"},
                {"AttributeName": "made_at", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }
    ]
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_every_key_the_template_defines_matches_what_create_tables_made(
    unit_client: TestClient,
) -> None:
    """The export and `create-tables` read the same classes: compare with the live tables."""
    design = describe_design()
    template = cloudformation_template(design, default_prefix="unit-")
    client = boto3_client(bound_settings())
    for table_design in design.tables:
        table = client.describe_table(TableName=table_design.table_name)["Table"]
        properties = resources(template)[logical_id(table_design)]["Properties"]
        assert sorted(properties["KeySchema"], key=str) == sorted(table["KeySchema"], key=str)
        assert sorted(properties["AttributeDefinitions"], key=str) == sorted(
            table["AttributeDefinitions"], key=str
        )
        live = {i["IndexName"]: i["Projection"] for i in table.get("GlobalSecondaryIndexes", [])}
        exported = {
            i["IndexName"]: i["Projection"] for i in properties.get("GlobalSecondaryIndexes", [])
        }
        assert exported == live


def test_cfn_lint_accepts_the_template(unit_client: TestClient) -> None:
    require(importlib.util.find_spec("cfnlint") is not None, "cfn-lint is not installed")
    from cfnlint.api import lint

    matches = lint(cloudformation_yaml(describe_design(), default_prefix="lab-"))
    assert [str(match) for match in matches] == []


def test_export_cloudformation_command_writes_the_file(
    unit_client: TestClient, tmp_path: Path
) -> None:
    path = tmp_path / "out" / "tables.yaml"
    result = CliRunner().invoke(
        manage.cli, ["export", "cloudformation", "--output", str(path), "--prefix", "prod-"]
    )
    assert result.exit_code == 0, result.output
    template = yaml.safe_load(path.read_text())
    assert template["Parameters"]["TablePrefix"]["Default"] == "prod-"


def put_gadgets(model: type[Model], count: int) -> None:
    for number in range(count):
        model(f"g{number}", "2026-11-25", owner="ann", weight=number).save()


def test_workbench_model_has_tables_indexes_and_sample_items(
    unit_client: TestClient, gadget_model: type[Model]
) -> None:
    gadget_model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    put_gadgets(gadget_model, 3)
    client = boto3_client(bound_settings())
    samples = {"unit-gadgets": sample_from_engine(client, "unit-gadgets", 2)}
    model = workbench_model(describe_design(), samples, now=NOW)
    assert model["ModelMetadata"]["Version"] == "3.0"
    assert model["ModelMetadata"]["AWSService"] == "Amazon DynamoDB"
    assert "Gadgets of an owner [Query]" in model["ModelMetadata"]["Description"]
    gadgets = next(t for t in model["DataModel"] if t["TableName"] == "unit-gadgets")
    assert gadgets["KeyAttributes"] == {
        "PartitionKey": {"AttributeName": "gadget_id", "AttributeType": "S"},
        "SortKey": {"AttributeName": "made_at", "AttributeType": "S"},
    }
    non_keys = {a["AttributeName"]: a["AttributeType"] for a in gadgets["NonKeyAttributes"]}
    assert non_keys == {"owner": "S", "weight": "N", "version": "N", "expires_at": "N"}
    assert gadgets["GlobalSecondaryIndexes"][0]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert len(gadgets["TableData"]) == 2
    assert gadgets["TableData"][0]["owner"] == {"S": "ann"}
    assert gadgets["BillingMode"] == "PAY_PER_REQUEST"
    assert gadgets["DataAccess"] == {"MySql": {}}
    json.dumps(model)  # JSON all the way down (binary as base64)


def test_workbench_samples_come_from_a_snapshot_when_no_engine_is_named(
    unit_client: TestClient, gadget_model: type[Model], tmp_path: Path
) -> None:
    gadget_model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    put_gadgets(gadget_model, 4)
    export_tables(boto3_client(bound_settings()), ["unit-gadgets"], tmp_path)
    items = sample_from_snapshot(tmp_path, "unit-gadgets", 3)
    assert len(items) == 3 and all(item["owner"] == {"S": "ann"} for item in items)
    assert sample_from_snapshot(tmp_path, "unit-missing", 3) == []


def test_export_workbench_command_writes_valid_json(
    unit_client: TestClient, tmp_path: Path
) -> None:
    path = tmp_path / "model.json"
    result = CliRunner().invoke(
        manage.cli, ["export", "workbench", "--output", str(path), "--sample", "0"]
    )
    assert result.exit_code == 0, result.output
    model = json.loads(path.read_text())
    assert {t["TableName"] for t in model["DataModel"]} == {
        m.Meta.table_name for m in registered_models()
    }
    assert all(t["TableData"] == [] for t in model["DataModel"])
