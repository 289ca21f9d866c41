"""What uvicorn imports: builds kojin from the environment in each worker."""

from __future__ import annotations

from fastapi import FastAPI

from kojin.app import build
from kojin.web.app import create_app


def app() -> FastAPI:
    # Workers are stateless: each builds its own engines over the same stores.
    return create_app(build())
