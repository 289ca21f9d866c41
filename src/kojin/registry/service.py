"""Counter work at the municipality (窓口業務): registering, moving, renaming.

Every operation validates everything first, then writes the resident, the
history entry and any event for other parties in one transaction: either all
of it is recorded or none of it is.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, Row, and_, func, insert, select, update

from kojin.core.bulk import bulk_insert, converter
from kojin.core.db import bulk_checkpoints, checkpoint
from kojin.core.errors import Conflict, InvalidInput, NotFound
from kojin.core.events import Event, EventBus
from kojin.core.japan import validate_kana, validate_name
from kojin.numbering.process import NumberingProcess
from kojin.numbering.service import IssueBatch, NumberingService
from kojin.registry import postal
from kojin.registry.domain import (
    RELATIONSHIPS,
    Address,
    EventKind,
    HistoryEntry,
    PersonDetails,
    Resident,
    Sex,
    Status,
    validate_birth_date,
    validate_effective_date,
    validate_foreign_details,
)
from kojin.registry.store import counters, history, households, outbox, residents

# Residents per part of a bulk batch handed to J-LIS at a time.
ENROL_PART = 10000

_RESIDENT_COLUMNS = (
    "id",
    "juminhyo_code",
    "municipality_code",
    "name",
    "kana",
    "sex",
    "birth_date",
    "household_id",
    "relationship",
    "nationality",
    "residence_status",
    "period_of_stay_until",
    "status",
    "registered_on",
    "postal_code",
    "prefecture",
    "city",
    "town",
    "block",
    "building",
)
_HOUSEHOLD_COLUMNS = ("id", "municipality_code", "head_resident_id")
_HISTORY_COLUMNS = ("id", "resident_id", "kind", "effective_date", "recorded_at", "recorded_by", "details")

# Events other parties subscribe to.
ADDRESS_CHANGED = "registry.address_changed"
NAME_CHANGED = "registry.name_changed"
MOVED_OUT = "registry.moved_out"
DECEASED = "registry.deceased"


@dataclass(frozen=True)
class Registration:
    """What the counter hands back: the resident and the number notice (個人番号通知書).

    The number is returned once, for the notice; the register does not keep it.
    """

    resident: Resident
    number_notice: str


@dataclass(frozen=True)
class HouseholdDraft:
    """A household to enrol at once: members in order, the head first."""

    members: Sequence[tuple[PersonDetails, str]]


def _resident(row: Row[Any]) -> Resident:
    return Resident(
        resident_id=row.id,
        juminhyo_code=row.juminhyo_code,
        municipality_code=row.municipality_code,
        name=row.name,
        kana=row.kana,
        sex=Sex(row.sex),
        birth_date=row.birth_date,
        address=Address(row.postal_code, row.prefecture, row.city, row.town, row.block, row.building),
        household_id=row.household_id,
        relationship=row.relationship,
        nationality=row.nationality,
        residence_status=row.residence_status,
        period_of_stay_until=row.period_of_stay_until,
        status=Status(row.status),
        registered_on=row.registered_on,
    )


def _address_columns(address: Address) -> dict[str, str]:
    return {
        "postal_code": address.postal_code,
        "prefecture": address.prefecture,
        "city": address.city,
        "town": address.town,
        "block": address.block,
        "building": address.building,
    }


class RegisterService:
    """住民基本台帳: the municipality's party."""

    def __init__(self, engine: Engine, numbering: NumberingService, bus: EventBus) -> None:
        self.engine = engine
        self.numbering = numbering
        self.bus = bus

    # -- validation ----------------------------------------------------------
    def check_details(self, details: PersonDetails, municipality_code: str, today: date) -> PersonDetails:
        """Validate a person's details against the rules and Japan Post's data."""
        validate_name(details.name)
        validate_kana(details.kana)
        validate_birth_date(details.birth_date, today)
        validate_foreign_details(details)
        address = self.check_address(details.address, municipality_code)
        return replace(details, address=address)

    def check_address(self, address: Address, municipality_code: str) -> Address:
        town_office = postal.municipality(municipality_code)
        checked = postal.complete_address(
            address.postal_code,
            prefecture=address.prefecture,
            city=address.city,
            town=address.town,
            block=address.block,
            building=address.building,
        )
        if (checked.prefecture, checked.city) != (town_office.prefecture, town_office.city):
            raise InvalidInput(
                "address.other_municipality",
                f"住所が{town_office.name}ではありません（{checked.prefecture}{checked.city}）。",
                f"The address is not in {town_office.name}.",
                field="address",
            )
        if not checked.block:
            raise InvalidInput(
                "address.block_missing",
                "番地（丁目・番・号）を入力してください。",
                "The block (丁目・番地・号) is required.",
                field="block",
            )
        return checked

    # -- ids -----------------------------------------------------------------
    @staticmethod
    def _allocate(conn: Connection, name: str, count: int) -> int:
        """Reserve ``count`` ids; returns the first. UPDATE first takes the row lock."""
        updated = conn.execute(
            update(counters).where(counters.c.name == name).values(next=counters.c.next + count)
        ).rowcount
        if not updated:
            conn.execute(insert(counters).values(name=name, next=1 + count))
            return 1
        return int(conn.execute(select(counters.c.next).where(counters.c.name == name)).scalar_one()) - count

    # -- history and events --------------------------------------------------
    def _history(
        self, conn: Connection, entries: list[tuple[int, EventKind, date, dict[str, str]]], clerk: str
    ) -> None:
        first = self._allocate(conn, "history", len(entries))
        now = datetime.now(UTC)
        conn.execute(
            insert(history),
            [
                {
                    "id": first + i,
                    "resident_id": rid,
                    "kind": kind.value,
                    "effective_date": eff,
                    "recorded_at": now,
                    "recorded_by": clerk,
                    "details": json.dumps(details, ensure_ascii=False),
                }
                for i, (rid, kind, eff, details) in enumerate(entries)
            ],
        )

    @staticmethod
    def _emit(conn: Connection, name: str, payload: dict[str, Any]) -> None:
        conn.execute(
            insert(outbox).values(
                name=name, payload=json.dumps(payload, ensure_ascii=False), created_at=datetime.now(UTC)
            )
        )

    def _record(
        self,
        conn: Connection,
        people: Sequence[Resident],
        kind: EventKind,
        effective: date,
        details: Callable[[Resident], dict[str, str]],
        clerk: str,
        event: str | None = None,
    ) -> None:
        """The 異動履歴 entry of each person changed, and the event other parties follow."""
        self._history(conn, [(p.resident_id, kind, effective, details(p)) for p in people], clerk)
        if event is not None:
            for p in people:
                self._emit(conn, event, {"resident_id": p.resident_id, "juminhyo_code": p.juminhyo_code})

    def dispatch_events(self) -> int:
        """Deliver pending outbox events; an event whose handler fails stays pending."""
        delivered = 0
        with self.engine.connect() as conn:
            pending = conn.execute(
                select(outbox.c.id, outbox.c.name, outbox.c.payload)
                .where(outbox.c.delivered_at.is_(None))
                .order_by(outbox.c.id)
            ).all()
        for row in pending:
            if self.bus.has_subscribers(row.name):
                self.bus.publish(Event(row.name, json.loads(row.payload)))
            with self.engine.begin() as conn:
                conn.execute(update(outbox).where(outbox.c.id == row.id).values(delivered_at=datetime.now(UTC)))
            delivered += 1
        return delivered

    # -- registration ----------------------------------------------------------
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
        clerk: str = "clerk",
        today: date | None = None,
    ) -> Registration:
        """Register a birth or a move-in, and ask J-LIS for the number (walk 1).

        A person moving in from another municipality keeps their 住民票コード
        (and so their number); a newborn gets a new code.
        """
        today = today or date.today()
        if kind not in (EventKind.BIRTH, EventKind.MOVE_IN):
            raise InvalidInput(
                "kind.invalid", "登録の事由は出生か転入です。", "Registration is a birth or a move-in.", field="kind"
            )
        details = self.check_details(details, municipality_code, today)
        effective = validate_effective_date(effective_date or today, today)
        if kind is EventKind.BIRTH and details.birth_date != effective:
            effective = details.birth_date
        if relationship not in RELATIONSHIPS:
            raise InvalidInput(
                "relationship.invalid",
                f"続柄は {'、'.join(RELATIONSHIPS)} のいずれかです。",
                f"Relationship must be one of {', '.join(RELATIONSHIPS)}.",
                field="relationship",
            )
        with self.engine.begin() as conn:
            self._refuse_duplicate(conn, details, municipality_code)
            if household_id is not None:
                self._household(conn, household_id)
                if relationship == "世帯主":
                    raise InvalidInput(
                        "relationship.head_exists",
                        "この世帯には既に世帯主がいます。",
                        "This household already has a head.",
                        field="relationship",
                    )
            elif relationship != "世帯主":
                raise InvalidInput(
                    "relationship.needs_household",
                    "世帯主以外は既存の世帯を指定してください。",
                    "Only a head of household can start a new household.",
                    field="household_id",
                )
            if juminhyo_code is not None:
                # Moving in from another municipality: the person keeps their
                # code and their number.
                self._refuse_active_code(conn, juminhyo_code)
                code, number = juminhyo_code, self.numbering.assign(juminhyo_code)
            else:
                # A new person: J-LIS hands out the code and the number together.
                [(code, number)] = self.numbering.issue_persons(1)
            resident_id = self._allocate(conn, "resident", 1)
            if household_id is None:
                household_id = self._allocate(conn, "household", 1)
                conn.execute(
                    insert(households).values(
                        id=household_id, municipality_code=municipality_code, head_resident_id=resident_id
                    )
                )
            conn.execute(
                insert(residents).values(
                    id=resident_id,
                    juminhyo_code=code,
                    municipality_code=municipality_code,
                    name=details.name,
                    kana=details.kana,
                    sex=details.sex.value,
                    birth_date=details.birth_date,
                    household_id=household_id,
                    relationship=relationship,
                    nationality=details.nationality,
                    residence_status=details.residence_status,
                    period_of_stay_until=details.period_of_stay_until,
                    status=Status.RESIDENT.value,
                    registered_on=effective,
                    **_address_columns(details.address),
                )
            )
            self._history(conn, [(resident_id, kind, effective, {"address": details.address.one_line()})], clerk)
        return Registration(self.get(resident_id), number)

    def _refuse_duplicate(self, conn: Connection, details: PersonDetails, municipality_code: str) -> None:
        same = conn.execute(
            select(residents.c.id).where(
                residents.c.municipality_code == municipality_code,
                residents.c.status == Status.RESIDENT.value,
                residents.c.kana == details.kana,
                residents.c.birth_date == details.birth_date,
                residents.c.name == details.name,
                residents.c.sex == details.sex.value,
                residents.c.postal_code == details.address.postal_code,
                residents.c.town == details.address.town,
                residents.c.block == details.address.block,
            )
        ).first()
        if same is not None:
            raise Conflict(
                "resident.duplicate",
                f"同じ基本4情報の住民が既に登録されています（住民ID {same.id}）。",
                f"A resident with the same four basic items is already registered (resident {same.id}).",
                field="name",
            )

    @staticmethod
    def _refuse_active_code(conn: Connection, code: str) -> None:
        if conn.execute(
            select(residents.c.id).where(residents.c.juminhyo_code == code, residents.c.status == Status.RESIDENT.value)
        ).first():
            raise Conflict(
                "juminhyo_code.active_elsewhere",
                "この住民票コードの人は転出届が済んでいません。",
                "The person with this code has not moved out of their current municipality.",
                field="juminhyo_code",
            )

    def enroll_households(
        self,
        drafts: Iterable[HouseholdDraft],
        *,
        municipality_code: str,
        clerk: str = "seed",
        today: date | None = None,
        validated: bool = False,
        numbering_process: NumberingProcess | None = None,
    ) -> int:
        """Bulk enrolment (一斉付番): many households in one transaction.

        ``validated`` skips the per-person checks for drafts built from Japan
        Post's own data. See :meth:`enroll_batches` for many batches.
        """
        return self.enroll_batches(
            [list(drafts)],
            municipality_code=municipality_code,
            clerk=clerk,
            today=today,
            validated=validated,
            numbering_process=numbering_process,
        )

    def enroll_batches(
        self,
        batches: Iterable[Sequence[HouseholdDraft]],
        *,
        municipality_code: str,
        clerk: str = "seed",
        today: date | None = None,
        validated: bool = False,
        numbering_process: NumberingProcess | None = None,
        on_batch: Callable[[int], None] | None = None,
    ) -> int:
        """Bulk enrolment of batch after batch, one register and one J-LIS transaction each.

        J-LIS hands out codes and numbers part by part inside its transaction;
        with a numbering process it works on the next part while the register
        writes this one, and starts the next batch while the register commits
        this one. J-LIS commits a batch before the register does, so the
        register never holds a code J-LIS has not durably numbered; a failed
        batch is rolled back at both. ``on_batch`` is told the running total.
        """
        today = today or date.today()
        source: _NumberSource = (
            _ProcessNumbers(numbering_process) if numbering_process is not None else _InProcessNumbers(self.numbering)
        )
        check = None if validated else (lambda d: self.check_details(d, municipality_code, today))
        upcoming = (b for b in map(_EnrolBatch.of, batches) if b.people)
        enrolled = 0
        current = next(upcoming, None)
        if current is not None:
            current.check(check)
            current.identities = source.start(current.part_sizes())
        with self.engine.connect() as conn:
            # One connection for the whole job, whose commits leave the WAL to
            # be checkpointed every few batches instead of at each one.
            bulk_checkpoints(conn, True)
            try:
                while current is not None:
                    after = self._enrol_one(conn, current, upcoming, source, check, municipality_code, clerk, today)
                    enrolled += len(current.people)
                    if on_batch is not None:
                        on_batch(enrolled)
                    current = after
            finally:
                bulk_checkpoints(conn, False)
        if enrolled:
            checkpoint(self.engine)
            source.finish()
        return enrolled

    def _enrol_one(
        self,
        conn: Connection,
        current: _EnrolBatch,
        upcoming: Iterator[_EnrolBatch],
        source: _NumberSource,
        check: Callable[[PersonDetails], PersonDetails] | None,
        municipality_code: str,
        clerk: str,
        today: date,
    ) -> _EnrolBatch | None:
        """Write and commit ``current``; returns the next batch, already being numbered."""
        settled = started_next = False
        try:
            after = next(upcoming, None)
            with conn.begin():
                self._enroll_rows(conn, current, municipality_code, clerk, today)
                # J-LIS's numbers are durable before the register holds their codes.
                settled = True
                source.commit()
                if after is not None:
                    # J-LIS needs only the next batch's size: it numbers that
                    # batch while the register commits this one.
                    after.identities = source.start(after.part_sizes())
                    started_next = True
            if after is not None:
                # Checked once this batch is committed: a bad record there
                # stops enrolment at that batch without undoing this one.
                after.check(check)
        except BaseException:
            if not settled or started_next:
                source.abandon()
            raise
        return after

    def _enroll_rows(
        self, conn: Connection, batch: _EnrolBatch, municipality_code: str, clerk: str, today: date
    ) -> None:
        drafts, people, parts = batch.drafts, batch.people, batch.parts
        assert batch.identities is not None
        identities = batch.identities
        first_resident = self._allocate(conn, "resident", len(people))
        first_household = self._allocate(conn, "household", len(drafts))
        first_history = self._allocate(conn, "history", len(people))
        heads: dict[int, int] = {}
        for i, (_details, _rel, h) in enumerate(people):
            heads.setdefault(h, first_resident + i)
        bulk_insert(
            conn,
            households,
            _HOUSEHOLD_COLUMNS,
            [(first_household + h, municipality_code, heads[h]) for h in range(len(drafts))],
        )
        # Values go to the driver as built: each date through its column's
        # memoised converter (a dict look-up), not a pass over the finished rows.
        birth_value = converter(conn, residents, "birth_date")
        stay_value = converter(conn, residents, "period_of_stay_until")
        registered_value = converter(conn, residents, "registered_on")
        effective_value = converter(conn, history, "effective_date")
        recorded = converter(conn, history, "recorded_at")(datetime.now(UTC))
        today_registered = registered_value(today)
        for (lo, hi), issued in zip(parts, identities, strict=True):
            resident_rows: list[tuple[Any, ...]] = []
            history_rows: list[tuple[Any, ...]] = []
            rid = first_resident + lo
            hid = first_history + lo
            for (details, relationship, h), (code, _number) in zip(people[lo:hi], issued, strict=True):
                a = details.address
                born = birth_value(details.birth_date)
                if details.nationality == "JP":
                    kind, registered = "birth", registered_value(details.birth_date)
                    effective = effective_value(details.birth_date)
                else:
                    kind, registered, effective = "move_in", today_registered, effective_value(today)
                resident_rows.append(
                    (
                        rid,
                        code,
                        municipality_code,
                        details.name,
                        details.kana,
                        details.sex.value,
                        born,
                        first_household + h,
                        relationship,
                        details.nationality,
                        details.residence_status,
                        stay_value(details.period_of_stay_until),
                        "resident",
                        registered,
                        a.postal_code,
                        a.prefecture,
                        a.city,
                        a.town,
                        a.block,
                        a.building,
                    )
                )
                history_rows.append((hid, rid, kind, effective, recorded, clerk, "{}"))
                rid += 1
                hid += 1
            bulk_insert(conn, residents, _RESIDENT_COLUMNS, resident_rows, converted=True)
            bulk_insert(conn, history, _HISTORY_COLUMNS, history_rows, converted=True)

    # -- changes -----------------------------------------------------------------
    def _members_to_change(self, conn: Connection, resident: Resident, whole_household: bool) -> list[Resident]:
        if not whole_household:
            return [resident]
        rows = conn.execute(
            select(residents).where(
                residents.c.household_id == resident.household_id, residents.c.status == Status.RESIDENT.value
            )
        ).all()
        return [_resident(r) for r in rows]

    def _require_resident(self, conn: Connection, resident_id: int) -> Resident:
        row = conn.execute(select(residents).where(residents.c.id == resident_id)).first()
        if row is None:
            raise NotFound(
                "resident.not_found",
                f"住民ID {resident_id} は登録されていません。",
                f"No resident with id {resident_id}.",
                field="resident_id",
            )
        resident = _resident(row)
        if resident.status is Status.DECEASED:
            raise Conflict(
                "resident.deceased",
                "この住民は死亡により消除されています。",
                "This resident is recorded as deceased.",
                field="resident_id",
            )
        if resident.status is Status.MOVED_OUT:
            raise Conflict(
                "resident.moved_out",
                "この住民は転出済みです。",
                "This resident has moved out.",
                field="resident_id",
            )
        return resident

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
            resident = self._require_resident(conn, resident_id)
            checked = self.check_address(address, resident.municipality_code)
            if checked == resident.address:
                raise InvalidInput(
                    "address.unchanged",
                    "新しい住所が現住所と同じです。",
                    "The new address is the same as the current one.",
                    field="address",
                )
            movers = self._members_to_change(conn, resident, whole_household)
            ids = [m.resident_id for m in movers]
            conn.execute(update(residents).where(residents.c.id.in_(ids)).values(**_address_columns(checked)))
            if not whole_household and resident.relationship != "世帯主":
                # Moving out of the family home alone starts a new household.
                new_household = self._allocate(conn, "household", 1)
                conn.execute(
                    insert(households).values(
                        id=new_household, municipality_code=resident.municipality_code, head_resident_id=resident_id
                    )
                )
                conn.execute(
                    update(residents)
                    .where(residents.c.id == resident_id)
                    .values(household_id=new_household, relationship="世帯主")
                )
            self._record(
                conn,
                movers,
                EventKind.MOVE_WITHIN,
                effective,
                lambda m: {"from": m.address.one_line(), "to": checked.one_line()},
                clerk,
                ADDRESS_CHANGED,
            )
        self.dispatch_events()
        return [self.get(i) for i in ids]

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
            raise InvalidInput(
                "destination.empty", "転出先を入力してください。", "The destination is required.", field="destination"
            )
        with self.engine.begin() as conn:
            resident = self._require_resident(conn, resident_id)
            movers = self._members_to_change(conn, resident, whole_household)
            ids = [m.resident_id for m in movers]
            conn.execute(update(residents).where(residents.c.id.in_(ids)).values(status=Status.MOVED_OUT.value))
            self._record(
                conn, movers, EventKind.MOVE_OUT, effective, lambda _m: {"destination": destination}, clerk, MOVED_OUT
            )
        self.dispatch_events()
        return [self.get(i) for i in ids]

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
            resident = self._require_resident(conn, resident_id)
            if (name, kana) == (resident.name, resident.kana):
                raise InvalidInput(
                    "name.unchanged",
                    "新しい氏名が現在の氏名と同じです。",
                    "The new name is the same as the current one.",
                    field="name",
                )
            conn.execute(update(residents).where(residents.c.id == resident_id).values(name=name, kana=kana))
            self._record(
                conn,
                [resident],
                EventKind.NAME_CHANGE,
                effective,
                lambda r: {"from": r.name, "from_kana": r.kana, "to": name, "to_kana": kana},
                clerk,
                NAME_CHANGED,
            )
        self.dispatch_events()
        return self.get(resident_id)

    def record_death(
        self, resident_id: int, *, effective_date: date, clerk: str = "clerk", today: date | None = None
    ) -> Resident:
        """死亡: the record is closed (消除) and kept."""
        today = today or date.today()
        effective = validate_effective_date(effective_date, today)
        with self.engine.begin() as conn:
            resident = self._require_resident(conn, resident_id)
            if effective < resident.birth_date:
                raise InvalidInput(
                    "effective_date.before_birth",
                    "死亡日が生年月日より前です。",
                    "The date of death is before the birth date.",
                    field="effective_date",
                )
            conn.execute(update(residents).where(residents.c.id == resident_id).values(status=Status.DECEASED.value))
            self._record(conn, [resident], EventKind.DEATH, effective, lambda _r: {}, clerk, DECEASED)
        self.dispatch_events()
        return self.get(resident_id)

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
            resident = self._require_resident(conn, resident_id)
            if not resident.is_foreign:
                raise InvalidInput(
                    "residence_status.not_applicable",
                    "日本国籍の人に在留資格はありません。",
                    "Japanese nationals have no residence status.",
                    field="residence_status",
                )
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
            conn.execute(
                update(residents)
                .where(residents.c.id == resident_id)
                .values(residence_status=residence_status, period_of_stay_until=period_of_stay_until)
            )
            self._record(
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
        return self.get(resident_id)

    def change_number(self, resident_id: int, *, reason: str, clerk: str = "clerk") -> str:
        """番号法 §7(2): the mayor designates a new number; returns it for the notice.

        Nothing in the register changes but a history entry that says the
        number was changed; the numbers themselves live only with J-LIS.
        """
        if not reason.strip():
            raise InvalidInput(
                "reason.empty", "変更の理由を入力してください。", "A reason is required.", field="reason"
            )
        with self.engine.connect() as conn:
            resident = self._require_resident(conn, resident_id)
        new_number = self.numbering.change(resident.juminhyo_code, reason=reason, designated_by=clerk)
        with self.engine.begin() as conn:
            self._history(conn, [(resident_id, EventKind.NUMBER_CHANGE, date.today(), {"reason": reason})], clerk)
        return new_number

    # -- reading -----------------------------------------------------------------
    def get(self, resident_id: int) -> Resident:
        with self.engine.connect() as conn:
            row = conn.execute(select(residents).where(residents.c.id == resident_id)).first()
        if row is None:
            raise NotFound(
                "resident.not_found",
                f"住民ID {resident_id} は登録されていません。",
                f"No resident with id {resident_id}.",
                field="resident_id",
            )
        return _resident(row)

    def find_by_code(self, juminhyo_code: str) -> Resident | None:
        """The record of a 住民票コード, the current one first (what a public relying party learns at login)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(residents)
                .where(residents.c.juminhyo_code == juminhyo_code)
                .order_by((residents.c.status == Status.RESIDENT.value).desc(), residents.c.id.desc())
                .limit(1)
            ).first()
        return None if row is None else _resident(row)

    def household_members(self, household_id: int) -> list[Resident]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(residents).where(residents.c.household_id == household_id).order_by(residents.c.id)
            ).all()
        return [_resident(r) for r in rows]

    @staticmethod
    def _household(conn: Connection, household_id: int) -> None:
        if conn.execute(select(households.c.id).where(households.c.id == household_id)).first() is None:
            raise NotFound(
                "household.not_found",
                f"世帯 {household_id} はありません。",
                f"No household {household_id}.",
                field="household_id",
            )

    def history_of(self, resident_id: int) -> list[HistoryEntry]:
        self.get(resident_id)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(history).where(history.c.resident_id == resident_id).order_by(history.c.id)
            ).all()
        return [
            HistoryEntry(
                r.id,
                r.resident_id,
                EventKind(r.kind),
                r.effective_date,
                r.recorded_at.isoformat() if r.recorded_at else "",
                json.loads(r.details),
            )
            for r in rows
        ]

    def iter_residents(
        self,
        *,
        municipality_code: str | None = None,
        status: Status | None = None,
        batch: int = 2000,
        after: int = 0,
    ) -> Iterator[Resident]:
        """Stream residents in id order without holding them all in memory."""
        last = after
        while True:
            query = select(residents).where(residents.c.id > last)
            if municipality_code:
                query = query.where(residents.c.municipality_code == municipality_code)
            if status:
                query = query.where(residents.c.status == status.value)
            with self.engine.connect() as conn:
                rows = conn.execute(query.order_by(residents.c.id).limit(batch)).all()
            if not rows:
                return
            for row in rows:
                yield _resident(row)
            last = rows[-1].id

    def find(
        self, *, kana: str | None = None, birth_date: date | None = None, name: str | None = None
    ) -> list[Resident]:
        conditions = []
        if kana:
            conditions.append(residents.c.kana == kana)
        if birth_date:
            conditions.append(residents.c.birth_date == birth_date)
        if name:
            conditions.append(residents.c.name == name)
        if not conditions:
            raise InvalidInput(
                "query.empty", "検索条件を指定してください。", "Give at least one search field.", field="query"
            )
        with self.engine.connect() as conn:
            rows = conn.execute(select(residents).where(and_(*conditions)).order_by(residents.c.id).limit(500)).all()
        return [_resident(r) for r in rows]

    def count(self, municipality_code: str | None = None) -> int:
        query = select(func.count()).select_from(residents)
        if municipality_code:
            query = query.where(residents.c.municipality_code == municipality_code)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())


@dataclass
class _EnrolBatch:
    """One bulk batch being enrolled: its people in order and its J-LIS parts."""

    drafts: list[HouseholdDraft]
    people: list[tuple[PersonDetails, str, int]]
    identities: Iterator[list[tuple[str, str]]] | None = None

    @staticmethod
    def of(drafts: Sequence[HouseholdDraft]) -> _EnrolBatch:
        drafts = list(drafts)
        return _EnrolBatch(drafts, [(d, rel, h) for h, draft in enumerate(drafts) for d, rel in draft.members])

    def check(self, check: Callable[[PersonDetails], PersonDetails] | None) -> None:
        if check is not None:
            self.people = [(check(d), rel, h) for d, rel, h in self.people]

    @property
    def parts(self) -> list[tuple[int, int]]:
        return [(lo, min(lo + ENROL_PART, len(self.people))) for lo in range(0, len(self.people), ENROL_PART)]

    def part_sizes(self) -> list[int]:
        return [hi - lo for lo, hi in self.parts]


class _NumberSource(Protocol):
    """Where a bulk batch's (住民票コード, number) pairs come from: J-LIS, in this process or its own."""

    def start(self, sizes: list[int]) -> Iterator[list[tuple[str, str]]]: ...

    def commit(self) -> None: ...

    def abandon(self) -> None: ...

    def finish(self) -> None: ...


class _InProcessNumbers:
    def __init__(self, numbering: NumberingService) -> None:
        self._numbering = numbering
        self._batch: IssueBatch | None = None

    def start(self, sizes: list[int]) -> Iterator[list[tuple[str, str]]]:
        batch = self._batch = self._numbering.open_batch()
        return (batch.persons(n) for n in sizes)

    def commit(self) -> None:
        batch, self._batch = self._batch, None
        if batch is not None:
            batch.commit()

    def abandon(self) -> None:
        batch, self._batch = self._batch, None
        if batch is not None:
            batch.rollback()

    def finish(self) -> None:
        self._numbering.checkpoint()


class _ProcessNumbers:
    def __init__(self, process: NumberingProcess) -> None:
        self._process = process

    def start(self, sizes: list[int]) -> Iterator[list[tuple[str, str]]]:
        return (f.result() for f in self._process.submit_batch(sizes))

    def commit(self) -> None:
        self._process.commit_batch()

    def abandon(self) -> None:
        self._process.abandon_batch()

    def finish(self) -> None:
        self._process.checkpoint()
