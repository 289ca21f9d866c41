"""No acknowledged exchange is lost: SIGKILL the hub's server mid-load, restart, check.

The hub runs as ``uvicorn kojin.entrypoints.http.factory:app`` in a child process on SQLite
stores in a temporary directory. Agencies in this process drive exchanges
over HTTP from several threads and note every acknowledged one; the server is
killed with SIGKILL while they are in flight, restarted, and must show every
acknowledged exchange in the log (and in the hub's §23 records), and a proof
that the first tree head signed after the restart extends the last one signed
before the kill.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from kojin.agency.client import HttpHub
from kojin.app import Kojin, build
from kojin.audit.store import tree_heads
from kojin.audit.tree_head import load_public_key
from kojin.audit.verify import verify_bundle
from kojin.core.config import Settings
from kojin.core.errors import KojinError
from tests.hub.helpers import CHILD_ALLOWANCE, LOCAL_TAX, setup_demo

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, data: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "KOJIN_DATA_DIR": str(data)}
        env.pop("KOJIN_DATABASE_URL", None)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "kojin.entrypoints.http.factory:app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                assert self.proc.poll() is None, "server died on start-up"
                try:
                    if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                        return
                except httpx.HTTPError:
                    time.sleep(0.1)
            raise AssertionError("server did not start")
        except BaseException:
            # Not yet handed to the test's clean-up: stop it here, or it outlives the run.
            self.proc.kill()
            self.proc.wait(timeout=30)
            raise

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        self.proc.wait(timeout=30)


@pytest.fixture
def data(tmp_path: Path) -> Iterator[Path]:
    data = tmp_path / "data"
    kojin = build(Settings(data_dir=data))
    try:
        setup_demo(kojin, 3)
    finally:
        kojin.close()
    yield data


def _latest_head_size(kojin: Kojin) -> int:
    with kojin.db.engine("audit").connect() as conn:
        return int(conn.execute(select(func.coalesce(func.max(tree_heads.c.tree_size), -1))).scalar_one())


def test_acknowledged_exchanges_survive_sigkill(data: Path) -> None:
    kojin = build(Settings(data_dir=data), migrate=False)
    servers: list[Server] = []
    try:
        codes = [p for (p,) in _codes(kojin)]
        server = Server(data)
        servers.append(server)
        acked: dict[str, int] = {}
        lock = threading.Lock()
        stop = threading.Event()

        def drive(t: int) -> None:
            http = httpx.Client(timeout=10)
            client = kojin.agencies.client("13105", HttpHub(server.base, client=http))
            i = 0
            try:
                while not stop.is_set():
                    try:
                        r = client.request("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=codes[(t + i) % len(codes)])
                    except (httpx.HTTPError, KojinError):
                        return  # the server is gone: what was acknowledged is what counts
                    with lock:
                        acked[r.request_id] = r.leaf_index
                    i += 1
            finally:
                http.close()

        threads = [threading.Thread(target=drive, args=(t,)) for t in range(6)]
        for t in threads:
            t.start()
        # Kill only once a tree head has been signed and exchanges are flowing.
        deadline = time.monotonic() + 30
        while (_latest_head_size(kojin) <= 0 or len(acked) < 150) and time.monotonic() < deadline:
            time.sleep(0.05)
        server.stop(signal.SIGKILL)
        stop.set()
        for t in threads:
            t.join()
        assert len(acked) >= 150
        last_before = _latest_head_size(kojin)
        assert last_before > 0

        server = Server(data)
        servers.append(server)
        client = kojin.agencies.client("13105", HttpHub(server.base))
        deadline = time.monotonic() + 30
        first_after = -1
        while time.monotonic() < deadline:
            client.request("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=codes[0])
            with kojin.db.engine("audit").connect() as conn:
                first_after = int(
                    conn.execute(
                        select(func.coalesce(func.min(tree_heads.c.tree_size), -1)).where(
                            tree_heads.c.tree_size > last_before
                        )
                    ).scalar_one()
                )
            if first_after > 0:
                break
            time.sleep(0.2)
        assert first_after > last_before

        key = load_public_key(httpx.get(f"{server.base}/audit/key").text)
        bundle = httpx.get(
            f"{server.base}/audit/bundle/0", params={"tree_size": first_after, "consistency_from": last_before}
        ).json()
        result = verify_bundle(bundle, trusted_public_key=key)
        assert result.ok, result.reasons
        server.stop()
    finally:
        for s in servers:
            s.stop(signal.SIGKILL)
        kojin.close()

    # Every acknowledged exchange is in the log, at the index it was acknowledged with, and recorded by the hub.
    kojin = build(Settings(data_dir=data), migrate=False)
    try:
        size = kojin.exchange_log.size()
        for request_id, index in acked.items():
            assert index < size
            assert json.loads(kojin.exchange_log.leaf_data(index))["request_id"] == request_id
        recorded = {r["request_id"] for r in kojin.hub.records(limit=1_000_000)}
        assert set(acked) <= recorded
    finally:
        kojin.close()


def _codes(kojin: Kojin) -> list[tuple[str]]:
    from kojin.agency.store import people

    with kojin.agencies.get("13105").engine.connect() as conn:
        return [(str(c),) for (c,) in conn.execute(select(people.c.code))]
