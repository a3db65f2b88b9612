"""dynamodb-admin, started as `manage.py run` starts it, shows the engine's tables."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from engine import admin_gui


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_it_lists_the_engines_tables_and_stops(live_client, live_settings, tmp_path: Path) -> None:
    reason = admin_gui.why_not_started("127.0.0.1", 1)
    if reason is not None and "is taken" not in reason:
        pytest.skip(reason)
    port = free_port()
    gui = admin_gui.start_admin_gui(
        live_settings.dynamodb_endpoint,
        live_settings.aws_region,
        port=port,
        log_path=tmp_path / "gui.log",
    )
    try:
        assert gui.process is not None, gui.message
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert page.status_code == 200
        assert f"{live_settings.table_prefix}activities" in page.text
    finally:
        gui.stop()
    assert gui.process is None
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
