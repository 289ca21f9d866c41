"""What uvicorn imports: builds kojin from the environment in each worker."""

from __future__ import annotations

from fastapi import FastAPI

from kojin.app import build
from kojin.entrypoints.http.app import create_app


def app() -> FastAPI:
    # One worker (``kojin up`` refuses more): the hub and its exchange log have a single writer.
    kojin = build()
    # The hub's own records of exchanges a crash lost are restored from the log
    # now, not on the first request that happens to reach the hub.
    kojin.hub.start()
    return create_app(kojin)
