"""Reading the register: one resident, a household, a history, a search, a stream of everyone.

Other parties read the register only through these (the matching service
streams it to build its keys, the portal and the card issuer look people up);
each read is its own short connection, so a long stream holds no transaction
open.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from sqlalchemy import Engine

from kojin.registry import reasons, records
from kojin.registry.domain import HistoryEntry, Resident, Status

__all__ = ["RegisterQueries"]


class RegisterQueries:
    """The register's read side."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, resident_id: int) -> Resident:
        with self.engine.connect() as conn:
            return records.resident(conn, resident_id)

    def find_by_code(self, juminhyo_code: str) -> Resident | None:
        """The record of a 住民票コード, the current one first (what a public relying party learns at login)."""
        with self.engine.connect() as conn:
            return records.by_code(conn, juminhyo_code)

    def household_members(self, household_id: int) -> list[Resident]:
        with self.engine.connect() as conn:
            return records.household_members(conn, household_id)

    def history_of(self, resident_id: int) -> list[HistoryEntry]:
        self.get(resident_id)
        with self.engine.connect() as conn:
            return records.history_of(conn, resident_id)

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
            with self.engine.connect() as conn:
                found = records.residents_after(
                    conn, last, municipality_code=municipality_code, status=status, batch=batch
                )
            if not found:
                return
            for row in found:
                yield records.resident_of(row)
            last = found[-1].id

    def find(
        self, *, kana: str | None = None, birth_date: date | None = None, name: str | None = None
    ) -> list[Resident]:
        if not (kana or birth_date or name):
            raise reasons.QUERY_EMPTY.error()
        with self.engine.connect() as conn:
            return records.search(conn, kana=kana, birth_date=birth_date, name=name)

    def count(self, municipality_code: str | None = None) -> int:
        with self.engine.connect() as conn:
            return records.count(conn, municipality_code)
