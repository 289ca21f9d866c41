"""Insurers and the copies they register with the eligibility service: qualifications, 薬剤情報 and 特定健診."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date

from sqlalchemy import and_, delete, insert, or_, select
from sqlalchemy.exc import IntegrityError

from kojin.core.bulk import bulk_insert
from kojin.eligibility import reasons
from kojin.eligibility.base import ServiceBase
from kojin.eligibility.domain import (
    CardIdentifiers,
    Insurer,
    InsurerKind,
    Membership,
    Qualification,
    certificate_unknown,
)
from kojin.eligibility.records import (
    QUAL_COLUMNS,
    QUAL_SELECT,
    Checkup,
    Medication,
    qualification_of_row,
    qualification_row,
    stored_day,
)
from kojin.eligibility.store import (
    checkups,
    insurers,
    medications,
    qualifications,
)


class InsurerCopies(ServiceBase):
    """Insurers and their copies (資格情報・薬剤情報・特定健診情報の副本)."""

    def register_insurer(self, insurer: Insurer) -> None:
        """Enter an insurer (idempotent): its number, name and kind."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(insurers).values(
                        insurer_id=insurer.insurer_id,
                        insurer_number=insurer.insurer_number,
                        name=insurer.name,
                        kind=insurer.kind.value,
                        registered_at=self.now(),
                    )
                )
        except IntegrityError:
            pass
        self._insurers = None

    def insurers(self) -> dict[str, Insurer]:
        cached = self._insurers
        if cached is None:
            with self.engine.connect() as conn:
                rows = conn.execute(select(insurers).order_by(insurers.c.insurer_id)).all()
            cached = {r.insurer_id: Insurer(r.insurer_id, r.insurer_number, r.name, InsurerKind(r.kind)) for r in rows}
            self._insurers = cached
        return cached

    def insurer(self, insurer_id: str) -> Insurer:
        found = self.insurers().get(insurer_id)
        if found is None:
            raise reasons.UNKNOWN_INSURER.error(detail_ja="", detail_en="")
        return found

    def insurer_by_number(self, insurer_number: str) -> Insurer:
        for insurer in self.insurers().values():
            if insurer.insurer_number == insurer_number:
                return insurer
        raise reasons.UNKNOWN_INSURER.error(detail_ja="", detail_en="", field="insurer_number")

    def register_qualifications(self, quals: Sequence[Qualification], *, fresh: bool = False) -> int:
        """Insert or replace qualification copies; ``fresh`` (seeding) skips the replace."""
        if not quals:
            return 0
        known = self.insurers()
        for q in quals:
            if q.insurer_id not in known:
                raise reasons.UNKNOWN_INSURER.error(detail_ja="", detail_en="")
        now = self.now()
        rows = [qualification_row(q, now) for q in quals]
        with self.engine.begin() as conn:
            if not fresh:
                for q in quals:
                    conn.execute(
                        delete(qualifications).where(
                            qualifications.c.insurer_id == q.insurer_id,
                            qualifications.c.member_code == q.member_code,
                        )
                    )
            bulk_insert(conn, qualifications, QUAL_COLUMNS, [tuple(r[c] for c in QUAL_COLUMNS) for r in rows])
        return len(rows)

    def register_medications(self, rows: Sequence[Medication]) -> int:
        cols = (
            "insurer_id",
            "member_code",
            "dispensed_on",
            "institution",
            "drug_code",
            "drug_name",
            "dose",
            "usage",
            "days",
        )
        with self.engine.begin() as conn:
            bulk_insert(
                conn,
                medications,
                cols,
                [
                    (
                        m.insurer_id,
                        m.member_code,
                        m.dispensed_on,
                        m.institution,
                        m.drug_code,
                        m.drug_name,
                        m.dose,
                        m.usage,
                        m.days,
                    )
                    for m in rows
                ],
            )
        return len(rows)

    def register_checkups(self, rows: Sequence[Checkup]) -> int:
        cols = ("insurer_id", "member_code", "examined_on", "results")
        with self.engine.begin() as conn:
            bulk_insert(
                conn,
                checkups,
                cols,
                [(c.insurer_id, c.member_code, c.examined_on, json.dumps(c.results, ensure_ascii=False)) for c in rows],
            )
        return len(rows)

    def qualification(self, membership: Membership) -> Qualification | None:
        row = self._readers.first(
            f"{QUAL_SELECT} WHERE insurer_id = ? AND member_code = ?",
            (membership.insurer_id, membership.member_code),
        )
        return None if row is None else qualification_of_row(row)

    def find_by_identifiers(self, ids: CardIdentifiers) -> Qualification:
        """The qualification a 資格確認書's insurer number, symbol, number and branch name."""
        self.insurer_by_number(ids.insurer_number)
        row = self._readers.first(
            f"{QUAL_SELECT} WHERE insurer_number = ? AND symbol = ? AND number = ? AND branch = ?",
            (ids.insurer_number, ids.symbol, ids.number, ids.branch),
        )
        if row is None:
            raise certificate_unknown()
        return qualification_of_row(row)

    def medications(self, memberships: Sequence[Membership]) -> list[Medication]:
        if not memberships:
            return []
        cond = or_(
            *[
                and_(medications.c.insurer_id == m.insurer_id, medications.c.member_code == m.member_code)
                for m in memberships
            ]
        )
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(medications).where(cond).order_by(medications.c.dispensed_on.desc(), medications.c.id)
            ).all()
        return [
            Medication(
                r.insurer_id,
                r.member_code,
                stored_day(r.dispensed_on) or date.min,
                r.institution,
                r.drug_code,
                r.drug_name,
                r.dose,
                r.usage,
                int(r.days),
            )
            for r in rows
        ]

    def checkups(self, memberships: Sequence[Membership]) -> list[Checkup]:
        if not memberships:
            return []
        cond = or_(
            *[and_(checkups.c.insurer_id == m.insurer_id, checkups.c.member_code == m.member_code) for m in memberships]
        )
        with self.engine.connect() as conn:
            rows = conn.execute(select(checkups).where(cond).order_by(checkups.c.examined_on.desc())).all()
        return [
            Checkup(r.insurer_id, r.member_code, stored_day(r.examined_on) or date.min, json.loads(r.results))
            for r in rows
        ]
