"""All configuration, from the environment and `.env`, in one pydantic-settings class.

Nothing else in the project reads `os.environ` for configuration. The entry points (`app.py`'s
`create_app`, `manage.py`) read the environment once with `get_settings` and hand the result to
`configure`; every module afterwards asks `active_settings()`, so the
`Settings` given to `create_app` is the only one the app ever sees.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    dynamodb_endpoint: str | None = Field(
        default=None,
        description="DynamoDB endpoint URL; unset means real AWS DynamoDB in AWS_REGION.",
    )
    aws_region: str = "ap-northeast-1"
    table_prefix: str = Field(default="lab-", description="Prefix of every DynamoDB table name.")
    database_url: str = Field(
        default=f"sqlite:///{DATA_DIR / 'blog.sqlite3'}",
        description="Peewee database URL: sqlite:///path or postgresql://user@host:port/db.",
    )
    secret_key: str | None = Field(
        default=None, description="Signs cursors and CSRF tokens; generated under data/ in dev."
    )
    app_env: Literal["dev", "test", "production"] = "dev"
    data_dir: Path = DATA_DIR
    session_idle_minutes: int = 60 * 24
    session_absolute_hours: int = 24 * 14
    dynamodb_timeout_seconds: int = 2
    dynamodb_max_retries: int = 2
    max_body_bytes: int = 256 * 1024
    inspector_enabled: bool = Field(
        default=True,
        description="Record every request's DynamoDB calls and SQL (panel and response headers).",
    )

    @field_validator("dynamodb_endpoint", mode="before")
    @classmethod
    def _empty_endpoint_is_aws(cls, value: object) -> object:
        """`DYNAMODB_ENDPOINT=` (empty, as a shell or an env file easily leaves it) means AWS
        itself, like an unset one, not an endpoint URL that boto3 would refuse."""
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def is_dev(self) -> bool:
        return self.app_env != "production"

    def resolved_secret_key(self) -> str:
        """The configured key, or (outside production) one generated once and kept under data/."""
        if self.secret_key:
            return self.secret_key
        if not self.is_dev:
            raise RuntimeError("SECRET_KEY must be set when APP_ENV=production")
        path = self.data_dir / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
        return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()


_active: Settings | None = None


def configure(settings: Settings) -> None:
    """Make `settings` the app's settings (the composition root calls this first)."""
    global _active
    _active = settings


def active_settings() -> Settings:
    """The settings the composition root configured (the environment's before that)."""
    return _active if _active is not None else get_settings()
