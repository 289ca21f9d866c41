"""HTTP API of the resident register (住民基本台帳 API).

Dates arrive as strings and are parsed by the domain, so an impossible date
such as 2月30日 gets the register's own precise error, not a generic one.
"""

from __future__ import annotations

import base64
import binascii
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy import String

from kojin.core import reasons as core_reasons
from kojin.core.errors import NotFound
from kojin.core.japan import parse_date
from kojin.numbering.domain import mask_number
from kojin.registry.domain import (
    Address,
    CardProof,
    EventKind,
    PersonDetails,
    Resident,
    history_record,
    parse_sex,
    resident_record,
)
from kojin.registry.export import export_residents
from kojin.registry.service import RegisterService
from kojin.registry.store import residents
from kojin.staff import reasons as staff_reasons
from kojin.staff.domain import Organisation, OrganisationKind, Role, StaffPrincipal
from kojin.staff.guard import StaffDoors
from kojin.web.params import RowId, RowOffset

Text = Annotated[str, Field(max_length=200)]


def _stored(column: str) -> Any:
    """A text the register stores in ``residents.<column>``: no longer than that column holds.

    PostgreSQL refuses a longer value (a server error), SQLite would keep it;
    the API refuses it for both with 422 ``request.invalid``.
    """
    stored = residents.c[column].type
    assert isinstance(stored, String) and stored.length is not None
    return Field(max_length=stored.length)


Name = Annotated[str, _stored("name")]
Kana = Annotated[str, _stored("kana")]
Relationship = Annotated[str, _stored("relationship")]
ResidenceStatus = Annotated[str, _stored("residence_status")]
Purpose = Annotated[str | None, Query(max_length=100, description="利用目的（事務） the purpose of this read")]


class AddressIn(BaseModel):
    # The postal code may come as 113-0033: one more than the seven digits stored.
    postal_code: Annotated[str, Field(max_length=8)]
    prefecture: Annotated[str, _stored("prefecture")] = ""
    city: Annotated[str, _stored("city")] = ""
    town: Annotated[str, _stored("town")] = ""
    block: Annotated[str, _stored("block")] = ""
    building: Annotated[str, _stored("building")] = ""

    def to_domain(self) -> Address:
        return Address(self.postal_code, self.prefecture, self.city, self.town, self.block, self.building)


class CardIn(BaseModel):
    """The moving-in person's card read at the counter: the counter's challenge signed after the PIN."""

    challenge: Annotated[str, Field(max_length=512)]
    certificate: Annotated[str, Field(max_length=12_000, description="the authentication certificate, DER in base64")]
    signature: Annotated[str, Field(max_length=2_000, description="the card's signature of the challenge, base64")]

    def to_domain(self) -> CardProof:
        return CardProof(
            self.challenge, _b64(self.certificate, "card.certificate"), _b64(self.signature, "card.signature")
        )


def _b64(value: str, field: str) -> bytes:
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise core_reasons.REQUEST_INVALID.error(
            field_name=field, what_ja="base64 ではありません", what_en="not base64", field=field
        ) from None


class CounterIn(BaseModel):
    """Which municipality's counter asks."""

    municipality_code: Annotated[str, Field(max_length=6)]


class ResidentIn(BaseModel):
    """A birth or move-in notification (出生届・転入届)."""

    name: Name
    kana: Kana
    sex: Annotated[str, _stored("sex")]
    birth_date: Annotated[str, Field(max_length=10)]
    address: AddressIn
    municipality_code: Annotated[str, Field(max_length=6)]
    kind: EventKind = EventKind.BIRTH
    effective_date: Annotated[str | None, Field(max_length=10)] = None
    household_id: RowId | None = None
    relationship: Relationship = "世帯主"
    nationality: Annotated[str, _stored("nationality")] = "JP"
    residence_status: Annotated[str | None, _stored("residence_status")] = None
    period_of_stay_until: Annotated[str | None, Field(max_length=10)] = None
    juminhyo_code: Annotated[str | None, _stored("juminhyo_code")] = None
    card: CardIn | None = Field(default=None, description="on a move-in: the person's card, read at the counter")

    def details(self) -> PersonDetails:
        """The person as the register takes them; dates and sex checked with the register's own errors."""
        return PersonDetails(
            name=self.name,
            kana=self.kana,
            sex=parse_sex(self.sex),
            birth_date=parse_date(self.birth_date, "birth_date"),
            address=self.address.to_domain(),
            nationality=self.nationality,
            residence_status=self.residence_status,
            period_of_stay_until=optional_date(self.period_of_stay_until, "period_of_stay_until"),
        )


class MoveIn(BaseModel):
    address: AddressIn
    effective_date: Annotated[str | None, Field(max_length=10)] = None
    whole_household: bool = False


class MoveOutIn(BaseModel):
    destination: Text
    effective_date: Annotated[str | None, Field(max_length=10)] = None
    whole_household: bool = False


class RenameIn(BaseModel):
    name: Name
    kana: Kana
    effective_date: Annotated[str | None, Field(max_length=10)] = None


class DeathIn(BaseModel):
    effective_date: Annotated[str, Field(max_length=10)]


class ResidenceStatusIn(BaseModel):
    residence_status: ResidenceStatus
    period_of_stay_until: Annotated[str | None, Field(max_length=10)] = None
    effective_date: Annotated[str | None, Field(max_length=10)] = None


class NumberChangeIn(BaseModel):
    reason: Text


class ExportIn(BaseModel):
    """An export under an approved bulk request (二者承認済みの一括出力)."""

    bulk_id: RowId
    purpose: Annotated[str, Field(max_length=100)]
    after: RowOffset = 0


def make_router(register: RegisterService, doors: StaffDoors) -> APIRouter:
    """The register's API: the own municipality's counter clerks only, every look at a person recorded."""
    router = APIRouter(prefix="/registry", tags=["registry 住民基本台帳"])
    counter = Counter(register, doors)
    router.include_router(residents_router(register, counter))
    router.include_router(card_router(register, counter))
    router.include_router(changes_router(register, counter))
    router.include_router(export_router(register, counter))
    return router


class Counter:
    """The counter's rules: a clerk acts only for the own municipality, and says why for every person."""

    def __init__(self, register: RegisterService, doors: StaffDoors) -> None:
        self.register = register
        self.staff = doors.staff
        self.clerk = Depends(doors.role(Role.COUNTER_CLERK))

    def own(self, principal: StaffPrincipal, municipality_code: str) -> None:
        self.staff.authorise(
            principal, Role.COUNTER_CLERK, Organisation(OrganisationKind.MUNICIPALITY, municipality_code)
        )

    @staticmethod
    def serves(principal: StaffPrincipal, resident: Resident) -> bool:
        organisation = principal.organisation
        return organisation.kind is OrganisationKind.MUNICIPALITY and organisation.id == resident.municipality_code

    def served(self, principal: StaffPrincipal, resident_id: int) -> Resident:
        """The resident, if the clerk acts for their municipality; nothing is shown yet.

        A resident of another municipality and one who does not exist are refused alike.
        """
        try:
            resident: Resident | None = self.register.get(resident_id)
        except NotFound:
            resident = None
        if resident is None or not self.serves(principal, resident):
            raise staff_reasons.NOT_IN_SCOPE.error()
        return resident

    def resident(self, principal: StaffPrincipal, resident_id: int, purpose: str | None, what: str) -> Resident:
        """The resident, once the clerk is shown to act for their municipality and the look is recorded."""
        resident = self.served(principal, resident_id)
        self.staff.record_access(principal, str(resident_id), purpose, what)
        return resident


def optional_date(value: str | None, field: str) -> date | None:
    return parse_date(value, field) if value else None


def card_router(register: RegisterService, counter: Counter) -> APIRouter:
    """The counter reads a moving-in person's card: a challenge for it to sign after its PIN."""
    router = APIRouter()

    @router.post("/card-challenge")
    def card_challenge(body: CounterIn, clerk: StaffPrincipal = counter.clerk) -> dict[str, str]:
        """A one-time challenge for a moving-in person's card to sign after its PIN (the reader does this)."""
        counter.own(clerk, body.municipality_code)
        return {"challenge": register.card_challenge()}

    return router


def residents_router(register: RegisterService, counter: Counter) -> APIRouter:
    """Registering a person (出生・転入) and reading the register: residents, their history, households."""
    router = APIRouter()
    clerk_door = counter.clerk

    @router.post("/residents", status_code=201)
    def add_resident(body: ResidentIn, clerk: StaffPrincipal = clerk_door) -> dict[str, Any]:
        """Register a birth or a move-in; J-LIS issues the number for the notice."""
        counter.own(clerk, body.municipality_code)
        registration = register.register(
            body.details(),
            municipality_code=body.municipality_code,
            kind=body.kind,
            effective_date=optional_date(body.effective_date, "effective_date"),
            household_id=body.household_id,
            relationship=body.relationship,
            juminhyo_code=body.juminhyo_code,
            card=body.card.to_domain() if body.card is not None else None,
            clerk=clerk.staff_id,
        )
        purpose = "出生届" if body.kind is EventKind.BIRTH else "転入届"
        counter.staff.record_access(clerk, str(registration.resident.resident_id), purpose, "write")
        # The full number goes to the person by the notice and the card,
        # never back over this API.
        return {
            "resident": resident_record(registration.resident),
            "number_notice": mask_number(registration.number_notice),
        }

    @router.get("/residents")
    def list_residents(
        purpose: Purpose = None,
        after: RowOffset = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 20,
        bulk_id: RowId | None = None,
        clerk: StaffPrincipal = clerk_door,
    ) -> dict[str, Any]:
        """The own municipality's residents in id order; more than 20 at once needs an approved bulk request."""
        shown = []
        for resident in register.iter_residents(municipality_code=clerk.organisation.id, batch=limit, after=after):
            shown.append(resident)
            if len(shown) >= limit:
                break
        counter.staff.record_shown(clerk, [str(r.resident_id) for r in shown], purpose, "search", bulk_id=bulk_id)
        items = [resident_record(r) for r in shown]
        return {"residents": items, "next_after": items[-1]["resident_id"] if items else None}

    @router.get("/residents/{resident_id}")
    async def show_resident(
        resident_id: RowId, purpose: Purpose = None, clerk: StaffPrincipal = clerk_door
    ) -> dict[str, Any]:
        """One resident's record, for a stated purpose (事務); the person sees this read in the portal.

        The read runs on a pool thread; the access log's two commits are awaited on the loop.
        """
        resident = await run_in_threadpool(counter.served, clerk, resident_id)
        await counter.staff.record_access_async(clerk, str(resident_id), purpose, "read")
        return resident_record(resident)

    @router.get("/residents/{resident_id}/history")
    def resident_history(
        resident_id: RowId, purpose: Purpose = None, clerk: StaffPrincipal = clerk_door
    ) -> dict[str, Any]:
        counter.resident(clerk, resident_id, purpose, "read")
        return {"history": [history_record(e) for e in register.history_of(resident_id)]}

    @router.get("/households/{household_id}")
    def household(household_id: RowId, purpose: Purpose = None, clerk: StaffPrincipal = clerk_door) -> dict[str, Any]:
        """A household's members, each recorded as shown; a household of another municipality is refused."""
        members = register.household_members(household_id)
        if not members or not all(counter.serves(clerk, m) for m in members):
            raise staff_reasons.NOT_IN_SCOPE.error()
        counter.staff.record_shown(clerk, [str(m.resident_id) for m in members], purpose, "search")
        return {"household_id": household_id, "members": [resident_record(m) for m in members]}

    return router


def changes_router(register: RegisterService, counter: Counter) -> APIRouter:
    """Notifications that change a registered person (異動届): moves, names, death, residence status, number."""
    router = APIRouter()
    clerk_door = counter.clerk

    @router.post("/residents/{resident_id}/move")
    def move(resident_id: RowId, body: MoveIn, clerk: StaffPrincipal = clerk_door) -> dict[str, Any]:
        counter.resident(clerk, resident_id, "転居届", "write")
        moved = register.move_within(
            resident_id,
            body.address.to_domain(),
            effective_date=optional_date(body.effective_date, "effective_date"),
            whole_household=body.whole_household,
            clerk=clerk.staff_id,
        )
        return {"residents": [resident_record(r) for r in moved]}

    @router.post("/residents/{resident_id}/move-out")
    def move_out(resident_id: RowId, body: MoveOutIn, clerk: StaffPrincipal = clerk_door) -> dict[str, Any]:
        counter.resident(clerk, resident_id, "転出届", "write")
        moved = register.move_out(
            resident_id,
            destination=body.destination,
            effective_date=optional_date(body.effective_date, "effective_date"),
            whole_household=body.whole_household,
            clerk=clerk.staff_id,
        )
        return {"residents": [resident_record(r) for r in moved]}

    @router.post("/residents/{resident_id}/rename")
    def rename(resident_id: RowId, body: RenameIn, clerk: StaffPrincipal = clerk_door) -> dict[str, Any]:
        counter.resident(clerk, resident_id, "氏名の変更", "write")
        return resident_record(
            register.change_name(
                resident_id,
                name=body.name,
                kana=body.kana,
                effective_date=optional_date(body.effective_date, "effective_date"),
                clerk=clerk.staff_id,
            )
        )

    @router.post("/residents/{resident_id}/death")
    def death(resident_id: RowId, body: DeathIn, clerk: StaffPrincipal = clerk_door) -> dict[str, Any]:
        counter.resident(clerk, resident_id, "死亡届", "write")
        return resident_record(
            register.record_death(
                resident_id, effective_date=parse_date(body.effective_date, "effective_date"), clerk=clerk.staff_id
            )
        )

    @router.post("/residents/{resident_id}/residence-status")
    def residence_status(
        resident_id: RowId, body: ResidenceStatusIn, clerk: StaffPrincipal = clerk_door
    ) -> dict[str, Any]:
        counter.resident(clerk, resident_id, "在留資格等の変更", "write")
        return resident_record(
            register.change_residence_status(
                resident_id,
                residence_status=body.residence_status,
                period_of_stay_until=optional_date(body.period_of_stay_until, "period_of_stay_until"),
                effective_date=optional_date(body.effective_date, "effective_date"),
                clerk=clerk.staff_id,
            )
        )

    @router.post("/residents/{resident_id}/number-change")
    def number_change(resident_id: RowId, body: NumberChangeIn, clerk: StaffPrincipal = clerk_door) -> dict[str, Any]:
        """番号法 §7(2): designate a new number; the old one is retired for ever."""
        counter.resident(clerk, resident_id, "個人番号の変更", "write")
        new_number = register.change_number(resident_id, reason=body.reason, clerk=clerk.staff_id)
        return {"resident_id": resident_id, "number_notice": mask_number(new_number)}

    return router


def export_router(register: RegisterService, counter: Counter) -> APIRouter:
    """The bulk export: the own municipality's residents, to the recipient of an approved bulk request."""
    router = APIRouter()

    @router.post("/export")
    def export(body: ExportIn, clerk: StaffPrincipal = counter.clerk) -> dict[str, Any]:
        """Residents in id order after ``after``, at most the approved row count, encrypted to the recipient.

        One export per approval; every person exported is recorded in the access log first.
        """
        done = export_residents(register, counter.staff, clerk, body.bulk_id, body.purpose, body.after)
        export = done.export
        if export is None:  # an export always leaves its record on the request
            raise RuntimeError(f"bulk request {done.bulk_id} exported without a record")
        return {"file": export.file_name, "rows": export.rows, "sha256": export.sha256, "recipient": done.recipient}

    return router
