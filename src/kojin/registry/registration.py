"""Registering a person at the counter (住民登録): a birth or a move-in, and the number (walk 1).

Everything is checked before anything is written; the resident, a new
household when the person heads one, and the 異動履歴 entry are then written
in one transaction, during which J-LIS hands out (or keeps) the person's
住民票コード and number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, Engine

from kojin.numbering import reasons as numbering_reasons
from kojin.numbering.domain import validate_juminhyo_code
from kojin.numbering.service import NumberingService
from kojin.registry import reasons, records
from kojin.registry.checks import check_details
from kojin.registry.domain import (
    RELATIONSHIPS,
    CardProof,
    EventKind,
    PersonDetails,
    Resident,
    validate_effective_date,
)
from kojin.registry.identity import refuse_other_person

# Checks a card read at the counter and answers its holder's 住民票コード (J-LIS
# card authentication and serial linkage, wired by the application).
CardHolder = Callable[[CardProof], str]

__all__ = ["CardHolder", "Registrar", "Registration"]


@dataclass(frozen=True)
class Registration:
    """What the counter hands back: the resident and the number notice (個人番号通知書).

    The number is returned once, for the notice; the register does not keep it.
    """

    resident: Resident
    number_notice: str


def _checked(
    details: PersonDetails,
    kind: EventKind,
    effective_date: date | None,
    relationship: str,
    municipality_code: str,
    today: date,
) -> tuple[PersonDetails, date]:
    """The details as checked and completed, and the date the registration takes effect."""
    if kind not in (EventKind.BIRTH, EventKind.MOVE_IN):
        raise reasons.KIND_INVALID.error(choices=f"{EventKind.BIRTH}, {EventKind.MOVE_IN}")
    details = check_details(details, municipality_code, today)
    effective = validate_effective_date(effective_date or today, today)
    if kind is EventKind.BIRTH and details.birth_date != effective:
        effective = details.birth_date
    if relationship not in RELATIONSHIPS:
        raise reasons.RELATIONSHIP_INVALID.error(
            relationships_ja="、".join(RELATIONSHIPS), relationships=", ".join(RELATIONSHIPS)
        )
    return details, effective


def _check_household(conn: Connection, household_id: int | None, relationship: str) -> None:
    """A head starts a new household; anyone else joins an existing one, which has its head."""
    if household_id is not None:
        records.require_household(conn, household_id)
        if relationship == "世帯主":
            raise reasons.RELATIONSHIP_HEAD_EXISTS.error()
    elif relationship != "世帯主":
        raise reasons.RELATIONSHIP_NEEDS_HOUSEHOLD.error()


class Registrar:
    """Births and move-ins."""

    def __init__(self, engine: Engine, numbering: NumberingService) -> None:
        self.engine = engine
        self.numbering = numbering
        self.card_holder: CardHolder | None = None

    def _identity(
        self, conn: Connection, juminhyo_code: str | None, details: PersonDetails, card_confirmed: bool
    ) -> tuple[str, str]:
        """The person's 住民票コード and number."""
        if juminhyo_code is not None:
            # Moving in from another municipality: the person keeps their
            # code and their number, once shown to be the code's person.
            records.refuse_active_code(conn, juminhyo_code)
            number = self._known_number(juminhyo_code)
            refuse_other_person(records.last_departed(conn, juminhyo_code), details, card_confirmed=card_confirmed)
            return juminhyo_code, number
        # A new person: J-LIS hands out the code and the number together.
        [(code, number)] = self.numbering.issue_persons(1)
        return code, number

    def _card_is(self, card: CardProof, juminhyo_code: str | None) -> bool:
        """The card read at the counter is the holder's of ``juminhyo_code`` (checked before any write)."""
        if juminhyo_code is None:
            raise numbering_reasons.JUMINHYO_CODE_CARD_MISMATCH.error()
        if self.card_holder is None:
            raise RuntimeError("the register was built without J-LIS card authentication")
        if self.card_holder(card) != juminhyo_code:
            raise numbering_reasons.JUMINHYO_CODE_CARD_MISMATCH.error()
        return True

    def _known_number(self, juminhyo_code: str) -> str:
        """The code's number at J-LIS; only J-LIS mints codes, so a code it never numbered is refused."""
        number = self.numbering.numbers_of([juminhyo_code]).get(juminhyo_code)
        if number is None:
            raise numbering_reasons.JUMINHYO_CODE_UNKNOWN.error()
        return number

    def register(
        self,
        details: PersonDetails,
        *,
        municipality_code: str,
        kind: EventKind = EventKind.BIRTH,
        effective_date: date | None = None,
        household_id: int | None = None,
        relationship: str = "世帯主",
        juminhyo_code: str | None = None,
        card: CardProof | None = None,
        clerk: str = "clerk",
        today: date | None = None,
    ) -> Registration:
        """Register a birth or a move-in, and ask J-LIS for the number.

        A person moving in from another municipality keeps their 住民票コード
        (and so their number) when the code's last record names them, or when
        ``card``, the person's own card read at the counter, is that code's
        (then a changed name is accepted); a newborn gets a new code.
        """
        today = today or date.today()
        details, effective = _checked(details, kind, effective_date, relationship, municipality_code, today)
        if juminhyo_code is not None:
            validate_juminhyo_code(juminhyo_code)
        card_confirmed = card is not None and self._card_is(card, juminhyo_code)
        with self.engine.begin() as conn:
            records.refuse_duplicate(conn, details, municipality_code)
            _check_household(conn, household_id, relationship)
            code, number = self._identity(conn, juminhyo_code, details, card_confirmed)
            resident_id = records.allocate(conn, "resident", 1)
            if household_id is None:
                household_id = records.allocate(conn, "household", 1)
                records.insert_household(conn, household_id, municipality_code, resident_id)
            records.insert_resident(
                conn,
                resident_id,
                code,
                details,
                municipality_code=municipality_code,
                household_id=household_id,
                relationship=relationship,
                registered_on=effective,
            )
            records.write_history(
                conn, [(resident_id, kind, effective, {"address": details.address.one_line()})], clerk
            )
        with self.engine.connect() as conn:
            return Registration(records.resident(conn, resident_id), number)
