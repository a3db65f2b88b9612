"""Comments on moto in-process: threads, pagination, idempotent posts, edits, deletes, escaping."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from peewee import OperationalError
from pynamodb.exceptions import PutError

from activity.models import Activity
from engagement import posts
from engagement.comments import service as comments
from engagement.comments.models import Comment, CommentRequest
from shared import events
from tests.unit.engagement_fixtures import htmx, new_post


def comment(user, post_id: int, body: str = "hello", **extra):  # type: ignore[no-untyped-def]
    headers = extra.pop("headers", {})
    payload = {"body": body, **extra}
    return user.call("POST", f"/api/v1/posts/{post_id}/comments", json=payload, headers=headers)


def thread(client, post_id: int, **params) -> dict:  # type: ignore[no-untyped-def,type-arg]
    response = client.get(f"/api/v1/posts/{post_id}/comments", params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def all_pages(client, post_id: int, limit: int) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    items, cursor = [], None
    while True:
        page = thread(client, post_id, limit=limit, **({"cursor": cursor} if cursor else {}))
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


@pytest.fixture
def post(unit_client, make_user):  # type: ignore[no-untyped-def]
    author = make_user(unit_client)
    return SimpleNamespace(author=author, id=new_post(author))


def test_post_a_comment_and_a_reply_and_read_the_thread_oldest_first(unit_client, post) -> None:
    created = comment(post.author, post.id, "first")
    assert created.status_code == 201
    first = created.json()
    assert first["body"] == "first" and first["parent_id"] is None and first["version"] == 1
    assert re.fullmatch(r"\d{8}T\d{12}Z-[0-9a-f]{12}", first["comment_id"])
    reply = comment(post.author, post.id, "a reply", parent_id=first["comment_id"]).json()
    deeper = comment(post.author, post.id, "deeper", parent_id=reply["comment_id"]).json()
    items = thread(unit_client, post.id)["items"]
    assert [c["body"] for c in items] == ["first", "a reply", "deeper"]
    assert [c["parent_id"] for c in items] == [None, first["comment_id"], reply["comment_id"]]
    assert items[0]["reply_count"] == 1 and items[2]["comment_id"] == deeper["comment_id"]


def _fake(comment_id: str, parent_id: str | None = None) -> Comment:
    return Comment(1, comment_id, parent_id=parent_id)


def test_thread_is_assembled_in_one_pass_from_sort_key_order() -> None:
    flat = [
        _fake("a"),
        _fake("b", "a"),
        _fake("c"),
        _fake("d", "b"),
        _fake("e", "a"),
        _fake("f", "z"),  # its parent is on an earlier page
        _fake("g", "h"),  # clock skew: sorts before its parent
        _fake("h", "c"),
    ]
    roots, detached = comments.assemble_thread(flat)
    shape = {n.comment.comment_id: [r.comment.comment_id for r in n.replies] for n in roots}
    assert shape == {"a": ["b", "e"], "c": ["h"]}
    assert [r.comment.comment_id for r in roots[0].replies[0].replies] == ["d"]
    assert [r.comment.comment_id for r in roots[1].replies[0].replies] == ["g"]
    assert list(detached) == ["z"]
    steps = comments.thread_steps(roots)
    opened = [(s.node.comment.comment_id, s.depth) for s in steps if s.node]
    assert opened == [("a", 0), ("b", 1), ("d", 2), ("e", 1), ("c", 0), ("h", 1), ("g", 2)]
    assert len(steps) == 2 * len(opened)


def test_a_very_deep_thread_renders_without_recursion(unit_client, post) -> None:
    parent = None
    for depth in range(60):
        parent = comment(post.author, post.id, f"level {depth}", parent_id=parent).json()[
            "comment_id"
        ]
    page = post.author.client.get(f"/posts/{post.id}")
    assert page.status_code == 200
    assert page.text.count('class="comment"') == 20  # the first page
    assert 'class="replies flat"' in page.text


def test_pages_never_lose_or_repeat_comments_while_new_ones_arrive(
    unit_client, make_user, post
) -> None:
    other = make_user(unit_client)
    created = [comment(post.author, post.id, f"c{i}").json()["comment_id"] for i in range(12)]
    seen, cursor = [], None
    while True:
        page = thread(unit_client, post.id, limit=5, **({"cursor": cursor} if cursor else {}))
        seen += [c["comment_id"] for c in page["items"]]
        if len(seen) == 5:
            created.append(comment(other, post.id, "arrived meanwhile").json()["comment_id"])
            reply = comment(other, post.id, "late reply", parent_id=created[0]).json()
            created.append(reply["comment_id"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == created
    assert len(set(seen)) == len(seen) == 14


def test_load_more_appends_in_place_and_attaches_replies_to_earlier_parents(
    unit_client, post
) -> None:
    first = comment(post.author, post.id, "parent on page one").json()["comment_id"]
    for i in range(comments.COMMENTS_PER_PAGE - 1):
        comment(post.author, post.id, f"filler {i}")
    late = comment(post.author, post.id, "late reply", parent_id=first).json()["comment_id"]
    comment(post.author, post.id, "new top-level")
    page = post.author.client.get(f"/posts/{post.id}")
    assert "late reply" not in page.text and 'data-testid="load-more"' in page.text
    cursor = re.search(r'hx-get="/posts/\d+/comments\?cursor=([^"]+)"', page.text).group(1)

    more = post.author.client.get(
        f"/posts/{post.id}/comments?cursor={cursor}", headers=htmx(post.author)
    )
    assert more.status_code == 200 and "<html" not in more.text
    assert f'hx-swap-oob="beforeend:#replies-c-{first}"' in more.text
    assert f'id="c-{late}"' in more.text and "new top-level" in more.text
    assert 'hx-swap-oob="beforeend:#comment-thread"' in more.text
    assert 'data-testid="load-more"' not in more.text and 'value="1"' in more.text

    plain = unit_client.get(f"/posts/{post.id}/comments?cursor={cursor}")
    assert plain.status_code == 200 and "<html" in plain.text
    assert "In reply to" in plain.text and "late reply" in plain.text


def test_a_bad_cursor_is_a_clear_400_not_a_500(unit_client, post) -> None:
    for cursor in ["garbage", "eyJwIjoxfQ.AAAA.BBBB", "x" * 600]:
        api = unit_client.get(f"/api/v1/posts/{post.id}/comments", params={"cursor": cursor})
        assert api.status_code in (400, 422) and "detail" in api.json(), cursor
        page = unit_client.get(f"/posts/{post.id}/comments", params={"cursor": cursor})
        assert page.status_code in (400, 422) and "<html" in page.text, cursor


def test_a_cursor_of_another_posts_thread_is_refused(unit_client, post) -> None:
    other = new_post(post.author, "other")
    for _ in range(3):
        comment(post.author, other)
    cursor = thread(unit_client, other, limit=1)["next_cursor"]
    response = unit_client.get(f"/api/v1/posts/{post.id}/comments", params={"cursor": cursor})
    assert response.status_code == 400 and "belongs to another list" in response.json()["detail"]
    assert thread(unit_client, post.id, limit=1)["items"] == []
    assert unit_client.get(f"/api/v1/posts/{post.id}/comments?limit=0").status_code == 422
    assert unit_client.get(f"/api/v1/posts/{post.id}/comments?limit=101").status_code == 422


def test_comment_body_is_required_and_size_limited(post) -> None:
    for body, message in [("", "empty"), ("   ", "empty"), ("x" * 4001, "at most 4000")]:
        response = comment(post.author, post.id, body)
        assert response.status_code == 422 and message in str(response.json()["detail"])
    assert comment(post.author, post.id, "y" * 4000).status_code == 201


def test_script_and_html_in_comments_are_escaped_on_the_page(unit_client, post) -> None:
    payloads = [
        "<script>alert('x')</script>",
        '<img src=x onerror="alert(1)">',
        "</textarea><b>bold</b>",
    ]
    for payload in payloads:
        comment(post.author, post.id, payload)
    html = unit_client.get(f"/posts/{post.id}").text
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>bold" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    api = thread(unit_client, post.id)["items"]
    assert [c["body"] for c in api] == payloads


def test_a_retried_post_with_the_same_key_creates_one_comment(unit_client, make_user, post) -> None:
    key = {"Idempotency-Key": "retry-key-0001"}
    first = comment(post.author, post.id, "once", headers=key)
    again = comment(post.author, post.id, "once", headers=key)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert first.json()["comment_id"] == again.json()["comment_id"]
    in_body = comment(post.author, post.id, "once", idempotency_key="retry-key-0001")
    assert in_body.json()["comment_id"] == first.json()["comment_id"]
    other_user = comment(make_user(unit_client), post.id, "once", headers=key)
    assert other_user.json()["comment_id"] != first.json()["comment_id"]
    assert len(thread(unit_client, post.id)["items"]) == 2
    bad = comment(post.author, post.id, "x", headers={"Idempotency-Key": "no spaces!"})
    assert bad.status_code == 422


def test_a_retry_completes_a_first_attempt_that_died_before_its_comment(
    unit_client, post, monkeypatch
) -> None:
    real_save = Comment.save

    def dies(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise PutError("connection reset")

    monkeypatch.setattr(Comment, "save", dies)
    key = {"Idempotency-Key": "crash-key-0001"}
    assert comment(post.author, post.id, "survives", headers=key).status_code == 503
    monkeypatch.setattr(Comment, "save", real_save)
    (record,) = CommentRequest.query(post.id, CommentRequest.comment_id.startswith("~request#"))
    retried = comment(post.author, post.id, "survives", headers=key)
    assert retried.status_code == 201
    assert retried.json()["comment_id"] == record.target_comment_id
    assert comment(post.author, post.id, "survives", headers=key).json() == retried.json()
    assert len(thread(unit_client, post.id)["items"]) == 1


def test_a_comment_whose_outbox_write_fails_still_reaches_the_activity_log(
    unit_client, post, monkeypatch
) -> None:
    """The comment landed in DynamoDB, then the outbox INSERT failed: 503, and the event went
    straight to the activity log, since the retry finds the comment and publishes nothing."""

    def outbox_down(event: events.Event) -> int:
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(events, "record_alone", outbox_down)
    key = {"Idempotency-Key": "outbox-key-0001"}
    assert comment(post.author, post.id, "kept", headers=key).status_code == 503
    monkeypatch.undo()
    retried = comment(post.author, post.id, "kept", headers=key)
    assert retried.status_code == 201, retried.text
    author_id = post.author.client.get("/api/v1/auth/session").json()["user"]["user_id"]
    logged = [
        a for a in Activity.query(author_id, consistent_read=True) if a.activity_type == "comment"
    ]
    assert [int(a.post_id) for a in logged] == [post.id]


def test_an_expired_request_record_is_treated_as_absent(unit_client, post) -> None:
    key = "expired-key-01"
    old = comment(post.author, post.id, "old", idempotency_key=key).json()
    (record,) = CommentRequest.query(post.id, CommentRequest.comment_id.startswith("~request#"))
    record.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    record.save()
    new = comment(post.author, post.id, "new", idempotency_key=key).json()
    assert new["comment_id"] != old["comment_id"]


def test_the_form_retry_with_the_same_hidden_key_creates_one_comment(unit_client, post) -> None:
    page = post.author.client.get(f"/posts/{post.id}").text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    form = {"body": "from the form", "idempotency_key": key, "thread_complete": "1"}
    first = post.author.client.post(
        f"/posts/{post.id}/comments", data=form, headers=htmx(post.author)
    )
    second = post.author.client.post(
        f"/posts/{post.id}/comments", data=form, headers=htmx(post.author)
    )
    assert first.status_code == second.status_code == 200
    assert 'hx-swap-oob="beforeend:#comment-thread"' in first.text
    new_key = re.search(r'name="idempotency_key" value="([^"]+)"', first.text).group(1)
    assert new_key != key
    assert [c["body"] for c in thread(unit_client, post.id)["items"]] == ["from the form"]


def test_a_form_error_rerenders_the_form_with_the_message_and_the_text(post) -> None:
    form = {"body": "z" * 4001, "idempotency_key": "form-key-0001"}
    response = post.author.client.post(
        f"/posts/{post.id}/comments", data=form, headers=htmx(post.author)
    )
    assert response.status_code == 422
    assert "at most 4,000 characters" in response.text and 'role="alert"' in response.text
    assert 'value="form-key-0001"' in response.text and "z" * 4001 in response.text
    plain = post.author.client.post(
        f"/posts/{post.id}/comments", data={**form, "csrf_token": post.author.csrf()}
    )
    assert plain.status_code == 422 and "<html" in plain.text and "at most 4,000" in plain.text


def test_plain_form_posts_redirect_and_pages_work_without_htmx(unit_client, post) -> None:
    client, csrf = post.author.client, post.author.csrf()
    response = client.post(
        f"/posts/{post.id}/comments",
        data={"body": "plain", "csrf_token": csrf, "idempotency_key": "plain-key-001"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    comment_id = response.headers["location"].split("#c-")[1]
    for path in ("", "/reply", "/edit"):
        page = client.get(f"/posts/{post.id}/comments/{comment_id}{path}")
        assert page.status_code == 200 and "<html" in page.text, path
    reply = client.post(
        f"/posts/{post.id}/comments",
        data={"body": "plain reply", "parent_id": comment_id, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert reply.status_code == 303
    assert client.get(f"/posts/{post.id}").text.count('class="comment"') == 2
    assert unit_client.get(f"/posts/{post.id}/comments/{comment_id}/edit").status_code == 401
    assert unit_client.get(f"/posts/{post.id}/comments/not-an-id").status_code == 404


def test_edit_your_own_comment_and_a_stale_edit_is_refused(unit_client, make_user, post) -> None:
    created = comment(post.author, post.id, "v1").json()
    url = f"/api/v1/posts/{post.id}/comments/{created['comment_id']}"
    edited = post.author.call("PATCH", url, json={"body": "v2", "version": 1})
    assert edited.status_code == 200
    assert edited.json()["body"] == "v2" and edited.json()["version"] == 2
    assert edited.json()["edited_at"] is not None
    stale = post.author.call("PATCH", url, json={"body": "v1 again", "version": 1})
    assert stale.status_code == 409 and "changed after you opened it" in stale.json()["detail"]
    assert unit_client.get(url).json()["body"] == "v2"
    stranger = make_user(unit_client)
    assert stranger.call("PATCH", url, json={"body": "mine", "version": 2}).status_code == 403
    assert stranger.call("DELETE", url).status_code == 403
    too_long = post.author.call("PATCH", url, json={"body": "x" * 4001, "version": 2})
    assert too_long.status_code == 422


def test_an_edit_racing_another_edit_fails_on_the_version_condition(post, monkeypatch) -> None:
    created = comment(post.author, post.id, "v1").json()
    url = f"/api/v1/posts/{post.id}/comments/{created['comment_id']}"
    real_update = Comment.update

    def someone_edits_first(self, actions, condition=None, **kwargs):  # type: ignore[no-untyped-def]
        monkeypatch.setattr(Comment, "update", real_update)
        fresh = Comment.get(self.post_id, self.comment_id)
        fresh.update(actions=[Comment.body.set("from the other tab")])
        return real_update(self, actions, condition=condition, **kwargs)

    monkeypatch.setattr(Comment, "update", someone_edits_first)
    response = post.author.call("PATCH", url, json={"body": "mine", "version": 1})
    assert response.status_code == 409
    assert post.author.client.get(url).json()["body"] == "from the other tab"


def test_htmx_edit_swaps_the_comment_and_a_stale_one_shows_the_message(post) -> None:
    created = comment(post.author, post.id, "before").json()
    base = f"/posts/{post.id}/comments/{created['comment_id']}"
    form = post.author.client.get(f"{base}/edit", headers=htmx(post.author))
    assert 'name="version" value="1"' in form.text and "<html" not in form.text
    saved = post.author.client.post(
        f"{base}/edit", data={"body": "after", "version": "1"}, headers=htmx(post.author)
    )
    assert saved.status_code == 200 and "after" in saved.text and "edited" in saved.text
    stale = post.author.client.post(
        f"{base}/edit", data={"body": "lost?", "version": "1"}, headers=htmx(post.author)
    )
    assert stale.status_code == 409 and "changed after you opened it" in stale.text
    assert "lost?" in stale.text


def test_deleting_a_comment_with_replies_keeps_the_thread_shape(unit_client, post) -> None:
    parent = comment(post.author, post.id, "parent").json()["comment_id"]
    child = comment(post.author, post.id, "child", parent_id=parent).json()["comment_id"]
    grandchild = comment(post.author, post.id, "grandchild", parent_id=child).json()["comment_id"]
    api = f"/api/v1/posts/{post.id}/comments"
    assert post.author.call("DELETE", f"{api}/{parent}").status_code == 204
    items = thread(unit_client, post.id)["items"]
    assert [(c["body"], c["deleted"]) for c in items] == [
        ("", True),
        ("child", False),
        ("grandchild", False),
    ]
    assert "[deleted]" in unit_client.get(f"/posts/{post.id}").text
    assert post.author.call("DELETE", f"{api}/{parent}").status_code == 204
    edit = post.author.call("PATCH", f"{api}/{parent}", json={"body": "back", "version": 2})
    assert edit.status_code == 409
    refused = comment(post.author, post.id, "reply to the dead", parent_id=parent)
    assert refused.status_code == 422 and "was deleted" in refused.json()["detail"]

    assert post.author.call("DELETE", f"{api}/{grandchild}").status_code == 204
    assert [c["body"] for c in thread(unit_client, post.id)["items"]] == ["", "child"]
    assert post.author.call("DELETE", f"{api}/{child}").status_code == 204
    assert thread(unit_client, post.id)["items"] == []  # the empty marker went with its last reply
    assert post.author.call("DELETE", f"{api}/{child}").status_code == 404


def test_htmx_delete_removes_a_leaf_and_marks_a_parent(post) -> None:
    parent = comment(post.author, post.id, "parent").json()["comment_id"]
    leaf = comment(post.author, post.id, "leaf", parent_id=parent).json()["comment_id"]
    base = f"/posts/{post.id}/comments"
    marked = post.author.client.post(f"{base}/{parent}/delete", headers=htmx(post.author))
    assert marked.status_code == 200 and "[deleted]" in marked.text
    removed = post.author.client.post(f"{base}/{leaf}/delete", headers=htmx(post.author))
    assert removed.headers["HX-Reswap"] == "delete"
    assert removed.headers["HX-Retarget"] == f"#c-{leaf}"


def test_replying_needs_an_existing_parent_on_the_same_post(unit_client, post) -> None:
    other = new_post(post.author, "other")
    foreign = comment(post.author, other, "elsewhere").json()["comment_id"]
    response = comment(post.author, post.id, "reply", parent_id=foreign)
    assert response.status_code == 422
    assert comment(post.author, post.id, "reply", parent_id="nope").status_code == 404
    assert comment(post.author, 999, "no post").status_code == 404
    token = unit_client.get("/api/v1/auth/session").json()["csrf_token"]
    anonymous = unit_client.post(
        f"/api/v1/posts/{post.id}/comments", json={"body": "hi"}, headers={"X-CSRF-Token": token}
    )
    assert anonymous.status_code == 401


def test_post_deletion_removes_its_comments_and_request_records(unit_client, post) -> None:
    kept = new_post(post.author, "kept")
    parent = comment(post.author, post.id, "p", idempotency_key="delete-key-001").json()
    comment(post.author, post.id, "r", parent_id=parent["comment_id"])
    comment(post.author, kept, "stays")
    assert post.author.call("DELETE", f"/api/v1/posts/{post.id}").status_code == 204
    assert list(Comment.query(post.id)) == []
    assert [c.body for c in Comment.query(kept)] == ["stays"]


def test_a_comment_landing_while_its_post_is_deleted_leaves_no_orphan(
    unit_client, post, monkeypatch
) -> None:
    """Same race as for likes: the comment is written after the post's clean-up ran."""
    assert post.author.call("DELETE", f"/api/v1/posts/{post.id}").status_code == 204
    monkeypatch.setattr(posts, "require_post", lambda *, post_id: None)
    assert comment(post.author, post.id, "too late").status_code == 404
    assert list(Comment.query(post.id)) == []


def test_a_comment_in_json_keeps_its_field_names_and_iso_times(unit_client, post) -> None:
    created = comment(post.author, post.id, "shape").json()
    assert set(created) == {
        "comment_id",
        "post_id",
        "parent_id",
        "body",
        "deleted",
        "author",
        "created_at",
        "edited_at",
        "reply_count",
        "version",
    }
    assert set(created["author"]) == {"user_id", "username", "display_name"}
    assert created["post_id"] == post.id and created["edited_at"] is None
    assert created["created_at"].endswith("+00:00")
    assert datetime.fromisoformat(created["created_at"]).tzinfo is not None
    page = thread(unit_client, post.id)
    assert set(page) == {"items", "next_cursor"} and page["items"] == [created]


def test_openapi_describes_every_engagement_response_body(unit_client) -> None:
    spec = unit_client.get("/openapi.json").json()
    described = {}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if "engagement" not in operation.get("tags", []):
                continue
            for status, response in operation["responses"].items():
                if status.startswith("2") and status != "204":
                    schema = response["content"]["application/json"]["schema"]
                    described[f"{method.upper()} {path} {status}"] = schema
    assert len(described) == 8
    assert all(schema.get("$ref") for schema in described.values()), described
    created_at = spec["components"]["schemas"]["CommentOut"]["properties"]["created_at"]
    assert created_at["type"] == "string" and created_at["format"] == "date-time"
