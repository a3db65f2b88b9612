"""The server as `manage.py run` starts it: stalled connections are closed, whole requests served.

A small ASGI app stands in for the real one: what is tested is the server's options.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shared.settings import Settings
from tests.app_server import serving

READ_TIMEOUT = 1
STALLED = {
    "nothing sent": b"",
    "headers cut short": b"GET / HTTP/1.1\r\nHost: lab\r\nX-Slow: ",
    "body cut short": b"POST / HTTP/1.1\r\nHost: lab\r\nContent-Length: 100\r\n\r\n0123456789",
}
PER_KIND = 100


async def hello(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    headers = [(b"content-length", b"5")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"hello"})


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, int]]:
    settings = Settings(request_read_timeout_seconds=READ_TIMEOUT, max_concurrent_connections=1000)
    with serving(hello, settings) as address:
        yield address


def closed_by_server(sock: socket.socket) -> bool:
    sock.settimeout(0.01)
    try:
        return sock.recv(1024) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def read_response(sock: socket.socket) -> bytes:
    sock.settimeout(5)
    answer = b""
    while not answer.endswith(b"hello"):
        chunk = sock.recv(4096)
        assert chunk, f"closed after {answer!r}"
        answer += chunk
    return answer


def test_stalled_connections_are_closed_after_the_read_timeout(server) -> None:  # type: ignore[no-untyped-def]
    sockets = []
    for sent in STALLED.values():
        for _ in range(PER_KIND):
            sock = socket.create_connection(server)
            sock.sendall(sent)
            sockets.append(sock)
    try:
        time.sleep(READ_TIMEOUT + 1.5)
        still_open = [s for s in sockets if not closed_by_server(s)]
        assert not still_open, f"{len(still_open)} of {len(sockets)} stalled connections open"
    finally:
        for sock in sockets:
            sock.close()


def test_a_request_that_arrives_in_time_is_served_and_kept_alive(server) -> None:  # type: ignore[no-untyped-def]
    with socket.create_connection(server) as sock:
        for _ in range(2):
            sock.sendall(b"POST / HTTP/1.1\r\nHost: lab\r\nContent-Length: 5\r\n\r\n")
            time.sleep(READ_TIMEOUT / 2)  # slow, but within the deadline
            sock.sendall(b"hello")
            answer = read_response(sock)
            assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"hello")
            assert b"server:" not in answer.lower()


def test_make_run_and_the_docker_image_serve_through_manage_py_run() -> None:
    """Which is where the options above are applied."""
    root = Path(__file__).resolve().parents[2]
    assert "manage.py run" in (root / "Makefile").read_text()
    assert '"manage.py", "run"' in (root / "Dockerfile").read_text()
    assert "server_options(settings)" in (root / "manage.py").read_text()


async def whoami(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    """Answers the client address the app was given (what the rate limits count)."""
    if scope["type"] != "http":
        return
    body = scope["client"][0].encode()
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def client_address_seen(server: tuple[str, int], forwarded_for: str) -> str:
    url = f"http://{server[0]}:{server[1]}/"
    return httpx.get(url, headers={"X-Forwarded-For": forwarded_for}).text


def test_no_proxy_is_trusted_by_default_so_x_forwarded_for_is_ignored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    with serving(whoami, Settings()) as server:
        assert client_address_seen(server, "203.0.113.9") == "127.0.0.1"
        assert client_address_seen(server, "203.0.113.10") == "127.0.0.1"


def test_a_configured_proxy_names_the_client() -> None:
    with serving(whoami, Settings(forwarded_allow_ips="127.0.0.1")) as server:
        assert client_address_seen(server, "203.0.113.9") == "203.0.113.9"


CAP = 40
HALF_OPEN = 60
"""More connections that never send a request than the server takes (its cap is CAP)."""


def served_within(server: tuple[str, int], seconds: float) -> float | None:
    """How long until a new client gets its answer (trying again on a 503 or a dropped
    connection, as a browser's user would), or None if not within `seconds`."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            with socket.create_connection(server, timeout=1) as sock:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: lab\r\n\r\n")
                if read_response(sock).startswith(b"HTTP/1.1 200"):
                    return time.monotonic() - started
        except (OSError, AssertionError):
            pass
        time.sleep(0.2)
    return None


def test_half_open_connections_near_the_cap_do_not_shut_others_out() -> None:
    settings = Settings(max_concurrent_connections=CAP)  # and the default 15 s to read a request
    with serving(hello, settings) as server:
        idle = [socket.create_connection(server) for _ in range(HALF_OPEN)]
        try:
            waited = served_within(server, seconds=8)
            assert waited is not None and waited < 5, f"served after {waited}s"
            time.sleep(0.5)
            closed = sum(closed_by_server(sock) for sock in idle)
            assert closed >= HALF_OPEN - CAP, f"{closed} of {HALF_OPEN} idle connections closed"
        finally:
            for sock in idle:
                sock.close()


def request_past_the_cap(server: tuple[str, int], cap: int, request: bytes) -> bytes:
    """Hold `cap` connections open (sending nothing), then send `request` on one more."""
    held = [socket.create_connection(server) for _ in range(cap)]
    try:
        with socket.create_connection(server, timeout=5) as sock:
            sock.sendall(request)
            answer = b""
            while chunk := sock.recv(4096):
                answer += chunk
            return answer
    finally:
        for sock in held:
            sock.close()


@pytest.mark.parametrize(
    ("path", "language", "content_type", "says"),
    [
        ("/api/v1/posts", "en", b"application/json", "Too many connections are open right now"),
        ("/posts", "ja", b"text/html", "混み合って"),
    ],
)
def test_a_request_past_the_connection_cap_gets_a_readable_503_with_retry_after(
    path: str, language: str, content_type: bytes, says: str
) -> None:
    """Not uvicorn's bare "Service Unavailable": the app's kind of 503, in the reader's
    language, JSON for the API, saying when to come back."""
    settings = Settings(max_concurrent_connections=4, busy_read_timeout_seconds=30)
    request = f"GET {path} HTTP/1.1\r\nHost: lab\r\nAccept-Language: {language}\r\n\r\n"
    with serving(hello, settings) as server:
        answer = request_past_the_cap(server, 4, request.encode())
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503"), answer[:200]
    headers = head.lower()
    assert b"retry-after: 5" in headers
    assert b"content-type: " + content_type in headers
    assert says in body.decode()
    if content_type == b"application/json":
        assert "detail" in json.loads(body)
