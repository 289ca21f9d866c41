"""The portal's front page, login with the card, logout, and choosing whom to act for (ログイン・代理の切替)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from kojin.core.errors import KojinError
from kojin.core.i18n import language, pick
from kojin.portal import reasons
from kojin.portal.domain import Scope
from kojin.portal.pages.kit import COOKIE, PageKit
from kojin.portal.service import PortalContext
from kojin.portal.sessions import SessionEnded
from kojin.web.i18n import request_language
from kojin.web.security import FormFields, check_csrf, delete_cookie, set_cookie


def make_router(kit: PageKit) -> APIRouter:
    router = APIRouter()
    portal = kit.portal

    @router.get("/")
    async def home(request: Request) -> Response:
        try:
            ctx = kit.context(request)
        except SessionEnded:
            return welcome(kit, request)
        with language(request_language(request)):
            unread = portal.notices.unread_count(ctx.subject.resident_id) if ctx.allows(Scope.NOTICES) else 0
            return kit.page(request, "home.html", {"ctx": ctx, "unread": unread})

    @router.get("/login")
    def login_page(request: Request) -> Response:
        with language(request_language(request)):
            new_token, session = portal.begin_login(kit.token(request))
            reader_url = "/reader/?" + urlencode(
                {"challenge": session.challenge or "", "state": session.csrf_token, "return": "/portal/login"}
            )
            response = kit.page(request, "login.html", {"reader_url": reader_url})
        set_cookie(response, request, COOKIE, new_token)
        return response

    @router.post("/login")
    async def login_answer(request: Request) -> Response:
        return await complete_login(kit, request)

    async def logout(request: Request, ctx: PortalContext) -> Response:
        await kit.posted(request, ctx)
        portal.logout(kit.token(request))
        response = RedirectResponse("/portal/?ended=bye", status_code=303)
        delete_cookie(response, request, COOKIE)
        return response

    async def switch(request: Request, ctx: PortalContext) -> Response:
        form = await kit.posted(request, ctx)
        portal.switch_acting(ctx, form.get("acting", max_chars=64, required=True))
        return RedirectResponse("/portal/", status_code=303)

    router.add_api_route("/logout", kit.guarded(logout), methods=["POST"])
    router.add_api_route("/acting", kit.guarded(switch), methods=["POST"])
    return router


def welcome(kit: PageKit, request: Request) -> Response:
    """The front page without a live session, saying why it ended if the URL says so."""
    code = request.query_params.get("ended", "")
    with language(request_language(request)):
        message: str | None = None
        ended = {r.code: r for r in (reasons.SESSION_TIMEOUT, reasons.SESSION_ENDED)}.get(code)
        if code == "bye":
            message = pick("ログアウトしました。", "You have logged out.")
        elif ended is not None:
            message = ended.error().message
        response = kit.page(request, "welcome.html", {"message": message})
    delete_cookie(response, request, COOKIE)
    return response


async def complete_login(kit: PageKit, request: Request) -> Response:
    """The reader's answer to a pending login: a session for the card's holder, or the reason there is none."""
    portal = kit.portal
    form = await FormFields.read(request)
    old = kit.token(request)
    pending = portal.sessions.find(old)
    try:
        # The answer carries the pending login's own CSRF token, handed to
        # the reader as its "state" and given back untouched.
        check_csrf(
            pending.csrf_token if pending is not None and pending.state == "pending" else None,
            form.get("csrf_token", max_chars=200),
        )
    except KojinError:
        # Whatever session this browser had ends with a refused login.
        portal.logout(old)
        raise
    with language(request_language(request)):
        try:
            # On a worker thread: the check waits for the challenge's
            # single use to be durable, which must not stall the event loop.
            new_token, _session = await run_in_threadpool(
                portal.complete_login,
                old,
                challenge=form.get("challenge", max_chars=300),
                certificate_b64=form.get("certificate", max_chars=12_000),
                signature_b64=form.get("signature", max_chars=12_000),
                insertion_id=form.get("insertion_id", max_chars=100),
            )
        except KojinError as exc:
            response = kit.page(request, "login_failed.html", {"error": exc}, status=exc.status)
            delete_cookie(response, request, COOKIE)
            return response
    response = RedirectResponse("/portal/", status_code=303)
    set_cookie(response, request, COOKIE, new_token)
    return response
