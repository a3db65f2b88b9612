"""A TCP proxy on localhost that forwards to a real endpoint, or fails the way networks fail.

Modes, switched while it runs:
    forward   pipe bytes both ways (the endpoint answers as usual)
    close     accept, read the request, close without a byte of answer (botocore:
              ConnectionClosedError)
    reset     accept, read the request, reset the connection (RST: ConnectionResetError)
    stall     accept, read the request, never answer (botocore: ReadTimeoutError)
    refuse    stop listening (ECONNREFUSED: EndpointConnectionError)
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
from typing import Literal

Mode = Literal["forward", "close", "reset", "stall", "refuse"]


class FaultProxy:
    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.mode: Mode = "forward"
        self._listener = self._listen(0)
        self.port = int(self._listener.getsockname()[1])
        self._held: list[socket.socket] = []
        self._piped: set[socket.socket] = set()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept_forever, daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_mode(self, mode: Mode) -> None:
        """A fault starts at once: connections already forwarded (a client's keep-alive pool)
        are cut too, as a dropped network would."""
        if mode != "forward":
            for sock in list(self._piped):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        if mode == "refuse" and self.mode != "refuse":
            self._listener.close()
        elif mode != "refuse" and self.mode == "refuse":
            self._listener = self._listen(self.port)
        self.mode = mode

    def stop(self) -> None:
        self._stopped.set()
        self._listener.close()
        for sock in self._held:
            sock.close()

    @staticmethod
    def _listen(port: int) -> socket.socket:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
        listener.settimeout(0.1)
        return listener

    def _accept_forever(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue  # a timeout, or the listener closed for "refuse"
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        mode = self.mode
        if mode == "forward":
            self._pipe(client)
            return
        client.settimeout(5)
        with contextlib.suppress(OSError):
            client.recv(65536)
        if mode == "stall":
            self._held.append(client)
            return
        if mode == "reset":  # linger 0: close() sends RST instead of FIN
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()

    def _pipe(self, client: socket.socket) -> None:
        with client, socket.create_connection(self.target) as upstream:
            ends = {client: upstream, upstream: client}
            self._piped.update(ends)
            try:
                self._forward(ends)
            finally:
                self._piped.difference_update(ends)

    def _forward(self, ends: dict[socket.socket, socket.socket]) -> None:
        while not self._stopped.is_set():
            readable, _, _ = select.select(list(ends), [], [], 0.5)
            for sock in readable:
                try:
                    data = sock.recv(65536)
                    if not data:
                        return
                    ends[sock].sendall(data)
                except OSError:
                    return
