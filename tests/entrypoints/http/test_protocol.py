from __future__ import annotations

import json
import resource
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from kojin.entrypoints.cli.serve import SERVER_LIMITS, ServerLimits
from kojin.entrypoints.http import protocol
from kojin.entrypoints.http.protocol import DeadlineH11Protocol


async def _app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await PlainTextResponse("ok")(scope, receive, send)


def _serve(limits: ServerLimits) -> Iterator[int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = int(probe.getsockname()[1])
    config = uvicorn.Config(_app, host="127.0.0.1", port=free, http=DeadlineH11Protocol, log_level="warning", **limits)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield free
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def port(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    monkeypatch.setattr(protocol, "HEADER_TIMEOUT", 0.3)
    yield from _serve(SERVER_LIMITS)


@pytest.fixture
def capped_port() -> Iterator[int]:
    # Room for 4 connections waiting for their head, beyond uvicorn's own 503 headroom.
    yield from _serve({**SERVER_LIMITS, "limit_concurrency": protocol._HEADROOM + 4})


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


def test_at_the_cap_the_longest_waiting_connection_makes_room_for_a_prompt_request(capped_port: int) -> None:
    slow = [socket.create_connection(("127.0.0.1", capped_port)) for _ in range(12)]
    try:
        for conn in slow:
            conn.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            time.sleep(0.02)
        # More slow clients than the cap holds: the oldest were closed, the newest still wait.
        assert _closed(slow[0])
        slow[-1].settimeout(0.3)
        with pytest.raises(TimeoutError):
            slow[-1].recv(1)
        with socket.create_connection(("127.0.0.1", capped_port)) as person:
            person.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            person.settimeout(5)
            assert person.recv(1024).startswith(b"HTTP/1.1 200")
    finally:
        for conn in slow:
            conn.close()


def _limits_under(soft: int, hard: int) -> list[int]:
    """``server_limits()`` in a process started with these open-file limits: [cap, soft limit after]."""
    script = (
        "import json, resource\n"
        "from kojin.entrypoints.cli.serve import server_limits\n"
        "cap = server_limits()['limit_concurrency']\n"
        "print(json.dumps([cap, resource.getrlimit(resource.RLIMIT_NOFILE)[0]]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard)),
    )
    return list(json.loads(done.stdout))


def test_the_open_file_limit_is_raised_to_the_hard_one() -> None:
    assert _limits_under(1024, 4096) == [SERVER_LIMITS["limit_concurrency"], 4096]


def test_the_cap_stays_under_a_hard_limit_of_1024_files() -> None:
    cap, soft = _limits_under(1024, 1024)
    assert soft == 1024
    assert cap == 1024 - 128
