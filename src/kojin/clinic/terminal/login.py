"""Signing the terminal in and out with the clinic code and key (端末のログイン)."""

from __future__ import annotations

import secrets
import time

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from kojin.clinic.terminal.kit import TerminalKit
from kojin.clinic.terminal.session import COOKIE, SESSION_S, TerminalSession
from kojin.core.errors import KojinError
from kojin.core.i18n import language
from kojin.eligibility import reasons as eligibility_reasons
from kojin.web.i18n import request_language
from kojin.web.security import FormFields, delete_cookie, set_cookie


def make_router(kit: TerminalKit) -> APIRouter:
    router = APIRouter()
    clinics = kit.clinics

    @router.get("/")
    def index(request: Request) -> Response:
        found = kit.session_of(request)
        if found is None:
            return kit.page(request, "login.html")
        session, clinic = found
        return kit.page(request, "index.html", session=session, clinic=clinic)

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await FormFields.read(request)
        with language(request_language(request)):
            try:
                clinic = clinics.eligibility.authenticate_clinic(form.get("key", max_chars=120))
                if clinic.clinic_id != form.get("clinic_id", max_chars=10).strip():
                    raise eligibility_reasons.CLINIC_UNAUTHENTICATED.error()
            except KojinError as exc:
                return kit.page(request, "login.html", {"error": exc}, status=exc.status)
        session = TerminalSession(clinic.clinic_id, secrets.token_urlsafe(24), int(time.time()) + SESSION_S)
        response = RedirectResponse("/clinic/", status_code=303)
        set_cookie(response, request, COOKIE, kit.cookie(session), path="/clinic")
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        session, _clinic = kit.signed_in(request)
        await kit.posted(request, session)
        response = RedirectResponse("/clinic/", status_code=303)
        delete_cookie(response, request, COOKIE, path="/clinic")
        return response

    return router
