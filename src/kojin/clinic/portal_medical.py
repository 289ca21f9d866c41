"""The patient's own medical pages in the portal (マイナポータル: 医療・保険), at ``/portal/medical``.

Consents given at clinics (and withdrawing them), medication and check-ups,
e-health records with hide/unhide, who viewed what (each view with its
exchange-log entry), and the card's insurance registration with the
資格確認書. The portal's session decides whose pages these are: the person,
or a parent for a child; an appointed proxy does not see medical data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from kojin.clinic.labels import CHECKUP_LABELS
from kojin.clinic.service import ClinicService
from kojin.core.errors import InvalidInput, NotPermitted
from kojin.core.i18n import language, pick
from kojin.ehr.domain import SCOPE_LABELS, Scope
from kojin.portal.domain import ActingKind
from kojin.portal.service import Portal, PortalContext
from kojin.portal.sessions import SessionEnded
from kojin.portal.views import COOKIE
from kojin.portal.views import nav as portal_nav
from kojin.web.i18n import request_language
from kojin.web.security import FormFields, check_csrf, delete_cookie, read_cookie
from kojin.web.templating import render


def make_router(portal: Portal, clinics: ClinicService) -> APIRouter:
    router = APIRouter(prefix="/portal/medical", include_in_schema=False)

    def context(request: Request) -> PortalContext:
        with language(request_language(request)):
            ctx = portal.context(read_cookie(request, COOKIE))
            request.state.csrf_token = ctx.session.csrf_token
            request.state.nav = portal_nav(request, portal, ctx)
            if ctx.kind not in (ActingKind.SELF, ActingKind.PARENT):
                raise NotPermitted(
                    "portal.medical_self_only",
                    "医療の情報は本人（未成年の子は親）だけが見られます。本人の画面に戻ってください。",
                    "Medical data is shown to the person only (or a parent, for a child); switch back to your own "
                    "pages.",
                    field="scope",
                )
        return ctx

    def signed_in(request: Request) -> PortalContext | Response:
        try:
            return context(request)
        except SessionEnded as exc:
            if request.method == "GET":
                response = RedirectResponse(f"/portal/?{urlencode({'ended': exc.code})}", status_code=303)
                delete_cookie(response, request, COOKIE)
                return response
            raise

    async def posted(request: Request, ctx: PortalContext) -> FormFields:
        form = await FormFields.read(request)
        check_csrf(ctx.session.csrf_token, form.csrf(request))
        return form

    def back(section: str, done: str) -> Response:
        return RedirectResponse(f"/portal/medical?{urlencode({'done': done})}#{section}", status_code=303)

    @router.get("")
    def overview(request: Request) -> Response:
        ctx = signed_in(request)
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

    @router.post("/consents/{consent_id}/withdraw")
    async def withdraw(request: Request, consent_id: str) -> Response:
        ctx = context(request)
        await posted(request, ctx)
        with language(request_language(request)):
            clinics.withdraw_consent(ctx.subject.juminhyo_code, consent_id[:32])
            portal.record(ctx, "consent_withdrawn", consent_id[:32])
        return back("consents", "withdrawn")

    @router.post("/records/sharing")
    async def sharing(request: Request) -> Response:
        ctx = context(request)
        form = await posted(request, ctx)
        kind = form.get("kind", max_chars=10)
        record_id = form.get("record_id", max_chars=32, required=True)
        hidden = form.get("hidden", max_chars=1) == "1"
        if kind not in ("document", "item"):
            raise InvalidInput("ehr.unknown_record", "記録の種類が不明です。", "Unknown kind of record.", field="kind")
        with language(request_language(request)):
            clinics.set_hidden(
                ctx.subject.juminhyo_code,
                doc_id=record_id if kind == "document" else None,
                item_id=record_id if kind == "item" else None,
                hidden=hidden,
            )
            portal.record(ctx, "record_hidden" if hidden else "record_shared", record_id)
        return back("records", "hidden" if hidden else "shared")

    @router.post("/registration")
    async def registration(request: Request) -> Response:
        ctx = context(request)
        form = await posted(request, ctx)
        action = form.get("action", max_chars=10)
        if action not in ("cancel", "restore"):
            raise InvalidInput("form.invalid", "操作が不明です。", "Unknown action.", field="action")
        if action == "cancel" and form.get("confirm", max_chars=3) != "yes":
            raise InvalidInput(
                "card.confirm", "確認欄にチェックを入れてください。", "Tick the confirmation box.", field="confirm"
            )
        with language(request_language(request)):
            clinics.set_card_registration(ctx.subject.juminhyo_code, registered=action == "restore")
            portal.record(ctx, "insurance_registration", action)
        return back("insurance", action)

    @router.get("/certificate.pdf")
    def certificate(request: Request) -> Response:
        ctx = signed_in(request)
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
