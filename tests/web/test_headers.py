from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from kojin.app import Kojin
from kojin.entrypoints.http.app import create_app
from tests.staff.support import clerk_headers


@pytest.fixture
def client(kojin: Kojin) -> Iterator[TestClient]:
    with TestClient(create_app(kojin), raise_server_exceptions=False) as c:
        yield c


def _no_framing(headers: object) -> None:
    assert "frame-ancestors 'none'" in headers["content-security-policy"]  # type: ignore[index]
    assert headers["x-frame-options"] == "DENY"  # type: ignore[index]
    assert headers["x-content-type-options"] == "nosniff"  # type: ignore[index]


def test_swagger_ui_is_not_framed_and_its_one_inline_script_is_named_by_hash(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    _no_framing(response.headers)
    csp = response.headers["content-security-policy"]
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    scripts = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    assert scripts
    for script in scripts:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    _no_framing(client.get("/redoc").headers)


def test_the_linkage_review_is_not_framed(kojin: Kojin) -> None:
    with TestClient(create_app(kojin), headers=clerk_headers(kojin)) as c:
        response = c.get("/linkage/review")
        assert "text/html" in response.headers["content-type"]
        _no_framing(response.headers)
        assert "script-src 'self';" in response.headers["content-security-policy"]


def test_pages_keep_their_own_headers_and_json_gets_nosniff(client: TestClient) -> None:
    page = client.get("/")
    _no_framing(page.headers)
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["content-security-policy"].count("default-src") == 1
    api = client.get("/healthz")
    assert api.headers["x-content-type-options"] == "nosniff"


def test_a_405_names_the_allowed_methods(client: TestClient) -> None:
    response = client.delete("/healthz")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "http.method_not_allowed"
    assert response.headers["allow"] == "GET"
    page = client.delete("/portal/login")
    assert page.status_code == 405
    assert "POST" in page.headers["allow"]
