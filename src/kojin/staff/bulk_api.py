"""HTTP API of the two-person rule (二者承認 API): bulk requests, their approval, and export recipients.

A staff member who may see personal data requests a bulk listing or export;
another supervisor of the same organisation approves it; the export itself is
a route of the party whose data it is (``POST /registry/export``). Supervisors
and system administrators register the recipients export files are encrypted to.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from kojin.staff.domain import BulkRequest, Recipient, Role, StaffPrincipal
from kojin.staff.guard import ALL_ROLES, StaffDoors
from kojin.staff.recipients import MAX_PEM
from kojin.staff.service import NO_PERSONAL_DATA, StaffService
from kojin.web.params import RowId

BulkId = Annotated[RowId, Path()]


class BulkIn(BaseModel):
    purpose: Annotated[str, Field(max_length=100)]
    row_count: Annotated[int, Field(ge=1, le=10_000_000)]
    recipient: Annotated[str, Field(max_length=100)]


class RecipientIn(BaseModel):
    name: Annotated[str, Field(max_length=100)]
    certificate_pem: Annotated[str, Field(max_length=MAX_PEM)]


def bulk_record(request: BulkRequest) -> dict[str, Any]:
    """The one JSON form of a bulk request (no personal data: counts, names of staff, the file's hash)."""
    export = request.export
    return {
        "bulk_id": request.bulk_id,
        "requester_id": request.requester_id,
        "organisation": str(request.organisation),
        "purpose": request.purpose,
        "row_count": request.row_count,
        "recipient": request.recipient,
        "status": request.status.value,
        "requested_at": request.requested_at.isoformat(),
        "approver_id": request.approver_id,
        "approved_at": request.approved_at.isoformat() if request.approved_at else None,
        "export": None
        if export is None
        else {"file": export.file_name, "rows": export.rows, "sha256": export.sha256, "at": export.at.isoformat()},
    }


def recipient_record(recipient: Recipient) -> dict[str, Any]:
    return {
        "name": recipient.name,
        "subject": recipient.subject,
        "fingerprint": recipient.fingerprint,
        "not_after": recipient.not_after.isoformat(),
        "registered_by": recipient.registered_by,
        "organisation": str(recipient.organisation),
        "registered_at": recipient.registered_at.isoformat(),
    }


def make_router(staff: StaffService, doors: StaffDoors) -> APIRouter:
    router = APIRouter(prefix="/staff", tags=["staff 職員"])
    may_see = Depends(doors.role(*sorted(ALL_ROLES - NO_PERSONAL_DATA)))
    supervisor = Depends(doors.role(Role.SUPERVISOR))
    anyone = Depends(doors.any_role())
    keeper = Depends(doors.role(Role.SUPERVISOR, Role.SYSADMIN))

    @router.post("/bulk", status_code=201)
    def request_bulk(body: BulkIn, principal: StaffPrincipal = may_see) -> dict[str, Any]:
        """Ask for a listing or export of at most ``row_count`` people, to a registered recipient."""
        return bulk_record(staff.request_bulk(principal, body.purpose, body.row_count, body.recipient))

    @router.post("/bulk/{bulk_id}/approve")
    def approve_bulk(bulk_id: BulkId, principal: StaffPrincipal = supervisor) -> dict[str, Any]:
        """Approve as the second person: another supervisor of the requester's organisation."""
        return bulk_record(staff.approve_bulk(principal, bulk_id))

    @router.get("/bulk/{bulk_id}")
    def show_bulk(bulk_id: BulkId, principal: StaffPrincipal = anyone) -> dict[str, Any]:
        """A request, with its export once done; for its own organisation (and auditors)."""
        return bulk_record(staff.bulk_request_for(principal, bulk_id))

    @router.post("/recipients", status_code=201)
    def add_recipient(body: RecipientIn, principal: StaffPrincipal = keeper) -> dict[str, Any]:
        """Register a recipient: a name and the certificate (PEM, RSA ≥ 2048 bits, valid now) files go to."""
        return recipient_record(staff.add_recipient(principal, body.name, body.certificate_pem))

    @router.get("/recipients/{name}")
    def show_recipient(
        name: Annotated[str, Path(max_length=100)], principal: StaffPrincipal = anyone
    ) -> dict[str, Any]:
        return recipient_record(staff.recipient(name))

    return router
