"""The inspector panel in Chromium: collapsed at first, remembered per browser, updated by htmx."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from tests.e2e.test_blog_flow import sign_up, write_post


def test_panel_stays_as_left_and_a_like_shows_its_update_item(page: Page) -> None:
    sign_up(page, f"lens_{uuid.uuid4().hex[:8]}")
    write_post(page, "What does a like cost?", "Open the inspector and click like.")
    panel = page.locator("#inspector-panel")
    expect(panel).not_to_have_attribute("open", "")
    expect(panel.get_by_test_id("inspector-summary")).to_contain_text("DynamoDB call")

    panel.locator("summary").click()
    expect(panel).to_have_attribute("open", "")
    page.reload()
    expect(panel).to_have_attribute("open", "")  # remembered in this browser
    expect(panel.locator('tr[data-operation="GetItem"]').first).to_be_visible()

    page.get_by_test_id("like-button").click()
    expect(page.get_by_test_id("like-count")).to_have_text("1")
    expect(panel.locator('tr[data-operation="UpdateItem"]').first).to_be_visible()
    expect(panel).to_have_attribute("open", "")  # the out-of-band swap kept it open

    panel.locator("summary").click()
    page.reload()
    expect(panel).not_to_have_attribute("open", "")


def test_the_writes_of_a_form_that_redirects_show_on_the_page_it_lands_on(page: Page) -> None:
    """Signing in and publishing answer with a redirect (htmx's HX-Redirect; sign-out a plain
    303): the page the browser lands on shows, once, what that request wrote."""
    username = f"carry_{uuid.uuid4().hex[:8]}"
    sign_up(page, username)
    panel = page.locator("#inspector-panel")
    page.get_by_test_id("logout").click()  # a plain form: 303 to /
    expect(page.locator("header")).to_contain_text("Sign in")
    signed_out = panel.locator('[data-testid="inspector-previous"][data-request="POST /logout"]')
    expect(
        signed_out.locator('tr[data-operation="DeleteItem"][data-table$="sessions"]')
    ).to_have_count(1)

    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", "password-123")
    page.click("form >> text=Sign in")
    expect(page.locator("header .who")).to_have_text(f"@{username}")
    expect(panel.get_by_test_id("inspector-previous-summary")).to_contain_text("POST /login")
    panel.locator("summary").click()
    signed_in = panel.locator('[data-testid="inspector-previous"][data-request="POST /login"]')
    expect(signed_in).to_be_visible()
    expect(signed_in).to_contain_text("HX-Redirect: /")
    session_put = signed_in.locator('tr[data-operation="PutItem"][data-table$="sessions"]')
    expect(session_put).to_have_count(1)
    expect(session_put).to_be_visible()
    expect(session_put).to_contain_text("Start a session at sign-in")

    write_post(page, "Carried across the redirect", "The inspector shows the POST's writes.")
    published = panel.locator('[data-testid="inspector-previous"][data-request="POST /posts"]')
    expect(published).to_be_visible()  # the panel stayed open
    expect(published.get_by_test_id("inspector-sql")).to_contain_text("INSERT INTO")
    expect(
        published.locator('tr[data-operation="PutItem"][data-table$="activities"]')
    ).to_have_count(1)
    expect(panel.locator("h3.inspector-this-request")).to_contain_text("GET /posts/")

    page.reload()  # shown once: the post page's own calls only
    expect(panel.get_by_test_id("inspector-previous")).to_have_count(0)
    expect(panel.locator('tr[data-operation="GetItem"]').first).to_be_visible()
