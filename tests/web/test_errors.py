"""Which paths are pages: their errors are pages and their bodies forms; every other path keeps the JSON shape."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from kojin.app import Kojin
from kojin.entrypoints.http.app import create_app
from kojin.staff.domain import Role
from kojin.web.errors import is_page
from kojin.web.security import MAX_FORM_BYTES
from tests.staff.support import staff_headers


@pytest.fixture
def client(kojin: Kojin) -> Iterator[TestClient]:
    with TestClient(create_app(kojin), raise_server_exceptions=False) as client:
        yield client


def test_a_prefix_covers_itself_and_what_lies_below_it(kojin: Kojin) -> None:
    create_app(kojin)  # the parties register their pages' prefixes
    assert is_page("/staff/")
    assert is_page("/staff/login")
    assert is_page("/portal/login")
    assert not is_page("/staff/bulk")
    assert not is_page("/staff/recipients")
    assert not is_page("/portalx")


def test_a_json_api_beside_the_staff_pages_refuses_a_large_body_in_the_json_shape(
    client: TestClient, kojin: Kojin
) -> None:
    headers = staff_headers(kojin, Role.SYSADMIN, "municipality:13105")
    body = {"name": "年金機構", "certificate_pem": "x" * (MAX_FORM_BYTES + 1)}
    response = client.post("/staff/recipients", json=body, headers=headers)
    # Under the JSON limit, not the form limit: the route itself refuses the certificate.
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["field"] == "certificate_pem"
    too_large = client.post(
        "/staff/recipients", content=b" " * (2 * 1024 * 1024), headers={**headers, "content-type": "application/json"}
    )
    assert too_large.status_code == 413
    assert too_large.json()["error"]["code"] == "request.too_large"
    assert client.get("/staff/recipients/年金機構", headers=headers).status_code == 404


def test_a_json_api_beside_the_staff_pages_refuses_a_body_that_is_not_json(client: TestClient, kojin: Kojin) -> None:
    headers = staff_headers(kojin, Role.SYSADMIN, "municipality:13105")
    response = client.post("/staff/recipients", content=b"name=x", headers={**headers, "content-type": "text/plain"})
    assert response.status_code == 415
    assert "error" in response.json()


def test_a_page_still_refuses_a_large_form_with_a_page(client: TestClient) -> None:
    response = client.post(
        "/staff/login",
        content=b"a=" + b"x" * MAX_FORM_BYTES,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
