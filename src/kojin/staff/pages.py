"""The staff pages (職員の画面), mounted at ``/staff``: login with the staff card, the home page, logout.

Login goes through the card-reader software as the portal's does: the login
page hands the reader a challenge and this browser's pending CSRF token
(``state``), the person puts the staff card in and types the PIN there, and
the reader posts the answer back to ``/staff/login``. The session is bound to
that insertion: taking the card out ends it. Every POST carries the session's
CSRF token.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from kojin.core.errors import KojinError
from kojin.core.i18n import language, pick
from kojin.staff import reasons
from kojin.staff.domain import ROLE_LABELS
from kojin.staff.service import StaffService
from kojin.web.i18n import request_language
from kojin.web.security import FormFields, check_csrf, delete_cookie, read_cookie, set_cookie
from kojin.web.templating import render

COOKIE = "kojin_staff"
LOGIN_PATH = "/staff/login"
_ENDED = {r.code: r for r in (reasons.SESSION_ENDED, reasons.SESSION_TIMEOUT)}


def make_router(staff: StaffService) -> APIRouter:
    router = APIRouter(prefix="/staff", include_in_schema=False)

    @router.get("/")
    def home(request: Request) -> Response:
        token = read_cookie(request, COOKIE)
        try:
            principal = staff.check_session(token)
            csrf = staff.session_csrf(token)
        except KojinError as exc:
            response = RedirectResponse(f"{LOGIN_PATH}?{urlencode({'ended': exc.code})}", status_code=303)
            delete_cookie(response, request, COOKIE)
            return response
        member = staff.member(principal.staff_id)
        with language(request_language(request)):
            label = ROLE_LABELS[member.role]
            context = {"member": member, "role_label": pick(label.ja, label.en), "csrf_token": csrf}
            return render(request, "staff/home.html", context)

    @router.get("/login")
    def login_page(request: Request) -> Response:
        with language(request_language(request)):
            new_token, session = staff.begin_login(read_cookie(request, COOKIE))
            reader_url = "/reader/?" + urlencode(
                {"challenge": session.challenge or "", "state": session.csrf_token, "return": LOGIN_PATH}
            )
            code = request.query_params.get("ended", "")
            message = pick("ログアウトしました。", "You have logged out.") if code == "bye" else None
            if code in _ENDED:
                message = _ENDED[code].error().message
            response = render(request, "staff/login.html", {"reader_url": reader_url, "message": message})
        set_cookie(response, request, COOKIE, new_token)
        return response

    @router.post("/login")
    async def login_answer(request: Request) -> Response:
        """The reader's answer to this browser's pending login."""
        form = await FormFields.read(request)
        old = read_cookie(request, COOKIE)
        pending = staff.sessions.find(old)
        try:
            check_csrf(
                pending.csrf_token if pending is not None and pending.state == "pending" else None,
                form.get("csrf_token", max_chars=200),
            )
        except KojinError:
            staff.logout_session(old)  # a refused answer ends whatever session this browser had
            raise
        with language(request_language(request)):
            try:
                new_token, _session = await run_in_threadpool(
                    staff.complete_login,
                    old,
                    challenge=form.get("challenge", max_chars=300),
                    certificate_b64=form.get("certificate", max_chars=12_000),
                    signature_b64=form.get("signature", max_chars=12_000),
                    insertion_id=form.get("insertion_id", max_chars=100),
                )
            except KojinError as exc:
                failed = render(request, "staff/login_failed.html", {"error": exc}, status_code=exc.status)
                delete_cookie(failed, request, COOKIE)
                return failed
        response = RedirectResponse("/staff/", status_code=303)
        set_cookie(response, request, COOKIE, new_token)
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        token = read_cookie(request, COOKIE)
        form = await FormFields.read(request)
        check_csrf(staff.session_csrf(token), form.csrf(request))
        staff.logout_session(token)
        response = RedirectResponse(f"{LOGIN_PATH}?ended=bye", status_code=303)
        delete_cookie(response, request, COOKIE)
        return response

    return router
