"""/docs in Chromium: Swagger UI renders from this server alone, under the app's own CSP, and
"Try it out" works, CSRF header included."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from playwright.sync_api import ConsoleMessage, Locator, Page, Request, expect

from tests.e2e.conftest import AppServer


def _watch(page: Page, origin: str) -> tuple[list[str], list[str]]:
    """Console errors (a CSP refusal is one) and requests that left the app's origin."""
    errors: list[str] = []
    foreign: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    def on_request(request: Request) -> None:
        if urlsplit(request.url).netloc not in (urlsplit(origin).netloc, ""):  # "" is data:
            foreign.append(request.url)

    page.on("console", on_console)
    page.on("request", on_request)
    return errors, foreign


def _execute(page: Page, operation_id: str) -> Locator:
    """Open an operation, "Try it out", "Execute": the status cell of the live response."""
    operation = page.locator(f"#operations-{operation_id}")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    return operation.locator(".live-responses-table tr.response .response-col_status")


def test_docs_render_every_api_operation_from_local_files(
    page: Page, app_server: AppServer
) -> None:
    errors, foreign = _watch(page, app_server.url)
    page.goto("/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("DynamoDB Lab")
    expect(page.locator("#operations-posts-api_list_posts_api_v1_posts_get")).to_be_visible()
    expect(page.locator(".opblock")).not_to_have_count(0)
    assert page.locator(".opblock-summary-path", has_text="/posts/{post_id}/edit").count() == 0
    assert foreign == []
    assert errors == []


def test_try_it_out_reads_and_writes_with_the_csrf_header(
    page: Page, app_server: AppServer
) -> None:
    errors, _ = _watch(page, app_server.url)
    credentials = {"username": f"docs_{uuid.uuid4().hex[:8]}", "password": "password-123"}
    page.goto("/docs")
    token = page.request.get("/api/v1/auth/session").json()["csrf_token"]
    signup = page.request.post(
        "/api/v1/auth/signup", data=credentials, headers={"X-CSRF-Token": token}
    )
    assert signup.status == 201
    expect(_execute(page, "posts-api_list_posts_api_v1_posts_get")).to_have_text("200")
    expect(_execute(page, "auth-api_logout_api_v1_auth_logout_post")).to_have_text("204")
    assert page.request.get("/api/v1/auth/session").json()["user"] is None
    assert errors == []
