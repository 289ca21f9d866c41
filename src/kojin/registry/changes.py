"""異動: changes to a current resident's record — moves, 転出, deaths, names, residence status, number.

Each change checks first, then writes the record, its 異動履歴 entry and the
event other parties follow (転居 → the CA revokes the signature certificate)
in one transaction, and delivers the events once it is committed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from sqlalchemy import Connection, Engine

from kojin.core.japan import validate_kana, validate_name
from kojin.numbering.service import NumberingService
from kojin.registry import reasons, records
from kojin.registry.checks import check_address
from kojin.registry.domain import (
    Address,
    EventKind,
    PersonDetails,
    Resident,
    Status,
    validate_effective_date,
    validate_foreign_details,
)
from kojin.registry.events import ADDRESS_CHANGED, DECEASED, MOVED_OUT, NAME_CHANGED, NUMBER_CHANGED, emit

__all__ = ["Changes"]


def _record(
    conn: Connection,
    people: Sequence[Resident],
    kind: EventKind,
    effective: date,
    details: Callable[[Resident], dict[str, str]],
    clerk: str,
    event: str | None = None,
) -> None:
    """The 異動履歴 entry of each person changed, and the event other parties follow."""
    records.write_history(conn, [(p.resident_id, kind, effective, details(p)) for p in people], clerk)
    if event is not None:
        for p in people:
            emit(conn, event, {"resident_id": p.resident_id, "juminhyo_code": p.juminhyo_code})


class Changes:
    """The counter's 異動 for residents already registered."""

    def __init__(self, engine: Engine, numbering: NumberingService, dispatch: Callable[[], int]) -> None:
        self.engine = engine
        self.numbering = numbering
        self._dispatch = dispatch

    def _get(self, resident_id: int) -> Resident:
        with self.engine.connect() as conn:
            return records.resident(conn, resident_id)

    def move_within(
        self,
        resident_id: int,
        address: Address,
        *,
        effective_date: date | None = None,
        whole_household: bool = False,
        clerk: str = "clerk",
        today: date | None = None,
    ) -> list[Resident]:
        """転居: a new address in the same municipality."""
        today = today or date.today()
        effective = validate_effective_date(effective_date or today, today)
        with self.engine.begin() as conn:
            resident = records.current_resident(conn, resident_id)
            checked = check_address(address, resident.municipality_code)
            if checked == resident.address:
                raise reasons.ADDRESS_UNCHANGED.error()
            movers = records.members_to_change(conn, resident, whole_household)
            ids = [m.resident_id for m in movers]
            records.set_address(conn, ids, checked)
            if not whole_household and resident.relationship != "世帯主":
                # Moving out of the family home alone starts a new household.
                new_household = records.allocate(conn, "household", 1)
                records.insert_household(conn, new_household, resident.municipality_code, resident_id)
                records.head_household(conn, resident_id, new_household)
            _record(
                conn,
                movers,
                EventKind.MOVE_WITHIN,
                effective,
                lambda m: {"from": m.address.one_line(), "to": checked.one_line()},
                clerk,
                ADDRESS_CHANGED,
            )
        self._dispatch()
        return [self._get(i) for i in ids]

    def move_out(
        self,
        resident_id: int,
        *,
        destination: str,
        effective_date: date | None = None,
        whole_household: bool = False,
        clerk: str = "clerk",
        today: date | None = None,
    ) -> list[Resident]:
        """転出: the person leaves the municipality; the record is kept, marked moved out."""
        today = today or date.today()
        effective = validate_effective_date(effective_date or today, today)
        if not destination.strip():
            raise reasons.DESTINATION_EMPTY.error()
        with self.engine.begin() as conn:
            resident = records.current_resident(conn, resident_id)
            movers = records.members_to_change(conn, resident, whole_household)
            ids = [m.resident_id for m in movers]
            records.set_status(conn, ids, Status.MOVED_OUT)
            _record(
                conn, movers, EventKind.MOVE_OUT, effective, lambda _m: {"destination": destination}, clerk, MOVED_OUT
            )
        self._dispatch()
        return [self._get(i) for i in ids]

    def change_name(
        self,
        resident_id: int,
        *,
        name: str,
        kana: str,
        effective_date: date | None = None,
        clerk: str = "clerk",
        today: date | None = None,
    ) -> Resident:
        """氏名変更 (marriage, adoption, court permission …)."""
        today = today or date.today()
        validate_name(name)
        validate_kana(kana)
        effective = validate_effective_date(effective_date or today, today)
        with self.engine.begin() as conn:
            resident = records.current_resident(conn, resident_id)
            if (name, kana) == (resident.name, resident.kana):
                raise reasons.NAME_UNCHANGED.error()
            records.rename(conn, resident_id, name, kana)
            _record(
                conn,
                [resident],
                EventKind.NAME_CHANGE,
                effective,
                lambda r: {"from": r.name, "from_kana": r.kana, "to": name, "to_kana": kana},
                clerk,
                NAME_CHANGED,
            )
        self._dispatch()
        return self._get(resident_id)

    def record_death(
        self, resident_id: int, *, effective_date: date, clerk: str = "clerk", today: date | None = None
    ) -> Resident:
        """死亡: the record is closed (消除) and kept."""
        today = today or date.today()
        effective = validate_effective_date(effective_date, today)
        with self.engine.begin() as conn:
            resident = records.current_resident(conn, resident_id)
            if effective < resident.birth_date:
                raise reasons.EFFECTIVE_DATE_BEFORE_BIRTH.error()
            records.set_status(conn, [resident_id], Status.DECEASED)
            _record(conn, [resident], EventKind.DEATH, effective, lambda _r: {}, clerk, DECEASED)
        self._dispatch()
        return self._get(resident_id)

    def change_residence_status(
        self,
        resident_id: int,
        *,
        residence_status: str,
        period_of_stay_until: date | None,
        effective_date: date | None = None,
        clerk: str = "clerk",
        today: date | None = None,
    ) -> Resident:
        """在留資格変更 for a foreign resident."""
        today = today or date.today()
        effective = validate_effective_date(effective_date or today, today)
        with self.engine.begin() as conn:
            resident = records.current_resident(conn, resident_id)
            if not resident.is_foreign:
                raise reasons.RESIDENCE_STATUS_NOT_APPLICABLE.error()
            probe = PersonDetails(
                resident.name,
                resident.kana,
                resident.sex,
                resident.birth_date,
                resident.address,
                resident.nationality,
                residence_status,
                period_of_stay_until,
            )
            validate_foreign_details(probe)
            records.set_residence_status(conn, resident_id, residence_status, period_of_stay_until)
            _record(
                conn,
                [resident],
                EventKind.RESIDENCE_STATUS_CHANGE,
                effective,
                lambda r: {
                    "from": r.residence_status or "",
                    "to": residence_status,
                    "until": period_of_stay_until.isoformat() if period_of_stay_until else "",
                },
                clerk,
            )
        return self._get(resident_id)

    def change_number(self, resident_id: int, *, reason: str, clerk: str = "clerk") -> str:
        """番号法 §7(2): the mayor designates a new number; returns it for the notice.

        Nothing in the register changes but a history entry that says the
        number was changed; the numbers themselves live only with J-LIS.
        """
        if not reason.strip():
            raise reasons.REASON_EMPTY.error()
        with self.engine.connect() as conn:
            resident = records.current_resident(conn, resident_id)
        new_number = self.numbering.change(resident.juminhyo_code, reason=reason, designated_by=clerk)
        with self.engine.begin() as conn:
            _record(
                conn,
                [resident],
                EventKind.NUMBER_CHANGE,
                date.today(),
                lambda _r: {"reason": reason},
                clerk,
                NUMBER_CHANGED,
            )
        self._dispatch()
        return new_number
