"""Bulk approvals (二者承認): a listing or export of more than BULK_THRESHOLD people needs a second person.

A staff member requests one (the purpose, the row count as an upper bound, the
registered recipient whose key the file is encrypted to); another supervisor of
the same organisation approves it; the access log then accepts a bulk access
under it, and the one export it allows records its actual rows, file and the
file's SHA-256 on the request. Requests are rate-limited per staff member.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Row, func, insert, select, update

from kojin.core.db import stored_utc
from kojin.staff import reasons
from kojin.staff.domain import (
    BULK_REQUESTS_PER_HOUR,
    BULK_THRESHOLD,
    RATE_WINDOW,
    BulkRequest,
    BulkStatus,
    ExportDone,
    Organisation,
    Purpose,
    StaffPrincipal,
    check_approver,
    check_covers,
)
from kojin.staff.store import bulk_approvals, staff_members


def _request(row: Row[Any]) -> BulkRequest:
    export = None
    if row.exported_at is not None:
        export = ExportDone(row.file_name, row.exported_rows, row.content_hash, stored_utc(row.exported_at))
    return BulkRequest(
        row.bulk_id,
        row.requester_id,
        Organisation.of(row.org_kind, row.org_id),
        row.purpose,
        row.row_count,
        row.recipient,
        BulkStatus(row.status),
        stored_utc(row.requested_at),
        row.approver_id,
        None if row.approved_at is None else stored_utc(row.approved_at),
        export,
    )


class BulkApprovals:
    def __init__(self, engine: Engine, per_hour: int = BULK_REQUESTS_PER_HOUR) -> None:
        self.engine = engine
        self.per_hour = per_hour

    def request(
        self, requester: StaffPrincipal, purpose: Purpose, row_count: int, recipient: str, at: datetime
    ) -> BulkRequest:
        """A pending request, unless the requester has made ``per_hour`` requests in the last hour (429)."""
        with self.engine.begin() as conn:
            # The member's row is locked (on PostgreSQL) so that two requests at once count each other.
            member = select(staff_members.c.staff_id).where(staff_members.c.staff_id == requester.staff_id)
            conn.execute(member.with_for_update())
            recent = conn.execute(
                select(func.count())
                .select_from(bulk_approvals)
                .where(
                    bulk_approvals.c.requester_id == requester.staff_id,
                    bulk_approvals.c.requested_at > at - RATE_WINDOW,
                )
            ).scalar_one()
            if recent >= self.per_hour:
                raise reasons.RATE_LIMITED.error(limit=self.per_hour)
            result = conn.execute(
                insert(bulk_approvals).values(
                    requester_id=requester.staff_id,
                    org_kind=requester.organisation.kind.value,
                    org_id=requester.organisation.id,
                    purpose=purpose.name,
                    row_count=row_count,
                    recipient=recipient,
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
        """An approved, unused request of this staff member, for this purpose, of at least ``count`` rows; or 403."""
        if bulk_id is None:
            raise reasons.TWO_PERSON_RULE.error(limit=BULK_THRESHOLD)
        check_covers(self.get(bulk_id), principal, purpose, count)

    def mark_exported(self, bulk_id: int, done: ExportDone) -> BulkRequest:
        """Record the approval's one export; ``staff.bulk_used`` if another export got there first."""
        with self.engine.begin() as conn:
            claimed = conn.execute(
                update(bulk_approvals)
                .where(bulk_approvals.c.bulk_id == bulk_id, bulk_approvals.c.status == BulkStatus.APPROVED.value)
                .values(
                    status=BulkStatus.EXPORTED.value,
                    exported_rows=done.rows,
                    content_hash=done.sha256,
                    file_name=done.file_name,
                    exported_at=done.at,
                )
            )
        if claimed.rowcount != 1:
            raise reasons.BULK_USED.error(bulk_id=bulk_id)
        return self.get(bulk_id)
