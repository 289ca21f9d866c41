"""The built app under schemathesis: every API operation fuzzed in process, without and with credentials.

Each operation in the OpenAPI document gets generated requests (valid and
invalid) twice: once from an anonymous caller (the signed hops among them:
their messages unsigned or garbage), and once with credentials that pass its
door — for a staff route the bearer token of a member in a role the door
admits, for a clinic's API the clinic's key on the clinic world — so the fuzz
gets past the door into the route. Any 5xx, or an answer the document does not
describe (status, content type, body), fails.

Bounded for CI: ``KOJIN_FUZZ_EXAMPLES`` requests per operation and caller
(20 unless set), derandomised so that a failure reproduces. Run it longer
locally with e.g. ``KOJIN_FUZZ_EXAMPLES=500 python -m pytest tests/entrypoints/http/test_fuzz.py``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kojin.app import Kojin
from kojin.entrypoints.http.app import create_app
from kojin.staff.domain import Role
from tests.clinic.world import World
from tests.entrypoints.http.test_doors import _organisation_for, routes
from tests.staff.support import staff_headers

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("KOJIN_FUZZ_EXAMPLES", "20"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

Headers = Callable[[str, str], dict[str, str]]


def _guarded_by(scheme: str) -> Callable[[Any], bool]:
    def guarded(ctx: Any) -> bool:
        return any(scheme in alternative for alternative in ctx.operation.definition.raw.get("security", []))

    return guarded


@pytest.fixture
def fuzzed_app(kojin: Kojin) -> FastAPI:
    return create_app(kojin)


@pytest.fixture
def api(fuzzed_app: FastAPI) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app)


@pytest.fixture
def clinic_api(world: World) -> Any:
    """The app on the clinic world: insurers, members, card holders and a clinic with its key."""
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(world.kojin))


@pytest.fixture
def staff(kojin: Kojin, fuzzed_app: FastAPI) -> Headers:
    """A bearer token of a member in a role the operation's door admits (the first by name)."""
    doors = {(r.method, r.path): r.door for r in routes(fuzzed_app) if r.door is not None}
    tokens: dict[Role, dict[str, str]] = {}

    def headers(method: str, path: str) -> dict[str, str]:
        role = min(doors[(method, path)].roles, key=lambda r: r.value)
        if role not in tokens:
            tokens[role] = staff_headers(kojin, role, _organisation_for(role))
        return tokens[role]

    return headers


def _passed_the_door(response: Any, header: str, credential: str, door_refuses: Callable[[str], bool]) -> None:
    """A request that carried the credential was let in: the fuzz reaches the route, not only the door.

    Some generated requests drop the credential on purpose (schemathesis tries
    the door without it); those may be refused. A route may still answer 401
    for what it checks itself (a card's challenge), with its own code.
    """
    if response.request.headers.get(header) == credential and response.status_code == 401:
        assert not door_refuses(response.json()["error"]["code"]), response.text


anonymous_api = schemathesis.pytest.from_fixture("api")
staff_api = schemathesis.pytest.from_fixture("api").include(_guarded_by("staffToken"))
clinic_key_api = schemathesis.pytest.from_fixture("clinic_api").include(_guarded_by("clinicKey"))
BOUNDED = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@anonymous_api.parametrize()
@BOUNDED
def test_an_anonymous_caller_gets_no_5xx_and_no_answer_outside_the_document(case: Any) -> None:
    case.call_and_validate(checks=CHECKS)


@staff_api.parametrize()
@BOUNDED
def test_a_member_in_an_admitted_role_gets_no_5xx_and_no_answer_outside_the_document(case: Any, staff: Headers) -> None:
    headers = staff(case.operation.method.upper(), case.operation.path)
    response = case.call_and_validate(headers=headers, checks=CHECKS)
    _passed_the_door(response, "authorization", headers["authorization"], lambda code: code.startswith("staff."))


@clinic_key_api.parametrize()
@BOUNDED
def test_a_clinic_with_its_key_gets_no_5xx_and_no_answer_outside_the_document(case: Any, world: World) -> None:
    response = case.call_and_validate(headers={"x-clinic-key": world.clinic_key}, checks=CHECKS)
    _passed_the_door(
        response, "x-clinic-key", world.clinic_key, lambda code: code == "eligibility.clinic_unauthenticated"
    )
