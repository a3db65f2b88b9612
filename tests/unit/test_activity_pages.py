"""The activity pages on moto in-process: full pages, htmx fragments, the post page's panel, and
a DynamoDB failure that must not break the post page."""

from __future__ import annotations

import re

import pytest

from activity.models import Activity
from shared import events
from tests.unit.activity_fixtures import ago, happened, person, viewed

HTMX = {"HX-Request": "true"}


@pytest.fixture
def alice(unit_client, make_user):  # type: ignore[no-untyped-def]
    return person(unit_client, make_user, "alice")


def timestamps(html: str) -> list[str]:
    return re.findall(r'data-timestamp="([^"]+)"', html)


def older_link(html: str) -> str:
    match = re.search(r'hx-get="([^"]+)"', html)
    assert match, "no Older link"
    return match.group(1).replace("&amp;", "&")


def test_user_page_lists_the_latest_activities_as_the_api_does(unit_client, alice) -> None:
    post_id = alice.write_post("Sort keys")
    for minutes in (3, 2, 1):
        happened(events.PostLiked, alice, post_id, ago(minutes=minutes))
    page = unit_client.get("/users/alice")
    assert page.status_code == 200
    assert "<h1>@alice: latest activity</h1>" in page.text
    api = unit_client.get("/api/v1/users/alice/activities").json()["items"]
    assert timestamps(page.text) == [item["timestamp"] for item in api]
    assert "Sort keys" in page.text
    assert 'data-testid="read-cost"' in page.text and "Query on activities" in page.text


def test_older_works_as_a_full_page_and_as_an_htmx_fragment(unit_client, alice) -> None:
    post_id = alice.write_post()
    for minutes in range(1, 6):
        happened(events.PostLiked, alice, post_id, ago(minutes=minutes))
    first = unit_client.get("/users/alice", params={"limit": 2})
    url = older_link(first.text)
    full = unit_client.get(url)
    fragment = unit_client.get(url, headers=HTMX)
    assert full.status_code == fragment.status_code == 200
    assert "<html" in full.text and "<html" not in fragment.text
    assert timestamps(full.text) == timestamps(fragment.text)
    assert len(timestamps(fragment.text)) == 2
    assert not set(timestamps(first.text)) & set(timestamps(fragment.text))
    assert 'hx-target="closest .older"' in fragment.text


def test_unknown_user_page_is_a_404_page(unit_client) -> None:
    response = unit_client.get("/users/nobody")
    assert response.status_code == 404
    assert "There is no user" in response.text and "<html" in response.text


def test_activity_page_shows_one_type_with_a_selector(unit_client, alice) -> None:
    post_id = alice.write_post()
    happened(events.PostLiked, alice, post_id, ago(minutes=1))
    happened(events.CommentAdded, alice, post_id, ago(minutes=2), comment_id="c")
    likes = unit_client.get("/activity", params={"type": "like"})
    assert likes.status_code == 200
    assert '<option value="like" selected>' in likes.text
    assert re.findall(r'data-activity-type="(\w+)" data-timestamp', likes.text) == ["like"]
    default = unit_client.get("/activity")
    assert timestamps(default.text) == timestamps(likes.text)


def test_an_unknown_type_on_the_page_is_a_422_with_a_message(unit_client) -> None:
    response = unit_client.get("/activity", params={"type": "<script>"})
    assert response.status_code == 422
    assert "type: Input should be" in response.text
    assert "<script>" not in response.text


def test_post_page_shows_the_post_timeline_panel(unit_client, alice) -> None:
    post_id = alice.write_post("<script>alert(1)</script>")
    happened(events.PostLiked, alice, post_id, ago(hours=1))
    page = alice.api.client.get(f"/posts/{post_id}")
    assert page.status_code == 200
    panel = page.text[page.text.index('data-testid="post-timeline"') :]
    assert re.findall(r'data-activity-type="(\w+)" data-timestamp', panel) == [
        "post",
        "view",
        "like",
    ]
    assert "<script>alert(1)</script>" not in page.text


def test_post_timeline_page_pages_older_items(unit_client, alice) -> None:
    post_id = alice.write_post("Timeline")
    for minutes in range(1, 13):
        happened(events.PostLiked, alice, post_id, ago(minutes=minutes))
    panel_page = unit_client.get(f"/posts/{post_id}")
    url = older_link(panel_page.text)
    assert url.startswith(f"/posts/{post_id}/activity?")
    rest = unit_client.get(url, headers=HTMX)
    assert len(timestamps(rest.text)) == 3
    full = unit_client.get(f"/posts/{post_id}/activity")
    assert full.status_code == 200 and "Timeline" in full.text
    assert unit_client.get("/posts/4242/activity").status_code == 404


def test_a_dynamodb_failure_never_breaks_the_post_page(unit_client, alice, caplog) -> None:
    post_id = alice.write_post("Still readable")
    Activity.delete_table()
    viewed(alice, post_id, ago(minutes=1))
    page = alice.api.client.get(f"/posts/{post_id}")
    assert page.status_code == 200
    assert "Still readable" in page.text
    assert "The activity log is unavailable right now" in page.text
    assert "not logged" in caplog.text


def test_history_of_a_deleted_post_stays_without_a_dead_link(unit_client, make_user) -> None:
    """The log is history: deleting the post (an RDB row) keeps what people did, unlinked."""
    author = make_user(unit_client, "hist_author")
    post_id = author.call("POST", "/api/v1/posts", json={"title": "gone soon", "body": "b"}).json()[
        "id"
    ]
    assert author.call("DELETE", f"/api/v1/posts/{post_id}").status_code == 204
    page = unit_client.get("/users/hist_author").text
    assert f"a deleted post (#{post_id})" in page
    assert f'href="/posts/{post_id}"' not in page
