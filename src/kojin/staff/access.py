"""The staff access log (職員アクセス記録): one row per person shown to a staff member, with why.

The person reads it without the staff member (organisation, role, purpose,
time: the query does not even fetch the name); the auditor reads it with the name.

Every row is also a leaf of the tamper-evident exchange log. The leaf says
what anyone may know — when, which organisation and role, for which purpose,
how many people were shown — and commits to the whole row (staff member and
person included) by an HMAC under the staff party's key, so the public learns
nothing about either, while an auditor holding the rows can prove each one is
the row that was logged, and that no logged row has gone missing. A row is
acknowledged only once both the row and its leaf are durable.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Engine, Row, func, select

from kojin.core.aio import until_done
from kojin.core.db import stored_utc
from kojin.core.group_commit import GroupCommit
from kojin.staff.domain import Access, AccessEntry, AccessSeen, Organisation, Purpose, Role, StaffPrincipal
from kojin.staff.store import access_log, staff_members

LEAF_KIND = "staff-access/1"


class LeafSink(Protocol):
    """Where the access log's leaves go: the exchange log's durable appends."""

    def append_many(self, leaf_data: Sequence[bytes]) -> Sequence[object]: ...

    def append_many_then(
        self, leaf_data: Sequence[bytes], done: Callable[[Any, BaseException | None], None]
    ) -> None: ...


def _seen(row: Any) -> AccessSeen:  # an access_log row, or its columns the person may see
    return AccessSeen(
        stored_utc(row.at), Organisation.of(row.org_kind, row.org_id), Role(row.role), row.purpose, Access(row.what)
    )


def _entry(row: Row[Any]) -> AccessEntry:
    seen = _seen(row)
    return AccessEntry(
        row.entry_id,
        seen.at,
        row.staff_id,
        row.display_name or "",
        seen.role,
        seen.organisation,
        row.person_key,
        seen.purpose,
        seen.what,
        row.shown,
    )


def row_commitment(key: bytes, values: dict[str, Any]) -> str:
    """The leaf's commitment to a whole row: HMAC-SHA256 over its canonical JSON."""
    # Times as integer microseconds: the two databases hand back the same instant in different zones.
    canonical = {k: (round(v.timestamp() * 1e6) if isinstance(v, datetime) else v) for k, v in values.items()}
    text = json.dumps(canonical, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def leaf_bytes(values: dict[str, Any], commitment: str) -> bytes:
    at: datetime = values["at"]
    leaf = {
        "kojin": LEAF_KIND,
        "ref": values["entry_ref"],
        "time": int(at.timestamp() * 1000),
        "org": f"{values['org_kind']}:{values['org_id']}",
        "role": values["role"],
        "purpose": values["purpose"],
        "what": values["what"],
        "shown": values["shown"],
        "row": commitment,
    }
    return json.dumps(leaf, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


class AccessLog:
    def __init__(self, engine: Engine, key: Callable[[], bytes], sink: Callable[[], LeafSink | None]) -> None:
        self.engine = engine
        self._key = key
        self._sink = sink
        self._writer = GroupCommit(engine, name="kojin-staff-access")

    def record(
        self,
        principal: StaffPrincipal,
        person_keys: Sequence[str],
        purpose: Purpose,
        what: Access,
        at: datetime,
        bulk_id: int | None = None,
        shown: int | None = None,
    ) -> list[str]:
        """Record that ``principal`` was shown every one of ``person_keys`` (of ``shown`` in all); their references.

        Returns once the rows and their leaves are durable: only then may
        anything be shown.
        """
        rows = self._rows(principal, person_keys, purpose, what, at, bulk_id, shown)
        ticket = self._writer.submit([(access_log, row) for row in rows])
        leaves = self._leaves(rows)
        if leaves is not None:
            leaves[0].append_many(leaves[1])
        ticket.wait()
        return [str(row["entry_ref"]) for row in rows]

    async def record_async(
        self,
        principal: StaffPrincipal,
        person_keys: Sequence[str],
        purpose: Purpose,
        what: Access,
        at: datetime,
        bulk_id: int | None = None,
        shown: int | None = None,
    ) -> list[str]:
        """:meth:`record` for an event loop: both commits awaited, no thread blocked."""
        rows = self._rows(principal, person_keys, purpose, what, at, bulk_id, shown)
        ticket = self._writer.submit([(access_log, row) for row in rows])
        leaves = self._leaves(rows)
        if leaves is not None:
            sink, data = leaves
            await until_done(lambda done: sink.append_many_then(data, lambda _receipts, error: done(error)))
        await until_done(ticket.then)
        return [str(row["entry_ref"]) for row in rows]

    def _leaves(self, rows: list[dict[str, Any]]) -> tuple[LeafSink, list[bytes]] | None:
        sink = self._sink()
        if sink is None:
            return None
        key = self._key()
        return sink, [leaf_bytes(row, row_commitment(key, row)) for row in rows]

    @staticmethod
    def _rows(
        principal: StaffPrincipal,
        person_keys: Sequence[str],
        purpose: Purpose,
        what: Access,
        at: datetime,
        bulk_id: int | None,
        shown: int | None,
    ) -> list[dict[str, Any]]:
        return [
            {
                "at": at,
                "staff_id": principal.staff_id,
                "role": principal.role.value,
                "org_kind": principal.organisation.kind.value,
                "org_id": principal.organisation.id,
                "person_key": person_key,
                "purpose": purpose.name,
                "what": what.value,
                "shown": shown or len(person_keys),
                "bulk_id": bulk_id,
                "entry_ref": secrets.token_hex(16),
                "via": principal.token_id[:80],
            }
            for person_key in person_keys
        ]

    def shown_since(self, staff_id: str, since: datetime) -> int:
        """People shown to ``staff_id`` by searches outside any bulk request since ``since``."""
        query = select(func.count()).where(
            access_log.c.staff_id == staff_id,
            access_log.c.what == Access.SEARCH.value,
            access_log.c.bulk_id.is_(None),
            access_log.c.at >= since,
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def of_person(self, *person_keys: str) -> list[AccessSeen]:
        """What the person sees (under any of their keys): organisation and role only, never the staff member."""
        columns = (access_log.c.at, access_log.c.org_kind, access_log.c.org_id, access_log.c.role)
        query = (
            select(*columns, access_log.c.purpose, access_log.c.what)
            .where(access_log.c.person_key.in_(person_keys))
            .order_by(access_log.c.entry_id)
        )
        with self.engine.connect() as conn:
            return [_seen(row) for row in conn.execute(query)]

    def by_staff(self, staff_id: str) -> list[AccessEntry]:
        """What the auditor sees of one staff member's accesses, with the name."""
        query = (
            select(access_log, staff_members.c.display_name)
            .select_from(access_log.outerjoin(staff_members, staff_members.c.staff_id == access_log.c.staff_id))
            .where(access_log.c.staff_id == staff_id)
            .order_by(access_log.c.entry_id)
        )
        with self.engine.connect() as conn:
            return [_entry(row) for row in conn.execute(query)]

    def commitment_of(self, entry_ref: str) -> str | None:
        """The commitment a leaf must carry for the row ``entry_ref`` (the auditor's check)."""
        columns = [c for c in access_log.c if c.name != "entry_id"]
        with self.engine.connect() as conn:
            row = conn.execute(select(*columns).where(access_log.c.entry_ref == entry_ref)).mappings().first()
        if row is None:
            return None
        values = dict(row)
        values["at"] = stored_utc(values["at"])
        return row_commitment(self._key(), values)

    def close(self) -> None:
        self._writer.close()
