"""The engine's launcher over real HTTP: start, health, busy or dead, restart, clear failures."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.client import BaseClient

from engine import launcher
from engine.launcher import EngineError, EngineState, LocalEngine
from engine.snapshots import export_tables, import_tables
from tests.tables import pk_sk_table

pytestmark = pytest.mark.integration

TABLE = "lab-engine-test"
ITEM = {"pk": {"S": "user#1"}, "sk": {"S": "post#1"}, "body": {"B": b"\x00\xffhello"}}


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[LocalEngine]:
    with LocalEngine(log_path=tmp_path / "engine.log") as running:
        yield running


def _create_table(client: BaseClient) -> None:
    client.create_table(**pk_sk_table(TABLE))


def _get(client: BaseClient) -> dict[str, object] | None:
    key = {"pk": ITEM["pk"], "sk": ITEM["sk"]}
    return client.get_item(TableName=TABLE, Key=key, ConsistentRead=True).get("Item")


def _wait_until_exited(engine: LocalEngine, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while engine.running:
        assert time.monotonic() < deadline, "the engine did not exit"
        time.sleep(0.05)


def test_an_export_over_http_imports_into_a_fresh_engine(tmp_path: Path) -> None:
    snapshot_dir = tmp_path / "snapshot"
    first = LocalEngine()
    try:
        endpoint = first.start()
        assert endpoint == first.endpoint
        assert endpoint.startswith("http://127.0.0.1:")
        client = first.client()
        _create_table(client)
        client.put_item(TableName=TABLE, Item=ITEM)
        assert first.alive()
        assert export_tables(client, [TABLE], snapshot_dir) == {TABLE: 1}
    finally:
        first.stop()
    assert not first.alive()
    assert first.pid is None
    first.stop()  # idempotent

    with LocalEngine() as second:
        client = second.client()
        _create_table(client)
        assert _get(client) is None  # the new engine starts empty
        assert import_tables(client, snapshot_dir) == {TABLE: 1}
        assert _get(client) == ITEM


def test_alive_notices_a_dead_engine(engine: LocalEngine) -> None:
    assert engine.alive()
    assert engine.pid is not None

    os.kill(engine.pid, signal.SIGKILL)
    _wait_until_exited(engine)

    assert not engine.alive()


def test_log_goes_to_the_given_file_and_the_tail_shows_this_run(tmp_path: Path) -> None:
    log_path = tmp_path / "engine.log"
    with LocalEngine(log_path=log_path) as earlier:
        earlier_endpoint = earlier.endpoint

    with LocalEngine(log_path=log_path) as engine:
        engine.client().list_tables()
        tail = engine.log_tail()

    assert f"Running on {earlier_endpoint}" in log_path.read_text()
    assert f"Running on {engine.endpoint}" in tail
    assert tail.count("Running on") == 1  # the engine logs no line per request
    assert "\x1b[" not in tail


def test_port_held_by_another_program_fails_clearly() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]

        with pytest.raises(EngineError, match=rf"port {port} .*already in use"):
            LocalEngine(port=port).start(timeout=5)


def test_port_held_by_another_engine_fails_clearly(engine: LocalEngine) -> None:
    port = int(engine.endpoint.rsplit(":", 1)[1])
    intruder = LocalEngine(port=port)

    with pytest.raises(EngineError, match="already in use"):
        intruder.start(timeout=5)

    assert not intruder.running
    assert engine.alive()


def test_a_server_that_dies_at_start_is_reported_with_its_log(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    script = "import sys; print('boom: moto could not start', flush=True); sys.exit(3)"
    monkeypatch.setattr(launcher, "_engine_command", lambda _h, _p: [sys.executable, "-c", script])
    engine = LocalEngine()

    with pytest.raises(EngineError, match=r"(?s)exited with code 3.*boom: moto could not start"):
        engine.start(timeout=10)

    assert not engine.running


def test_a_server_that_never_answers_times_out_and_is_stopped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    script = "import time; print('stuck before serving', flush=True); time.sleep(60)"
    monkeypatch.setattr(launcher, "_engine_command", lambda _h, _p: [sys.executable, "-c", script])
    engine = LocalEngine()
    started = time.monotonic()

    with pytest.raises(EngineError, match=r"(?s)did not answer within 1s.*stuck before serving"):
        engine.start(timeout=1)

    assert time.monotonic() - started < 10
    assert not engine.running


def test_state_tells_a_busy_engine_from_a_dead_one(engine: LocalEngine) -> None:
    assert engine.pid is not None
    assert engine.state() is EngineState.RUNNING

    os.kill(engine.pid, signal.SIGSTOP)  # alive, but answers nothing: as stuck as can be
    try:
        assert engine.state(timeout=0.3, attempts=2) is EngineState.BUSY
    finally:
        os.kill(engine.pid, signal.SIGCONT)
    assert engine.state() is EngineState.RUNNING

    os.kill(engine.pid, signal.SIGKILL)
    _wait_until_exited(engine)
    assert engine.state() is EngineState.DEAD


def test_a_dead_engine_restarts_on_its_port_with_its_data(tmp_path: Path) -> None:
    with LocalEngine(tmp_path / "engine.log", data_dir=tmp_path / "data") as engine:
        endpoint = engine.endpoint
        _create_table(engine.client())
        engine.client().put_item(TableName=TABLE, Item=ITEM)
        assert engine.pid is not None
        os.kill(engine.pid, signal.SIGKILL)
        _wait_until_exited(engine)

        assert engine.restart() == endpoint
        assert _get(engine.client()) == ITEM


def test_manage_py_engine_serves_the_engine_alone(tmp_path: Path) -> None:
    """`manage.py engine`, as a user runs it for the AWS CLI or NoSQL Workbench."""
    port = launcher._free_port("127.0.0.1")
    command = [sys.executable, "manage.py", "engine", "--port", str(port)]
    command += ["--data-dir", str(tmp_path / "data"), "--partition-limit", "7"]
    process = subprocess.Popen(
        command, cwd=launcher.PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        health = _health(f"http://127.0.0.1:{port}", process)
        assert health["durable"] and health["partition_limit"] == 7
        assert health["split_after_s"] == 300 and health["splits"] == 0
        assert health["gsi_lag_ms"] == health["replica_lag_ms"] == 300  # as under make run
        assert health["gc_frozen_objects"] > 10_000  # start-up's heap is out of the GC's way
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0].decode()
    assert process.returncode == 0
    assert f"Running on http://127.0.0.1:{port}" in output
    assert (tmp_path / "data" / "manifest.json").exists()  # its last snapshot


def _health(endpoint: str, process: subprocess.Popen[bytes]) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "manage.py engine exited"
        try:
            with urllib.request.urlopen(endpoint + launcher.HEALTH_PATH, timeout=1) as reply:
                return json.loads(reply.read())  # type: ignore[no-any-return]
        except OSError:
            time.sleep(0.2)
    raise AssertionError("manage.py engine did not answer")
