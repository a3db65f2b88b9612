"""A hostile-input matrix: what a stranger can send, and what the app must answer.

One app for the module (the cases only read, or write rows nobody else reads), with server
errors returned as responses rather than raised, so a 500 is seen as the status a browser gets.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from tests.conftest import in_process_app

HTMX = {"HX-Request": "true"}
FORM = {"content-type": "application/x-www-form-urlencoded"}
SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "referrer-policy")
LONG = "x" * 5_000  # over every text limit: the form comes back with the input in it
XSS = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "</textarea><script>alert(1)</script>",
    '<a href="javascript:alert(1)">x</a>',
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp_path: Path = tmp_path_factory.mktemp("hostile")
    with pytest.MonkeyPatch.context() as monkeypatch, in_process_app(monkeypatch, tmp_path) as app:

        def fail() -> None:
            raise RuntimeError("a bug")

        app.app.add_api_route("/api/v1/test-failure", fail)  # type: ignore[attr-defined]
        app.app.add_api_route("/test-failure", fail)  # type: ignore[attr-defined]
        yield TestClient(app.app, raise_server_exceptions=False)


def token(client: TestClient) -> str:
    return str(client.get("/api/v1/auth/session").json()["csrf_token"])


# -- CSRF tokens that are not ASCII -------------------------------------------------------------

UNSAFE_FORMS = ("/login", "/signup", "/logout", "/posts", "/posts/1/like", "/posts/1/comments")
UNSAFE_API = ("/api/v1/posts", "/api/v1/auth/login", "/api/v1/posts/1/comments")
ODD_TOKENS = ("é", "☃", "\U0001f600", "a" * 63 + "é")


@pytest.mark.parametrize("path", UNSAFE_FORMS)
@pytest.mark.parametrize("sent", ODD_TOKENS)
def test_a_non_ascii_csrf_field_is_a_403_page(client: TestClient, path: str, sent: str) -> None:
    response = client.post(path, data={"csrf_token": sent, "username": "x"})
    assert response.status_code == 403
    assert "CSRF token is wrong" in response.text


@pytest.mark.parametrize("path", UNSAFE_API)
@pytest.mark.parametrize("sent", ODD_TOKENS)
def test_a_non_ascii_csrf_header_is_a_403_json(client: TestClient, path: str, sent: str) -> None:
    response = client.post(path, json={}, headers={"X-CSRF-Token": sent.encode()})
    assert response.status_code == 403
    assert "CSRF token is wrong" in response.json()["detail"]


# -- bodies over the limit ----------------------------------------------------------------------


def chunked(total: int, prefix: bytes = b"", suffix: bytes = b"") -> Iterator[bytes]:
    """A body without Content-Length: the size is only known by reading it."""
    yield prefix
    for _ in range(total // 16_384):
        yield b"x" * 16_384
    yield suffix


OVERSIZED = 300_000


def oversized_json(client: TestClient, declared: bool) -> object:
    body = b'{"title": "t", "body": "' + b"x" * OVERSIZED + b'"}'
    headers = {"X-CSRF-Token": token(client), "content-type": "application/json"}
    content = body if declared else chunked(OVERSIZED, b'{"title": "t", "body": "', b'"}')
    return client.post("/api/v1/posts", content=content, headers=headers)


def oversized_form(client: TestClient, declared: bool) -> object:
    prefix = f"csrf_token={token(client)}&username=".encode()
    body = prefix + b"x" * OVERSIZED
    content = body if declared else chunked(OVERSIZED, prefix)
    return client.post("/signup", content=content, headers=FORM)


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_an_oversized_json_body_is_413_json(client: TestClient, declared: bool) -> None:
    response = oversized_json(client, declared)
    assert response.status_code == 413  # type: ignore[attr-defined]
    assert "too large" in response.json()["detail"]  # type: ignore[attr-defined]
    assert all(name in response.headers for name in SECURITY_HEADERS)  # type: ignore[attr-defined]


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_an_oversized_form_is_a_413_page(client: TestClient, declared: bool) -> None:
    response = oversized_form(client, declared)
    assert response.status_code == 413  # type: ignore[attr-defined]
    assert "too large" in response.text  # type: ignore[attr-defined]
    assert "<h1>Request too large</h1>" in response.text  # type: ignore[attr-defined]
    assert all(name in response.headers for name in SECURITY_HEADERS)  # type: ignore[attr-defined]


# -- security headers on every kind of error ----------------------------------------------------

ERRORS: dict[str, Callable[[TestClient], object]] = {
    "500 page": lambda c: c.get("/test-failure"),
    "500 json": lambda c: c.get("/api/v1/test-failure"),
    "404 page": lambda c: c.get("/no-such-page"),
    "403 csrf": lambda c: c.post("/login", data={"csrf_token": "x"}),
    "422 page": lambda c: c.get("/posts/abc"),
    "413 page": lambda c: oversized_form(c, declared=False),
}


@pytest.mark.parametrize("case", ERRORS)
def test_error_responses_carry_the_security_headers(client: TestClient, case: str) -> None:
    response = ERRORS[case](client)
    assert response.status_code >= 400  # type: ignore[attr-defined]
    headers = response.headers  # type: ignore[attr-defined]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"


def test_a_500_page_is_styled_and_says_nothing_of_the_bug(client: TestClient) -> None:
    response = client.get("/test-failure")
    assert response.status_code == 500
    assert "<h1>Something went wrong</h1>" in response.text
    assert "a bug" not in response.text and "RuntimeError" not in response.text


# -- the Host header -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/login", "/design", "/no-such-page"])
def test_asset_urls_never_carry_the_host_header(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"Host": "evil.example"})
    assert "evil.example" not in response.text
    assert 'src="/static/htmx-' in response.text


# -- cross-site scripting in every field, as pages and as htmx fragments ------------------------


class Author:
    """Someone whose display name, post title, post body and comment are all one payload."""

    def __init__(self, app: TestClient, payload: str) -> None:
        self.client = TestClient(app.app, raise_server_exceptions=False)
        self.username = f"x{uuid.uuid4().hex[:12]}"
        credentials = {"username": self.username, "password": "password-123"}
        self.post("/api/v1/auth/signup", {**credentials, "display_name": payload})
        post = self.post("/api/v1/posts", {"title": payload, "body": payload})
        self.post_id = post["id"]
        comment = self.post(f"/api/v1/posts/{self.post_id}/comments", {"body": payload})
        self.comment_id = comment["comment_id"]

    def post(self, url: str, body: dict[str, str]) -> dict[str, object]:
        response = self.client.post(url, json=body, headers={"X-CSRF-Token": token(self.client)})
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    def form(self, url: str, data: dict[str, str]) -> object:
        data = {"csrf_token": token(self.client), **data}
        return self.client.post(url, data=data, headers=HTMX)


@pytest.fixture(scope="module")
def authors(client: TestClient) -> dict[str, Author]:
    return {payload: Author(client, payload) for payload in XSS}


def _views(a: Author, p: str) -> dict[str, Callable[[], object]]:
    post, comment = f"/posts/{a.post_id}", f"/posts/{a.post_id}/comments/{a.comment_id}"
    return {
        "post page": lambda: a.client.get(post),
        "post list": lambda: a.client.get("/"),
        "edit post page": lambda: a.client.get(f"{post}/edit"),
        "user page": lambda: a.client.get(f"/users/{a.username}"),
        "activity page": lambda: a.client.get("/activity", params={"type": "comment"}),
        "feed page": lambda: a.client.get("/feed"),
        "thread fragment": lambda: a.client.get(f"{post}/comments", headers=HTMX),
        "comment fragment": lambda: a.client.get(comment, headers=HTMX),
        "comment edit fragment": lambda: a.client.get(f"{comment}/edit", headers=HTMX),
        "post form error fragment": lambda: a.form("/posts", {"title": p, "body": ""}),
        "comment form error fragment": lambda: a.form(f"{post}/comments", {"body": p + LONG}),
        "login error fragment": lambda: a.form("/login", {"username": p, "password": "x"}),
        "signup error fragment": lambda: a.form("/signup", {"username": p, "display_name": p}),
    }


VIEWS = [
    "post page",
    "post list",
    "edit post page",
    "user page",
    "activity page",
    "feed page",
    "thread fragment",
    "comment fragment",
    "comment edit fragment",
    "post form error fragment",
    "comment form error fragment",
    "login error fragment",
    "signup error fragment",
]


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("payload", XSS)
def test_a_payload_in_any_field_is_shown_as_text(
    authors: dict[str, Author], payload: str, view: str
) -> None:
    response = _views(authors[payload], payload)[view]()
    html = response.text  # type: ignore[attr-defined]
    assert response.status_code < 500  # type: ignore[attr-defined]
    assert payload not in html
    assert str(escape(payload)) in html, "the payload was not rendered at all"


@pytest.mark.parametrize("payload", XSS)
def test_a_payload_in_a_path_is_shown_as_text(client: TestClient, payload: str) -> None:
    response = client.get("/users/" + payload.replace("/", "%2F"))
    assert response.status_code in (404, 422)
    assert payload not in response.text


def test_an_error_page_calls_no_store(authors: dict[str, Author]) -> None:
    """Drawing an error must not call the store that may have caused it, even for a signed-in
    reader (whose session lives in DynamoDB)."""
    signed_in = authors[XSS[0]].client
    for response in (signed_in.get("/no-such-page"), signed_in.post("/logout")):
        assert response.status_code in (403, 404)
        assert response.headers["x-dynamodb-capacity"].startswith("calls=0;")
