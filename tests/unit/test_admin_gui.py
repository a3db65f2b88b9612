"""dynamodb-admin beside the embedded engine: skipped with one clear line when it cannot run."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from engine import admin_gui


def test_without_node_it_is_skipped_with_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(admin_gui.shutil, "which", lambda name: None)
    gui = admin_gui.start_admin_gui(
        "http://127.0.0.1:1", "ap-northeast-1", port=4567, log_path=tmp_path / "gui.log"
    )
    assert gui.process is None
    assert gui.message.startswith("Node.js is not installed: dynamodb-admin")
    assert "\n" not in gui.message and "/tables" in gui.message


def test_with_node_but_not_installed_it_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(admin_gui, "_node_version", lambda node: "v20.0.0")
    monkeypatch.setattr(admin_gui.shutil, "which", lambda name: "/usr/bin/node")
    reason = admin_gui.why_not_started("127.0.0.1", 4567, tmp_path / "missing")
    assert reason is not None and "npm ci" in reason


def test_a_taken_port_is_not_fought_over(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(admin_gui, "_node_version", lambda node: "v20.0.0")
    monkeypatch.setattr(admin_gui.shutil, "which", lambda name: "/usr/bin/node")
    installed = tmp_path / "dynamodb-admin"
    installed.touch()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        reason = admin_gui.why_not_started("127.0.0.1", port, installed)
    assert reason == (
        f"Port {port} is taken: dynamodb-admin is not started (--admin-gui-port changes it)."
    )
