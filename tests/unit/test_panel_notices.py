"""When DynamoDB does not answer, a post page panel is replaced by a notice that names what is
missing: the reader sees the notice where the comments would be, so it must say "comments"."""

from __future__ import annotations

from botocore.exceptions import EndpointConnectionError
from fastapi import Request
from markupsafe import Markup

from engagement.comments import router as comments_router
from engagement.likes import router as likes_router
from shared import panels
from shared.i18n import gettext, use_language

SLOT = "test_slot"


def request() -> Request:
    return Request(
        {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
    )


def test_a_panel_that_meets_an_outage_is_replaced_by_its_own_notice() -> None:
    def down(_request: Request, **_facts: object) -> Markup:
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")

    panels.register_panel(
        SLOT,
        down,
        unavailable="DynamoDB is unavailable: the comments are not shown.",
    )
    try:
        (shown,) = panels.render_slot(SLOT, request())
    finally:
        panels._slots.pop(SLOT)
    assert 'data-testid="dynamodb-notice"' in shown and "the comments are not shown" in shown


def test_the_post_page_panels_name_what_they_stand_in_for_in_both_languages(unit_client) -> None:
    notices = {renderer: text for _, renderer, text in panels._slots[panels.POST_PAGE]}
    assert "comments" in notices[comments_router.thread_panel]
    assert "like count" in notices[likes_router.likes_panel]
    with use_language("ja"):
        assert "コメント" in gettext(notices[comments_router.thread_panel])
        assert "いいね" in gettext(notices[likes_router.likes_panel])
