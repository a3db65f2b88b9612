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

moto also lists the handler's methods with `inspect.getmembers` on every call (to check that
the action exists); they do not change while the engine runs, so the list is kept.

Upstream shape: a service-keyed fast path in moto's dispatcher, and a cached method list.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from typing import Any

import moto.core.responses
from cheroot import wsgi
from flask import Response
from moto.core.request import Request
from moto.core.utils import method_names_from_class
from moto.dynamodb.responses import DynamoHandler
from moto.moto_api import recorder
from werkzeug.exceptions import InternalServerError

logger = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
TARGET_PREFIX = "DynamoDB_20120810."
# Worker threads: requests run under one GIL, so more threads than the clients that are
# really working at once buy nothing; keep-alive connections that wait cost no thread.
WORKER_THREADS = 24
IDLE_CONNECTION_SECONDS = 60  # a pooled client connection kept open between calls
LISTEN_BACKLOG = 128  # cheroot's default of 5 resets connections when 32 clients start at once
_MARK = "_dynamodb_lab_method_names"


class DynamoRequest(Request):
    """moto's request, as its Flask application builds it for a request from a real server
    (which writes the Date header itself)."""

    from_wsgi_server = True


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
        status, headers, body = DynamoHandler.dispatch(
            request, request.raw_url, dict(request.headers)
        )
    except Exception:  # noqa: BLE001 - as Flask would: a 500, and the traceback in the log
        logger.exception("%s failed", environ.get("HTTP_X_AMZ_TARGET"))
        return InternalServerError()(environ, start_response)
    response = Response(response=body, status=status, headers=headers)
    return response(environ, start_response)


def server(app: WsgiApp, host: str, port: int) -> wsgi.Server:
    """The server, bound and listening (`OSError` when the port is taken); `serve()` runs it."""
    served = wsgi.Server(
        (host, port),
        app,
        numthreads=WORKER_THREADS,
        timeout=IDLE_CONNECTION_SECONDS,
        request_queue_size=LISTEN_BACKLOG,
    )
    served.prepare()
    return served


def install() -> None:
    """Keep moto's list of handler methods instead of inspecting the class per call
    (idempotent)."""
    if getattr(moto.core.responses, _MARK, False):
        return
    cached = functools.cache(method_names_from_class)
    moto.core.responses.method_names_from_class = cached  # type: ignore[attr-defined]
    setattr(moto.core.responses, _MARK, True)
