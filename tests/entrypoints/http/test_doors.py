"""Every door of the built app: public, signed, or refusing an anonymous caller; every staff role in its scope.

The routes are enumerated from the app itself, so a route added without a
door fails here: it is neither on the public list nor refuses a caller
without credentials.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from kojin.app import Kojin
from kojin.core.errors import KojinError
from kojin.entrypoints.http.app import create_app
from kojin.entrypoints.http.doors import PUBLIC, SIGNED
from kojin.staff.domain import ROLES_BY_KIND, Role
from kojin.staff.guard import StaffDoor
from tests.staff.support import staff_headers


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    door: StaffDoor | None

    def url(self) -> str:
        # Any value fills a path parameter: the door must refuse before the value matters.
        return re.sub(r"\{[^}]+\}", "1", self.path)


def _staff_door(dependant: Any) -> StaffDoor | None:
    for sub in getattr(dependant, "dependencies", []):
        if isinstance(sub.call, StaffDoor):
            return sub.call
        found = _staff_door(sub)
        if found is not None:
            return found
    return None


def routes(app: FastAPI) -> list[Route]:
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        methods = context.methods or {"GET"}  # a mount (static files) answers GET
        door = _staff_door(getattr(route, "dependant", None))
        for method in sorted(methods - {"HEAD"}):
            found.append(Route(method, str(context.path), door))
    return found


@pytest.fixture
def app(kojin: Kojin) -> FastAPI:
    return create_app(kojin)


@pytest.fixture
def anonymous(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        yield client


def _call(client: TestClient, route: Route, headers: dict[str, str] | None = None) -> Any:
    if route.method == "GET":
        return client.get(route.url(), headers=headers)
    return client.request(route.method, route.url(), json={}, headers=headers)


def test_the_lists_name_only_routes_that_exist(app: FastAPI) -> None:
    declared = {(r.method, r.path) for r in routes(app)}
    assert PUBLIC - declared == set()
    assert SIGNED - declared == set()


def test_every_route_is_public_signed_or_refuses_an_anonymous_caller(app: FastAPI, anonymous: TestClient) -> None:
    public_pages = {path for method, path in PUBLIC if method == "GET"}
    open_doors = []
    for route in routes(app):
        if (route.method, route.path) in PUBLIC | SIGNED:
            continue
        response = _call(anonymous, route)
        if response.status_code == 401:
            continue
        location = response.headers.get("location", "").split("?")[0]
        if route.method == "GET" and response.status_code == 303 and location in public_pages:
            continue  # a page a browser opens: sent to where one logs in
        open_doors.append((route.method, route.path, response.status_code))
    assert open_doors == []


def test_signed_hops_refuse_a_message_without_a_good_signature(anonymous: TestClient, kojin: Kojin) -> None:
    before = kojin.exchange_log.size()
    for method, path in sorted(SIGNED):
        response = anonymous.request(method, re.sub(r"\{[^}]+\}", "nta", path), json={})
        assert response.status_code in (400, 401, 403, 404, 422), (path, response.status_code)
        assert "error" in response.json()
    # Unsigned, these reach no leaf: only a registered agency's signature writes to the log.
    assert kojin.exchange_log.size() == before


def _organisation_for(role: Role) -> str:
    """The organisation a member in ``role`` belongs to: the one kind that has the role, or a municipality."""
    kinds = [k for k, roles in ROLES_BY_KIND.items() if role in roles]
    if len(kinds) != 1 or kinds[0].value == "municipality":
        return "municipality:13105"
    return {"agency": "agency:nta", "insurer": "insurer:kyokai"}.get(kinds[0].value, kinds[0].value)


def test_the_local_administrator_never_gets_a_token(kojin: Kojin) -> None:
    with pytest.raises(KojinError) as refused:
        staff_headers(kojin, Role.LOCAL_ADMIN, "installation")
    assert refused.value.code == "staff.local_only"


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.LOCAL_ADMIN])
def test_a_role_outside_a_routes_scope_is_refused_with_403(app: FastAPI, kojin: Kojin, role: Role) -> None:
    headers = staff_headers(kojin, role, _organisation_for(role))
    staff_routes = [r for r in routes(app) if r.door is not None]
    assert staff_routes, "no staff routes found"
    wrong = []
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        for route in staff_routes:
            assert route.door is not None
            response = _call(client, route, headers)
            body = response.json() if "json" in response.headers.get("content-type", "") else {}
            code = body.get("error", {}).get("code", "") if isinstance(body, dict) else ""
            if role in route.door.roles:
                if response.status_code == 401 or code == "staff.wrong_role":
                    wrong.append((route.path, "refused in scope", response.status_code))
            elif response.status_code != 403:
                wrong.append((route.path, "reached out of scope", response.status_code))
    assert wrong == []
    staff_id = kojin.staff.check_token(headers["authorization"].removeprefix("Bearer ")).staff_id
    refused = kojin.staff.refusals.recent(limit=1000, staff_id=staff_id)
    out_of_scope = [r for r in staff_routes if r.door is not None and role not in r.door.roles]
    assert len([r for r in refused if r.code == "staff.wrong_role"]) == len(out_of_scope)


def test_a_persons_portal_session_reaches_no_staff_route(app: FastAPI, kojin: Kojin) -> None:
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        client.cookies.set("kojin_portal", "a-portal-session")
        for route in [r for r in routes(app) if r.door is not None]:
            assert _call(client, route).status_code == 401, route.path


def test_openapi_declares_the_security_schemes(anonymous: TestClient) -> None:
    spec = anonymous.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["staffToken"]["scheme"] == "bearer"
    assert schemes["staffSession"]["in"] == "cookie"
    assert schemes["clinicKey"]["name"] == "X-Clinic-Key"
    show = spec["paths"]["/registry/residents/{resident_id}"]["get"]
    assert {"staffToken": []} in show["security"]
