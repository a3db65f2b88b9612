"""APP_ENV=production leaks nothing: no SQL or keys on pages or in headers, no source or schema
views unless enabled by name, HSTS on every response, and a forged Host header refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import in_process_app

HOST = "lab.example.com"
PRODUCTION = {"APP_ENV": "production", "TRUSTED_HOSTS": HOST}
INTERNAL_PATHS = (
    "/docs",
    "/redoc",
    "/openapi.json",
    "/design/code/sessions.service.viewer_for_token",
)
INSPECTOR_HEADERS = ("server-timing", "x-dynamodb-capacity")


def https_client(client: TestClient) -> TestClient:
    """Production cookies are Secure: only an https client sends them back."""
    return TestClient(client.app, base_url=f"https://{HOST}", raise_server_exceptions=False)


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One production app for the tests that only read; the others build their own, and name
    APP_ENV and TRUSTED_HOSTS themselves (this fixture's environment lasts for the module)."""
    with (
        pytest.MonkeyPatch.context() as monkeypatch,
        in_process_app(monkeypatch, tmp_path_factory.mktemp("prod"), **PRODUCTION) as client,
    ):
        yield https_client(client)


def signed_in(client: TestClient) -> TestClient:
    session = client.get("/api/v1/auth/session").json()
    credentials = {"username": "prod_user", "password": "password-123"}
    headers = {"X-CSRF-Token": session["csrf_token"]}
    response = client.post("/api/v1/auth/signup", json=credentials, headers=headers)
    assert response.status_code == 201, response.text
    return client


def test_pages_show_no_inspector_and_send_no_capacity_headers(production: TestClient) -> None:
    client = signed_in(production)
    for path in ("/", "/login", "/design", "/activity"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert 'data-testid="inspector"' not in response.text
        assert "SELECT" not in response.text
        assert not any(name in response.headers for name in INSPECTOR_HEADERS)


@pytest.mark.parametrize("path", INTERNAL_PATHS)
def test_source_and_schema_views_are_not_served(production: TestClient, path: str) -> None:
    assert production.get(path).status_code == 404


def test_no_page_links_to_source_or_the_table_browser(production: TestClient) -> None:
    for path in ("/", "/design"):
        page = production.get(path).text
        assert "/design/code/" not in page, path
        assert 'href="/tables' not in page, path


@pytest.mark.parametrize("path", ["/", "/no-such-page", "/api/v1/posts/999"])
def test_hsts_is_sent_on_pages_and_errors(production: TestClient, path: str) -> None:
    assert "max-age=" in production.get(path).headers["strict-transport-security"]


def test_a_forged_host_header_is_refused(production: TestClient) -> None:
    response = production.get("/", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert "evil.example" not in response.text


def test_internals_come_back_when_enabled_by_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    enabled = {
        "INSPECTOR_ENABLED": "true",
        "CODE_VIEWS_ENABLED": "1",
        "API_DOCS_ENABLED": "yes",
        "EXPLORER_ENABLED": "on",
    }
    with in_process_app(monkeypatch, tmp_path, **PRODUCTION, **enabled) as client:
        client = https_client(client)
        page = client.get("/login")
        assert 'data-testid="inspector"' in page.text
        assert "server-timing" in page.headers
        assert client.get("/openapi.json").status_code == 200
        assert client.get("/design/code/sessions.service.viewer_for_token").status_code == 200
        assert client.get("/docs").status_code == 200
        assert client.get("/tables").status_code == 200


def test_production_refuses_to_start_without_trusted_hosts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with (
        pytest.raises(RuntimeError, match="TRUSTED_HOSTS"),
        in_process_app(monkeypatch, tmp_path, APP_ENV="production", TRUSTED_HOSTS=None),  # type: ignore[arg-type]
    ):
        pass


def test_development_sends_no_hsts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Over plain http://localhost, HSTS would lock the browser out of the dev server."""
    with in_process_app(monkeypatch, tmp_path, APP_ENV="dev", TRUSTED_HOSTS="*") as client:
        assert "strict-transport-security" not in client.get("/").headers
