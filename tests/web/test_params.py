"""Whole numbers in requests: bounded where they are declared, refused (not a server error) beyond."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.utils import get_flat_params
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from kojin.app import Kojin
from kojin.entrypoints.http.app import create_app
from kojin.staff.domain import Organisation, Role
from kojin.web.params import BIGINT_MAX, INT_MAX
from tests.staff.support import clerk_headers

HUGE = "99999999999999999999"  # 20 digits, beyond a signed 64-bit column


def _unbounded(schema: Any, where: str, components: dict[str, Any], seen: tuple[str, ...] = ()) -> Iterator[str]:
    """Where in a JSON schema an integer has no maximum (or one wider than a stored integer)."""
    if not isinstance(schema, dict):
        return
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            yield from _unbounded(components[name], f"{where}->{name}", components, (*seen, name))
        return
    # (The document may write the bound as a float, 2.0**63, which is the same number.)
    if schema.get("type") == "integer" and float(schema.get("maximum", "inf")) > float(BIGINT_MAX):
        yield where
    for key in ("anyOf", "oneOf", "allOf"):
        for part in schema.get(key, []):
            yield from _unbounded(part, where, components, seen)
    for name, part in schema.get("properties", {}).items():
        yield from _unbounded(part, f"{where}.{name}", components, seen)
    if "items" in schema:
        yield from _unbounded(schema["items"], f"{where}[]", components, seen)


def _hidden_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Routes left out of the OpenAPI document (the pages), through included routers."""
    for route in routes:
        if isinstance(route, APIRoute):
            if not route.include_in_schema:
                yield route
        elif (router := getattr(route, "original_router", None)) is not None:
            yield from _hidden_routes(router.routes)
        elif (inner := getattr(route, "routes", None)) is not None:
            yield from _hidden_routes(inner)


def test_every_whole_number_a_request_may_carry_is_bounded(kojin: Kojin) -> None:
    app: FastAPI = create_app(kojin)
    spec = app.openapi()
    components = spec.get("components", {}).get("schemas", {})
    unbounded: list[str] = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for param in operation.get("parameters", []):
                where = f"{method.upper()} {path} {param['in']}:{param['name']}"
                unbounded += _unbounded(param.get("schema", {}), where, components)
            for content in operation.get("requestBody", {}).get("content", {}).values():
                unbounded += _unbounded(content.get("schema", {}), f"{method.upper()} {path} body", components)
    hidden = list(_hidden_routes(app.router.routes))
    assert any("case_id" in route.path for route in hidden)  # the walk reaches the pages
    for route in hidden:
        for field in get_flat_params(route.dependant):
            if field.field_info.annotation is int and not any(
                getattr(m, "le", None) is not None for m in field.field_info.metadata
            ):
                unbounded.append(f"{route.path} {field.name}")
    assert unbounded == []


@pytest.fixture
def client(kojin: Kojin) -> Iterator[TestClient]:
    with TestClient(create_app(kojin), raise_server_exceptions=False) as c:
        yield c


def _invalid(response: Any) -> tuple[int, str, str | None]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["field"]


def test_ids_beyond_a_stored_integer_are_refused(kojin: Kojin, client: TestClient) -> None:
    clerk = clerk_headers(kojin)
    purpose = {"purpose": "住民票の写しの交付"}
    cases = [
        (f"/registry/residents/{HUGE}", purpose, "resident_id"),
        (f"/registry/residents/{HUGE}/history", purpose, "resident_id"),
        (f"/registry/households/{HUGE}", purpose, "household_id"),
        ("/registry/residents", {**purpose, "after": HUGE}, "after"),
        ("/registry/residents", {**purpose, "bulk_id": HUGE}, "bulk_id"),
    ]
    for path, query, field in cases:
        assert _invalid(client.get(path, params=query, headers=clerk)) == (422, "request.invalid", field), path
    body = {"bulk_id": HUGE, "purpose": "x"}
    assert _invalid(client.post("/registry/export", json=body, headers=clerk))[:2] == (422, "request.invalid")
    kojin.staff.register("l.taro", "照合 太郎", Organisation.parse("linkage"), Role.LINKAGE_CLERK)
    linkage = {"authorization": f"Bearer {kojin.staff.issue_token('l.taro').access_token}"}
    page = client.get(f"/linkage/review/{HUGE}", headers=linkage)
    assert page.status_code == 422 and "request.invalid" in page.text
    assert client.get("/linkage/review", params={"offset": HUGE}, headers=linkage).status_code == 422
    for path in (f"/audit/sth/{HUGE}", f"/audit/bundle/{HUGE}", f"/audit/proof/inclusion?index={HUGE}"):
        assert _invalid(client.get(path))[:2] == (422, "request.invalid"), path
    # The bound is the column's: the widest INTEGER reaches the store (no such
    # resident here, so out of the clerk's scope), one more is refused before it.
    widest = client.get(f"/registry/residents/{INT_MAX}", params=purpose, headers=clerk)
    assert (widest.status_code, widest.json()["error"]["code"]) == (403, "staff.not_in_scope")
    beyond = client.get(f"/registry/residents/{INT_MAX + 1}", params=purpose, headers=clerk)
    assert _invalid(beyond) == (422, "request.invalid", "resident_id")
    assert client.get(f"/audit/bundle/{BIGINT_MAX}").status_code == 404
