"""A server process for the benchmarks that drive kojin over HTTP: a free port, and a clean stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_server(server: subprocess.Popen[bytes]) -> None:
    """Stop a server started in its own session: SIGTERM to its group, SIGKILL if it has not gone in 30 s."""
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
