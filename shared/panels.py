"""Page slots that contexts fill without knowing each other.

The blog renders a post page; engagement (likes, comments) and activity (the post's timeline)
add their panels to it by registering a renderer for a named slot. The blog never imports
them, and a context can be removed without touching the page that hosts it.

Panels and badges are the parts of a page that live in DynamoDB. When it does not answer, a
panel is replaced by the outage notice and badges are left out: the host page (its post, its
list of posts, all from the RDB) is still served.

Lesson links work the same way: a page's lesson panel calls `lesson_links("<page>")`, and the
lens registers the labs that prove that lesson, so a page names no lab and works without one.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from fastapi import Request
from markupsafe import Markup, escape

from shared.i18n import gettext as _
from shared.outage import dynamodb_unavailable, mark_unavailable, notice

log = logging.getLogger(__name__)

POST_PAGE = "post_page"
"""The post page's panels, below the post: `renderer(request, post_id=..., author_id=...)`."""
POST_LIST = "post_list"
"""Badges beside each post of a list: `renderer(request, ids=[...]) -> {post_id: markup}`."""

ENGAGEMENT_ORDER = 20
"""The like button and the comment thread come first, right under the post."""
TIMELINE_ORDER = 200
"""The post's activity timeline comes last."""

Renderer = Callable[..., Markup]
_slots: dict[str, list[tuple[int, Renderer, str]]] = defaultdict(list)


def register_panel(slot: str, renderer: Renderer, *, order: int = 100, unavailable: str) -> None:
    """`unavailable` (marked with `N_`) is the notice shown in the panel's place when DynamoDB
    does not answer: it names what is missing ("the comments are not shown"), since the reader
    sees a notice where the panel would be, not the panel."""
    if all(existing is not renderer for _, existing, _notice in _slots[slot]):
        _slots[slot].append((order, renderer, unavailable))
        _slots[slot].sort(key=lambda entry: entry[0])


def render_slot(slot: str, request: Request, **kwargs: Any) -> list[Markup]:
    """Render every panel of a slot, in order. The host passes what it already knows (the
    post page: `post_id`, `author_id`), so a panel need not read it again."""
    return [
        _panel_or_notice(renderer, unavailable, request, kwargs)
        for _, renderer, unavailable in _slots.get(slot, [])
    ]


def _panel_or_notice(
    renderer: Renderer, unavailable: str, request: Request, kwargs: dict[str, Any]
) -> Markup:
    try:
        return renderer(request, **kwargs)
    except Exception as exc:
        if not dynamodb_unavailable(exc):
            raise
        log.warning("panel %s not shown, DynamoDB unavailable: %s", renderer.__qualname__, exc)
        return notice(request, message=unavailable)


BadgeRenderer = Callable[..., dict[int, Markup]]
_badges: dict[str, list[BadgeRenderer]] = defaultdict(list)


def register_badges(slot: str, renderer: BadgeRenderer) -> None:
    """A renderer that decorates many items at once (one batch read, not one read per item)."""
    if renderer not in _badges[slot]:
        _badges[slot].append(renderer)


def render_badges(slot: str, request: Request, *, ids: list[int]) -> dict[int, list[Markup]]:
    result: dict[int, list[Markup]] = {i: [] for i in ids}
    for renderer in _badges.get(slot, []):
        try:
            badges = renderer(request, ids=ids)
        except Exception as exc:
            if not dynamodb_unavailable(exc):
                raise
            log.warning("badges %s not shown, DynamoDB unavailable: %s", renderer.__qualname__, exc)
            mark_unavailable(request)
            continue
        for item_id, markup in badges.items():
            result.setdefault(item_id, []).append(markup)
    return result


_lesson_links: dict[str, list[tuple[str, str, tuple[tuple[str, str], ...]]]] = defaultdict(list)
LESSON_PAGES = ("feed", "user_activity", "activity_by_type", "likes", "sign_in")
"""Pages whose lesson panel offers links to experiments that prove it (the labs)."""


def register_lesson_link(
    page: str, *, href: str, label: str, values: dict[str, str] | None = None
) -> None:
    """Offer a link in a page's lesson panel; the page draws it with `lesson_links(page)`.

    `label` is a msgid (mark it with `N_`), translated when the page is drawn, and `values`
    fill its `{placeholders}` (`N_("the {name} lab")`, `{"name": "counter"}`)."""
    if page not in LESSON_PAGES:
        raise ValueError(f"no lesson panel is named {page!r}; known: {', '.join(LESSON_PAGES)}")
    link = (href, label, tuple(sorted((values or {}).items())))
    if link not in _lesson_links[page]:
        _lesson_links[page].append(link)


def lesson_links(page: str) -> Markup:
    """The links offered for one page's lesson panel, in the request's language, or nothing
    when none are registered."""
    links = _lesson_links.get(page, [])
    if not links:
        return Markup("")
    anchors = Markup(", ").join(
        Markup('<a href="{}" data-testid="lesson-lab-link">{}</a>').format(
            href, _(label).format(**dict(values))
        )
        for href, label, values in links
    )
    return Markup('<span class="lesson-links">{}</span>').format(
        Markup(escape(_("See it happen: {links}."))).format(links=anchors)
    )
