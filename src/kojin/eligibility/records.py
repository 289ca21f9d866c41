"""What the eligibility service keeps and answers with: patients, visits, card checks, medication and check-up copies.

Also the two ports the service is wired to (:class:`PersonDirectory` for J-LIS and
the hub, :class:`RegistrationListener` for the insurers), and the row conversions
shared by the service's modules.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from kojin.eligibility.domain import (
    CardClass,
    ElderlyInfo,
    LossReason,
    Membership,
    Qualification,
)
from kojin.eligibility.store import (
    qualifications,
)

VISIT_HOURS = 24
"""A visit, and any consent given at it, ends this long after the card check."""
CONSENT_WINDOW_S = 300
"""Consent is taken on the terminal right after the card check, or not at all."""


class PersonDirectory(Protocol):
    """What J-LIS and the hub do for the eligibility service (wired in :mod:`kojin.app`)."""

    def link_id(self, juminhyo_code: str) -> str:
        """J-LIS: the opaque link id of the person serial linkage named."""
        ...

    def find_code(self, agency_id: str, link_id: str) -> str | None:
        """The hub: the agency's code for that person, if one was ever issued (issues none)."""
        ...

    def link_disputed(self, code: str) -> bool:
        """The hub: whether the person disputed the code's link to them (suspended, or found wrong)."""
        ...


class RegistrationListener(Protocol):
    """Told when a member's card registration changes (the insurer issues a 資格確認書)."""

    def registration_changed(self, membership: Membership, registered: bool, today: date) -> None: ...


@dataclass(frozen=True, slots=True)
class Patient:
    """A person as the eligibility service knows them: its pseudonym and their memberships."""

    person_key: str
    memberships: tuple[Membership, ...]


@dataclass(frozen=True, slots=True)
class Visit:
    """A visit (受診) opened by a card check at one clinic."""

    visit_id: str
    clinic_id: str
    person_key: str
    memberships: tuple[Membership, ...]
    opened_at: datetime
    consent_until: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class CardCheck:
    """The outcome of a card check: the answer, the visit it opened, the patient."""

    answer: dict[str, Any]
    visit: Visit
    patient: Patient
    registered_now: bool


@dataclass(frozen=True, slots=True)
class Medication:
    """One dispensing (薬剤情報) from a claim."""

    insurer_id: str
    member_code: str
    dispensed_on: date
    institution: str
    drug_code: str
    drug_name: str
    dose: str
    usage: str
    days: int

    def as_record(self) -> dict[str, Any]:
        return {
            "dispensed_on": self.dispensed_on.isoformat(),
            "institution": self.institution,
            "drug_code": self.drug_code,
            "drug_name": self.drug_name,
            "dose": self.dose,
            "usage": self.usage,
            "days": self.days,
        }


@dataclass(frozen=True, slots=True)
class Checkup:
    """One check-up (特定健診) with its measured items."""

    insurer_id: str
    member_code: str
    examined_on: date
    results: dict[str, Any]

    def as_record(self) -> dict[str, Any]:
        return {"examined_on": self.examined_on.isoformat(), "results": self.results}


def stored_utc(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def stored_day(value: date | str | None) -> date | None:
    if value is None:
        return None
    return date.fromisoformat(value[:10]) if isinstance(value, str) else value


def qualification_row(q: Qualification, now: datetime) -> dict[str, Any]:
    return {
        "insurer_id": q.insurer_id,
        "member_code": q.member_code,
        "insurer_number": q.insurer_number,
        "symbol": q.symbol,
        "number": q.number,
        "branch": q.branch,
        "family": q.family,
        "insured_name": q.insured_name,
        "name": q.name,
        "kana": q.kana,
        "sex": q.sex,
        "birth_date": q.birth_date,
        "address": q.address,
        "postal_code": q.postal_code,
        "qualified_on": q.qualified_on,
        "lost_on": q.lost_on,
        "loss_reason": q.loss_reason.value if q.loss_reason else None,
        "ratio": q.ratio,
        "card_class": q.card_class.value,
        "elderly": json.dumps(q.elderly.as_json()) if q.elderly else None,
        "certificate_from": q.certificate_from,
        "certificate_until": q.certificate_until,
        "updated_at": now,
    }


QUAL_COLUMNS = tuple(c.name for c in qualifications.columns)
QUAL_SELECT = f"SELECT {', '.join(QUAL_COLUMNS)} FROM qualifications"


def qualification_of_row(row: Sequence[Any]) -> Qualification:
    r = dict(zip(QUAL_COLUMNS, row, strict=True))
    birth = stored_day(r["birth_date"])
    qualified = stored_day(r["qualified_on"])
    assert birth is not None and qualified is not None
    return Qualification(
        insurer_id=r["insurer_id"],
        member_code=r["member_code"],
        insurer_number=r["insurer_number"],
        symbol=r["symbol"],
        number=r["number"],
        branch=r["branch"],
        family=bool(r["family"]),
        insured_name=r["insured_name"],
        name=r["name"],
        kana=r["kana"],
        sex=r["sex"],
        birth_date=birth,
        address=r["address"],
        postal_code=r["postal_code"],
        qualified_on=qualified,
        ratio=int(r["ratio"]),
        card_class=CardClass(r["card_class"]),
        lost_on=stored_day(r["lost_on"]),
        loss_reason=LossReason(r["loss_reason"]) if r["loss_reason"] else None,
        elderly=ElderlyInfo.from_json(json.loads(r["elderly"])) if r["elderly"] else None,
        certificate_from=stored_day(r["certificate_from"]),
        certificate_until=stored_day(r["certificate_until"]),
    )


def visit_of_row(row: Any) -> Visit:
    return Visit(
        row.visit_id,
        row.clinic_id,
        row.person_key,
        tuple(Membership(a, b) for a, b in json.loads(row.memberships)),
        stored_utc(row.opened_at),
        stored_utc(row.consent_until),
        stored_utc(row.expires_at),
    )
