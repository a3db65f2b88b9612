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
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from shared.settings import Settings

_RECEIVED = (h11.DONE, h11.MUST_CLOSE, h11.CLOSED, h11.ERROR, h11.SWITCHED_PROTOCOL)
"""The client's side of the connection has nothing more to send for this request."""


BUSY_SHARE = 0.75
"""The share of the connection cap from which waiting connections get the busy deadline."""


class RequestReadTimeoutProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, with a deadline for each request to arrive in full, shorter
    when the server is near its connection cap."""

    read_timeout_seconds: float = 15.0
    busy_read_timeout_seconds: float = 2.0

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
        cap = self.limit_concurrency
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
        },
    )


def server_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for `uvicorn.run` / `uvicorn.Config` besides the app, host and port."""
    return {
        "http": protocol_for(settings),
        "timeout_keep_alive": settings.keep_alive_timeout_seconds,
        # Past this many open connections plus running requests, new requests get a 503 at
        # once instead of queueing without bound.
        "limit_concurrency": settings.max_concurrent_connections,
        "timeout_graceful_shutdown": 10,
        # X-Forwarded-For is read only from the proxies listed: an empty list must not fall back
        # to uvicorn's own default, which trusts 127.0.0.1 (any local process, then).
        "proxy_headers": bool(settings.forwarded_allow_ips.strip()),
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        "server_header": False,  # the server's name and version tell an attacker what to try
    }
