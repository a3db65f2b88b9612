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
