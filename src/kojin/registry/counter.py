"""The counter clerk's page (窓口の画面): one resident's record, for a stated purpose, at ``/registry/counter``.

The clerk, logged in with a staff card, names the resident and picks the
purpose (事務); the read is recorded before anything is shown — in the staff
access log, as a leaf of the tamper-evident log, and on the resident's own
portal page — exactly as the API's read is (:mod:`kojin.registry.api`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Protocol

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


CARD_STATUS_LABELS: dict[str, tuple[str, str]] = {
    "active": ("有効", "active"),
    "to_return": ("返納が必要（個人番号の変更）", "must be returned (number changed)"),
    "lost": ("紛失", "lost"),
    "replaced": ("再交付により廃止", "replaced"),
    "revoked": ("失効", "revoked"),
}


class CardNote(Protocol):
    """What the counter shows of a card: J-LIS's state of it, not its chip."""

    @property
    def card_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def chip_stale(self) -> bool: ...


CardsOf = Callable[[Resident], Sequence[CardNote]]
"""The resident's cards as J-LIS records them (wired to :meth:`kojin.card.issuance.CardOffice.cards_of`)."""


def counter_purposes() -> list[Purpose]:
    """The counter's own tasks first, then the exchange tasks."""
    found = list(purposes().values())
    return [p for p in found if p.kind is PurposeKind.COUNTER] + [p for p in found if p.kind is not PurposeKind.COUNTER]


def make_router(register: RegisterService, doors: StaffDoors, cards_of: CardsOf | None = None) -> APIRouter:
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
                    shown = counter.resident(clerk, int(resident_id), purpose, "read")
                    context["resident"] = _shown(register, shown, cards_of(shown) if cards_of else ())
                except KojinError as exc:
                    doors.refused(request, exc, clerk)
                    context["error"] = exc
            status = context["error"].status if context["error"] is not None else 200
            return render(request, "registry/counter.html", context, status_code=status)

    return router


def _shown(register: RegisterService, resident: Resident, cards: Sequence[CardNote]) -> dict[str, object]:
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
        "cards": [
            {
                "card_id": c.card_id,
                "status": pick(*CARD_STATUS_LABELS.get(c.status, (c.status, c.status))),
                "to_return": c.status == "to_return",
                "chip_stale": c.chip_stale and c.status == "active",
            }
            for c in cards
        ],
    }
