"""Password guessing is slowed per (username, address) pair and capped per address, sign-ups
capped per address (OWASP: never lock an account for everyone); an unknown username takes as
long to refuse as a wrong password."""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sessions import service as sessions_service
from sessions.models import AttemptCounter
from tests.conftest import in_process_app

LIMITS = {
    "SIGN_IN_FAILURES_BEFORE_DELAY": "3",
    "SIGN_IN_ATTEMPTS_PER_ADDRESS": "7",
    "SIGN_UP_ATTEMPTS_PER_ADDRESS": "3",
    "ATTEMPT_WINDOW_MINUTES": "15",
}
HTMX = {"HX-Request": "true"}


_addresses = itertools.count(1)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with (
        pytest.MonkeyPatch.context() as monkeypatch,
        in_process_app(monkeypatch, tmp_path_factory.mktemp("limits"), **LIMITS) as client,
    ):
        yield client


@pytest.fixture
def client(app: TestClient) -> TestClient:
    """A browser at an address of its own, so each test starts with fresh address counters."""
    address = f"198.51.100.{next(_addresses)}"
    return TestClient(app.app, raise_server_exceptions=False, client=(address, 40000))


def csrf(client: TestClient) -> str:
    return str(client.get("/api/v1/auth/session").json()["csrf_token"])


def sign_up(client: TestClient, username: str) -> int:
    body = {"username": username, "password": "password-123"}
    return client.post("/api/v1/auth/signup", json=body, headers={"X-CSRF-Token": csrf(client)})


def sign_in(client: TestClient, username: str, password: str = "wrong-password"):  # type: ignore[no-untyped-def]
    body = {"username": username, "password": password}
    return client.post("/api/v1/auth/login", json=body, headers={"X-CSRF-Token": csrf(client)})


def assert_refused(response) -> int:  # type: ignore[no-untyped-def]
    assert response.status_code == 429, response.text
    retry_after = int(response.headers["retry-after"])
    assert 0 < retry_after <= 15 * 60
    assert "Try again in" in response.json()["detail"]
    return retry_after


def at_address(app: TestClient) -> TestClient:
    return TestClient(app.app, raise_server_exceptions=False, client=(next_address(), 40000))


def next_address() -> str:
    return f"198.51.100.{next(_addresses)}"


def later(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Move the sessions service's clock on."""
    now = sessions_service.utc_now()
    monkeypatch.setattr(sessions_service, "utc_now", lambda: now + timedelta(seconds=seconds))


def window_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stop the clock just after a window starts: the delays a test waits out stay inside it."""
    window = 15 * 60
    now = sessions_service.utc_now().timestamp()
    later(monkeypatch, (now // window + 1) * window + 1 - now)


def test_wrong_guesses_from_one_address_earn_a_delay_that_doubles(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_up(client, "alice")
    window_start(monkeypatch)
    assert [sign_in(client, "alice").status_code for _ in range(3)] == [401] * 3
    waits = []
    for _ in range(3):
        refused = sign_in(client, " ALICE ")  # the same username, written differently
        waits.append(assert_refused(refused))
        assert "for this username from your network" in refused.json()["detail"]
        later(monkeypatch, waits[-1])
        assert sign_in(client, "alice").status_code == 401
    assert waits == [1, 2, 4]
    assert sign_in(client, "bob").status_code == 401, "other usernames are not slowed"


def test_a_stranger_guessing_never_refuses_the_owners_password_from_another_address(
    app: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner, stranger = at_address(app), at_address(app)
    sign_up(owner, "amber")
    window_start(monkeypatch)  # the stranger's delay must not run out on a slow machine
    for _ in range(6):
        sign_in(stranger, "amber")
    assert_refused(sign_in(stranger, "amber", "password-123"))
    assert sign_in(owner, "amber", "password-123").status_code == 200
    assert sign_in(at_address(app), "amber", "password-123").status_code == 200


def test_the_right_password_after_the_delay_starts_the_pair_afresh(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_up(client, "carol")
    window_start(monkeypatch)
    for _ in range(3):
        sign_in(client, "carol")
    later(monkeypatch, assert_refused(sign_in(client, "carol", "password-123")))
    assert sign_in(client, "carol", "password-123").status_code == 200
    assert [sign_in(client, "carol").status_code for _ in range(3)] == [401] * 3


def test_an_address_that_signs_in_correctly_is_never_refused(client: TestClient) -> None:
    sign_up(client, "gina")
    statuses = {sign_in(client, "gina", "password-123").status_code for _ in range(10)}
    assert statuses == {200}, "10 sign-ins, over the address's limit of 7 failures"


def test_one_address_is_limited_across_usernames(client: TestClient) -> None:
    statuses = [sign_in(client, f"user{n}").status_code for n in range(7)]
    assert statuses == [401] * 7
    refused = sign_in(client, "someone_else")
    assert_refused(refused)
    assert "network" in refused.json()["detail"]


def test_sign_ups_from_one_address_stop_at_the_limit(client: TestClient) -> None:
    assert [sign_up(client, f"new{n}").status_code for n in range(3)] == [201] * 3
    assert_refused(sign_up(client, "one_too_many"))
    assert sign_in(client, "one_too_many").status_code == 401, "no account was created"


def test_the_sign_in_form_says_when_to_come_back(client: TestClient) -> None:
    for _ in range(3):
        sign_in(client, "dave")
    data = {"username": "dave", "password": "wrong-password", "csrf_token": csrf(client)}
    response = client.post("/login", data=data, headers=HTMX)
    assert response.status_code == 429
    expected = "Too many failed sign-ins for this username from your network. Try again in"
    assert expected in response.text
    assert int(response.headers["retry-after"]) > 0
    assert 'value="dave"' in response.text


def test_each_window_is_one_counter_item_that_ttl_deletes(client: TestClient) -> None:
    sign_in(client, "erin")
    sign_in(client, "erin")
    counters = {c.counter_id: c for c in AttemptCounter.scan()}
    (key,) = [k for k in counters if k.startswith("sign-in-pair#erin@198.51.100.")]
    window = int(key.rsplit("#", 1)[1])
    assert counters[key].attempts == 2
    assert counters[key].expires_at.timestamp() == (window + 1) * 15 * 60
    assert any(k.startswith("sign-in-address#198.51.100.") for k in counters)


def test_a_hostile_username_makes_a_short_key(client: TestClient) -> None:
    sign_in(client, "x" * 10_000)
    keys = [c.counter_id for c in AttemptCounter.scan()]
    assert all(len(key) < 120 for key in keys)


def test_the_counter_table_is_on_the_design_page(client: TestClient) -> None:
    section = client.get("/design").text.split('data-table="rate_limits"')[1].split("</section>")[0]
    assert "counter_id" in section and "expires_at" in section
    assert "sessions.service.count_attempt" in section


def median_seconds(call, times: int = 5) -> float:  # type: ignore[no-untyped-def]
    durations = []
    for _ in range(times):
        started = time.perf_counter()
        assert call().status_code == 401
        durations.append(time.perf_counter() - started)
    return statistics.median(durations)


@pytest.mark.usefixtures("app_password_hasher")  # the app's argon2 cost is what is compared
def test_an_unknown_username_takes_as_long_as_a_wrong_password(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    unlimited = {name: "1000" for name in LIMITS if name.startswith("SIGN_IN_")}
    with in_process_app(monkeypatch, tmp_path, **unlimited) as client:
        sign_up(client, "frank")
        sign_in(client, "nobody_here")  # the first unknown name computes its comparison hash
        wrong_password = median_seconds(lambda: sign_in(client, "frank"))
        unknown_user = median_seconds(lambda: sign_in(client, "nobody_here"))
    ratio = max(wrong_password, unknown_user) / min(wrong_password, unknown_user)
    assert ratio < 3, f"wrong password {wrong_password:.3f}s, unknown user {unknown_user:.3f}s"


@pytest.fixture(scope="module")
def feed_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with (
        pytest.MonkeyPatch.context() as monkeypatch,
        in_process_app(
            monkeypatch, tmp_path_factory.mktemp("scan-feed"), SCAN_FEED_READS_PER_MINUTE="3"
        ) as client,
    ):
        yield client


def test_the_scan_feed_is_limited_per_address_with_a_readable_429(feed_app: TestClient) -> None:
    client, neighbour = at_address(feed_app), at_address(feed_app)
    scan = {"mode": "scan", "limit": 100}
    assert [client.get("/api/v1/feed", params=scan).status_code for _ in range(3)] == [200] * 3
    refused = client.get("/api/v1/feed", params=scan)
    retry_after = assert_refused_within(refused, 60)
    assert "The Scan feed reads the whole activities table" in refused.json()["detail"]
    assert f"Try again in {retry_after} second" in refused.json()["detail"]
    page = client.get("/feed")
    assert page.status_code == 429 and "<h1>Too many attempts</h1>" in page.text
    assert "reads the whole activities table" in page.text
    assert int(page.headers["retry-after"]) > 0
    index = client.get("/api/v1/feed", params={"mode": "index"})
    assert index.status_code == 200, "the indexed feed is not limited"
    assert neighbour.get("/api/v1/feed", params=scan).status_code == 200, "per address"


def assert_refused_within(response, seconds: int) -> int:  # type: ignore[no-untyped-def]
    assert response.status_code == 429, response.text
    retry_after = int(response.headers["retry-after"])
    assert 0 < retry_after <= seconds
    return retry_after
