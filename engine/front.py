"""The engine's HTTP front: a production WSGI server, and DynamoDB requests routed straight to
moto's DynamoDB handler (written against moto 5.2.5).

moto's own server is werkzeug's development server: a new thread for every connection, and
each request through moto's host dispatcher (which inspects moto's modules to find the service,
on every request), Flask's routing and CORS before it reaches `DynamoHandler.dispatch`.
Profiled under GetItem and Query load, that was as much time as the DynamoDB work itself.

Here cheroot serves (a fixed pool of worker threads, keep-alive connections waiting in a
selector instead of holding a thread, TCP_NODELAY), and a request that is a DynamoDB call
(`POST /` with `X-Amz-Target: DynamoDB_20120810.<Operation>`, no CORS `Origin`) is handed to
`DynamoHandler.dispatch` just as moto's Flask view would hand it: the same request class,
URL and headers in, the same Flask response out, so the answers do not change. Everything else
(moto's `/moto-api`, DynamoDB Streams, a browser's CORS request) goes to moto's own
application.

A keep-alive connection normally goes back to cheroot's selector after each answer, and its
next request travels from the selector thread to a worker thread again: two thread wake-ups
per request, which were a third of a GetItem's time in the engine under one client. A worker
here lingers a moment on its connection instead (`LINGER_SECONDS`), so a client that calls
again at once (an SDK, the app within one page) is served by the same thread; it lingers only
while another worker is idle, so waiting connections never wait for a lingering one.

cheroot reads requests through Python's pure-Python `_pyio` buffered reader, whose `readline`
walks a request's dozen header lines in small Python steps: half of the engine's time on a
PutItem went to reading the request's headers. The reader here refills an empty buffer with
the one socket read cheroot's reader would make, takes a line that is then whole in the buffer
with one `bytes.find`, and leaves anything else to cheroot's reader from the same state, so the
bytes read, and every limit cheroot checks, stay the same.

moto also lists the handler's methods with `inspect.getmembers` on every call (to check that
the action exists); they do not change while the engine runs, so the list is kept. Its request
id (52 random letters and digits) was drawn one `choice` at a time, a tenth of a GetItem's
CPU: here it is drawn in one `choices` call, from the same generator and alphabet. And the
answer is written as Flask's `Response` would write it (same status line, headers in the same
order, `Content-Length` added) without building one.

Upstream shape: a service-keyed fast path in moto's dispatcher, and a cached method list.
"""

from __future__ import annotations

import functools
import logging
import select
import string
from collections.abc import Callable, Iterable
from io import DEFAULT_BUFFER_SIZE
from typing import Any

import moto.core.responses
from cheroot import connections as cheroot_connections
from cheroot import makefile as cheroot_makefile
from cheroot import server as cheroot_server
from cheroot import wsgi
from moto.core.request import Request
from moto.core.utils import method_names_from_class
from moto.dynamodb.responses import DynamoHandler
from moto.moto_api import recorder
from moto.moto_api._internal import mock_random
from werkzeug.exceptions import InternalServerError
from werkzeug.http import HTTP_STATUS_CODES

logger = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
TARGET_PREFIX = "DynamoDB_20120810."
# Worker threads: requests run under one GIL, so more threads than the clients that are
# really working at once buy nothing; keep-alive connections that wait cost no thread.
WORKER_THREADS = 24
IDLE_CONNECTION_SECONDS = 60  # a pooled client connection kept open between calls
LISTEN_BACKLOG = 128  # cheroot's default of 5 resets connections when 32 clients start at once
# cheroot closes a keep-alive connection once 10 others wait: the app's pool of 50 then opens a
# new TCP connection for most calls under load. Keep every pooled connection instead.
KEEP_ALIVE_CONNECTIONS = 1024
LINGER_SECONDS = 0.005  # longer than an SDK takes between two calls, short beside a request
_MARK = "_dynamodb_lab_method_names"


class DynamoRequest(Request):
    """moto's request, as its Flask application builds it for a request from a real server
    (which writes the Date header itself)."""

    from_wsgi_server = True

    @property
    def raw_url(self) -> str:
        """moto's `raw_url`, which werkzeug rebuilds from the host on every call (a tenth of
        a GetItem's CPU): kept per set of the environ values it is made of."""
        environ = self.environ
        return _raw_url(
            environ.get("wsgi.url_scheme", "http"),
            environ.get("HTTP_HOST", ""),
            environ.get("SERVER_NAME", ""),
            environ.get("SERVER_PORT", ""),
            environ.get("SCRIPT_NAME", ""),
            environ.get("PATH_INFO", ""),
            environ.get("RAW_URI", ""),
            environ.get("QUERY_STRING", ""),
        )


@functools.lru_cache(maxsize=256)
def _raw_url(*values: str) -> str:
    scheme, host, server, port, script, path, raw_uri, query = values
    environ = {
        "wsgi.url_scheme": scheme,
        "SERVER_NAME": server,
        "SERVER_PORT": port,
        "SCRIPT_NAME": script,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "REQUEST_METHOD": "POST",
    }
    if raw_uri:
        environ["RAW_URI"] = raw_uri
    if host:
        environ["HTTP_HOST"] = host
    return str(Request(environ).raw_url)


def application(fallback: WsgiApp) -> WsgiApp:
    """DynamoDB calls straight to moto's handler; any other request to `fallback`."""

    def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not _is_dynamodb_call(environ):
            return fallback(environ, start_response)
        return _dynamodb(environ, start_response)

    return wsgi_app


def _is_dynamodb_call(environ: dict[str, Any]) -> bool:
    return (
        environ.get("REQUEST_METHOD") == "POST"
        and environ.get("PATH_INFO", "/") in ("", "/")
        and str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith(TARGET_PREFIX)
        and "HTTP_ORIGIN" not in environ  # CORS headers come from moto's Flask application
    )


def _dynamodb(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """What moto's `convert_to_flask_response` does around `DynamoHandler.dispatch`."""
    request = DynamoRequest(environ)
    try:
        recorder._record_request(request)
        # moto's Flask view passes `dict(request.headers)`, which moto reads only where the
        # request has no body: the headers themselves read the same and cost no copy.
        status, headers, body = DynamoHandler.dispatch(request, request.raw_url, request.headers)
    except Exception:  # noqa: BLE001 - as Flask would: a 500, and the traceback in the log
        logger.exception("%s failed", environ.get("HTTP_X_AMZ_TARGET"))
        return InternalServerError()(environ, start_response)
    return respond(start_response, status, headers, body)


def respond(
    start_response: Callable[..., Any], status: int, headers: dict[str, Any], body: str | bytes
) -> list[bytes]:
    """What `flask.Response(response=body, status=status, headers=headers)` sends."""
    data = body.encode() if isinstance(body, str) else body
    pairs = [(name, str(value)) for name, value in headers.items()]
    names = {name.lower() for name, _ in pairs}
    if "content-type" not in names:
        pairs.append(("Content-Type", "text/html; charset=utf-8"))
    if "content-length" not in names:
        pairs.append(("Content-Length", str(len(data))))
    reason = HTTP_STATUS_CODES.get(int(status), "UNKNOWN").upper()
    start_response(f"{int(status)} {reason}", pairs)
    return [data]


class StreamReader(cheroot_makefile.StreamReader):
    """cheroot's socket reader, with a `readline` that finds lines with `bytes.find`."""

    def readline(self, size: int | None = -1) -> bytes:
        """As `_pyio`'s: the next line, or at most `size` bytes of it. An empty buffer is
        refilled with the one socket read `_pyio` would make first; a line that is then whole
        in the buffer (and fits `size`) is taken at once; anything else goes on in `_pyio`,
        from the same state, so the same bytes come back."""
        limit = -1 if size is None else size
        reader: Any = self  # `_pyio`'s buffer fields are not in cheroot's type stubs
        with reader._read_lock:
            buffer, start = reader._read_buf, reader._read_pos
            if start >= len(buffer):
                chunk = reader.raw.read(reader.buffer_size)
                if chunk:
                    buffer, start = reader._read_buf, reader._read_pos = chunk, 0
            end = buffer.find(b"\n", start) + 1
            if end and (limit < 0 or end - start <= limit):
                reader._read_pos = end
                reader.bytes_read += end - start
                return bytes(buffer[start:end])
        return bytes(super().readline(size))


def make_file(sock: Any, mode: str = "r", bufsize: int = DEFAULT_BUFFER_SIZE) -> Any:
    """cheroot's `MakeFile`, with the faster reader."""
    if "r" in mode:
        return StreamReader(sock, mode, bufsize)
    return cheroot_makefile.StreamWriter(sock, mode, bufsize)


class LingeringConnection(cheroot_server.HTTPConnection):
    """A keep-alive connection whose worker serves the next request too if it comes at once."""

    def communicate(self) -> bool:
        while True:
            keep_open = bool(super().communicate())  # type: ignore[no-untyped-call]
            if not (keep_open and self._next_request_at_once()):
                return keep_open

    def _next_request_at_once(self) -> bool:
        if self.rfile.has_data():  # pipelined: already read
            return True
        if self.server.requests.idle == 0:  # others may be waiting for a worker
            return False
        try:
            readable, _, _ = select.select([self.socket], [], [], LINGER_SECONDS)
        except (OSError, ValueError):  # closed meanwhile
            return False
        return bool(readable)


def server(app: WsgiApp, host: str, port: int) -> wsgi.Server:
    """The server, bound and listening (`OSError` when the port is taken); `serve()` runs it."""
    cheroot_connections.MakeFile = make_file  # type: ignore[attr-defined]
    served = wsgi.Server(
        (host, port),
        app,
        numthreads=WORKER_THREADS,
        timeout=IDLE_CONNECTION_SECONDS,
        request_queue_size=LISTEN_BACKLOG,
    )
    served.ConnectionClass = LingeringConnection
    served.keep_alive_conn_limit = KEEP_ALIVE_CONNECTIONS
    served.prepare()
    return served


_REQUEST_ID_ALPHABET = string.ascii_letters + string.digits


def request_id(headerdict: dict[str, Any] | None = None) -> str:
    """moto's `gen_amzn_requestid_long`, drawn in one call."""
    drawn = "".join(mock_random.choices(_REQUEST_ID_ALPHABET, k=52))
    if isinstance(headerdict, dict):
        headerdict["x-amzn-requestid"] = drawn
    return drawn


def install() -> None:
    """Keep moto's list of handler methods instead of inspecting the class per call, and draw
    its request ids in one call (idempotent)."""
    if getattr(moto.core.responses, _MARK, False):
        return
    cached = functools.cache(method_names_from_class)
    moto.core.responses.method_names_from_class = cached  # type: ignore[attr-defined]
    moto.core.responses.gen_amzn_requestid_long = request_id  # type: ignore[attr-defined]
    setattr(moto.core.responses, _MARK, True)
