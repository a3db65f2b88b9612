"""A newcomer's first visit, in Chromium: sign up, sign in, write, edit, delete, sign out."""

from __future__ import annotations

import re
import uuid

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.conftest import AppServer


def sign_up(page: Page, username: str, password: str = "password-123") -> None:
    page.goto("/signup")
    page.fill("#username", username)
    page.fill("#display_name", username.title())
    page.fill("#password", password)
    page.click("text=Create account")
    expect(page.locator("header .who")).to_have_text(f"@{username}")


def write_post(page: Page, title: str, body: str) -> None:
    page.click("header >> text=Write")
    page.fill("#title", title)
    page.fill("#body", body)
    page.click("text=Publish")
    expect(page.get_by_test_id("post-title")).to_have_text(title)


def test_seeded_home_page_lists_posts(page: Page) -> None:
    page.goto("/")
    expect(page.locator("article.post-summary").first).to_be_visible()
    expect(page.locator(".pagination")).to_contain_text("Page 1 of")


def test_sign_up_write_edit_delete_sign_out_sign_in(page: Page) -> None:
    username = f"e2e_{uuid.uuid4().hex[:8]}"
    sign_up(page, username)
    write_post(page, "My first key design", "PK = what I query by.")
    expect(page.get_by_test_id("post-body")).to_have_text("PK = what I query by.")

    page.get_by_role("link", name="Edit", exact=True).click()
    page.fill("#title", "My second key design")
    page.click("text=Save")
    expect(page.get_by_test_id("post-title")).to_have_text("My second key design")
    post_url = page.url

    page.get_by_test_id("logout").click()
    expect(page.locator("header")).to_contain_text("Sign in")
    page.goto(post_url)
    expect(page.get_by_role("link", name="Edit", exact=True)).to_have_count(0)

    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", "password-123")
    page.click("form >> text=Sign in")
    expect(page.locator("header .who")).to_have_text(f"@{username}")

    page.goto(post_url)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(page).to_have_url(re.compile(r"/$"))
    assert page.request.get(post_url).status == 404


def test_bad_input_shows_a_message_and_keeps_what_was_typed(page: Page) -> None:
    sign_up(page, f"e2e_{uuid.uuid4().hex[:8]}")
    page.click("header >> text=Write")
    page.fill("#title", "   ")
    page.fill("#body", "kept body")
    page.click("text=Publish")
    expect(page.locator(".errors")).to_have_text("The title is empty.")
    expect(page.locator("#body")).to_have_value("kept body")

    page.get_by_test_id("logout").click()
    page.goto("/login")
    page.fill("#username", "nobody_here")
    page.fill("#password", "wrong-password")
    page.click("form >> text=Sign in")
    expect(page.locator(".errors")).to_have_text("Wrong username or password.")


def test_duplicate_username_is_refused_on_the_page(page: Page) -> None:
    username = f"e2e_{uuid.uuid4().hex[:8]}"
    sign_up(page, username)
    page.get_by_test_id("logout").click()
    page.goto("/signup")
    page.fill("#username", username)
    page.fill("#password", "password-123")
    page.click("text=Create account")
    expect(page.locator(".errors")).to_contain_text("is taken")


def test_everything_survives_a_restart(tmp_path, browser) -> None:  # type: ignore[no-untyped-def]
    """What a user writes under `make run` is still there after Ctrl-C and a new run."""
    server = AppServer(tmp_path / "app", seed=False).start()
    context = browser.new_context(base_url=server.url)
    page = context.new_page()
    try:
        sign_up(page, "restart_me")
        write_post(page, "Still here?", "After a restart.")
        post_url = page.url.replace(server.url, "")
    finally:
        server.stop()
    assert (tmp_path / "app" / "dynamodb" / "manifest.json").exists()

    old_port = server.port
    server.start()
    try:
        page.goto(server.url.replace(str(server.port), str(server.port)) + post_url)
        expect(page.get_by_test_id("post-title")).to_have_text("Still here?")
        if server.port == old_port:
            # Same origin: the browser's session cookie must still be valid (restored from disk).
            expect(page.locator("header .who")).to_have_text("@restart_me")
        assert httpx.get(server.url + "/api/v1/posts").json()["total"] == 1
    finally:
        context.close()
        server.stop()
