from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from kojin.entrypoints.cli.serve import SERVER_LIMITS
from kojin.entrypoints.http import protocol
from kojin.entrypoints.http.protocol import DeadlineH11Protocol


async def _app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await PlainTextResponse("ok")(scope, receive, send)


@pytest.fixture
def port(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    monkeypatch.setattr(protocol, "HEADER_TIMEOUT", 0.3)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = int(probe.getsockname()[1])
    config = uvicorn.Config(
        _app, host="127.0.0.1", port=free, http=DeadlineH11Protocol, log_level="warning", **SERVER_LIMITS
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield free
    server.should_exit = True
    thread.join(10)


def _closed(conn: socket.socket) -> bool:
    conn.settimeout(5)
    try:
        return conn.recv(1024) == b""
    except ConnectionResetError:
        return True


def test_a_slow_request_head_is_cut_off(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as slow:
        slow.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the blank line
        assert _closed(slow)


def test_a_prompt_request_is_answered_and_the_connection_then_bounded(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        conn.settimeout(5)
        assert conn.recv(1024).startswith(b"HTTP/1.1 200")
        conn.sendall(b"GET / HTTP/1.1\r\n")  # the next request's head, late
        assert _closed(conn)
