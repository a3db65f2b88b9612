"""The engine's journal, snapshots and recovery, in process: a restart rebuilds what was written.

Requests go through `Gate.handle` exactly as the engine's HTTP server sends them (a moto
request object, parsed by moto), without patching moto for the rest of the test run. A
"restart" empties moto's in-process backends and opens a new `Store` on the same directory.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws
from moto.core.request import Request
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.responses import DynamoHandler

from engine import compaction, journal, repair
from engine.export_format import MANIFEST_NAME, read_manifest
from engine.gate import Gate, stored_items
from engine.journal import Journal, JournalCorrupt, generations, journal_path
from engine.store import DirectoryInUse, Store
from engine.ttl import TtlSweeper
from tests.tables import pk_sk_table

REGION = "ap-northeast-1"
TABLE = "lab-store-items"


@pytest.fixture(autouse=True)
def fresh_moto() -> Iterator[None]:
    with mock_aws():
        yield


def call(gate: Gate, operation: str, **body: Any) -> tuple[int, dict[str, Any]]:
    """One request as the engine's HTTP server hands it to moto."""
    headers = {
        "X-Amz-Target": f"DynamoDB_20120810.{operation}",
        "Content-Type": "application/x-amz-json-1.0",
        "Authorization": f"AWS4-HMAC-SHA256 Credential=local/20250101/{REGION}/dynamodb/"
        "aws4_request, SignedHeaders=host, Signature=0",
    }
    url = f"https://dynamodb.{REGION}.amazonaws.com/"
    request = Request.from_primitives("POST", url, headers, json.dumps(body).encode())
    handler = DynamoHandler()
    handler.setup_class(request)
    status, _headers, payload = gate.handle(handler)
    return status, json.loads(payload) if payload else {}


def create_table(gate: Gate, *, ttl: str | None = None) -> None:
    status, _ = call(gate, "CreateTable", **pk_sk_table(TABLE, kind_index="ALL"))
    assert status == 200
    if ttl:
        spec = {"AttributeName": ttl, "Enabled": True}
        assert (
            call(gate, "UpdateTimeToLive", TableName=TABLE, TimeToLiveSpecification=spec)[0] == 200
        )


def put(gate: Gate, pk: str, sk: str, **attributes: dict[str, Any]) -> int:
    item = {"pk": {"S": pk}, "sk": {"S": sk}, "kind": {"S": "note"}, **attributes}
    return call(gate, "PutItem", TableName=TABLE, Item=item)[0]


def state() -> dict[str, Any]:
    """Every table of the in-process engine: its key schema, GSIs, TTL and items."""
    backend = dynamodb_backends["123456789012"][REGION]
    return {
        name: {
            "definition": compaction.table_definition(table),
            "ttl": table.ttl,
            "items": sorted(
                json.dumps(compaction._copy(item), sort_keys=True, default=str)
                for item in stored_items(table)
            ),
        }
        for name, table in backend.tables.items()
    }


def restart(directory: Path, **options: Any) -> Store:
    """What a new engine process does: empty memory, then recover from the directory."""
    dynamodb_backends.reset()
    store = Store(directory, home_region=REGION, **options)
    store.open()
    return store


def open_store(directory: Path, **options: Any) -> Store:
    store = Store(directory, home_region=REGION, **options)
    store.open()
    return store


def some_writes(gate: Gate, prefix: str) -> None:
    for number in range(5):
        assert put(gate, "user#1", f"{prefix}{number}", body={"S": "x" * number}) == 200
    key = {"pk": {"S": "user#1"}, "sk": {"S": f"{prefix}0"}}
    update = "ADD hits :one SET tags = :tags, nested = :nested"
    values = {
        ":one": {"N": "1"},
        ":tags": {"SS": ["a", "b"]},
        ":nested": {"M": {"blob": {"B": "AAEC"}, "list": {"L": [{"N": "1.50"}]}}},
    }
    status, _ = call(
        gate,
        "UpdateItem",
        TableName=TABLE,
        Key=key,
        UpdateExpression=update,
        ExpressionAttributeValues=values,
    )
    assert status == 200
    gone = {"pk": {"S": "user#1"}, "sk": {"S": f"{prefix}4"}}
    assert call(gate, "DeleteItem", TableName=TABLE, Key=gone)[0] == 200


# -- recovery -------------------------------------------------------------------------------


def test_a_restart_replays_every_journalled_write_after_the_last_snapshot(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    create_table(store.gate, ttl="expires_at")
    some_writes(store.gate, "before#")
    store.compact()
    some_writes(store.gate, "after#")
    expected = state()
    store.close(compact=False)  # as after a crash: the snapshot, then a journal

    recovered = restart(tmp_path)

    assert state() == expected
    assert recovered.gate.journal is not None
    assert recovered.gate.journal.records_since_snapshot == 7


def test_a_failed_condition_is_not_journalled_and_changes_nothing(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    create_table(store.gate)
    put(store.gate, "user#1", "a")
    before = journal_path(tmp_path, 0).read_bytes()

    status, error = call(
        store.gate,
        "PutItem",
        TableName=TABLE,
        Item={"pk": {"S": "user#1"}, "sk": {"S": "a"}, "kind": {"S": "other"}},
        ConditionExpression="attribute_not_exists(pk)",
    )

    assert status == 400 and error["__type"].endswith("ConditionalCheckFailedException")
    assert journal_path(tmp_path, 0).read_bytes() == before


def test_a_failure_after_a_partial_change_is_journalled_and_replayed_alike(tmp_path: Path) -> None:
    """moto writes a batch's items one by one and stops at a bad one, keeping the earlier ones:
    the journal keeps the failed request, so recovery ends in the same state."""
    store = open_store(tmp_path)
    create_table(store.gate)
    good = {"pk": {"S": "user#1"}, "sk": {"S": "good"}}
    bad = {"pk": {"N": "1"}, "sk": {"S": "bad"}}  # the key must be a string

    status, _ = call(
        store.gate,
        "BatchWriteItem",
        RequestItems={TABLE: [{"PutRequest": {"Item": good}}, {"PutRequest": {"Item": bad}}]},
    )
    expected = state()
    store.close(compact=False)
    restart(tmp_path)

    assert status == 400
    assert len(expected[TABLE]["items"]) == 1  # moto's partial write
    assert state() == expected


def test_a_torn_last_record_is_dropped_with_a_warning_and_cut_off(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = open_store(tmp_path)
    create_table(store.gate)
    put(store.gate, "user#1", "kept")
    expected = state()
    store.close(compact=False)
    path = journal_path(tmp_path, 0)
    whole = path.read_bytes()
    torn = journal.encode("PutItem", REGION, "123456789012", 200, 0.0, b'{"TableName":"x"}')
    path.write_bytes(whole + torn[: len(torn) // 2])  # the machine died mid-write

    with caplog.at_level(logging.WARNING, logger="engine.journal"):
        store = restart(tmp_path)

    assert state() == expected
    assert "incomplete" in caplog.text and "dropped" in caplog.text
    assert path.read_bytes() == whole
    put(store.gate, "user#1", "after")  # appends on a clean line
    store.close(compact=False)
    restart(tmp_path)
    assert len(state()[TABLE]["items"]) == 2


def test_a_damaged_record_before_the_last_stops_recovery(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    create_table(store.gate)
    put(store.gate, "user#1", "a")
    put(store.gate, "user#1", "b")
    store.close(compact=False)
    path = journal_path(tmp_path, 0)
    lines = path.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b'"a"', b'"z"')  # the checksum no longer matches
    path.write_bytes(b"".join(lines))

    with pytest.raises(JournalCorrupt, match="damaged record"):
        restart(tmp_path)


def damaged_journal(directory: Path) -> bytes:
    """Three puts, the middle one damaged; returns the file's bytes as damaged."""
    store = open_store(directory)
    create_table(store.gate)
    for sort_key in "abc":
        put(store.gate, "user#1", sort_key)
    store.close(compact=False)
    path = journal_path(directory, 0)
    lines = path.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b'"b"', b'"z"')
    path.write_bytes(b"".join(lines))
    return path.read_bytes()


def test_engine_check_names_the_damage_and_repair_keeps_a_copy_and_the_rest(
    tmp_path: Path,
) -> None:
    damaged = damaged_journal(tmp_path)

    found = repair.examine(tmp_path)
    assert found.readable == 3  # CreateTable and two of the three puts
    assert [(d.file, d.offset > 0) for d in found.damaged] == [("journal-00000000.log", True)]

    outcome = repair.repair(tmp_path)

    assert outcome.backup is not None
    assert (outcome.backup / "journal-00000000.log").read_bytes() == damaged
    assert repair.examine(tmp_path).damaged == []
    restart(tmp_path)
    kept = sorted(json.loads(item)["sk"]["S"] for item in state()[TABLE]["items"])
    assert kept == ["a", "c"]


def test_engine_check_refuses_a_directory_an_engine_is_using(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    try:
        with pytest.raises(DirectoryInUse, match="stop it first"):
            repair.repair(tmp_path)
    finally:
        store.close(compact=False)


def test_engine_check_command_exits_1_on_damage_and_0_once_repaired(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from manage import cli

    damaged_journal(tmp_path)
    runner = CliRunner()
    check = runner.invoke(cli, ["engine-check", "--data-dir", str(tmp_path)])
    assert check.exit_code == 1 and "journal-00000000.log" in check.output
    fixed = runner.invoke(cli, ["engine-check", "--data-dir", str(tmp_path), "--repair"])
    assert fixed.exit_code == 0 and "damaged-" in fixed.output.replace("\n", "")  # rich wraps
    again = runner.invoke(cli, ["engine-check", "--data-dir", str(tmp_path)])
    assert again.exit_code == 0


def manage_py_in(data_dir: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]) -> Any:
    """`DATA_DIR=<data_dir> manage.py <args>`, run from `data_dir` with settings read afresh."""
    from typer.testing import CliRunner

    from manage import cli
    from shared.settings import get_settings

    monkeypatch.setenv("DATA_DIR", str(data_dir))
    monkeypatch.chdir(data_dir)
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli, args)
    finally:
        get_settings.cache_clear()


def test_engine_check_reads_the_journal_under_data_dir_where_run_keeps_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`DATA_DIR=x manage.py run` keeps the engine's data in x/dynamodb; `DATA_DIR=x manage.py
    engine-check` without --data-dir must check that folder, not data/dynamodb of the cwd."""
    damaged_journal(tmp_path / "dynamodb")
    check = manage_py_in(tmp_path, monkeypatch, ["engine-check"])
    assert check.exit_code == 1 and "journal-00000000.log" in check.output, check.output


def test_manage_py_engine_without_data_dir_serves_from_data_dir_dynamodb(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`manage.py engine` without --data-dir keeps its data where `run` does (DATA_DIR/dynamodb),
    not in a folder named "None" of the cwd."""
    import engine.server

    served: list[list[str]] = []
    monkeypatch.setattr(engine.server, "main", lambda argv: served.append(argv) or 0)
    result = manage_py_in(tmp_path, monkeypatch, ["engine"])
    assert result.exit_code == 0, result.output
    (argv,) = served
    assert argv[argv.index("--data-dir") + 1] == str(tmp_path / "dynamodb")


# -- snapshots --------------------------------------------------------------------------------


def test_a_snapshot_truncates_the_journal_and_reads_like_an_aws_export(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    create_table(store.gate, ttl="expires_at")
    some_writes(store.gate, "x#")

    result = store.compact()

    assert result.items == 4
    assert generations(tmp_path) == [1]
    assert journal_path(tmp_path, 1).read_bytes() == b""
    manifest = read_manifest(tmp_path)
    assert manifest is not None
    assert manifest["engine"]["journal_generation"] == 1
    entry = manifest["tables"][TABLE]
    assert entry["item_count"] == 4
    assert entry["create_table"]["GlobalSecondaryIndexes"][0]["IndexName"] == "KindIndex"
    assert entry["time_to_live"] == {"AttributeName": "expires_at", "Enabled": True}
    lines = (tmp_path / entry["file"]).read_text().splitlines()
    first = json.loads(lines[0])
    assert set(first) == {"Item"} and first["Item"]["pk"] == {"S": "user#1"}
    nested = [json.loads(line)["Item"] for line in lines if "nested" in line][0]
    assert nested["nested"]["M"]["blob"] == {"B": "AAEC"}  # binary as base64, as AWS exports


def test_a_relative_data_directory_snapshots_like_an_absolute_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`manage.py engine --data-dir data/dynamodb`, as the README writes it: the clean stop
    writes its snapshot and leaves no temp file behind."""
    monkeypatch.chdir(tmp_path)
    store = open_store(Path("data/dynamodb"))
    create_table(store.gate)
    some_writes(store.gate, "x#")

    store.close(compact=True)

    directory = tmp_path / "data" / "dynamodb"
    manifest = read_manifest(directory)
    assert manifest is not None and manifest["tables"][TABLE]["item_count"] == 4
    assert list(directory.rglob("*.tmp")) == []


@pytest.mark.parametrize(
    "limits", [{"compact_after": 3}, {"replay_budget": 1e-9}], ids=["records", "replay time"]
)
def test_a_snapshot_starts_by_itself_once_the_journal_is_long_enough(
    tmp_path: Path, limits: dict[str, float]
) -> None:
    store = open_store(tmp_path, **limits)
    create_table(store.gate)
    put(store.gate, "user#1", "a")
    put(store.gate, "user#1", "b")

    deadline = time.monotonic() + 10
    while read_manifest(tmp_path) is None:
        assert time.monotonic() < deadline, "no snapshot was taken"
        time.sleep(0.02)

    assert store.compact().items == 2  # waits for the background one to finish first
    assert generations(tmp_path) == [read_manifest(tmp_path)["engine"]["journal_generation"]]  # type: ignore[index]


def test_a_crash_during_a_snapshot_switch_is_finished_at_the_next_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(tmp_path)
    create_table(store.gate)
    some_writes(store.gate, "old#")
    store.compact()
    some_writes(store.gate, "new#")
    expected = state()
    with monkeypatch.context() as patch:  # the process dies after naming the new files
        patch.setattr(compaction, "finish_interrupted", lambda directory: None)
        store.compact()
    assert (tmp_path / compaction.NEXT_MANIFEST_NAME).exists()
    assert read_manifest(tmp_path)["engine"]["journal_generation"] == 1  # type: ignore[index]
    store.close(compact=False)

    restart(tmp_path)

    assert state() == expected
    assert not (tmp_path / compaction.NEXT_MANIFEST_NAME).exists()
    assert read_manifest(tmp_path)["engine"]["journal_generation"] == 2  # type: ignore[index]
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_snapshot_that_fails_leaves_the_previous_one_and_every_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(tmp_path)
    create_table(store.gate)
    some_writes(store.gate, "old#")
    store.compact()
    some_writes(store.gate, "new#")
    expected = state()

    def disk_full(path: Path, document: dict[str, Any]) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(compaction, "write_json_atomically", disk_full)
        with pytest.raises(OSError, match="No space"):
            store.compact()
    some_writes(store.gate, "later#")
    expected = state()
    store.close(compact=False)

    restart(tmp_path)

    assert state() == expected
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_snapshot_from_before_the_journal_is_left_to_the_app(tmp_path: Path) -> None:
    legacy = {"format": "DYNAMODB_JSON", "tables": {TABLE: {"file": f"{TABLE}.json"}}}
    (tmp_path / MANIFEST_NAME).write_text(json.dumps(legacy))
    (tmp_path / f"{TABLE}.json").write_text('{"Item":{"pk":{"S":"a"},"sk":{"S":"b"}}}\n')

    restart(tmp_path)

    assert state() == {}
    assert read_manifest(tmp_path) == legacy


def test_a_second_engine_on_the_same_directory_waits_for_the_first(tmp_path: Path) -> None:
    first = open_store(tmp_path)
    opened = threading.Event()

    def second() -> None:
        Store(tmp_path, home_region=REGION).open()
        opened.set()

    threading.Thread(target=second, daemon=True).start()
    assert not opened.wait(0.5)
    first.close(compact=False)
    assert opened.wait(5)


# -- group commit and TTL ------------------------------------------------------------------------


def test_concurrent_writers_share_syncs_and_each_returns_once_synced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    log = Journal(tmp_path, 0)

    def slow_sync(fd: int) -> None:
        covered = log._written  # a sync covers what was written before it started
        threading.Event().wait(0.005)
        synced.append(covered)

    monkeypatch.setattr(journal, "_datasync", slow_sync)
    returned: list[tuple[int, int]] = []

    def writer() -> None:
        for _ in range(10):
            ticket = log.append(journal.encode("PutItem", REGION, "1", 200, 0.0, b"{}"))
            log.wait_durable(ticket)
            returned.append((ticket, max(synced)))

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(returned) == 80
    assert all(ticket <= covered for ticket, covered in returned)
    assert len(synced) < 80  # group commit: fewer syncs than records


def test_the_ttl_sweeper_deletes_expired_items_and_journals_it(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    create_table(store.gate, ttl="expires_at")
    put(store.gate, "user#1", "expired", expires_at={"N": "999"})
    put(store.gate, "user#1", "later", expires_at={"N": "5000"})
    put(store.gate, "user#1", "not-a-number", expires_at={"S": "999"})
    put(store.gate, "user#1", "no-ttl")

    deleted = TtlSweeper(store.gate, clock=lambda: 1000.0).sweep()
    store.close(compact=False)
    restart(tmp_path)

    assert deleted == 1
    kept = [json.loads(item)["sk"]["S"] for item in state()[TABLE]["items"]]
    assert sorted(kept) == ["later", "no-ttl", "not-a-number"]


@pytest.mark.parametrize(
    ("now", "interval", "wait"),
    [(10.2, 1.0, 0.3), (10.7, 1.0, 0.8), (10.5, 1.0, 1.0), (125.0, 60.0, 55.5), (100.0, 2.0, 0.5)],
)
def test_sweeps_fall_half_a_second_past_a_whole_second(
    now: float, interval: float, wait: float
) -> None:
    """An item expiring at a whole second stays readable, expired, for half a second: the TTL
    lab's samples just after each expiry see it, however the engine's start lines up."""
    sweeper = TtlSweeper(Gate(), interval=interval, clock=lambda: now)
    assert sweeper.next_wait() == pytest.approx(wait)
