"""マイナ保険証 at the terminal: the card check on the reader, then the patient's consent for this visit."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from kojin.clinic.terminal.kit import TerminalKit
from kojin.core import reasons as core_reasons
from kojin.core.errors import KojinError
from kojin.core.i18n import language
from kojin.ehr.domain import Scope
from kojin.web.i18n import request_language
from kojin.web.security import FormFields, check_csrf


def make_router(kit: TerminalKit) -> APIRouter:
    router = APIRouter()
    clinics = kit.clinics

    @router.get("/card/start")
    def card_start(request: Request) -> Response:
        """A fresh challenge, handed to the reader; the answer comes back to /clinic/card."""
        session, _clinic = kit.signed_in(request)
        challenge = clinics.challenge()
        query = urlencode({"challenge": challenge.value, "state": session.csrf, "return": "/clinic/card"})
        return RedirectResponse(f"/reader/?{query}", status_code=303)

    @router.post("/card")
    async def card(request: Request) -> Response:
        session, clinic = kit.signed_in(request)
        form = await FormFields.read(request)
        # The reader hands back our CSRF token as its "state", untouched.
        check_csrf(session.csrf, form.get("csrf_token", max_chars=200))
        with language(request_language(request)):
            try:
                certificate = base64.b64decode(form.get("certificate", max_chars=12_000), validate=True)
                signature = base64.b64decode(form.get("signature", max_chars=12_000), validate=True)
                outcome = clinics.check_card(clinic, form.get("challenge", max_chars=300), certificate, signature)
            except (ValueError, binascii.Error):
                exc = core_reasons.REQUEST_BAD_BASE64.error(what_ja="カードの応答", what_en="The card's answer")
                return kit.failure(request, exc, session, clinic)
            except KojinError as exc:
                return kit.failure(request, exc, session, clinic)
        suffix = "?registered=1" if outcome.registered_now else ""
        return RedirectResponse(f"/clinic/visit/{outcome.visit.visit_id}/consent{suffix}", status_code=303)

    @router.get("/visit/{visit_id}/consent")
    def consent_page(request: Request, visit_id: str) -> Response:
        session, clinic = kit.signed_in(request)
        with language(request_language(request)):
            try:
                visit = clinics.eligibility.visit(visit_id, clinic)
            except KojinError as exc:
                return kit.failure(request, exc, session, clinic)
        return kit.page(
            request,
            "consent.html",
            {
                "visit": visit,
                "scopes": list(Scope),
                "registered_now": request.query_params.get("registered") == "1",
            },
            session=session,
            clinic=clinic,
        )

    @router.post("/visit/{visit_id}/consent")
    async def consent(request: Request, visit_id: str) -> Response:
        session, clinic = kit.signed_in(request)
        form = await kit.posted(request, session)
        chosen = [] if form.get("action", max_chars=20) == "none" else form.getlist("scope", max_items=3)
        with language(request_language(request)):
            try:
                clinics.consent(clinic, visit_id, chosen)
            except KojinError as exc:
                return kit.failure(request, exc, session, clinic)
        return RedirectResponse(f"/clinic/visit/{visit_id}", status_code=303)

    return router
