"""HTTP API for supervisors deciding disputed links (ひも付けの誤りの申し出), at ``/staff/disputes``.

The same decision as ``kojin dispute``: a supervisor of the deciding office
(J-LIS for codes and memberships, the person's municipality for the account),
recorded in the staff access log before it takes effect.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from kojin.portal.domain import MAX_DISPUTE_NOTE
from kojin.portal.service import Portal
from kojin.staff.domain import Role, StaffPrincipal
from kojin.staff.guard import StaffDoors
from kojin.web.params import RowId

DisputeId = Annotated[RowId, Path()]


class DecisionIn(BaseModel):
    outcome: Annotated[str, Field(max_length=20)]
    note: Annotated[str, Field(max_length=MAX_DISPUTE_NOTE)] = ""


def make_router(portal: Portal, doors: StaffDoors) -> APIRouter:
    router = APIRouter(prefix="/staff/disputes", tags=["staff 職員"])
    supervisor = Depends(doors.role(Role.SUPERVISOR))

    @router.get("")
    def pending(principal: StaffPrincipal = supervisor) -> dict[str, Any]:
        """Disputes not yet decided that this supervisor's office decides, oldest first."""
        return {"disputes": [d.as_record() for d in portal.disputes_for(principal)]}

    @router.post("/{dispute_id}")
    def decide(dispute_id: DisputeId, body: DecisionIn, principal: StaffPrincipal = supervisor) -> dict[str, Any]:
        """``confirmed`` lifts the suspension; ``wrong`` retires the link (or removes the account)."""
        return portal.decide_dispute(principal, dispute_id, body.outcome, body.note).as_record()

    return router
