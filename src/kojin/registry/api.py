"""HTTP API of the resident register (住民基本台帳 API).

Dates arrive as strings and are parsed by the domain, so an impossible date
such as 2月30日 gets the register's own precise error, not a generic one.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from kojin.core.japan import parse_date
from kojin.numbering.domain import mask_number
from kojin.registry.domain import (
    Address,
    EventKind,
    PersonDetails,
    history_record,
    parse_sex,
    resident_record,
)
from kojin.registry.service import RegisterService

Text = Annotated[str, Field(max_length=200)]


class AddressIn(BaseModel):
    postal_code: Text
    prefecture: Text = ""
    city: Text = ""
    town: Text = ""
    block: Text = ""
    building: Text = ""

    def to_domain(self) -> Address:
        return Address(self.postal_code, self.prefecture, self.city, self.town, self.block, self.building)


class ResidentIn(BaseModel):
    """A birth or move-in notification (出生届・転入届)."""

    name: Text
    kana: Text
    sex: Annotated[str, Field(max_length=1)]
    birth_date: Annotated[str, Field(max_length=10)]
    address: AddressIn
    municipality_code: Annotated[str, Field(max_length=6)]
    kind: EventKind = EventKind.BIRTH
    effective_date: Annotated[str | None, Field(max_length=10)] = None
    household_id: int | None = None
    relationship: Text = "世帯主"
    nationality: Annotated[str, Field(max_length=2)] = "JP"
    residence_status: Text | None = None
    period_of_stay_until: Annotated[str | None, Field(max_length=10)] = None
    juminhyo_code: Annotated[str | None, Field(max_length=11)] = None


class MoveIn(BaseModel):
    address: AddressIn
    effective_date: Annotated[str | None, Field(max_length=10)] = None
    whole_household: bool = False


class MoveOutIn(BaseModel):
    destination: Text
    effective_date: Annotated[str | None, Field(max_length=10)] = None
    whole_household: bool = False


class RenameIn(BaseModel):
    name: Text
    kana: Text
    effective_date: Annotated[str | None, Field(max_length=10)] = None


class DeathIn(BaseModel):
    effective_date: Annotated[str, Field(max_length=10)]


class ResidenceStatusIn(BaseModel):
    residence_status: Text
    period_of_stay_until: Annotated[str | None, Field(max_length=10)] = None
    effective_date: Annotated[str | None, Field(max_length=10)] = None


class NumberChangeIn(BaseModel):
    reason: Text


def make_router(register: RegisterService) -> APIRouter:
    router = APIRouter(prefix="/registry", tags=["registry 住民基本台帳"])
    router.include_router(residents_router(register))
    router.include_router(changes_router(register))
    return router


def optional_date(value: str | None, field: str) -> date | None:
    return parse_date(value, field) if value else None


def residents_router(register: RegisterService) -> APIRouter:
    """Registering a person (出生・転入) and reading the register: residents, their history, households."""
    router = APIRouter()

    @router.post("/residents", status_code=201)
    def add_resident(body: ResidentIn) -> dict[str, Any]:
        """Register a birth or a move-in; J-LIS issues the number for the notice."""
        details = PersonDetails(
            name=body.name,
            kana=body.kana,
            sex=parse_sex(body.sex),
            birth_date=parse_date(body.birth_date, "birth_date"),
            address=body.address.to_domain(),
            nationality=body.nationality,
            residence_status=body.residence_status,
            period_of_stay_until=optional_date(body.period_of_stay_until, "period_of_stay_until"),
        )
        registration = register.register(
            details,
            municipality_code=body.municipality_code,
            kind=body.kind,
            effective_date=optional_date(body.effective_date, "effective_date"),
            household_id=body.household_id,
            relationship=body.relationship,
            juminhyo_code=body.juminhyo_code,
        )
        # The full number goes to the person by the notice and the card,
        # never back over this API.
        return {
            "resident": resident_record(registration.resident),
            "number_notice": mask_number(registration.number_notice),
        }

    @router.get("/residents")
    def list_residents(
        after: Annotated[int, Query(ge=0)] = 0, limit: Annotated[int, Query(ge=1, le=1000)] = 100
    ) -> dict[str, Any]:
        items = []
        for resident in register.iter_residents(batch=limit, after=after):
            items.append(resident_record(resident))
            if len(items) >= limit:
                break
        return {"residents": items, "next_after": items[-1]["resident_id"] if items else None}

    @router.get("/residents/{resident_id}")
    def show_resident(resident_id: int) -> dict[str, Any]:
        return resident_record(register.get(resident_id))

    @router.get("/residents/{resident_id}/history")
    def resident_history(resident_id: int) -> dict[str, Any]:
        return {"history": [history_record(e) for e in register.history_of(resident_id)]}

    @router.get("/households/{household_id}")
    def household(household_id: int) -> dict[str, Any]:
        members = register.household_members(household_id)
        return {"household_id": household_id, "members": [resident_record(m) for m in members]}

    return router


def changes_router(register: RegisterService) -> APIRouter:
    """Notifications that change a registered person (異動届): moves, names, death, residence status, number."""
    router = APIRouter()

    @router.post("/residents/{resident_id}/move")
    def move(resident_id: int, body: MoveIn) -> dict[str, Any]:
        moved = register.move_within(
            resident_id,
            body.address.to_domain(),
            effective_date=optional_date(body.effective_date, "effective_date"),
            whole_household=body.whole_household,
        )
        return {"residents": [resident_record(r) for r in moved]}

    @router.post("/residents/{resident_id}/move-out")
    def move_out(resident_id: int, body: MoveOutIn) -> dict[str, Any]:
        moved = register.move_out(
            resident_id,
            destination=body.destination,
            effective_date=optional_date(body.effective_date, "effective_date"),
            whole_household=body.whole_household,
        )
        return {"residents": [resident_record(r) for r in moved]}

    @router.post("/residents/{resident_id}/rename")
    def rename(resident_id: int, body: RenameIn) -> dict[str, Any]:
        return resident_record(
            register.change_name(
                resident_id,
                name=body.name,
                kana=body.kana,
                effective_date=optional_date(body.effective_date, "effective_date"),
            )
        )

    @router.post("/residents/{resident_id}/death")
    def death(resident_id: int, body: DeathIn) -> dict[str, Any]:
        return resident_record(
            register.record_death(resident_id, effective_date=parse_date(body.effective_date, "effective_date"))
        )

    @router.post("/residents/{resident_id}/residence-status")
    def residence_status(resident_id: int, body: ResidenceStatusIn) -> dict[str, Any]:
        return resident_record(
            register.change_residence_status(
                resident_id,
                residence_status=body.residence_status,
                period_of_stay_until=optional_date(body.period_of_stay_until, "period_of_stay_until"),
                effective_date=optional_date(body.effective_date, "effective_date"),
            )
        )

    @router.post("/residents/{resident_id}/number-change")
    def number_change(resident_id: int, body: NumberChangeIn) -> dict[str, Any]:
        """番号法 §7(2): designate a new number; the old one is retired for ever."""
        new_number = register.change_number(resident_id, reason=body.reason)
        return {"resident_id": resident_id, "number_notice": mask_number(new_number)}

    return router
