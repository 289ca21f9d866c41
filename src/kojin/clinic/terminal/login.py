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
from kojin.web.security import CSRF_FIELD, FormFields, check_csrf, delete_cookie, read_cookie, set_cookie

# Before sign-in there is no session to hold a CSRF token: the login form's token
# is also in a cookie of its own (SameSite=Strict, so a cross-site form never
# carries it), and a login without the pair is refused (login CSRF).
LOGIN_COOKIE = "kojin_clinic_login"


def make_router(kit: TerminalKit) -> APIRouter:
    router = APIRouter()
    clinics = kit.clinics

    def login_page(request: Request, error: KojinError | None = None) -> Response:
        token = secrets.token_urlsafe(24)
        response = kit.page(
            request, "login.html", {"error": error, "login_csrf": token}, status=error.status if error else 200
        )
        set_cookie(response, request, LOGIN_COOKIE, token, path="/clinic")
        return response

    @router.get("/")
    def index(request: Request) -> Response:
        found = kit.session_of(request)
        if found is None:
            return login_page(request)
        session, clinic = found
        return kit.page(request, "index.html", session=session, clinic=clinic)

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await FormFields.read(request)
        with language(request_language(request)):
            try:
                check_csrf(read_cookie(request, LOGIN_COOKIE), form.get(CSRF_FIELD, max_chars=200))
                clinic = clinics.eligibility.authenticate_clinic(form.get("key", max_chars=120))
                if clinic.clinic_id != form.get("clinic_id", max_chars=10).strip():
                    raise eligibility_reasons.CLINIC_UNAUTHENTICATED.error()
            except KojinError as exc:
                return login_page(request, exc)
        session = TerminalSession(clinic.clinic_id, secrets.token_urlsafe(24), int(time.time()) + SESSION_S)
        response = RedirectResponse("/clinic/", status_code=303)
        set_cookie(response, request, COOKIE, kit.cookie(session), path="/clinic")
        delete_cookie(response, request, LOGIN_COOKIE, path="/clinic")
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        session, _clinic = kit.signed_in(request)
        await kit.posted(request, session)
        response = RedirectResponse("/clinic/", status_code=303)
        delete_cookie(response, request, COOKIE, path="/clinic")
        return response

    return router
