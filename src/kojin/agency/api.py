"""HTTP API of the agencies' intermediate servers (中間サーバー API).

Only the hub calls ``POST /agency/{id}/intermediate/answer`` (and
``…/answer-batch`` for a batch, 一括照会); every message is
MACed with the channel key the agency and the hub share from registration, so
nobody else can ask the server anything.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from kojin.agency import reasons
from kojin.agency.directory import AgencyDirectory
from kojin.agency.intermediate import IntermediateServer
from kojin.agency.service import AgencyService
from kojin.core.errors import KojinError
from kojin.registry.identity import claim_of
from kojin.staff import reasons as staff_reasons
from kojin.staff.domain import Organisation, OrganisationKind, Role, StaffPrincipal
from kojin.staff.guard import StaffDoors

Code = Annotated[str, Query(max_length=100)]
Purpose = Annotated[str | None, Query(max_length=100, description="利用目的（事務） the purpose of this read")]


class ProvisionQueryIn(BaseModel):
    query: dict[str, Any] = Field(description="provision-query/1 message from the hub")
    mac: Annotated[str, Field(max_length=64, description="HMAC-SHA-256 (hex) under the channel key")]


class ProvisionAnswerOut(BaseModel):
    answer: dict[str, Any] = Field(description="provision-answer/1 message; the copy is sealed to the requester")
    mac: str


class ProvisionQueriesIn(BaseModel):
    message: dict[str, Any] = Field(description="provision-queries/1 message from the hub (up to 1,000 queries)")
    mac: Annotated[str, Field(max_length=64, description="HMAC-SHA-256 (hex) under the channel key")]


class ProvisionAnswersOut(BaseModel):
    answers: dict[str, Any] = Field(
        description=("provision-answers/1 message: one provision-answer/1 per query in order, or {request_id, error}")
    )
    mac: str


class CodeIn(BaseModel):
    """An officer's 取得番号: the number (in the body, never the URL) and the member's four basic items."""

    number: Annotated[str, Field(max_length=40)]
    name: Annotated[str, Field(max_length=100)]
    kana: Annotated[str, Field(max_length=100)] = ""
    sex: Annotated[str, Field(max_length=1, description="1 male, 2 female")]
    birth_date: Annotated[str, Field(max_length=10, description="YYYY-MM-DD")]
    address: Annotated[str, Field(max_length=200, description="the member's address on one line")]
    local_id: Annotated[str | None, Field(max_length=64, description="the agency's own id (宛名番号)")] = None


def make_router(directory: AgencyDirectory, doors: StaffDoors) -> APIRouter:
    """The hub's hop to the intermediate servers, and each agency's own officers' look at its people."""
    router = APIRouter(prefix="/agency", tags=["agency 中間サーバー"])
    router.include_router(officers_router(directory, doors))

    def hosted(agency_id: str) -> IntermediateServer:
        server = directory.intermediate(agency_id)
        if server is None:
            raise reasons.NOT_HOSTED.error(agency_id=agency_id)
        return server

    @router.post("/{agency_id}/intermediate/answer", response_model=ProvisionAnswerOut)
    def answer(agency_id: str, body: ProvisionQueryIn) -> dict[str, Any]:
        """The hub → provider hop: answer a MACed query from this agency's copies (副本)."""
        reply, mac = hosted(agency_id).answer(body.query, body.mac)
        return {"answer": reply, "mac": mac}

    @router.post("/{agency_id}/intermediate/answer-batch", response_model=ProvisionAnswersOut)
    def answer_batch(agency_id: str, body: ProvisionQueriesIn) -> dict[str, Any]:
        """The hub → provider hop for a batch (一括照会): one MACed message of queries, one of answers."""
        reply, mac = hosted(agency_id).answer_many(body.message, body.mac)
        return {"answers": reply, "mac": mac}

    return router


def officers_router(directory: AgencyDirectory, doors: StaffDoors) -> APIRouter:
    """An agency officer reads the own agency's copies and §23 records of one person, for a stated purpose.

    The person is named by the agency's own code (機関別符号); an officer of
    another agency is refused before anything is looked up.
    """
    router = APIRouter()
    officer_door = Depends(doors.role(Role.AGENCY_OFFICER))
    staff = doors.staff

    def own(principal: StaffPrincipal, agency_id: str, code: str, purpose: str | None) -> AgencyService:
        if principal.organisation != Organisation(OrganisationKind.AGENCY, agency_id):
            raise staff_reasons.NOT_IN_SCOPE.error()
        agency = directory.get(agency_id)
        staff.record_access(principal, code, purpose, "read")
        return agency

    @router.post("/{agency_id}/codes")
    def obtain_code(
        agency_id: str, body: CodeIn, request: Request, officer: StaffPrincipal = officer_door
    ) -> dict[str, Any]:
        """取得番号: the own agency's code for a member, from the number and the member's four basic items.

        The number travels in the body only. J-LIS refuses another person's
        number (``number.person_mismatch``); every refusal is recorded with the
        officer's refused attempts.
        """
        if officer.organisation != Organisation(OrganisationKind.AGENCY, agency_id):
            raise staff_reasons.NOT_IN_SCOPE.error()
        member = claim_of(body.name, body.kana, body.sex, body.birth_date, body.address)
        try:
            code, local = directory.obtain_code(agency_id, body.number, member, body.local_id)
        except KojinError as exc:
            doors.refused(request, exc, officer)
            raise
        staff.record_access(officer, code, "機関別符号の取得", "write")
        return {"agency_id": agency_id, "code": code, "local_id": local}

    @router.get("/{agency_id}/copies")
    def copies(
        agency_id: str, code: Code, purpose: Purpose = None, officer: StaffPrincipal = officer_door
    ) -> dict[str, Any]:
        """The copies (副本) the own agency keeps for one person."""
        entries = own(officer, agency_id, code, purpose).copies_of(code)
        return {
            "code": code,
            "copies": [
                {"item": e.item, "payload": e.payload, "withheld": e.withheld, "updated_at": e.updated_at}
                for e in entries
            ],
        }

    @router.get("/{agency_id}/records")
    def records(
        agency_id: str, code: Code, purpose: Purpose = None, officer: StaffPrincipal = officer_door
    ) -> dict[str, Any]:
        """The own agency's §23 records (情報提供等の記録) about one person."""
        entries = own(officer, agency_id, code, purpose).log_entries(code=code)
        return {"code": code, "records": [e._asdict() for e in entries]}

    return router
