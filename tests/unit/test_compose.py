"""docker-compose.yml cannot run here (no Docker engine): check it agrees with the settings."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import yaml

from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def service(name: str) -> dict:  # type: ignore[type-arg]
    return COMPOSE["services"][name]  # type: ignore[no-any-return]


def test_the_three_services_of_the_seed() -> None:
    assert set(COMPOSE["services"]) == {"app", "dynamodb", "dynamodb-admin"}
    assert service("dynamodb")["image"] == "amazon/dynamodb-local"
    assert "8000:8000" in service("app")["ports"]
    assert any(port.startswith("4567:") for port in service("dynamodb-admin")["ports"])


def test_app_environment_names_only_real_settings() -> None:
    env = service("app")["environment"]
    known = {name.upper() for name in Settings.model_fields} | {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    }
    assert set(env) <= known, set(env) - known
    settings = Settings(
        **{k.lower(): v for k, v in env.items() if k.lower() in Settings.model_fields}
    )
    assert settings.database_url.startswith("sqlite:////app/data/")


def test_app_and_gui_point_at_the_dynamodb_service() -> None:
    app_endpoint = urlparse(service("app")["environment"]["DYNAMODB_ENDPOINT"])
    gui_endpoint = urlparse(service("dynamodb-admin")["environment"]["DYNAMO_ENDPOINT"])
    internal_port = int(service("dynamodb")["ports"][0].split(":")[1])
    for endpoint in (app_endpoint, gui_endpoint):
        assert endpoint.hostname == "dynamodb" and endpoint.port == internal_port
    assert (
        service("app")["environment"]["AWS_REGION"]
        == (service("dynamodb-admin")["environment"]["AWS_REGION"])
    )


def test_data_is_kept_in_named_volumes() -> None:
    dynamodb = service("dynamodb")
    db_path = dynamodb["command"][dynamodb["command"].index("-dbPath") + 1]
    assert f"dynamodb-data:{db_path}" in dynamodb["volumes"]
    data_dir = service("app")["environment"]["DATABASE_URL"].removeprefix("sqlite:///")
    assert any(data_dir.startswith(v.split(":")[1]) for v in service("app")["volumes"])
    assert set(COMPOSE["volumes"]) == {"app-data", "dynamodb-data"}


def test_app_container_creates_tables_seeds_and_serves() -> None:
    command = service("app")["command"]
    assert command[:3] == ["python", "manage.py", "run"] and "0.0.0.0" in command
    assert "manage.py" in (ROOT / "Dockerfile").read_text()
