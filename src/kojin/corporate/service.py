"""The corporate register (法人番号公表サイト's back office): register and look up.

Corporate numbers are public, so look-ups need no authorisation; the search
modes follow the NTA Web-API (`/4/num`, `/4/name` with mode 1 prefix, 2 partial).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Engine, Row, func, insert, select, update

from kojin.core import reasons as core_reasons
from kojin.core.japan import validate_kana, validate_name
from kojin.corporate import reasons
from kojin.corporate.domain import CLOSE_CAUSES, KINDS, Corporation
from kojin.corporate.store import corporations
from kojin.numbering import reasons as numbering_reasons
from kojin.numbering.domain import make_corporate_number, validate_corporate_number
from kojin.registry import postal
from kojin.registry import reasons as registry_reasons

MAX_BATCH = 10  # as the NTA's /4/num: at most ten numbers a request


def _corporation(row: Row[Any]) -> Corporation:
    return Corporation(
        row.corporate_number,
        row.name,
        row.furigana,
        row.kind,
        row.prefecture,
        row.city,
        row.street,
        row.postal_code,
        row.assignment_date,
        row.close_date,
        row.close_cause,
    )


class CorporateRegister:
    """法人番号の付番と公表."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def register(
        self,
        *,
        name: str,
        furigana: str,
        kind: str,
        postal_code: str,
        street: str,
        assignment_date: date | None = None,
        today: date | None = None,
    ) -> Corporation:
        today = today or date.today()
        validate_name(name, "name")
        validate_kana(furigana, "furigana")
        if kind not in KINDS:
            raise registry_reasons.KIND_INVALID.error(choices=", ".join(KINDS))
        if not street.strip():
            raise reasons.STREET_EMPTY.error()
        address = postal.complete_address(postal_code)
        assigned = assignment_date or today
        if assigned > today:
            raise registry_reasons.ASSIGNMENT_DATE_FUTURE.error()
        with self.engine.begin() as conn:
            duplicate = conn.execute(
                select(corporations.c.corporate_number).where(
                    corporations.c.name == name,
                    corporations.c.postal_code == address.postal_code,
                    corporations.c.close_date.is_(None),
                )
            ).first()
            if duplicate:
                raise reasons.CORPORATION_DUPLICATE.error()
            # The 12-digit base is the register's own sequence (the real one is
            # the 会社法人等番号); the check digit goes in front.
            count = conn.execute(select(func.count()).select_from(corporations)).scalar_one()
            base = f"{9000_0000_0000 + int(count) + 1:012d}"
            number = make_corporate_number(base)
            conn.execute(
                insert(corporations).values(
                    corporate_number=number,
                    name=name,
                    furigana=furigana,
                    kind=kind,
                    prefecture=address.prefecture,
                    city=address.city,
                    street=f"{address.town}{street.strip()}",
                    postal_code=address.postal_code,
                    assignment_date=assigned,
                )
            )
        return self.get(number)

    def close(self, corporate_number: str, *, cause: str, close_date: date) -> Corporation:
        validate_corporate_number(corporate_number)
        if cause not in CLOSE_CAUSES:
            raise reasons.CLOSE_CAUSE_INVALID.error()
        current = self.get(corporate_number)
        if current.is_closed:
            raise reasons.CORPORATION_CLOSED.error()
        with self.engine.begin() as conn:
            conn.execute(
                update(corporations)
                .where(corporations.c.corporate_number == corporate_number)
                .values(close_date=close_date, close_cause=cause)
            )
        return self.get(corporate_number)

    def get(self, corporate_number: str) -> Corporation:
        validate_corporate_number(corporate_number)
        with self.engine.connect() as conn:
            row = conn.execute(select(corporations).where(corporations.c.corporate_number == corporate_number)).first()
        if row is None:
            raise reasons.CORPORATION_NOT_FOUND.error()
        return _corporation(row)

    def get_many(self, numbers: list[str]) -> list[Corporation]:
        if not numbers or len(numbers) > MAX_BATCH:
            raise numbering_reasons.CORPORATE_NUMBER_BATCH.error(max_batch=MAX_BATCH)
        return [self.get(n) for n in numbers]

    def search(self, name: str, *, mode: int = 1, include_closed: bool = True, limit: int = 100) -> list[Corporation]:
        """Name search: mode 1 is a prefix match (前方一致), mode 2 partial (部分一致)."""
        term = name.strip()
        if not term:
            raise core_reasons.NAME_EMPTY.error(what_ja="検索する名称", what_en="name to search for")
        if mode not in (1, 2):
            raise reasons.MODE_INVALID.error()
        escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"{escaped}%" if mode == 1 else f"%{escaped}%"
        query = select(corporations).where(corporations.c.name.like(pattern, escape="\\"))
        if not include_closed:
            query = query.where(corporations.c.close_date.is_(None))
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(corporations.c.name).limit(limit)).all()
        return [_corporation(r) for r in rows]
