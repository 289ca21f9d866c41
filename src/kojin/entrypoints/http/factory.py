"""What uvicorn imports: builds kojin from the environment in each worker."""

from __future__ import annotations

from fastapi import FastAPI

from kojin.app import build
from kojin.entrypoints.http.app import create_app


def app() -> FastAPI:
    # One worker (``kojin up`` refuses more): the hub and its exchange log have a single writer.
    return create_app(build())
