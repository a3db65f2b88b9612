"""HTML pages and htmx fragments: full loads, form errors re-rendered in place, error pages."""

from __future__ import annotations

import pytest

HTMX = {"HX-Request": "true"}


def csrf(client) -> str:  # type: ignore[no-untyped-def]
    return str(client.get("/api/v1/auth/session").json()["csrf_token"])


@pytest.mark.parametrize("path", ["/", "/signup", "/login"])
def test_pages_load_in_full(unit_client, path: str) -> None:
    response = unit_client.get(path)
    assert response.status_code == 200
    assert response.text.startswith("<!doctype html>")
    assert "/static/htmx-2.0.11.min.js" in response.text


def test_wrong_password_rerenders_the_form_fragment_with_401(unit_client, make_user) -> None:
    make_user(unit_client, "dora")
    data = {"username": "dora", "password": "wrong-one", "csrf_token": csrf(unit_client)}
    response = unit_client.post("/login", data=data, headers=HTMX)
    assert response.status_code == 401
    assert "Wrong username or password." in response.text
    assert not response.text.startswith("<!doctype")
    assert 'value="dora"' in response.text


def test_signup_error_fragment_and_full_page_fallback(unit_client) -> None:
    data = {"username": "x", "password": "password-1", "csrf_token": csrf(unit_client)}
    fragment = unit_client.post("/signup", data=data, headers=HTMX)
    full = unit_client.post("/signup", data=data)
    assert fragment.status_code == full.status_code == 422
    assert "3 to 30 characters" in fragment.text and "3 to 30 characters" in full.text
    assert full.text.startswith("<!doctype html>")


def test_successful_htmx_login_redirects_with_hx_redirect(unit_client, make_user) -> None:
    make_user(unit_client, "eve_")
    data = {"username": "eve_", "password": "password-123", "csrf_token": csrf(unit_client)}
    response = unit_client.post("/login", data=data, headers=HTMX)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/"


def test_form_without_csrf_token_is_refused_with_a_page(unit_client) -> None:
    response = unit_client.post("/login", data={"username": "a", "password": "b"})
    assert response.status_code == 403
    assert "CSRF token is missing" in response.text


def test_unknown_page_is_a_404_page_and_api_404_is_json(unit_client) -> None:
    page = unit_client.get("/posts/999")
    assert page.status_code == 404 and "There is no post 999." in page.text
    api = unit_client.get("/api/v1/posts/999")
    assert api.status_code == 404 and api.json() == {"detail": "There is no post 999."}


def test_non_numeric_ids_are_422_not_500(unit_client) -> None:
    assert unit_client.get("/posts/abc").status_code == 422
    assert unit_client.get("/api/v1/posts/abc").status_code == 422
    assert unit_client.get("/?page=0").status_code == 422


@pytest.mark.parametrize(
    "path",
    [
        "/posts/99999999999999999999",
        "/api/v1/posts/2147483648",
        "/api/v1/posts/0/likes",
        "/api/v1/posts/99999999999999999999/activities",
    ],
)
def test_ids_out_of_range_are_422_not_a_database_error(unit_client, path: str) -> None:
    assert unit_client.get(path).status_code == 422


def test_user_content_is_escaped(unit_client, make_user) -> None:
    user = make_user(unit_client)
    payload = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    post_id = user.call("POST", "/api/v1/posts", json={"title": payload, "body": payload}).json()[
        "id"
    ]
    html = unit_client.get(f"/posts/{post_id}").text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_security_headers_on_pages(unit_client) -> None:
    headers = unit_client.get("/").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"


def test_post_page_reads_the_post_once_and_offers_sharding_to_its_author_only(
    unit_client, make_user
) -> None:
    author, reader = make_user(unit_client), make_user(unit_client)
    post_id = author.call("POST", "/api/v1/posts", json={"title": "t", "body": "b"}).json()["id"]
    shard_form = f'action="/posts/{post_id}/likes/shards"'
    assert shard_form in author.client.get(f"/posts/{post_id}").text
    assert shard_form not in reader.client.get(f"/posts/{post_id}").text
    page = author.client.get(f"/posts/{post_id}").text
    assert page.count("INNER JOIN") == 1  # the inspector lists the request's SQL: one post read
