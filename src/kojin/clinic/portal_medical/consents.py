"""Withdrawing a consent given at a clinic (同意の取り消し)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from kojin.clinic.portal_medical.kit import MedicalKit
from kojin.core.i18n import language
from kojin.web.i18n import request_language


def make_router(kit: MedicalKit) -> APIRouter:
    router = APIRouter()
    portal, clinics = kit.portal, kit.clinics

    @router.post("/consents/{consent_id}/withdraw")
    async def withdraw(request: Request, consent_id: str) -> Response:
        ctx = kit.context(request)
        await kit.posted(request, ctx)
        with language(request_language(request)):
            clinics.withdraw_consent(ctx.subject.juminhyo_code, consent_id[:32])
            portal.record(ctx, "consent_withdrawn", consent_id[:32])
        return kit.back("consents", "withdrawn")

    return router
