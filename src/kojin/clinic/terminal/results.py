"""The terminal's answer: eligibility and what the consent covers after a card check, or eligibility alone
for a 資格確認書 typed in by the staff.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from kojin.clinic.terminal.kit import TerminalKit
from kojin.core.errors import KojinError
from kojin.core.i18n import language
from kojin.eligibility.domain import LOSS_REASON_LABELS, LossReason
from kojin.web.i18n import request_language


def make_router(kit: TerminalKit) -> APIRouter:
    router = APIRouter()
    clinics = kit.clinics

    @router.get("/visit/{visit_id}")
    def visit_page(request: Request, visit_id: str) -> Response:
        session, clinic = kit.signed_in(request)
        with language(request_language(request)):
            try:
                visit = clinics.eligibility.visit(visit_id, clinic)
                answer = clinics.eligibility.answer_for_visit(visit)
                history = clinics.history(clinic, visit_id)
            except KojinError as exc:
                return kit.failure(request, exc, session, clinic)
        return kit.page(
            request,
            "result.html",
            {
                "answer": answer,
                "history": history,
                "via_card": True,
                "loss_labels": _loss_labels(answer),
            },
            session=session,
            clinic=clinic,
        )

    @router.post("/certificate")
    async def certificate(request: Request) -> Response:
        session, clinic = kit.signed_in(request)
        form = await kit.posted(request, session)
        with language(request_language(request)):
            try:
                answer = clinics.check_certificate(
                    clinic,
                    form.get("insurer_number", max_chars=8),
                    form.get("symbol", max_chars=20),
                    form.get("number", max_chars=20),
                    form.get("branch", max_chars=2),
                )
            except KojinError as exc:
                return kit.failure(request, exc, session, clinic)
        return kit.page(
            request,
            "result.html",
            {
                "answer": answer,
                "history": None,
                "via_card": False,
                "loss_labels": _loss_labels(answer),
            },
            session=session,
            clinic=clinic,
        )

    return router


def _loss_labels(answer: dict[str, Any]) -> tuple[str, str] | None:
    reason = answer.get("ResultList", {}).get("ReasonOfLoss")
    return LOSS_REASON_LABELS[LossReason(reason)] if reason else None
