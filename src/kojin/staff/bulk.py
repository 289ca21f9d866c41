"""Bulk approvals (二者承認): a listing or export of more than BULK_THRESHOLD people needs a second person.

A staff member requests one (the row count, the recipient whose key the file
is encrypted to, the file's SHA-256); another supervisor of the same
organisation approves it; the access log then accepts a bulk access under it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Row, insert, select, update

from kojin.staff import reasons
from kojin.staff.access import aware
from kojin.staff.domain import (
    BULK_THRESHOLD,
    BulkRequest,
    BulkStatus,
    Organisation,
    Purpose,
    StaffPrincipal,
    check_approver,
)
from kojin.staff.store import bulk_approvals


def _request(row: Row[Any]) -> BulkRequest:
    return BulkRequest(
        row.bulk_id,
        row.requester_id,
        Organisation.of(row.org_kind, row.org_id),
        row.purpose,
        row.row_count,
        row.recipient,
        row.content_hash,
        BulkStatus(row.status),
        aware(row.requested_at),
        row.approver_id,
        None if row.approved_at is None else aware(row.approved_at),
    )


class BulkApprovals:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def request(
        self,
        requester: StaffPrincipal,
        purpose: Purpose,
        row_count: int,
        recipient: str,
        content_hash: str,
        at: datetime,
    ) -> BulkRequest:
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(bulk_approvals).values(
                    requester_id=requester.staff_id,
                    org_kind=requester.organisation.kind.value,
                    org_id=requester.organisation.id,
                    purpose=purpose.name,
                    row_count=row_count,
                    recipient=recipient,
                    content_hash=content_hash,
                    status=BulkStatus.PENDING.value,
                    requested_at=at,
                )
            )
        key = result.inserted_primary_key
        assert key is not None
        return self.get(int(key[0]))

    def get(self, bulk_id: int) -> BulkRequest:
        with self.engine.connect() as conn:
            row = conn.execute(select(bulk_approvals).where(bulk_approvals.c.bulk_id == bulk_id)).first()
        if row is None:
            raise reasons.UNKNOWN_BULK.error(bulk_id=bulk_id)
        return _request(row)

    def approve(self, approver: StaffPrincipal, bulk_id: int, at: datetime) -> BulkRequest:
        found = self.get(bulk_id)
        check_approver(found, approver)
        if found.status is not BulkStatus.PENDING:
            raise reasons.BULK_NOT_PENDING.error(bulk_id=bulk_id, status=found.status.value)
        with self.engine.begin() as conn:
            done = conn.execute(
                update(bulk_approvals)
                .where(bulk_approvals.c.bulk_id == bulk_id, bulk_approvals.c.status == BulkStatus.PENDING.value)
                .values(status=BulkStatus.APPROVED.value, approver_id=approver.staff_id, approved_at=at)
            )
        if done.rowcount != 1:  # approved by someone else meanwhile
            raise reasons.BULK_NOT_PENDING.error(bulk_id=bulk_id, status=BulkStatus.APPROVED.value)
        return self.get(bulk_id)

    def check_covers(self, principal: StaffPrincipal, bulk_id: int | None, purpose: Purpose, count: int) -> None:
        """An approved request of this staff member, for this purpose, of at least ``count`` rows; or 403."""
        if bulk_id is None:
            raise reasons.TWO_PERSON_RULE.error(limit=BULK_THRESHOLD)
        found = self.get(bulk_id)
        if (
            found.status is not BulkStatus.APPROVED
            or found.requester_id != principal.staff_id
            or found.organisation != principal.organisation
            or found.purpose != purpose.name
            or found.row_count < count
        ):
            raise reasons.TWO_PERSON_RULE.error(limit=BULK_THRESHOLD)
