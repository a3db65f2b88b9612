"""How the app is served: uvicorn's limits and timeouts, and the one timeout uvicorn lacks.

uvicorn closes a keep-alive connection that stays idle between requests, but a connection that
never finishes sending its request (nothing at all, headers trickled, a body cut short) stays
open for ever, and a few hundred such clients hold as many sockets and buffers. The protocol
below gives every request a deadline to arrive in full; the connection is closed when it
passes. `manage.py run` (and so `make run` and the Docker image) serves with these options.

Near the connection cap the deadline shortens: a few hundred clients that open connections and
send nothing would otherwise hold every slot for the whole read timeout, and everyone else
would get uvicorn's 503 meanwhile. Once the open connections reach BUSY_SHARE of the cap, each
new connection makes the server close every connection that has waited longer than the busy
deadline for its request, and every idle keep-alive connection, and the rest get the busy
deadline too. A client whose request is on its way is not hurt: a request arrives in
milliseconds, not seconds.

Past the cap itself a request is refused at once with a 503, as every other 503 of the app is:
in the reader's language, JSON under /api/, a page elsewhere, with `Retry-After`. (uvicorn's own
refusal is a bare "Service Unavailable" in plain text with no hint when to come back, so the cap
is kept here rather than handed to uvicorn's `limit_concurrency`.) The refusal is drawn without
templates or stores: it must stay cheap when the server is at its busiest.
"""

from __future__ import annotations

import asyncio
import html
import json
from typing import Any

import h11
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from shared.errors import RETRY_AFTER_SECONDS
from shared.i18n import (
    LANGUAGE_COOKIE,
    LANGUAGE_PARAM,
    N_,
    choose_language,
    gettext,
    use_language,
)
from shared.settings import Settings, active_settings

_RECEIVED = (h11.DONE, h11.MUST_CLOSE, h11.CLOSED, h11.ERROR, h11.SWITCHED_PROTOCOL)
"""The client's side of the connection has nothing more to send for this request."""


BUSY_SHARE = 0.75
"""The share of the connection cap from which waiting connections get the busy deadline."""


class RequestReadTimeoutProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, with a deadline for each request to arrive in full, shorter
    when the server is near its connection cap."""

    read_timeout_seconds: float = 15.0
    busy_read_timeout_seconds: float = 2.0
    connection_cap: int | None = None
    """Open connections (and requests being answered) beyond which a request gets the 503."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.app = self._refusing_past_the_cap(self.app)

    def _refusing_past_the_cap(self, app: ASGIApp) -> ASGIApp:
        async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
            if self._past_the_cap():
                await over_capacity(scope, receive, send)
            else:
                await app(scope, receive, send)

        return guarded

    def _past_the_cap(self) -> bool:
        # The request's own task is already counted among `tasks` when its app starts.
        cap = self.connection_cap
        return cap is not None and (len(self.connections) > cap or len(self.tasks) > cap)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._read_deadline: asyncio.TimerHandle | None = None
        self._read_started = 0.0
        super().connection_made(transport)
        self._start_read_deadline()
        if self._near_the_cap():
            self._make_room()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state in _RECEIVED:
            self._cancel_read_deadline()
        elif self._read_deadline is None:
            self._start_read_deadline()  # the first bytes of the next request on this connection

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_read_deadline()
        super().connection_lost(exc)

    def _start_read_deadline(self) -> None:
        self._read_started = self.loop.time()
        self._read_deadline = self.loop.call_later(self.read_timeout_seconds, self._read_too_slow)

    def _near_the_cap(self) -> bool:
        cap = self.connection_cap
        return cap is not None and len(self.connections) >= cap * BUSY_SHARE

    def _make_room(self) -> None:
        now = self.loop.time()
        for connection in list(self.connections):
            if isinstance(connection, RequestReadTimeoutProtocol):
                connection._hurry(now)

    def _hurry(self, now: float) -> None:
        """Under pressure: close this connection if it is idle or has waited for its request
        longer than the busy deadline, else bring its deadline forward to that."""
        if self.transport.is_closing():
            return
        if self.timeout_keep_alive_task is not None:  # idle between two requests
            self.transport.close()
            return
        if self._read_deadline is None:  # its request is in, and being answered
            return
        left = self._read_started + self.busy_read_timeout_seconds - now
        self._cancel_read_deadline()
        if left <= 0:
            self.transport.close()
        else:
            self._read_deadline = self.loop.call_later(left, self._read_too_slow)

    def _cancel_read_deadline(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def _read_too_slow(self) -> None:
        self._read_deadline = None
        if not self.transport.is_closing():
            self.transport.close()


def protocol_for(settings: Settings) -> type[RequestReadTimeoutProtocol]:
    return type(
        "RequestReadTimeoutProtocol",
        (RequestReadTimeoutProtocol,),
        {
            "read_timeout_seconds": float(settings.request_read_timeout_seconds),
            "busy_read_timeout_seconds": float(
                min(settings.busy_read_timeout_seconds, settings.request_read_timeout_seconds)
            ),
            "connection_cap": settings.max_concurrent_connections,
        },
    )


def server_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for `uvicorn.run` / `uvicorn.Config` besides the app, host and port."""
    return {
        "http": protocol_for(settings),
        "timeout_keep_alive": settings.keep_alive_timeout_seconds,
        # The connection cap is the protocol's (`connection_cap`), so that its 503 is the app's.
        "limit_concurrency": None,
        "timeout_graceful_shutdown": 10,
        # X-Forwarded-For is read only from the proxies listed: an empty list must not fall back
        # to uvicorn's own default, which trusts 127.0.0.1 (any local process, then).
        "proxy_headers": bool(settings.forwarded_allow_ips.strip()),
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        "server_header": False,  # the server's name and version tell an attacker what to try
    }


BUSY_TITLE = N_("The server is busy")
BUSY_DETAIL = N_("Too many connections are open right now. Try again in %(seconds)s seconds.")


async def over_capacity(scope: Scope, receive: Receive, send: Send) -> None:
    """The 503 for a request past the connection cap: JSON under /api/, else a small page."""
    if scope["type"] != "http":
        return
    request = Request(scope)
    language = choose_language(
        param=request.query_params.get(LANGUAGE_PARAM),
        cookie=request.cookies.get(LANGUAGE_COOKIE),
        accept=request.headers.get("accept-language"),
    )
    with use_language(language):
        title = gettext(BUSY_TITLE)
        detail = gettext(BUSY_DETAIL) % {"seconds": RETRY_AFTER_SECONDS}
    if scope["path"].startswith("/api/"):
        body = json.dumps({"detail": detail}, ensure_ascii=False).encode()
        content_type = "application/json"
    else:
        body = _busy_page(language, title, detail).encode()
        content_type = "text/html; charset=utf-8"
    from shared.web import security_headers  # the web kernel pulls in templates: only when used

    headers = {
        **security_headers(active_settings()),
        "Content-Type": content_type,
        "Content-Length": str(len(body)),
        "Content-Language": language,
        "Retry-After": str(RETRY_AFTER_SECONDS),
        "Connection": "close",
    }
    raw = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    await send({"type": "http.response.start", "status": 503, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _busy_page(language: str, title: str, detail: str) -> str:
    title, detail = html.escape(title), html.escape(detail)
    return (
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
        f"<title>{title} - DynamoDB Lab</title></head>"
        f'<body><main role="alert" data-status="503"><h1>{title}</h1><p>{detail}</p>'
        "</main></body></html>"
    )
