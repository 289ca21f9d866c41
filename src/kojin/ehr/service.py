"""The e-health record service (電子カルテ情報共有サービス): records, consent and views.

Clinics submit documents and items without consent (as in the real system);
another clinic sees them only under a consent the patient gave on the terminal
at that visit. Beyond the real system, the patient can hide a document or an
item from sharing, withdraw a consent, and read who viewed what.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from sqlalchemy import Engine, and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from kojin.core import reasons as core_reasons
from kojin.core.crypto import canonical_json
from kojin.ehr import reasons
from kojin.ehr.domain import (
    DOCUMENT_LABELS,
    ITEM_LABELS,
    DocumentType,
    ItemKind,
    ParsedDocument,
    ParsedItem,
    Scope,
    not_consented,
    without,
)
from kojin.ehr.store import consents, documents, items, views


class Clinic(Protocol):
    """What the record service reads of a clinic: declared here so that it need not know the eligibility service."""

    @property
    def clinic_id(self) -> str: ...

    @property
    def name(self) -> str: ...


class Membership(Protocol):
    """What the record service reads of an insurance membership: records are kept under the insurer's own codes."""

    @property
    def insurer_id(self) -> str: ...

    @property
    def member_code(self) -> str: ...


def _utc(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _day(value: Any) -> date | None:
    if value is None:
        return None
    return date.fromisoformat(value[:10]) if isinstance(value, str) else value


@dataclass(frozen=True, slots=True)
class Consent:
    """A consent given at one visit (受診時の同意)."""

    consent_id: str
    visit_id: str
    clinic_id: str
    clinic_name: str
    scopes: tuple[Scope, ...]
    granted_at: datetime
    expires_at: datetime
    withdrawn_at: datetime | None

    def state(self, now: datetime) -> str:
        if self.withdrawn_at is not None:
            return "withdrawn"
        return "expired" if self.expires_at <= now else "active"

    def as_record(self, now: datetime) -> dict[str, Any]:
        return {
            "consent_id": self.consent_id,
            "visit_id": self.visit_id,
            "clinic_id": self.clinic_id,
            "clinic_name": self.clinic_name,
            "scopes": [s.value for s in self.scopes],
            "granted_at": self.granted_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "withdrawn_at": self.withdrawn_at.isoformat() if self.withdrawn_at else None,
            "state": self.state(now),
        }


def _consent_from(row: Any) -> Consent:
    return Consent(
        row.consent_id,
        row.visit_id,
        row.clinic_id,
        row.clinic_name,
        tuple(Scope(s) for s in row.scopes.split(",") if s),
        _utc(row.granted_at),
        _utc(row.expires_at),
        _utc(row.withdrawn_at) if row.withdrawn_at is not None else None,
    )


def _member_filter(table: Any, memberships: Sequence[Membership]) -> Any:
    return or_(*[and_(table.c.insurer_id == m.insurer_id, table.c.member_code == m.member_code) for m in memberships])


class EhrService:
    """Records, consents and views, over the e-health record service's own store."""

    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self._clock = clock

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    # -- submission (clinics; no consent needed) -------------------------------------------
    def submit_document(self, clinic: Clinic, membership: Membership, doc: ParsedDocument) -> dict[str, Any]:
        doc_id = secrets.token_hex(16)
        now = self.now()
        with self.engine.begin() as conn:
            conn.execute(
                insert(documents).values(
                    doc_id=doc_id,
                    insurer_id=membership.insurer_id,
                    member_code=membership.member_code,
                    doc_type=doc.doc_type.value,
                    title=doc.title[:200],
                    doc_date=doc.doc_date,
                    clinic_id=clinic.clinic_id,
                    clinic_name=clinic.name,
                    submitted_at=now,
                    bundle=canonical_json(doc.bundle).decode(),
                    hidden=False,
                )
            )
            item_ids = [self._insert_item(conn, clinic, membership, item, doc_id, now) for item in doc.items]
        return {"doc_id": doc_id, "doc_type": doc.doc_type.value, "title": doc.title, "item_ids": item_ids}

    def submit_item(self, clinic: Clinic, membership: Membership, item: ParsedItem) -> dict[str, Any]:
        with self.engine.begin() as conn:
            item_id = self._insert_item(conn, clinic, membership, item, None, self.now())
        return {"item_id": item_id, "kind": item.kind.value, "summary": item.summary}

    @staticmethod
    def _insert_item(
        conn: Any, clinic: Clinic, membership: Membership, item: ParsedItem, doc_id: str | None, now: datetime
    ) -> str:
        item_id = secrets.token_hex(16)
        conn.execute(
            insert(items).values(
                item_id=item_id,
                doc_id=doc_id,
                insurer_id=membership.insurer_id,
                member_code=membership.member_code,
                kind=item.kind.value,
                resource_type=item.resource_type,
                full_url=item.full_url[:200],
                summary=item.summary[:500],
                recorded_on=item.recorded_on,
                clinic_id=clinic.clinic_id,
                clinic_name=clinic.name,
                submitted_at=now,
                resource=canonical_json(item.resource).decode(),
                hidden=False,
            )
        )
        return item_id

    # -- reading --------------------------------------------------------------------------------------
    def records(self, memberships: Sequence[Membership], *, for_patient: bool = False) -> dict[str, Any]:
        """Documents and items of a person: what is shared, or (for the patient) everything with its flag."""
        if not memberships:
            return {"documents": [], "items": []}
        with self.engine.connect() as conn:
            doc_rows = conn.execute(
                select(documents)
                .where(_member_filter(documents, memberships))
                .order_by(documents.c.submitted_at.desc())
            ).all()
            item_rows = conn.execute(
                select(items).where(_member_filter(items, memberships)).order_by(items.c.submitted_at.desc())
            ).all()
        hidden_in: dict[str, set[str]] = {}
        for r in item_rows:
            if r.hidden and r.doc_id:
                hidden_in.setdefault(r.doc_id, set()).add(r.full_url)
        docs = []
        for r in doc_rows:
            if r.hidden and not for_patient:
                continue
            bundle = json.loads(r.bundle)
            label_ja, label_en = DOCUMENT_LABELS[DocumentType(r.doc_type)]
            record: dict[str, Any] = {
                "doc_id": r.doc_id,
                "doc_type": r.doc_type,
                "label": label_ja,
                "label_en": label_en,
                "title": r.title,
                "doc_date": (_day(r.doc_date) or date.min).isoformat() if r.doc_date else None,
                "clinic_name": r.clinic_name,
                "submitted_at": _utc(r.submitted_at).isoformat(),
            }
            if for_patient:
                record["hidden"] = bool(r.hidden)
            else:
                record["bundle"] = without(bundle, hidden_in.get(r.doc_id, set()))
            docs.append(record)
        shared_docs = {d["doc_id"] for d in docs}
        out_items = []
        for r in item_rows:
            if not for_patient and (r.hidden or (r.doc_id and r.doc_id not in shared_docs)):
                continue
            label_ja, label_en = ITEM_LABELS[ItemKind(r.kind)]
            record = {
                "item_id": r.item_id,
                "doc_id": r.doc_id,
                "kind": r.kind,
                "label": label_ja,
                "label_en": label_en,
                "summary": r.summary,
                "recorded_on": _day(r.recorded_on).isoformat() if r.recorded_on else None,  # type: ignore[union-attr]
                "clinic_name": r.clinic_name,
                "submitted_at": _utc(r.submitted_at).isoformat(),
            }
            if for_patient:
                record["hidden"] = bool(r.hidden)
            else:
                record["resource"] = json.loads(r.resource)
            out_items.append(record)
        return {"documents": docs, "items": out_items}

    def set_hidden(
        self, memberships: Sequence[Membership], *, doc_id: str | None = None, item_id: str | None = None, hidden: bool
    ) -> None:
        """Hide (非共有) or share again a document or an item of the patient's own."""
        table, key = (documents, documents.c.doc_id == doc_id) if doc_id else (items, items.c.item_id == item_id)
        if not memberships or (doc_id is None) == (item_id is None):
            raise reasons.UNKNOWN_RECORD.error()
        with self.engine.begin() as conn:
            done = conn.execute(
                update(table).where(key, _member_filter(table, memberships)).values(hidden=hidden)
            ).rowcount
        if not done:
            raise reasons.UNKNOWN_RECORD.error()

    # -- consent ----------------------------------------------------------------------------------------
    def grant(
        self,
        *,
        visit_id: str,
        clinic: Clinic,
        person_key: str,
        scopes: Sequence[Scope],
        consent_until: datetime,
        expires_at: datetime,
    ) -> Consent:
        """Record what the patient chose on the terminal at this visit (once per visit)."""
        now = self.now()
        if now > consent_until:
            raise reasons.CONSENT_WINDOW_CLOSED.error()
        consent = Consent(
            secrets.token_hex(16), visit_id, clinic.clinic_id, clinic.name, tuple(scopes), now, expires_at, None
        )
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(consents).values(
                        consent_id=consent.consent_id,
                        visit_id=visit_id,
                        clinic_id=clinic.clinic_id,
                        clinic_name=clinic.name,
                        person_key=person_key,
                        scopes=",".join(s.value for s in scopes),
                        granted_at=now,
                        expires_at=expires_at,
                        withdrawn_at=None,
                    )
                )
        except IntegrityError:
            raise reasons.CONSENT_GIVEN.error() from None
        return consent

    def consent_for(self, visit_id: str) -> Consent | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(consents).where(consents.c.visit_id == visit_id)).first()
        return None if row is None else _consent_from(row)

    def require(self, visit_id: str, clinic: Clinic, scope: Scope) -> Consent:
        """The consent that lets this clinic see ``scope`` at this visit, or why not."""
        consent = self.consent_for(visit_id)
        if consent is None:
            raise reasons.CONSENT_MISSING.error()
        if consent.clinic_id != clinic.clinic_id:
            raise core_reasons.EHR_CONSENT_OTHER_CLINIC.error()
        if consent.withdrawn_at is not None:
            raise reasons.CONSENT_WITHDRAWN.error()
        if consent.expires_at <= self.now():
            raise reasons.CONSENT_EXPIRED.error()
        if scope not in consent.scopes:
            raise not_consented(scope)
        return consent

    def consents_of(self, person_key: str) -> list[Consent]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(consents).where(consents.c.person_key == person_key).order_by(consents.c.granted_at.desc())
            ).all()
        return [_consent_from(r) for r in rows]

    def withdraw(self, person_key: str, consent_id: str) -> Consent:
        """撤回 in the portal: from now on nothing more is shown under it."""
        with self.engine.begin() as conn:
            done = conn.execute(
                update(consents)
                .where(
                    consents.c.consent_id == consent_id,
                    consents.c.person_key == person_key,
                    consents.c.withdrawn_at.is_(None),
                )
                .values(withdrawn_at=self.now())
            ).rowcount
            row = conn.execute(
                select(consents).where(
                    consents.c.consent_id == consent_id,
                    consents.c.person_key == person_key,
                )
            ).first()
        if row is None:
            raise reasons.UNKNOWN_CONSENT.error()
        if not done:
            raise reasons.CONSENT_WITHDRAWN.error(field="consent_id")
        return _consent_from(row)

    # -- views ----------------------------------------------------------------------------------------------
    def record_view(
        self, *, person_key: str, visit_id: str, clinic: Clinic, scope: Scope, detail: str, leaf_index: int | None
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(views).values(
                    person_key=person_key,
                    visit_id=visit_id,
                    clinic_id=clinic.clinic_id,
                    clinic_name=clinic.name,
                    scope=scope.value,
                    detail=detail[:300],
                    viewed_at=self.now(),
                    leaf_index=leaf_index,
                )
            )

    def views_of(self, person_key: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(views).where(views.c.person_key == person_key).order_by(views.c.viewed_at.desc()).limit(500)
            ).all()
        return [
            {
                "visit_id": r.visit_id,
                "clinic_id": r.clinic_id,
                "clinic_name": r.clinic_name,
                "scope": r.scope,
                "detail": r.detail,
                "viewed_at": _utc(r.viewed_at).isoformat(),
                "leaf_index": r.leaf_index,
            }
            for r in rows
        ]
