"""The register's records (住民票, 世帯, 異動履歴): every statement on ``residents``,
``households``, ``history`` and the id ``counters``.

Counter work, bulk enrolment and the queries all go through these functions,
each on the caller's connection so the caller decides what is one transaction;
the shape of the tables is known here only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, func, insert, select, text, update

from kojin.core.bulk import bulk_insert, converter, select_in
from kojin.numbering import reasons as numbering_reasons
from kojin.registry import reasons
from kojin.registry.domain import Address, EventKind, HistoryEntry, PersonDetails, Resident, Sex, Status
from kojin.registry.store import counters, history, households, residents

# One 異動履歴 entry to write: resident, kind, effective date, details.
HistoryItem = tuple[int, EventKind, date, dict[str, str]]

_RESIDENT_COLUMNS = (
    *("id", "juminhyo_code", "municipality_code", "name", "kana", "sex", "birth_date", "household_id"),
    *("relationship", "nationality", "residence_status", "period_of_stay_until", "status", "registered_on"),
    *("postal_code", "prefecture", "city", "town", "block", "building"),
)
_HOUSEHOLD_COLUMNS = ("id", "municipality_code", "head_resident_id")
_HISTORY_COLUMNS = ("id", "resident_id", "kind", "effective_date", "recorded_at", "recorded_by", "details")


def _resident(row: Row[Any]) -> Resident:
    return _resident_of_values(row._mapping)


def _resident_of_values(row: Mapping[Any, Any]) -> Resident:
    return Resident(
        resident_id=row["id"],
        juminhyo_code=row["juminhyo_code"],
        municipality_code=row["municipality_code"],
        name=row["name"],
        kana=row["kana"],
        sex=Sex(row["sex"]),
        birth_date=row["birth_date"],
        address=Address(row["postal_code"], row["prefecture"], row["city"], row["town"], row["block"], row["building"]),
        household_id=row["household_id"],
        relationship=row["relationship"],
        nationality=row["nationality"],
        residence_status=row["residence_status"],
        period_of_stay_until=row["period_of_stay_until"],
        status=Status(row["status"]),
        registered_on=row["registered_on"],
    )


def address_columns(address: Address) -> dict[str, str]:
    return {
        "postal_code": address.postal_code,
        "prefecture": address.prefecture,
        "city": address.city,
        "town": address.town,
        "block": address.block,
        "building": address.building,
    }


def allocate(conn: Connection, name: str, count: int) -> int:
    """Reserve ``count`` ids; returns the first. UPDATE first takes the row lock."""
    updated = conn.execute(
        update(counters).where(counters.c.name == name).values(next=counters.c.next + count)
    ).rowcount
    if not updated:
        conn.execute(insert(counters).values(name=name, next=1 + count))
        return 1
    return int(conn.execute(select(counters.c.next).where(counters.c.name == name)).scalar_one()) - count


# -- reading -----------------------------------------------------------------------------------------
def resident(conn: Connection, resident_id: int) -> Resident:
    row = conn.execute(select(residents).where(residents.c.id == resident_id)).first()
    if row is None:
        raise reasons.RESIDENT_NOT_FOUND.error(resident_id=resident_id)
    return _resident(row)


def current_resident(conn: Connection, resident_id: int) -> Resident:
    """A resident a change can be recorded for: neither deceased nor moved out."""
    found = resident(conn, resident_id)
    if found.status is Status.DECEASED:
        raise reasons.RESIDENT_DECEASED.error()
    if found.status is Status.MOVED_OUT:
        raise reasons.RESIDENT_MOVED_OUT.error()
    return found


def by_code(conn: Connection, juminhyo_code: str) -> Resident | None:
    """The record of a 住民票コード, the current one first."""
    row = conn.execute(
        select(residents)
        .where(residents.c.juminhyo_code == juminhyo_code)
        .order_by((residents.c.status == Status.RESIDENT.value).desc(), residents.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else _resident(row)


def household_members(conn: Connection, household_id: int) -> list[Resident]:
    rows = conn.execute(
        select(residents).where(residents.c.household_id == household_id).order_by(residents.c.id)
    ).all()
    return [_resident(r) for r in rows]


def members_to_change(conn: Connection, person: Resident, whole_household: bool) -> list[Resident]:
    """``person`` alone, or every current member of their household."""
    if not whole_household:
        return [person]
    rows = conn.execute(
        select(residents).where(
            residents.c.household_id == person.household_id, residents.c.status == Status.RESIDENT.value
        )
    ).all()
    return [_resident(r) for r in rows]


def residents_after(
    conn: Connection, last: int, *, municipality_code: str | None, status: Status | None, batch: int
) -> Sequence[Row[Any]]:
    """The next ``batch`` residents' rows in id order after ``last``, for :func:`resident_of` one at a time.

    Rows rather than residents: a caller streaming a whole register builds each
    resident as it goes, so a batch's residents are not all alive at once (at a
    hundred thousand residents the extra live objects cost full garbage collections).
    """
    query = select(residents).where(residents.c.id > last)
    if municipality_code:
        query = query.where(residents.c.municipality_code == municipality_code)
    if status:
        query = query.where(residents.c.status == status.value)
    return conn.execute(query.order_by(residents.c.id).limit(batch)).all()


def resident_of(row: Row[Any]) -> Resident:
    return _resident(row)


def search(conn: Connection, *, kana: str | None, birth_date: date | None, name: str | None) -> list[Resident]:
    """Residents agreeing on every item given (at most 500); at least one must be given."""
    conditions = []
    if kana:
        conditions.append(residents.c.kana == kana)
    if birth_date:
        conditions.append(residents.c.birth_date == birth_date)
    if name:
        conditions.append(residents.c.name == name)
    rows = conn.execute(select(residents).where(and_(*conditions)).order_by(residents.c.id).limit(500)).all()
    return [_resident(r) for r in rows]


def count(conn: Connection, municipality_code: str | None) -> int:
    query = select(func.count()).select_from(residents)
    if municipality_code:
        query = query.where(residents.c.municipality_code == municipality_code)
    return int(conn.execute(query).scalar_one())


def history_of(conn: Connection, resident_id: int) -> list[HistoryEntry]:
    rows = conn.execute(select(history).where(history.c.resident_id == resident_id).order_by(history.c.id)).all()
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


# -- the counter's checks ----------------------------------------------------------------------------
def refuse_duplicate(conn: Connection, details: PersonDetails, municipality_code: str) -> None:
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
        raise reasons.RESIDENT_DUPLICATE.error(resident_id=same.id)


def refuse_active_code(conn: Connection, code: str) -> None:
    if conn.execute(
        select(residents.c.id).where(residents.c.juminhyo_code == code, residents.c.status == Status.RESIDENT.value)
    ).first():
        raise numbering_reasons.JUMINHYO_CODE_ACTIVE_ELSEWHERE.error()


def last_departed(conn: Connection, code: str) -> Resident | None:
    """The newest record of ``code`` that is no longer current (moved out or deceased)."""
    row = conn.execute(
        select(residents)
        # Spelled as the partial index's condition, so SQLite uses the index.
        .where(residents.c.juminhyo_code == code, text("residents.status != 'resident'"))
        .order_by(residents.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else _resident(row)


def active_codes(conn: Connection, codes: Sequence[str]) -> set[str]:
    """Those of ``codes`` a current resident holds (one query for a batch)."""
    rows = select_in(conn, residents, ("juminhyo_code",), "juminhyo_code", codes, where="status = 'resident'")
    return {str(c) for (c,) in rows}


def last_departed_many(conn: Connection, codes: Sequence[str]) -> dict[str, Resident]:
    """:func:`last_departed` of each of ``codes`` that has one (one query for a batch)."""
    rows = select_in(conn, residents, _RESIDENT_COLUMNS, "juminhyo_code", codes, where="status != 'resident'")
    last: dict[str, Resident] = {}
    for row in sorted(rows, key=lambda r: int(r[0])):
        values = dict(zip(_RESIDENT_COLUMNS, row, strict=True))
        # The driver's own values: SQLite hands dates back as ISO text.
        for column in ("birth_date", "period_of_stay_until", "registered_on"):
            if isinstance(values[column], str):
                values[column] = date.fromisoformat(values[column])
        found = _resident_of_values(values)
        last[found.juminhyo_code] = found
    return last


def require_household(conn: Connection, household_id: int) -> None:
    if conn.execute(select(households.c.id).where(households.c.id == household_id)).first() is None:
        raise reasons.HOUSEHOLD_NOT_FOUND.error(household_id=household_id)


# -- writing -----------------------------------------------------------------------------------------
def insert_household(conn: Connection, household_id: int, municipality_code: str, head_resident_id: int) -> None:
    conn.execute(
        insert(households).values(
            id=household_id, municipality_code=municipality_code, head_resident_id=head_resident_id
        )
    )


def insert_resident(
    conn: Connection,
    resident_id: int,
    juminhyo_code: str,
    details: PersonDetails,
    *,
    municipality_code: str,
    household_id: int,
    relationship: str,
    registered_on: date,
) -> None:
    conn.execute(
        insert(residents).values(
            id=resident_id,
            juminhyo_code=juminhyo_code,
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
            registered_on=registered_on,
            **address_columns(details.address),
        )
    )


def _update(conn: Connection, ids: Sequence[int], **values: Any) -> None:
    conn.execute(update(residents).where(residents.c.id.in_(ids)).values(**values))


def set_address(conn: Connection, ids: Sequence[int], address: Address) -> None:
    _update(conn, ids, **address_columns(address))


def set_status(conn: Connection, ids: Sequence[int], status: Status) -> None:
    _update(conn, ids, status=status.value)


def rename(conn: Connection, resident_id: int, name: str, kana: str) -> None:
    _update(conn, [resident_id], name=name, kana=kana)


def set_residence_status(conn: Connection, resident_id: int, status: str, until: date | None) -> None:
    _update(conn, [resident_id], residence_status=status, period_of_stay_until=until)


def head_household(conn: Connection, resident_id: int, household_id: int) -> None:
    """Make the resident the head (世帯主) of ``household_id``."""
    _update(conn, [resident_id], household_id=household_id, relationship="世帯主")


def write_history(conn: Connection, entries: Sequence[HistoryItem], clerk: str) -> None:
    first = allocate(conn, "history", len(entries))
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


def insert_enrolment(
    conn: Connection,
    people: Sequence[tuple[PersonDetails, str, int]],
    households_count: int,
    parts: Sequence[tuple[int, int]],
    identities: Iterator[list[tuple[str, str]]],
    *,
    municipality_code: str,
    clerk: str,
    today: date,
) -> None:
    """A bulk batch: ``people`` as (details, relationship, household number), the first of each
    household its head, written part by part as J-LIS hands out each part's (code, number)
    pairs — a part is written while J-LIS works on the next."""
    first_resident = allocate(conn, "resident", len(people))
    first_household = allocate(conn, "household", households_count)
    first_history = allocate(conn, "history", len(people))
    heads: dict[int, int] = {}
    for i, (_details, _rel, h) in enumerate(people):
        heads.setdefault(h, first_resident + i)
    bulk_insert(
        conn,
        households,
        _HOUSEHOLD_COLUMNS,
        [(first_household + h, municipality_code, heads[h]) for h in range(households_count)],
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


def insert_moves(
    conn: Connection,
    people: Sequence[tuple[PersonDetails, str, int, str]],
    households_count: int,
    *,
    municipality_code: str,
    clerk: str,
    effective: date,
) -> int:
    """A batch of move-ins (転入): ``people`` as (details, relationship, household number, 住民票コード),
    the first of each household its head. Returns the first resident id; the rest follow in order."""
    first_resident = allocate(conn, "resident", len(people))
    first_household = allocate(conn, "household", households_count)
    first_history = allocate(conn, "history", len(people))
    heads: dict[int, int] = {}
    for i, (_details, _rel, h, _code) in enumerate(people):
        heads.setdefault(h, first_resident + i)
    bulk_insert(
        conn,
        households,
        _HOUSEHOLD_COLUMNS,
        [(first_household + h, municipality_code, heads[h]) for h in range(households_count)],
    )
    birth_value = converter(conn, residents, "birth_date")
    stay_value = converter(conn, residents, "period_of_stay_until")
    registered = converter(conn, residents, "registered_on")(effective)
    effective_value = converter(conn, history, "effective_date")(effective)
    recorded = converter(conn, history, "recorded_at")(datetime.now(UTC))
    resident_rows: list[tuple[Any, ...]] = []
    history_rows: list[tuple[Any, ...]] = []
    for i, (details, relationship, h, code) in enumerate(people):
        a = details.address
        rid = first_resident + i
        resident_rows.append(
            (
                *(rid, code, municipality_code, details.name, details.kana, details.sex.value),
                *(birth_value(details.birth_date), first_household + h, relationship, details.nationality),
                *(details.residence_status, stay_value(details.period_of_stay_until), "resident", registered),
                *(a.postal_code, a.prefecture, a.city, a.town, a.block, a.building),
            )
        )
        moved_to = json.dumps({"address": a.one_line()}, ensure_ascii=False)
        history_rows.append((first_history + i, rid, "move_in", effective_value, recorded, clerk, moved_to))
    bulk_insert(conn, residents, _RESIDENT_COLUMNS, resident_rows, converted=True)
    bulk_insert(conn, history, _HISTORY_COLUMNS, history_rows, converted=True)
    return first_resident
