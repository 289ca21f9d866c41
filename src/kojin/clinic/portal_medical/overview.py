"""The medical overview: insurance, consents, medication, check-ups, records and who viewed them, on one page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from kojin.clinic.labels import CHECKUP_LABELS
from kojin.clinic.portal_medical.kit import MedicalKit
from kojin.core.i18n import language, pick
from kojin.ehr.domain import SCOPE_LABELS, Scope
from kojin.web.i18n import request_language
from kojin.web.templating import render


def make_router(kit: MedicalKit) -> APIRouter:
    router = APIRouter()
    portal, clinics = kit.portal, kit.clinics

    @router.get("")
    def overview(request: Request) -> Response:
        ctx = kit.signed_in(request)
        if isinstance(ctx, Response):
            return ctx
        code = ctx.subject.juminhyo_code
        with language(request_language(request)):
            if ctx.acting:
                portal.record(ctx, "view", "医療・保険")
            consents = clinics.my_consents(code)
            views = clinics.my_views(code)
            # Shown in JST through the shared |jst filter.
            for c in consents:
                c["expires"] = datetime.fromisoformat(c["expires_at"])
            for v in views:
                v["viewed"] = datetime.fromisoformat(v["viewed_at"])
            values: dict[str, Any] = {
                "t": pick,
                "ctx": ctx,
                "insurance": clinics.my_insurance(code),
                "consents": consents,
                "medications": clinics.my_medications(code)[:100],
                "checkups": clinics.my_checkups(code),
                "records": clinics.my_records(code),
                "views": views,
                "scope_labels": {s.value: SCOPE_LABELS[s] for s in Scope},
                "checkup_labels": CHECKUP_LABELS,
                "done": request.query_params.get("done"),
            }
            return render(request, "clinic/portal_medical.html", values)

    return router
