"""Refused attempts at a staff door (拒否された操作の記録): who tried, where, and why it was refused.

A refusal is recorded before the caller is answered; nothing else was read or
written. The auditor reads them, newest first; the staff member's id is kept
whenever the credentials named one, even when the credentials were not good.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, insert, select

from kojin.core.db import stored_utc
from kojin.staff.domain import StaffPrincipal
from kojin.staff.store import refusals

MAX_PATH = 200


@dataclass(frozen=True)
class Refusal:
    at: datetime
    staff_id: str | None
    role: str | None
    organisation: str | None
    method: str
    path: str
    code: str


class Refusals:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(
        self,
        at: datetime,
        method: str,
        path: str,
        code: str,
        principal: StaffPrincipal | None = None,
        *,
        staff_id: str | None = None,
    ) -> None:
        """One refusal; ``staff_id`` names the member when there is no principal (a refused card login)."""
        values = {
            "at": at,
            "staff_id": principal.staff_id if principal else staff_id,
            "role": principal.role.value if principal else None,
            "org": str(principal.organisation) if principal else None,
            "method": method[:10],
            "path": path[:MAX_PATH],
            "code": code[:60],
        }
        with self.engine.begin() as conn:
            conn.execute(insert(refusals).values(**values))

    def recent(self, limit: int = 100, staff_id: str | None = None) -> list[Refusal]:
        query = select(refusals).order_by(refusals.c.refusal_id.desc()).limit(limit)
        if staff_id is not None:
            query = query.where(refusals.c.staff_id == staff_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [Refusal(stored_utc(r.at), r.staff_id, r.role, r.org, r.method, r.path, r.code) for r in rows]
