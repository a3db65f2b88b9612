"""dynamodb-admin beside the embedded engine: the seed's table GUI, on :4567, where Node is.

The seed's Docker set-up gives a learner a GUI to look inside the tables. `make run` gives the
same one without Docker: `package.json` pins dynamodb-admin, `make run` installs it into
`node_modules/` on its first run (`npm ci`), and `manage.py run` starts it pointed at the
embedded engine and stops it with everything else. Where Node.js is absent it is skipped with a
one-line note: the app's own /tables pages show the same tables (and what reading them costs).

Like the engine, it runs in a session of its own (a terminal's Ctrl-C reaches the app, which
stops it) and asks Linux for SIGTERM if the app dies first.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from engine.launcher import _die_with_parent
from shared.settings import PROJECT_ROOT

ADMIN_GUI_PORT = 4567
ADMIN_GUI_BIN = PROJECT_ROOT / "node_modules" / ".bin" / "dynamodb-admin"
START_TIMEOUT_SECONDS = 15.0
STOP_GRACE_SECONDS = 5.0


@dataclass
class AdminGui:
    """A started dynamodb-admin (`process` set), or why it was not started (`message`)."""

    message: str
    process: subprocess.Popen[bytes] | None = None
    url: str | None = None

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def why_not_started(host: str, port: int, executable: Path = ADMIN_GUI_BIN) -> str | None:
    """The one line that says why dynamodb-admin cannot start here, or None when it can."""
    node = shutil.which("node")
    version = _node_version(node) if node else None
    if version is None:
        return (
            "Node.js is not installed: dynamodb-admin (the table GUI on "
            f":{port}) is skipped; /tables shows the same tables."
        )
    if not executable.exists():
        return (
            f"dynamodb-admin is not installed (Node {version}): `make run` or `npm ci` puts it "
            "in node_modules/; /tables shows the same tables meanwhile."
        )
    if _port_taken(host, port):
        return f"Port {port} is taken: dynamodb-admin is not started (--admin-gui-port changes it)."
    return None


def start_admin_gui(
    endpoint: str,
    region: str,
    *,
    host: str = "127.0.0.1",
    port: int = ADMIN_GUI_PORT,
    log_path: Path,
    executable: Path = ADMIN_GUI_BIN,
) -> AdminGui:
    """Start dynamodb-admin against `endpoint` and wait until it listens (or say why not)."""
    reason = why_not_started(host, port, executable)
    if reason is not None:
        return AdminGui(message=reason)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    # dynamodb-admin signs with its own dummy keys (any key works locally) and takes the region
    # from AWS_REGION: tables are per region, so it must be the app's.
    env = {**os.environ, "AWS_REGION": region}
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [str(executable), "--host", host, "--port", str(port), "--dynamo-endpoint", endpoint],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    gui = AdminGui(message="", process=process)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            gui.process = None
            gui.message = f"dynamodb-admin exited at start (code {process.returncode}): {log_path}"
            return gui
        if _port_taken(host, port):
            gui.url = f"http://{host}:{port}"
            gui.message = f"dynamodb-admin (the table GUI) at {gui.url}"
            return gui
        time.sleep(0.1)
    gui.stop()
    gui.message = f"dynamodb-admin did not listen within {START_TIMEOUT_SECONDS:g}s: {log_path}"
    return gui


def _node_version(node: str) -> str | None:
    try:
        done = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _port_taken(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0
