"""Hiding an e-health record (a document or one item) from clinics, or sharing it again."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from kojin.clinic.portal_medical.kit import MedicalKit
from kojin.core import reasons as core_reasons
from kojin.core.i18n import language
from kojin.web.i18n import request_language


def make_router(kit: MedicalKit) -> APIRouter:
    router = APIRouter()
    portal, clinics = kit.portal, kit.clinics

    @router.post("/records/sharing")
    async def sharing(request: Request) -> Response:
        ctx = kit.context(request)
        form = await kit.posted(request, ctx)
        kind = form.get("kind", max_chars=10)
        record_id = form.get("record_id", max_chars=32, required=True)
        hidden = form.get("hidden", max_chars=1) == "1"
        if kind not in ("document", "item"):
            raise core_reasons.FORM_INVALID.error(field="kind")
        with language(request_language(request)):
            clinics.set_hidden(
                ctx.subject.juminhyo_code,
                doc_id=record_id if kind == "document" else None,
                item_id=record_id if kind == "item" else None,
                hidden=hidden,
            )
            portal.record(ctx, "record_hidden" if hidden else "record_shared", record_id)
        return kit.back("records", "hidden" if hidden else "shared")

    return router
