"""The engine's HTTP front answers as moto's Flask view would, only cheaper; and a worker that
lingers on a keep-alive connection never keeps another client waiting."""

from __future__ import annotations

import http.client
import socket
import string
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from cheroot import makefile
from flask import Response
from hypothesis import given, settings
from hypothesis import strategies as st
from moto.core.request import Request

from engine import front


def flask_answer(status: int, headers: dict[str, Any], body: str | bytes) -> tuple[str, list]:
    captured: dict[str, Any] = {}

    def start_response(line: str, pairs: list, exc_info: Any = None) -> None:
        captured.update(line=line, pairs=pairs)

    data = b"".join(
        Response(response=body, status=status, headers=headers)(
            {"REQUEST_METHOD": "POST"}, start_response
        )
    )
    return captured["line"], [*captured["pairs"], ("body", data)]


def front_answer(status: int, headers: dict[str, Any], body: str | bytes) -> tuple[str, list]:
    captured: dict[str, Any] = {}

    def start_response(line: str, pairs: list, exc_info: Any = None) -> None:
        captured.update(line=line, pairs=pairs)

    data = b"".join(front.respond(start_response, status, headers, body))
    return captured["line"], [*captured["pairs"], ("body", data)]


@pytest.mark.parametrize(
    ("status", "headers", "body"),
    [
        (200, {"Content-Type": "application/x-amz-json-1.0", "x-amz-crc32": "1"}, "{}"),
        (200, {"server": "amazon.com"}, b'{"Item": {"pk": {"S": "\\u00e9"}}}'),
        (400, {"X-Amzn-ErrorType": "ValidationException", "status": "400"}, '{"message": "é"}'),
        (500, {"Content-Type": "application/json", "Content-Length": "2"}, "{}"),
        (413, {}, ""),
    ],
)
def test_an_answer_is_written_as_flask_writes_it(
    status: int, headers: dict[str, Any], body: str | bytes
) -> None:
    assert front_answer(status, headers, body) == flask_answer(status, headers, body)


def test_a_request_id_has_moto_s_shape_drawn_in_one_call() -> None:
    headers: dict[str, Any] = {}
    drawn = front.request_id(headers)
    assert len(drawn) == 52 and set(drawn) <= set(string.ascii_letters + string.digits)
    assert headers == {"x-amzn-requestid": drawn}
    assert front.request_id() != drawn


@pytest.mark.parametrize(
    "environ",
    [
        {"HTTP_HOST": "127.0.0.1:8001", "PATH_INFO": "/"},
        {"HTTP_HOST": "localhost:80", "PATH_INFO": ""},
        {"HTTP_HOST": "dynamodb.ap-northeast-1.amazonaws.com", "PATH_INFO": "/", "RAW_URI": "/"},
        {"SERVER_NAME": "engine", "SERVER_PORT": "8001", "PATH_INFO": "/", "QUERY_STRING": "a=1"},
        {"HTTP_HOST": "[::1]:8001", "PATH_INFO": "/", "SCRIPT_NAME": "/root"},
    ],
)
def test_the_kept_raw_url_is_moto_s(environ: dict[str, str]) -> None:
    full = {
        "REQUEST_METHOD": "POST",
        "wsgi.url_scheme": "http",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8001",
        **environ,
    }
    assert front.DynamoRequest(dict(full)).raw_url == Request(dict(full)).raw_url


# -- lingering workers ---------------------------------------------------------------------------


def threads_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    body = str(threading.get_ident()).encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


@pytest.fixture
def two_workers(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    monkeypatch.setattr(front, "WORKER_THREADS", 2)
    monkeypatch.setattr(front, "LINGER_SECONDS", 0.5)  # long, so a starved client would show
    server = front.server(threads_app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield int(server.bind_addr[1])
    finally:
        server.stop()


def ask(connection: http.client.HTTPConnection) -> str:
    connection.request("POST", "/", b"{}")
    return connection.getresponse().read().decode()


def test_a_client_calling_again_at_once_keeps_its_worker(two_workers: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", two_workers)
    served_by = {ask(connection) for _ in range(20)}
    connection.close()
    assert len(served_by) == 1


def test_a_lingering_worker_never_keeps_another_client_waiting(two_workers: int) -> None:
    """Two workers, three clients: one lingers, one serves, the third must still be answered
    long before the linger ends, as if nobody lingered."""
    first = http.client.HTTPConnection("127.0.0.1", two_workers)
    second = http.client.HTTPConnection("127.0.0.1", two_workers)
    ask(first)  # its worker lingers on it now
    ask(second)  # the other worker serves this one; no worker is idle, so it does not linger
    third = http.client.HTTPConnection("127.0.0.1", two_workers, timeout=5)
    started = time.monotonic()
    ask(third)
    assert time.monotonic() - started < 0.4
    for connection in (first, second, third):
        connection.close()


def test_every_pooled_keep_alive_connection_stays_open(two_workers: int) -> None:
    """An SDK's pool (the app's holds 50) keeps its connections open between calls; cheroot's
    default closed all but 10 of the waiting ones, so most calls under load paid for a new TCP
    connection on both sides."""
    pool = [http.client.HTTPConnection("127.0.0.1", two_workers, timeout=5) for _ in range(50)]
    for connection in pool:
        ask(connection)
    ports = [connection.sock.getsockname()[1] for connection in pool]
    time.sleep(0.6)  # every worker has stopped lingering: all 50 wait in the selector
    for connection in pool:
        ask(connection)
    assert [connection.sock.getsockname()[1] for connection in pool] == ports
    for connection in pool:
        connection.close()


# -- the reader ----------------------------------------------------------------------------------


@given(
    chunks=st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"\n")), max_size=8),
    calls=st.lists(
        st.tuples(st.sampled_from(["readline", "read"]), st.integers(min_value=-1, max_value=30)),
        max_size=20,
    ),
    buffer_size=st.sampled_from([1, 4, 16, 8192]),
)
@settings(max_examples=300, deadline=None)
def test_the_reader_reads_exactly_what_cheroot_s_reader_reads(
    chunks: list[bytes], calls: list[tuple[str, int]], buffer_size: int
) -> None:
    """Whatever arrives in whatever pieces, any mix of readline(size) and read(n) returns the
    same bytes and counts the same `bytes_read` as cheroot's own reader."""

    def replay(reader_class: type) -> list[Any]:
        ours, theirs = socket.socketpair()
        try:
            for chunk in chunks:
                theirs.sendall(chunk)
            theirs.shutdown(socket.SHUT_WR)
            reader = reader_class(ours, "rb", buffer_size)
            seen: list[Any] = []
            for method, size in calls:
                if method == "read" and size < 0:
                    size = 0  # read(-1) would wait for the end: both readers read it alike
                seen.append(getattr(reader, method)(size))
            seen.append(reader.bytes_read)
            return seen
        finally:
            ours.close()
            theirs.close()

    assert replay(front.StreamReader) == replay(makefile.StreamReader)
