"""The inspector across a redirect: a form's POST answers 303 (or htmx's HX-Redirect) and the
browser draws another page; that page's panel shows what the POST did, once, to that browser
only."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.datastructures import MutableHeaders
from starlette.responses import RedirectResponse

from lens import inspector
from lens.inspector import CARRY_COOKIE, Carried, CarryStore, Recording

HTMX = {"HX-Request": "true"}


def form_sign_up(client: TestClient, username: str, **kwargs: Any) -> httpx.Response:
    csrf = client.get("/api/v1/auth/session").json()["csrf_token"]
    data = {
        "username": username,
        "password": "password-123",
        "display_name": username.title(),
        "csrf_token": csrf,
    }
    return client.post("/signup", data=data, **kwargs)


def previous_sections(page: str) -> list[str]:
    return re.findall(r'data-testid="inspector-previous" data-request="([^"]+)"', page)


def previous_rows(page: str) -> list[tuple[str, str]]:
    """(operation, table) of each call shown under "from the previous request"."""
    rows: list[tuple[str, str]] = []
    for section in re.findall(
        r'<section class="inspector-previous".*?</section>', page, flags=re.DOTALL
    ):
        rows += re.findall(r'<tr data-operation="(\w+)" data-table="([^"]+)"', section)
    return rows


def test_sign_in_by_form_shows_the_session_put_item_on_the_page_it_lands_on(
    unit_client: TestClient,
) -> None:
    page = form_sign_up(unit_client, "carrier")  # follows the 303 to /
    assert page.status_code == 200 and page.url.path == "/"
    assert previous_sections(page.text) == ["POST /signup"]
    assert ("PutItem", "unit-sessions") in previous_rows(page.text)
    assert "303 → /" in page.text
    assert "from <code>POST /signup</code> before the redirect" in page.text
    # SQL of the POST (the new user's INSERT) is carried too, password hash hidden.
    section = page.text[page.text.index('class="inspector-previous"') :]
    assert "INSERT INTO" in section and "$argon2" not in page.text
    # The page's own calls still come after, labelled as this request's.
    assert "This request: <code>GET /</code>" in page.text


def test_the_carried_calls_are_shown_once_and_the_cookie_is_cleared(
    unit_client: TestClient,
) -> None:
    redirect = form_sign_up(unit_client, "onceonly", follow_redirects=False)
    assert redirect.status_code == 303
    assert CARRY_COOKIE in redirect.cookies
    landed = unit_client.get("/")
    assert previous_sections(landed.text) == ["POST /signup"]
    cleared = landed.headers.get_list("set-cookie")
    assert any(c.startswith(f'{CARRY_COOKIE}=""') and "Max-Age=0" in c for c in cleared)
    assert previous_sections(unit_client.get("/").text) == []


def test_an_htmx_form_carries_its_calls_across_hx_redirect(unit_client: TestClient) -> None:
    form_sign_up(unit_client, "htmxwriter")
    csrf = unit_client.get("/api/v1/auth/session").json()["csrf_token"]
    data = {"title": "Carried", "body": "Across HX-Redirect.", "csrf_token": csrf}
    answer = unit_client.post("/posts", data=data, headers=HTMX)
    assert answer.status_code == 204 and answer.headers["HX-Redirect"].startswith("/posts/")
    landed = unit_client.get(answer.headers["HX-Redirect"])  # what htmx makes the browser do
    assert previous_sections(landed.text) == ["POST /posts"]
    assert "204 HX-Redirect: /posts/" in landed.text
    section = landed.text[landed.text.index('class="inspector-previous"') :]
    assert "INSERT INTO" in section  # the post and its outbox row
    assert any(operation == "PutItem" for operation, _table in previous_rows(landed.text))


def test_another_browser_never_sees_the_carried_calls(unit_client: TestClient) -> None:
    redirect = form_sign_up(unit_client, "privateone", follow_redirects=False)
    token = redirect.cookies[CARRY_COOKIE]
    stranger = TestClient(unit_client.app)
    assert previous_sections(stranger.get("/").text) == []
    guessed = TestClient(unit_client.app, cookies={CARRY_COOKIE: token[:-1] + "x"})
    assert previous_sections(guessed.get("/").text) == []
    assert previous_sections(unit_client.get("/").text) == ["POST /signup"]


def test_concurrent_redirects_each_land_with_their_own_calls(unit_client: TestClient) -> None:
    async def sign_up_and_land(client: httpx.AsyncClient, name: str) -> str:
        csrf = (await client.get("/api/v1/auth/session")).json()["csrf_token"]
        data = {"username": name, "password": "password-123", "display_name": name}
        page = await client.post(
            "/signup", data={**data, "csrf_token": csrf}, follow_redirects=True
        )
        return page.text

    async def run_all() -> list[str]:
        transport = httpx.ASGITransport(app=unit_client.app)
        clients = [
            httpx.AsyncClient(transport=transport, base_url="http://testserver") for _ in range(4)
        ]
        try:
            return list(
                await asyncio.gather(
                    *(sign_up_and_land(c, f"racer{n}") for n, c in enumerate(clients))
                )
            )
        finally:
            for client in clients:
                await client.aclose()

    for number, page in enumerate(asyncio.run(run_all())):
        assert previous_sections(page) == ["POST /signup"]
        section = page[page.index('class="inspector-previous"') : page.index("This request:")]
        assert f"racer{number}" in section  # its own INSERT's parameters
        assert not any(f"racer{other}" in section for other in range(4) if other != number)


def test_a_redirect_that_did_nothing_carries_nothing(unit_client: TestClient) -> None:
    unit_client.app.add_api_route(  # type: ignore[attr-defined]
        "/test-bare-redirect", lambda: RedirectResponse("/login", status_code=303)
    )
    answer = unit_client.get("/test-bare-redirect", follow_redirects=False)
    assert answer.status_code == 303 and CARRY_COOKIE not in answer.cookies


def test_a_failed_form_shows_its_calls_on_its_own_page_not_carried(
    unit_client: TestClient,
) -> None:
    form_sign_up(unit_client, "taken")
    fresh = TestClient(unit_client.app)
    page = form_sign_up(fresh, "taken")
    assert page.status_code == 409 and CARRY_COOKIE not in page.cookies
    assert previous_sections(page.text) == []


# -- the store ----------------------------------------------------------------------------------


def carried(path: str) -> Carried:
    return Carried("POST", path, "303 → /", Recording())


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_store_gives_each_recording_once() -> None:
    store = CarryStore()
    token = store.put((carried("/login"),))
    assert [c.path for c in store.take(token)] == ["/login"]
    assert store.take(token) == ()
    assert store.take("never-issued") == ()


def test_store_tokens_are_random_and_long() -> None:
    store = CarryStore()
    tokens = {store.put((carried("/x"),)) for _ in range(50)}
    assert len(tokens) == 50 and all(len(token) >= 43 for token in tokens)


def test_store_forgets_what_nobody_came_back_for() -> None:
    clock = Clock()
    store = CarryStore(ttl=60, clock=clock)
    late = store.put((carried("/late"),))
    clock.now += 30
    soon = store.put((carried("/soon"),))
    clock.now += 31
    assert store.take(late) == ()
    assert [c.path for c in store.take(soon)] == ["/soon"]
    assert len(store) == 0


def test_store_is_bounded_oldest_first() -> None:
    store = CarryStore(capacity=3)
    tokens = [store.put((carried(f"/{n}"),)) for n in range(5)]
    assert len(store) == 3
    assert store.take(tokens[0]) == () and store.take(tokens[1]) == ()
    assert [c.path for c in store.take(tokens[4])] == ["/4"]


def test_store_keeps_only_the_last_redirects_of_a_chain() -> None:
    store = CarryStore()
    token = store.put(tuple(carried(f"/{n}") for n in range(5)))
    assert [c.path for c in store.take(token)] == [
        f"/{n}" for n in range(5 - inspector.CARRY_CHAIN, 5)
    ]


def test_recording_takes_its_previous_requests_lazily_once() -> None:
    token = inspector.carried.put((carried("/login"),))
    rec = Recording(carry_token=token)
    assert not rec.took_previous
    assert [c.path for c in rec.previous] == ["/login"]
    assert rec.took_previous and [c.path for c in rec.previous] == ["/login"]
    assert Recording(carry_token=token).previous == ()


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        (303, {"location": "/"}, "303 → /"),
        (307, {"location": "/a/"}, "307 → /a/"),
        (204, {"hx-redirect": "/posts/7"}, "204 HX-Redirect: /posts/7"),
        (200, {}, None),
        (304, {}, None),
    ],
)
def test_redirect_answer(status: int, headers: dict[str, str], expected: str | None) -> None:
    raw = [(k.encode(), v.encode()) for k, v in headers.items()]
    assert inspector.redirect_answer(status, MutableHeaders(raw=raw)) == expected
