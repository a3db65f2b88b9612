"""`uvicorn app:app` in a fresh process: every model is bound to the configured engine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import app
from shared.dynamo import registered_models
print(sorted({m.Meta.host or "unbound" for m in registered_models()}), len(registered_models()))
"""


def test_importing_the_app_binds_every_model_in_a_fresh_process(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DYNAMODB_ENDPOINT": "http://127.0.0.1:9",
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'blog.sqlite3'}",
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )
    hosts, count = done.stdout.strip().rsplit(" ", 1)
    assert hosts == "['http://127.0.0.1:9']" and int(count) >= 5, done.stderr
