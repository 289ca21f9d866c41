"""The card's insurance registration (cancel or restore it) and the 資格確認書 as a PDF."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from kojin.card import reasons as card_reasons
from kojin.clinic.portal_medical.kit import MedicalKit
from kojin.core import reasons as core_reasons
from kojin.core.i18n import language
from kojin.web.i18n import request_language


def make_router(kit: MedicalKit) -> APIRouter:
    router = APIRouter()
    portal, clinics = kit.portal, kit.clinics

    @router.post("/registration")
    async def registration(request: Request) -> Response:
        ctx = kit.context(request)
        form = await kit.posted(request, ctx)
        action = form.get("action", max_chars=10)
        if action not in ("cancel", "restore"):
            raise core_reasons.FORM_INVALID.error(field="action")
        if action == "cancel" and form.get("confirm", max_chars=3) != "yes":
            raise card_reasons.CONFIRM.error()
        with language(request_language(request)):
            clinics.set_card_registration(ctx.subject.juminhyo_code, registered=action == "restore")
            portal.record(ctx, "insurance_registration", action)
        return kit.back("insurance", action)

    @router.get("/certificate.pdf")
    def certificate(request: Request) -> Response:
        ctx = kit.signed_in(request)
        if isinstance(ctx, Response):
            return ctx
        with language(request_language(request)):
            pdf = clinics.my_certificate_pdf(ctx.subject.juminhyo_code)
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "Content-Disposition": 'attachment; filename="shikaku-kakuninsho.pdf"',
                "Cache-Control": "no-store",
            },
        )

    return router
