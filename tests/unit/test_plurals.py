"""Counts read right in both languages: "1 post", never "1 posts" (Babel's ngettext and Jinja's
{% pluralize %}, so a language with other plural rules gets its own forms)."""

from __future__ import annotations

from shared.i18n import ngettext, use_language

JA = {"Accept-Language": "ja"}


def test_one_post_is_one_post_and_two_are_two_posts(unit_client, make_user) -> None:
    author = make_user(unit_client, "plural")
    author.call("POST", "/api/v1/posts", json={"title": "only", "body": "one"})
    assert "&middot; 1 post</span>" in unit_client.get("/").text
    assert "1 posts" not in unit_client.get("/").text
    second = author.call("POST", "/api/v1/posts", json={"title": "second", "body": "two"})
    assert second.status_code == 201, second.text
    page = unit_client.get("/").text
    assert "&middot; 2 posts</span>" in page, page[page.find("Page 1") :][:200]
    assert "投稿 2 件" in unit_client.get("/", headers=JA).text


def test_the_ttl_lab_counts_one_expired_item_as_one() -> None:
    with use_language("en"):
        one = ngettext(
            "Cleaning up {manual_deleted} expired item",
            "Cleaning up {manual_deleted} expired items",
            1,
        ).format(manual_deleted=1)
    assert one == "Cleaning up 1 expired item"
