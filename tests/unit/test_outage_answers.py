"""What the app answers while DynamoDB cannot be reached: a 503 that says when to come back,
a sign-out that still signs the browser out, and no word of where the engine lives."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient

from shared.auth import SESSION_COOKIE
from shared.dynamo import bind_models, bound_settings
from tests.conftest import ApiUser, dead_endpoint

HTMX = {"HX-Request": "true"}


@contextmanager
def dynamodb_down() -> Iterator[str]:
    """Every model and the low-level client pointed at a port nobody listens on."""
    settings = bound_settings()
    endpoint = dead_endpoint()
    bind_models(settings.model_copy(update={"dynamodb_endpoint": endpoint}))
    try:
        yield endpoint
    finally:
        bind_models(settings)


def signed_in(client: TestClient, username: str) -> ApiUser:
    return ApiUser(TestClient(client.app, raise_server_exceptions=False), username).signup()


def cookie_cleared(set_cookie: str) -> bool:
    return f'{SESSION_COOKIE}="";' in set_cookie or (
        set_cookie.startswith(f"{SESSION_COOKIE}=") and "Max-Age=0" in set_cookie
    )


def test_every_503_carries_retry_after(unit_client: TestClient) -> None:
    user = signed_in(unit_client, "waiter")
    post_id = user.call("POST", "/api/v1/posts", json={"title": "t", "body": "b"}).json()["id"]
    csrf = {"X-CSRF-Token": user.csrf()}
    with dynamodb_down():
        answers = {
            "api": user.client.put(f"/api/v1/posts/{post_id}/like", headers=csrf),
            "page": user.client.get("/activity"),
            "fragment": user.client.get("/activity", headers=HTMX),
        }
    for kind, response in answers.items():
        assert response.status_code == 503, (kind, response.text[:200])
        assert int(response.headers["retry-after"]) > 0, kind


def test_signing_out_during_an_outage_still_clears_the_cookie(unit_client: TestClient) -> None:
    api_user, form_user = signed_in(unit_client, "leaver_a"), signed_in(unit_client, "leaver_b")
    api_csrf, form_csrf = api_user.csrf(), form_user.csrf()
    with dynamodb_down():
        api = api_user.client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": api_csrf})
        form = form_user.client.post("/logout", data={"csrf_token": form_csrf})
    for response in (api, form):
        assert response.status_code == 503, response.text[:200]
        assert cookie_cleared(response.headers.get("set-cookie", "")), response.headers
        assert int(response.headers["retry-after"]) > 0
    assert "DynamoDB" in api.json()["detail"]
    assert SESSION_COOKIE not in api_user.client.cookies


def test_the_explorers_503_does_not_name_the_engines_address(unit_client: TestClient) -> None:
    with dynamodb_down() as endpoint:
        listing = unit_client.get("/api/v1/tables/unit-likes/collections")
        page = unit_client.get("/tables/unit-likes")
    address = endpoint.removeprefix("http://")
    for response in (listing, page):
        assert response.status_code == 503, response.text[:200]
        assert address not in response.text and "127.0.0.1" not in response.text
        assert "DynamoDB" in response.text
