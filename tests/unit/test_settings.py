"""Settings: what follows from what when the user sets only part of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.settings import Settings


def test_the_blog_database_follows_data_dir_unless_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    assert Settings(_env_file=None).database_url == f"sqlite:///{tmp_path / 'blog.sqlite3'}"

    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    assert Settings(_env_file=None).database_url == "postgresql://postgres@127.0.0.1:5432/test"
