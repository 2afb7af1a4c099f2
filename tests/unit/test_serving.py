"""The guarded protocol beyond uvicorn's: every accepted socket sends without delay."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from artist_dashboard._http.serving import Limits, guarded_protocol


class Base(asyncio.Protocol):
    """The little of uvicorn's protocol the guard relies on."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.connections: set[Any] = set()
        self.loop = loop
        self.cycle = None
        self.made = False

    def connection_made(self, transport: Any) -> None:
        self.made = True


class Transport:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def get_extra_info(self, name: str) -> Any:
        return self.sock if name == "socket" else None


@pytest.fixture
def accepted() -> Iterator[socket.socket]:
    """A server-side TCP socket with TCP_NODELAY off, as a worker process may be handed."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
        server.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 0)
        yield server
        server.close()
        client.close()


def test_an_accepted_connection_sends_without_delay(accepted: socket.socket) -> None:
    """A socket without TCP_NODELAY gets it on connection: no response waits for an ACK."""
    loop = asyncio.new_event_loop()
    try:
        protocol = guarded_protocol(Base, Limits(max_connections=10))(loop)
        protocol.connection_made(Transport(accepted))
        assert protocol.made
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        protocol._disarm()
    finally:
        loop.close()
