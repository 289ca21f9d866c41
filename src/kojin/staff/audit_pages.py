"""The auditor's pages (監査の画面) at ``/staff/audit``: who looked at whom and why, and what was refused.

Read-only, for the auditor alone: every access-log entry of one staff member,
with the staff member's name (which the person never sees), and the newest
refused attempts at staff doors. A staff member is named by their id; the page
lists the roster so the auditor can pick one.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from kojin.core.i18n import language
from kojin.staff.domain import ROLE_LABELS, Role, StaffPrincipal
from kojin.staff.guard import StaffDoors
from kojin.web.i18n import request_language
from kojin.web.templating import render

REFUSALS_SHOWN = 50


def make_router(doors: StaffDoors) -> APIRouter:
    router = APIRouter(prefix="/staff/audit", include_in_schema=False)
    auditor_door = Depends(doors.role(Role.AUDITOR))
    staff = doors.staff

    @router.get("")
    def audit(
        request: Request,
        staff_id: Annotated[str, Query(max_length=40)] = "",
        auditor: StaffPrincipal = auditor_door,
    ) -> Response:
        with language(request_language(request)):
            entries = staff.accesses_by(staff_id) if staff_id else []
            context = {
                **doors.page_context(request, auditor),
                "members": staff.roster.all(),
                "chosen": staff_id,
                "entries": entries,
                "role_labels": ROLE_LABELS,
                "refusals": staff.refusals.recent(REFUSALS_SHOWN),
            }
            return render(request, "staff/audit.html", context)

    return router
