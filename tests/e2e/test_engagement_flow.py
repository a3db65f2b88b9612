"""Likes and comments in Chromium: like, unlike, comment, reply, edit, delete without reloads."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from tests.e2e.test_blog_flow import sign_up, write_post


def test_like_unlike_comment_and_reply_in_place(page: Page) -> None:
    sign_up(page, f"e2e_{uuid.uuid4().hex[:8]}")
    write_post(page, "Likes and comments", "Click around.")
    post_url = page.url
    page.evaluate("window.__noReload = true")  # gone if any click reloads the page

    likes = page.get_by_test_id("likes")
    expect(likes.get_by_test_id("like-count")).to_have_text("0")
    likes.get_by_test_id("like-button").click()
    expect(likes.get_by_test_id("like-count")).to_have_text("1")
    expect(likes.get_by_test_id("like-button")).to_have_attribute("aria-pressed", "true")
    likes.get_by_test_id("like-button").click()
    expect(likes.get_by_test_id("like-count")).to_have_text("0")
    expect(likes.get_by_test_id("like-button")).to_have_attribute("aria-pressed", "false")

    page.get_by_label("Add a comment").fill("<b>first</b> comment")
    page.get_by_role("button", name="Comment", exact=True).click()
    first = page.get_by_test_id("comment").filter(has_text="first")
    expect(first.get_by_test_id("comment-body")).to_have_text("<b>first</b> comment")
    expect(page.get_by_label("Add a comment")).to_have_value("")

    first.get_by_test_id("reply-link").click()
    page.get_by_label("Your reply").fill("a reply")
    page.get_by_role("button", name="Reply", exact=True).click()
    expect(page.get_by_test_id("reply-posted")).to_be_visible()
    replies = page.locator("ol.replies li.comment").filter(has_text="a reply")
    expect(replies).to_have_count(1)
    reply = page.locator(f"#{replies.get_attribute('id')}")

    reply.get_by_test_id("edit-link").click()
    page.get_by_label("Edit your comment").fill("an edited reply")
    page.get_by_role("button", name="Save").click()
    expect(reply.get_by_test_id("comment-body")).to_have_text("an edited reply")

    page.once("dialog", lambda dialog: dialog.accept())
    first.get_by_test_id("delete-button").click()
    expect(page.get_by_test_id("comment-deleted")).to_have_count(1)
    expect(reply.get_by_test_id("comment-body")).to_have_text("an edited reply")
    assert page.evaluate("window.__noReload") is True
    assert page.url == post_url

    page.reload()
    expect(page.get_by_test_id("like-count")).to_have_text("0")
    expect(page.get_by_test_id("comment-deleted")).to_have_count(1)
    expect(page.locator("ol.replies").get_by_test_id("comment-body")).to_have_text(
        "an edited reply"
    )


def test_seeded_post_list_shows_like_counts(page: Page) -> None:
    page.goto("/")
    expect(page.get_by_test_id("like-badge").first).to_be_visible()


def test_a_resized_comment_box_posts_without_breaking_the_content_security_policy(
    page: Page,
) -> None:
    """Dragging a textarea's corner gives it an inline style; htmx's settle step used to copy
    that style attribute onto the new form, which the CSP (no inline styles) refused."""
    sign_up(page, f"e2e_{uuid.uuid4().hex[:8]}")
    write_post(page, "A tall comment box", "Resize it.")
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    box = page.get_by_label("Add a comment")
    box.evaluate("box => { box.style.height = '240px'; }")  # what the resize handle does
    box.fill("written in a taller box")
    page.get_by_role("button", name="Comment", exact=True).click()
    expect(page.get_by_test_id("comment").filter(has_text="taller box")).to_have_count(1)
    expect(page.get_by_label("Add a comment")).to_have_value("")
    page.wait_for_timeout(500)  # htmx settles 20 ms after the swap
    assert not refused, refused
