"""Snapshot export/import against moto in-process, plus fakes for what moto never does."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from moto import mock_aws

from engine.snapshots import (
    MISSING_TABLE,
    SnapshotError,
    export_tables,
    import_tables,
    read_manifest,
    table_file,
)
from shared import dynamo
from shared.dynamo import backoff_delay
from tests.tables import pk_sk_table

REGION = "ap-northeast-1"
TABLE = "lab-snapshot-items"
OTHER = "lab-snapshot-other"
ITEM_COUNT = 60  # more than two BatchWriteItem chunks of 25


def _client() -> BaseClient:
    return boto3.client(
        "dynamodb", region_name=REGION, aws_access_key_id="local", aws_secret_access_key="local"
    )


@pytest.fixture
def client() -> Iterator[BaseClient]:
    with mock_aws():
        yield _client()


def _create_table(client: BaseClient, name: str) -> None:
    client.create_table(**pk_sk_table(name, sk_type="N"))


def _item(i: int) -> dict[str, Any]:
    """Every attribute type, Binary also nested, with bytes that are not valid UTF-8."""
    return {
        "pk": {"S": f"user#{i % 3}"},
        "sk": {"N": str(i)},
        "title": {"S": f'ポスト {i} ✓ "quoted"'},
        "score": {"N": "-12.5"},
        "blob": {"B": bytes([i, 0, 255, 128])},
        "flag": {"BOOL": i % 2 == 0},
        "nothing": {"NULL": True},
        "list": {
            "L": [{"S": "a"}, {"N": "1"}, {"B": b"\x00\x01"}, {"M": {"deep": {"B": b"\xff"}}}]
        },
        "map": {"M": {"name": {"S": "x"}, "bins": {"BS": [b"\x01", b"\x02"]}, "empty": {"L": []}}},
        "tags": {"SS": ["a", "b"]},
        "nums": {"NS": ["1", "2.5"]},
        "bins": {"BS": [b"\x00", b"\xfe"]},
    }


def _fill(client: BaseClient, table: str, count: int = ITEM_COUNT) -> None:
    for i in range(count):
        client.put_item(TableName=table, Item=_item(i))


def _normalised(value: Any) -> Any:
    """Sets come back in any order: sort them so two scans compare equal."""
    if isinstance(value, dict):
        return {
            key: sorted(inner) if key in ("SS", "NS", "BS") else _normalised(inner)
            for key, inner in value.items()
        }
    if isinstance(value, list):
        return [_normalised(element) for element in value]
    return value


def _all_items(client: BaseClient, table: str) -> list[dict[str, Any]]:
    items = client.scan(TableName=table)["Items"]
    items.sort(key=lambda item: (item["pk"]["S"], int(item["sk"]["N"])))
    return [_normalised(item) for item in items]


def _scan_with_limit(
    client: BaseClient,
    monkeypatch: pytest.MonkeyPatch,
    limit: int,
    fail_on: tuple[str, int] | None = None,
) -> list[str]:
    """Force small pages; raise on the n-th Scan call (1-based) of a table, if asked to.

    Returns the table of each Scan call made.
    """
    real_scan = client.scan
    calls: list[str] = []

    def scan(**kwargs: Any) -> dict[str, Any]:
        table = kwargs["TableName"]
        calls.append(table)
        if fail_on == (table, calls.count(table)):
            raise RuntimeError("engine went away mid-scan")
        return real_scan(Limit=limit, **kwargs)

    monkeypatch.setattr(client, "scan", scan)
    return calls


def _snapshot_state(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


# -- round trip ---------------------------------------------------------------------------------


def test_round_trip_restores_every_attribute_type(client: BaseClient, tmp_path: Path) -> None:
    _create_table(client, TABLE)
    _fill(client, TABLE)
    before = _all_items(client, TABLE)
    exported: list[tuple[str, int]] = []

    counts = export_tables(client, [TABLE], tmp_path, progress=lambda t, n: exported.append((t, n)))

    assert counts == {TABLE: ITEM_COUNT}
    assert exported[-1] == (TABLE, ITEM_COUNT)
    client.delete_table(TableName=TABLE)
    _create_table(client, TABLE)
    imported: list[tuple[str, int]] = []

    result = import_tables(client, tmp_path, progress=lambda t, n: imported.append((t, n)))

    assert result == {TABLE: ITEM_COUNT}
    assert imported == [(TABLE, 25), (TABLE, 50), (TABLE, 60)]
    assert _all_items(client, TABLE) == before


def test_file_is_aws_export_dynamodb_json(client: BaseClient, tmp_path: Path) -> None:
    _create_table(client, TABLE)
    _fill(client, TABLE, count=3)

    export_tables(client, [TABLE], tmp_path)

    lines = table_file(tmp_path, TABLE).read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 3
    assert all(set(record) == {"Item"} for record in records)
    first = min(records, key=lambda record: int(record["Item"]["sk"]["N"]))["Item"]
    assert base64.b64decode(first["blob"]["B"]) == bytes([0, 0, 255, 128])
    assert first["list"]["L"][3] == {"M": {"deep": {"B": base64.b64encode(b"\xff").decode()}}}
    manifest = read_manifest(tmp_path)
    assert manifest is not None
    assert manifest["format"] == "DYNAMODB_JSON"
    assert manifest["tables"] == {TABLE: {"file": f"{TABLE}.json", "item_count": 3}}
    assert manifest["exported_at"].endswith("Z")


def test_export_follows_last_evaluated_key(
    client: BaseClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _create_table(client, TABLE)
    _fill(client, TABLE)
    calls = _scan_with_limit(client, monkeypatch, limit=7)
    progress: list[int] = []

    counts = export_tables(client, [TABLE], tmp_path, progress=lambda _t, n: progress.append(n))

    assert counts == {TABLE: ITEM_COUNT}
    assert len(calls) >= ITEM_COUNT // 7
    assert progress[-1] == ITEM_COUNT
    assert len(table_file(tmp_path, TABLE).read_text().splitlines()) == ITEM_COUNT


def test_empty_table_exports_an_empty_file(client: BaseClient, tmp_path: Path) -> None:
    _create_table(client, TABLE)

    assert export_tables(client, [TABLE], tmp_path) == {TABLE: 0}
    assert table_file(tmp_path, TABLE).read_text() == ""
    assert import_tables(client, tmp_path) == {TABLE: 0}


# -- atomicity ----------------------------------------------------------------------------------


def test_failed_export_leaves_previous_snapshot_intact(
    client: BaseClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first table scans fine, the second fails after one page: nothing changes on disk."""
    for table in (TABLE, OTHER):
        _create_table(client, table)
        _fill(client, table, count=5)
    export_tables(client, [TABLE, OTHER], tmp_path)
    previous = _snapshot_state(tmp_path)
    for table in (TABLE, OTHER):
        client.put_item(TableName=table, Item=_item(100))
    calls = _scan_with_limit(client, monkeypatch, limit=2, fail_on=(OTHER, 2))

    with pytest.raises(RuntimeError, match="mid-scan"):
        export_tables(client, [TABLE, OTHER], tmp_path)

    assert calls.count(TABLE) >= 3  # the first table was fully scanned and staged
    assert calls[-2:] == [OTHER, OTHER]
    assert _snapshot_state(tmp_path) == previous
    assert not [path for path in tmp_path.iterdir() if path.name.endswith(".tmp")]


def test_import_ignores_temp_files_of_an_interrupted_export(
    client: BaseClient, tmp_path: Path
) -> None:
    _create_table(client, TABLE)
    (tmp_path / f".{TABLE}.abc123.tmp").write_text('{"Item": {"pk": {"S": "half')
    (tmp_path / f".{TABLE}.json").write_text("not json")

    assert import_tables(client, tmp_path) == {}


@pytest.mark.parametrize("name", ["../escape", "manifest", "ab", "a/b/c", "table\n"])
def test_export_refuses_names_that_are_not_safe_file_names(
    client: BaseClient, tmp_path: Path, name: str
) -> None:
    with pytest.raises(ValueError, match="table name"):
        export_tables(client, [name], tmp_path)


# -- import ---------------------------------------------------------------------------------


def test_import_reports_missing_table_and_restores_the_others(
    client: BaseClient, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for table in (TABLE, OTHER):
        _create_table(client, table)
        _fill(client, table, count=4)
    export_tables(client, [TABLE, OTHER], tmp_path)
    client.delete_table(TableName=OTHER)
    client.delete_table(TableName=TABLE)
    _create_table(client, TABLE)

    with caplog.at_level(logging.WARNING, logger="engine.snapshots"):
        result = import_tables(client, tmp_path)

    assert result == {TABLE: 4, OTHER: MISSING_TABLE}
    assert OTHER in caplog.text
    assert len(_all_items(client, TABLE)) == 4


def test_import_limited_to_named_tables(client: BaseClient, tmp_path: Path) -> None:
    for table in (TABLE, OTHER):
        _create_table(client, table)
        _fill(client, table, count=2)
    export_tables(client, [TABLE, OTHER], tmp_path)
    client.delete_table(TableName=TABLE)
    _create_table(client, TABLE)

    assert import_tables(client, tmp_path, table_names=[TABLE]) == {TABLE: 2}


def test_import_of_a_directory_without_snapshot_is_empty(
    client: BaseClient, tmp_path: Path
) -> None:
    assert import_tables(client, tmp_path / "never-written") == {}


def test_import_names_the_bad_line(client: BaseClient, tmp_path: Path) -> None:
    _create_table(client, TABLE)
    good = json.dumps({"Item": {"pk": {"S": "a"}, "sk": {"N": "1"}}})
    table_file(tmp_path, TABLE).write_text(f'{good}\n\n{{"NotItem": 1}}\n')

    with pytest.raises(SnapshotError, match=rf"{TABLE}\.json:3"):
        import_tables(client, tmp_path)


# -- UnprocessedItems -----------------------------------------------------------------------


class FlakyBatchClient:
    """Returns the second half of each batch as UnprocessedItems for the first `flaky` calls."""

    def __init__(self, flaky: int) -> None:
        self.flaky = flaky
        self.batch_sizes: list[int] = []
        self.written: list[dict[str, Any]] = []

    def describe_table(self, TableName: str) -> dict[str, Any]:  # noqa: N803 - boto3's name
        return {"Table": {"TableName": TableName}}

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
        ((table, requests),) = RequestItems.items()
        self.batch_sizes.append(len(requests))
        kept = len(requests) // 2 if len(self.batch_sizes) <= self.flaky else len(requests)
        self.written.extend(request["PutRequest"]["Item"] for request in requests[:kept])
        unprocessed = requests[kept:]
        return {"UnprocessedItems": {table: unprocessed} if unprocessed else {}}


def _write_snapshot_file(directory: Path, count: int) -> list[dict[str, Any]]:
    items = [{"pk": {"S": "p"}, "sk": {"N": str(i)}, "b": {"B": bytes([i])}} for i in range(count)]
    lines = [
        json.dumps({"Item": {**item, "b": {"B": base64.b64encode(item["b"]["B"]).decode()}}})
        for item in items
    ]
    table_file(directory, TABLE).write_text("\n".join(lines) + "\n")
    return items


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    recorded: list[float] = []
    monkeypatch.setattr(dynamo.time, "sleep", recorded.append)
    return recorded


def test_unprocessed_items_are_retried_with_backoff(tmp_path: Path, sleeps: list[float]) -> None:
    items = _write_snapshot_file(tmp_path, count=30)
    fake = FlakyBatchClient(flaky=1)

    result = import_tables(fake, tmp_path)  # type: ignore[arg-type]

    assert result == {TABLE: 30}
    assert fake.batch_sizes == [25, 13, 5]  # 12 written, 13 retried, then the last chunk
    assert sorted(fake.written, key=lambda item: int(item["sk"]["N"])) == items
    assert len(sleeps) == 1
    assert backoff_bounds(1)[0] <= sleeps[0] <= backoff_bounds(1)[1]


def test_unprocessed_items_give_up_after_bounded_attempts(
    tmp_path: Path, sleeps: list[float]
) -> None:
    _write_snapshot_file(tmp_path, count=4)
    fake = FlakyBatchClient(flaky=1000)

    with pytest.raises(SnapshotError, match="still unprocessed after 5"):
        import_tables(fake, tmp_path, max_attempts=5)  # type: ignore[arg-type]

    assert len(fake.batch_sizes) == 5
    assert len(sleeps) == 4
    for retry, delay in enumerate(sleeps, start=1):
        low, high = backoff_bounds(retry)
        assert low <= delay <= high


def backoff_bounds(retry: int) -> tuple[float, float]:
    ceiling = min(dynamo.MAX_DELAY_SECONDS, dynamo.BASE_DELAY_SECONDS * 2 ** (retry - 1))
    return ceiling / 2, ceiling


def test_backoff_doubles_and_is_capped() -> None:
    for retry in range(1, 12):
        low, high = backoff_bounds(retry)
        assert low <= backoff_delay(retry) <= high
    assert backoff_bounds(11)[1] == dynamo.MAX_DELAY_SECONDS
