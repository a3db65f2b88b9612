"""The activity pages in Chromium on the seeded app: the two feeds side by side, a post's timeline
paged with htmx, the type selector and a user's page."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect


def test_feed_shows_scan_and_index_side_by_side_and_they_agree(page: Page) -> None:
    page.goto("/feed")
    scan, index = page.get_by_test_id("feed-scan"), page.get_by_test_id("feed-index")
    expect(scan.locator("li.activity")).to_have_count(20)
    expect(index.locator("li.activity")).to_have_count(20)
    expect(page.get_by_test_id("feed-verdict")).to_contain_text("Both modes returned the same 20")
    scanned = int(scan.get_by_test_id("scanned").inner_text())
    assert scanned > int(index.get_by_test_id("scanned").inner_text())
    assert scan.bounding_box()["y"] == index.bounding_box()["y"]  # side by side
    expect(page.get_by_test_id("scan-lesson")).to_contain_text("Why Scan does not scale")


def test_post_timeline_loads_older_items_in_place(page: Page) -> None:
    """On the seed's hot post (the third newest, with most of the views), whose timeline runs
    past two pages."""
    page.goto("/")
    page.locator("article.post-summary h2 a").nth(2).click()
    timeline = page.get_by_test_id("post-timeline")
    items = timeline.locator("li.activity")
    expect(items).to_have_count(10)
    url = page.url
    timeline.get_by_test_id("older").first.click()
    expect(items).to_have_count(20)
    assert page.url == url
    stamps = [el.get_attribute("data-timestamp") for el in items.all()]
    # Two people may view the post in the same minute: an item is its time and who acted.
    assert (
        len({(stamp, el.inner_text()) for stamp, el in zip(stamps, items.all(), strict=True)}) == 20
    )
    assert stamps == sorted(stamps, reverse=True)


def test_type_selector_shows_only_that_type(page: Page) -> None:
    page.goto("/activity")
    page.select_option("#type", "comment")
    page.click("text=Show")
    expect(page).to_have_url(re.compile(r"type=comment"))
    kinds = page.locator("li.activity").evaluate_all("els => els.map(e => e.dataset.activityType)")
    assert kinds and set(kinds) == {"comment"}


def test_a_users_page_from_the_feed(page: Page) -> None:
    page.goto("/feed")
    link = page.get_by_test_id("feed-index").locator("li.activity a[href^='/users/']").first
    username = link.inner_text().lstrip("@")
    link.click()
    expect(page.locator("h1")).to_have_text(f"@{username}: latest activity")
    expect(page.locator("li.activity").first).to_be_visible()
