"""HTTP API of the corporate register, after the NTA Web-API (JSON instead of CSV/XML)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from kojin.core.japan import parse_date
from kojin.corporate.domain import corporation_record
from kojin.corporate.service import CorporateRegister
from kojin.staff.domain import Organisation, OrganisationKind, Role, StaffPrincipal
from kojin.staff.guard import StaffDoors
from kojin.web.params import BigInt

# 法人番号 are assigned by the National Tax Agency (国税庁), an agency at the hub.
NTA = Organisation(OrganisationKind.AGENCY, "nta")

Text = Annotated[str, Field(max_length=200)]


class CorporationIn(BaseModel):
    name: Text
    furigana: Text
    kind: Annotated[str, Field(max_length=3)]
    postal_code: Annotated[str, Field(max_length=10)]
    street: Text
    assignment_date: Annotated[str | None, Field(max_length=10)] = None


def make_router(corporate: CorporateRegister, doors: StaffDoors) -> APIRouter:
    """Look-ups are public, as the NTA's are; assigning a number is the NTA's officers' alone."""
    router = APIRouter(prefix="/corporate", tags=["corporate 法人番号"])
    officer = Depends(doors.role(Role.AGENCY_OFFICER))

    @router.post("/corporations", status_code=201)
    def register(body: CorporationIn, principal: StaffPrincipal = officer) -> dict[str, Any]:
        doors.staff.authorise(principal, Role.AGENCY_OFFICER, NTA)
        corp = corporate.register(
            name=body.name,
            furigana=body.furigana,
            kind=body.kind,
            postal_code=body.postal_code,
            street=body.street,
            assignment_date=parse_date(body.assignment_date, "assignment_date") if body.assignment_date else None,
        )
        return corporation_record(corp)

    @router.get("/corporations/{corporate_number}")
    def show(corporate_number: str) -> dict[str, Any]:
        return corporation_record(corporate.get(corporate_number))

    @router.get("/num")
    def by_numbers(id: Annotated[str, Query(max_length=200)]) -> dict[str, Any]:
        """Like the NTA's /4/num: up to ten comma-separated numbers."""
        numbers = [n.strip() for n in id.split(",") if n.strip()]
        return {"corporations": [corporation_record(c) for c in corporate.get_many(numbers)]}

    @router.get("/search")
    def search(
        name: Annotated[str, Query(max_length=150)],
        mode: BigInt = 1,
        include_closed: bool = True,
    ) -> dict[str, Any]:
        """Like the NTA's /4/name: mode 1 prefix, mode 2 partial match."""
        found = corporate.search(name, mode=mode, include_closed=include_closed)
        return {"count": len(found), "corporations": [corporation_record(c) for c in found]}

    return router
