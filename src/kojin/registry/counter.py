"""The counter clerk's page (窓口の画面): one resident's record, for a stated purpose, at ``/registry/counter``.

The clerk, logged in with a staff card, names the resident and picks the
purpose (事務); the read is recorded before anything is shown — in the staff
access log, as a leaf of the tamper-evident log, and on the resident's own
portal page — exactly as the API's read is (:mod:`kojin.registry.api`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from kojin.core.errors import KojinError
from kojin.core.i18n import language, pick
from kojin.core.japan import format_date
from kojin.registry.api import Counter
from kojin.registry.domain import EVENT_LABELS, Resident, Status
from kojin.registry.service import RegisterService
from kojin.staff import reasons as staff_reasons
from kojin.staff.domain import Purpose, PurposeKind, Role, StaffPrincipal, purposes
from kojin.staff.guard import StaffDoors
from kojin.web.errors import register_html_prefix
from kojin.web.i18n import request_language
from kojin.web.templating import add_template_package, render

BASE = "/registry/counter"
STATUS_LABELS: dict[Status, tuple[str, str]] = {
    Status.RESIDENT: ("住民", "resident"),
    Status.MOVED_OUT: ("転出", "moved out"),
    Status.DECEASED: ("死亡", "deceased"),
}


def counter_purposes() -> list[Purpose]:
    """The counter's own tasks first, then the exchange tasks."""
    found = list(purposes().values())
    return [p for p in found if p.kind is PurposeKind.COUNTER] + [p for p in found if p.kind is not PurposeKind.COUNTER]


def make_router(register: RegisterService, doors: StaffDoors) -> APIRouter:
    add_template_package("kojin.registry")
    register_html_prefix(BASE)
    router = APIRouter(prefix=BASE, include_in_schema=False)
    counter = Counter(register, doors)
    clerk_door = Depends(doors.role(Role.COUNTER_CLERK))

    @router.get("")
    def lookup(
        request: Request,
        resident_id: Annotated[str, Query(max_length=12)] = "",
        purpose: Annotated[str, Query(max_length=100)] = "",
        clerk: StaffPrincipal = clerk_door,
    ) -> Response:
        with language(request_language(request)):
            context = {
                **doors.page_context(request, clerk),
                "purposes": counter_purposes(),
                "chosen": purpose,
                "asked": resident_id,
                "resident": None,
                "error": None,
            }
            if resident_id:
                try:
                    if not resident_id.isdigit():
                        raise staff_reasons.NOT_IN_SCOPE.error()
                    context["resident"] = _shown(register, counter.resident(clerk, int(resident_id), purpose, "read"))
                except KojinError as exc:
                    doors.refused(request, exc, clerk)
                    context["error"] = exc
            status = context["error"].status if context["error"] is not None else 200
            return render(request, "registry/counter.html", context, status_code=status)

    return router


def _shown(register: RegisterService, resident: Resident) -> dict[str, object]:
    """The record as the clerk reads it: dates in 和暦, labels in the page's language."""
    history = [
        {
            "date": format_date(e.effective_date),
            "label": pick(*EVENT_LABELS[e.kind]),
        }
        for e in register.history_of(resident.resident_id)
    ]
    return {
        "name": resident.name,
        "kana": resident.kana,
        "birth_date": format_date(resident.birth_date),
        "sex": pick("男", "male") if resident.sex.value == "1" else pick("女", "female"),
        "address": resident.address.one_line(),
        "status": pick(*STATUS_LABELS[resident.status]),
        "relationship": resident.relationship,
        "history": history,
    }
