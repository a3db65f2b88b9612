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
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"


PRODUCTION_OFF = ("inspector_enabled", "code_views_enabled", "api_docs_enabled", "explorer_enabled")
"""Settings that default to off when APP_ENV=production."""


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
        description="Peewee database URL: sqlite:///path or postgresql://user@host:port/db; "
        "unset, blog.sqlite3 in DATA_DIR.",
    )
    database_pool_size: int = Field(
        default=20,
        description="Most RDB connections one app process opens (PostgreSQL's default "
        "max_connections of 100 then serves four processes and an admin).",
    )
    database_pool_wait_seconds: int = Field(
        default=10, description="How long a request waits for a free pooled connection."
    )
    database_stale_seconds: int = Field(
        default=300, description="A pooled connection older than this is closed, not reused."
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
    request_read_timeout_seconds: int = Field(
        default=15, description="A request must arrive in full (headers and body) within this."
    )
    busy_read_timeout_seconds: int = Field(
        default=2,
        description="Near the connection cap, a connection that has not sent its whole request "
        "within this is closed (and idle keep-alive connections at once), so clients that "
        "open connections and send nothing cannot shut others out.",
    )
    keep_alive_timeout_seconds: int = Field(
        default=5, description="An idle keep-alive connection is closed after this."
    )
    max_concurrent_connections: int = Field(
        default=256, description="Open connections beyond this are answered 503 at once."
    )
    forwarded_allow_ips: str = Field(
        default="",
        description="Proxies trusted to name the client in X-Forwarded-For (comma-separated "
        "addresses or networks, or '*'); none by default, so the peer address is the client "
        "the rate limits count and nobody can pick their own address by sending the header.",
    )
    sign_in_failures_before_delay: int = Field(
        default=5,
        description="Wrong passwords one address may send for one username per window before "
        "each further attempt of that pair must wait (1 s, then twice as long each time).",
    )
    sign_in_attempts_per_address: int = Field(
        default=50,
        description="Failed sign-ins one client address may make per window, across usernames.",
    )
    scan_feed_reads_per_minute: int = Field(
        default=10,
        description="Loads of the Scan feed (its page, or /api/v1/feed?mode=scan) one client "
        "address may make per minute: each reads the whole activities table.",
    )
    sign_up_attempts_per_address: int = Field(
        default=10, description="Sign-ups one client address may attempt per window."
    )
    attempt_window_minutes: int = Field(
        default=15, description="The fixed window the attempt limits count in."
    )
    inspector_enabled: bool = Field(
        default=True,
        description="Record every request's DynamoDB calls and SQL (panel and response headers). "
        "Off in production unless set explicitly.",
    )
    code_views_enabled: bool = Field(
        default=True,
        description="Serve /design/code/*, the source of each access pattern's service function. "
        "Off in production unless set explicitly.",
    )
    api_docs_enabled: bool = Field(
        default=True,
        description="Serve /openapi.json and the API docs. "
        "Off in production unless set explicitly.",
    )
    explorer_enabled: bool = Field(
        default=True,
        description="Serve /tables, the item browser and operation builder over every table "
        "(sessions and rate-limit counters included). Off in production unless set explicitly.",
    )
    trusted_hosts: Annotated[list[str], NoDecode] = Field(
        default=["*"],
        description="Host names the app answers to, comma-separated; '*' accepts any. "
        "Required in production, where a forged Host header must be refused.",
    )

    @field_validator("trusted_hosts", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [host.strip() for host in value.split(",") if host.strip()]
        return value

    @model_validator(mode="after")
    def _production_shows_no_internals(self) -> Settings:
        """In production, what exposes internals (SQL, keys, source code, the API schema) is off
        unless the operator turned it on by name."""
        if self.app_env == "production":
            for name in PRODUCTION_OFF:
                if name not in self.model_fields_set:
                    setattr(self, name, False)
        return self

    @model_validator(mode="after")
    def _rdb_lives_beside_the_engine_data(self) -> Settings:
        """Unset, DATABASE_URL follows DATA_DIR: a DATA_DIR that moved the engine's tables but
        left the blog's SQLite file behind would pair a fresh DynamoDB with old posts."""
        if "database_url" not in self.model_fields_set:
            self.database_url = f"sqlite:///{self.data_dir / 'blog.sqlite3'}"
        return self

    @field_validator("dynamodb_endpoint", mode="before")
    @classmethod
    def _empty_endpoint_is_aws(cls, value: object) -> object:
        """`DYNAMODB_ENDPOINT=` (empty, as a shell or an env file easily leaves it) means AWS
        itself, like an unset one, not an endpoint URL that boto3 would refuse."""
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def is_dev(self) -> bool:
        return self.app_env != "production"

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

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
