"""The portal's pages (マイナポータルの画面), mounted at ``/portal``.

Every page runs :meth:`Portal.context` first: the session decides whose data
is shown, so no URL or form ever names a resident. Every POST carries the
session's CSRF token (hidden field, or the htmx header). A page for another
person is opened only within the scope the relation allows, and is logged to
both people.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from kojin.core.errors import InvalidInput, KojinError, NotFound
from kojin.core.i18n import language, pick
from kojin.portal.domain import (
    ACCOUNT_TYPE_LABELS,
    ACTING_LABELS,
    PROXY_SCOPES,
    SCOPE_LABELS,
    AccountType,
    ActingKind,
    Scope,
    parse_scope,
)
from kojin.portal.service import Portal, PortalContext
from kojin.portal.sessions import SessionEnded
from kojin.registry.domain import EVENT_LABELS, parse_date
from kojin.web.i18n import request_language
from kojin.web.security import FormFields, check_csrf, delete_cookie, read_cookie, set_cookie
from kojin.web.templating import render

COOKIE = "kojin_portal"
MAX_BADGES = 100
_INDEX = re.compile(r"^[0-9]{1,12}\Z")

NAV: tuple[tuple[str, Scope | None], ...] = (
    ("/portal/", None),
    ("/portal/me", Scope.ME),
    ("/portal/history", Scope.HISTORY),
    ("/portal/account", Scope.ACCOUNT),
    ("/portal/notices", Scope.NOTICES),
    ("/portal/card", Scope.CARD),
    ("/portal/proxies", Scope.PROXIES),
    ("/portal/activity", Scope.ACTIVITY),
    ("/portal/export", Scope.EXPORT),
)


def _nav(request: Request, portal: Portal, ctx: PortalContext) -> dict[str, Any]:
    items = []
    for url, scope in NAV:
        if scope is not None and not ctx.allows(scope):
            continue
        label = pick("ホーム", "Home") if scope is None else pick(*SCOPE_LABELS[scope])
        if scope is Scope.NOTICES:
            unread = portal.notices.unread_count(ctx.subject.resident_id)
            if unread:
                label += f" ({unread})"
        items.append({"url": url, "label": label, "current": request.url.path == url})
    return {
        "links": items,
        "user": ctx.user,
        "subject": ctx.subject,
        "acting": ctx.acting,
        "acting_label": pick(*ACTING_LABELS[ctx.kind]),
        "choices": [
            {
                "handle": c.handle,
                "name": c.resident.name,
                "kind": pick(*ACTING_LABELS[c.kind]),
                "current": c.resident.resident_id == ctx.subject.resident_id and c.kind is ctx.kind,
            }
            for c in ctx.choices
        ],
    }


def make_router(portal: Portal) -> APIRouter:
    router = APIRouter(prefix="/portal", include_in_schema=False)

    def token(request: Request) -> str | None:
        return read_cookie(request, COOKIE)

    def context(request: Request) -> PortalContext:
        with language(request_language(request)):
            ctx = portal.context(token(request))
            request.state.csrf_token = ctx.session.csrf_token
            request.state.nav = _nav(request, portal, ctx)
        return ctx

    def page(request: Request, template: str, values: dict[str, Any] | None = None, *, status: int = 200) -> Response:
        return render(request, f"portal/{template}", values or {}, status_code=status)

    def ended(request: Request, exc: SessionEnded) -> Response:
        """A GET without a live session goes to the portal's front page, saying why."""
        response = RedirectResponse(f"/portal/?{urlencode({'ended': exc.code})}", status_code=303)
        delete_cookie(response, request, COOKIE)
        return response

    def guarded(
        handler: Callable[[Request, PortalContext], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            try:
                ctx = context(request)
            except SessionEnded as exc:
                if request.method == "GET" and request.headers.get("hx-request") != "true":
                    return ended(request, exc)
                raise
            with language(request_language(request)):
                return await handler(request, ctx)

        return run

    async def posted(request: Request, ctx: PortalContext) -> FormFields:
        form = await FormFields.read(request)
        check_csrf(ctx.session.csrf_token, form.csrf(request))
        return form

    # -- front page, login, logout ------------------------------------------------
    @router.get("/")
    async def home(request: Request) -> Response:
        try:
            ctx = context(request)
        except SessionEnded:
            code = request.query_params.get("ended", "")
            with language(request_language(request)):
                message: str | None = None
                if code == "bye":
                    message = pick("ログアウトしました。", "You have logged out.")
                elif code in ("portal.session_timeout", "portal.session_ended"):
                    message = SessionEnded(code).message
                response = page(request, "welcome.html", {"message": message})
            delete_cookie(response, request, COOKIE)
            return response
        with language(request_language(request)):
            unread = portal.notices.unread_count(ctx.subject.resident_id) if ctx.allows(Scope.NOTICES) else 0
            return page(request, "home.html", {"ctx": ctx, "unread": unread})

    @router.get("/login")
    def login_page(request: Request) -> Response:
        with language(request_language(request)):
            new_token, session = portal.begin_login(token(request))
            reader_url = "/reader/?" + urlencode(
                {"challenge": session.challenge or "", "state": session.csrf_token, "return": "/portal/login"}
            )
            response = page(request, "login.html", {"reader_url": reader_url})
        set_cookie(response, request, COOKIE, new_token)
        return response

    @router.post("/login")
    async def login_answer(request: Request) -> Response:
        form = await FormFields.read(request)
        old = token(request)
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
                response = page(request, "login_failed.html", {"error": exc}, status=exc.status)
                delete_cookie(response, request, COOKIE)
                return response
        response = RedirectResponse("/portal/", status_code=303)
        set_cookie(response, request, COOKIE, new_token)
        return response

    async def logout(request: Request, ctx: PortalContext) -> Response:
        await posted(request, ctx)
        portal.logout(token(request))
        response = RedirectResponse("/portal/?ended=bye", status_code=303)
        delete_cookie(response, request, COOKIE)
        return response

    router.add_api_route("/logout", guarded(logout), methods=["POST"])

    # -- acting for someone ---------------------------------------------------------
    async def switch(request: Request, ctx: PortalContext) -> Response:
        form = await posted(request, ctx)
        portal.switch_acting(ctx, form.get("acting", max_chars=64, required=True))
        return RedirectResponse("/portal/", status_code=303)

    router.add_api_route("/acting", guarded(switch), methods=["POST"])

    # -- わたしの情報 --------------------------------------------------------------
    async def me(request: Request, ctx: PortalContext) -> Response:
        portal.viewed(ctx, Scope.ME)
        person = ctx.subject
        household = portal.register.household_members(person.household_id)
        history = [
            {"label": pick(*EVENT_LABELS[h.kind]), "date": h.effective_date}
            for h in portal.register.history_of(person.resident_id)
        ]
        options = portal.selfinfo.options() if portal.selfinfo is not None else []
        return page(
            request,
            "me.html",
            {
                "ctx": ctx,
                "person": person,
                "household": [m for m in household if m.status.value == "resident"],
                "history": history,
                "options": options,
            },
        )

    async def me_fetch(request: Request, ctx: PortalContext) -> Response:
        form = await posted(request, ctx)
        # The exchange waits for durable records at three parties: off the event loop.
        result = await run_in_threadpool(portal.fetch_self_info, ctx, form.get("option", max_chars=200, required=True))
        template = "partials/selfinfo.html" if request.headers.get("hx-request") == "true" else "selfinfo.html"
        return page(request, template, {"ctx": ctx, "result": result})

    router.add_api_route("/me", guarded(me), methods=["GET"])
    router.add_api_route("/me/fetch", guarded(me_fetch), methods=["POST"])

    # -- やりとり履歴 ---------------------------------------------------------------
    def leaf_index(value: str) -> int:
        if not _INDEX.match(value):
            raise NotFound("history.not_found", "その記録はありません。", "No such record.", field="index")
        return int(value)

    def history_service() -> Any:
        if portal.history is None:
            raise NotFound(
                "portal.history_unavailable", "やりとり履歴は準備中です。", "The exchange history is not available yet."
            )
        return portal.history

    async def history(request: Request, ctx: PortalContext) -> Response:
        portal.viewed(ctx, Scope.HISTORY)
        q = request.query_params
        item = (q.get("item") or "")[:100]
        agency = (q.get("agency") or "")[:40]
        date_from = _date_param(q.get("from"), "from")
        date_to = _date_param(q.get("to"), "to")
        service = history_service()
        everything = service.entries(ctx.subject)
        shown = [
            e
            for e in everything
            if e.matches(item=item or None, agency=agency or None, date_from=date_from, date_to=date_to)
        ]
        # Each entry shown carries the server's own verification as a badge; the
        # button checks again and shows every step.
        proofs = service.verify_all(ctx.subject, [e.leaf_index for e in shown[:MAX_BADGES]])
        return page(
            request,
            "history.html",
            {
                "ctx": ctx,
                "entries": shown,
                "total": len(everything),
                "proofs": proofs,
                "items": sorted({e.item for e in everything if e.item}),
                "agencies": sorted({(a, n) for e in everything for a, n in e.agencies()}),
                "filters": {"item": item, "agency": agency, "from": q.get("from") or "", "to": q.get("to") or ""},
            },
        )

    async def history_entry(request: Request, ctx: PortalContext) -> Response:
        ctx.require(Scope.HISTORY)
        index = leaf_index(request.path_params["index"])
        service = history_service()
        entry = service.entry(ctx.subject, index)
        portal.viewed(ctx, Scope.HISTORY)
        return page(
            request, "history_entry.html", {"ctx": ctx, "entry": entry, "proof": service.verify(ctx.subject, index)}
        )

    async def history_verify(request: Request, ctx: PortalContext) -> Response:
        await posted(request, ctx)
        ctx.require(Scope.HISTORY)
        index = leaf_index(request.path_params["index"])
        service = history_service()
        entry = service.entry(ctx.subject, index)
        proof = service.verify(ctx.subject, index)
        if request.headers.get("hx-request") == "true":
            return page(request, "partials/proof.html", {"proof": proof, "entry": entry})
        return page(request, "history_entry.html", {"ctx": ctx, "entry": entry, "proof": proof})

    async def history_proof(request: Request, ctx: PortalContext) -> Response:
        ctx.require(Scope.HISTORY)
        index = leaf_index(request.path_params["index"])
        bundle_json = history_service().bundle_json(ctx.subject, index)
        return Response(
            bundle_json,
            media_type="application/json",
            headers={
                "Content-Disposition": f'attachment; filename="kojin-proof-{index}.json"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    router.add_api_route("/history", guarded(history), methods=["GET"])
    router.add_api_route("/history/{index}", guarded(history_entry), methods=["GET"])
    router.add_api_route("/history/{index}/verify", guarded(history_verify), methods=["POST"])
    router.add_api_route("/history/{index}/proof.json", guarded(history_proof), methods=["GET"])

    # -- 公金受取口座 ----------------------------------------------------------------
    def account_page(request: Request, ctx: PortalContext, *, status: int = 200, **extra: Any) -> Response:
        return page(
            request,
            "account.html",
            {
                "ctx": ctx,
                "account": portal.accounts.get(ctx.subject.resident_id),
                "types": [(t.value, pick(*ACCOUNT_TYPE_LABELS[t])) for t in AccountType],
                **extra,
            },
            status=status,
        )

    async def account(request: Request, ctx: PortalContext) -> Response:
        portal.viewed(ctx, Scope.ACCOUNT)
        return account_page(request, ctx, values={})

    async def account_post(request: Request, ctx: PortalContext) -> Response:
        form = await posted(request, ctx)
        values = {
            name: form.get(name, max_chars=100)
            for name in ("bank_code", "branch_code", "account_type", "account_number", "holder_kana")
        }
        try:
            record = portal.register_account(ctx, **values)
        except InvalidInput as exc:
            return account_page(request, ctx, status=exc.status, error=exc, values=values)
        return account_page(request, ctx, saved=record, values={})

    router.add_api_route("/account", guarded(account), methods=["GET"])
    router.add_api_route("/account", guarded(account_post), methods=["POST"])

    # -- 代理人 ----------------------------------------------------------------------
    def proxies_page(request: Request, ctx: PortalContext, *, status: int = 200, **extra: Any) -> Response:
        today = portal.today()
        rows = []
        for rel in portal.proxies.involving(ctx.user.resident_id):
            mine = rel.principal_id == ctx.user.resident_id
            other_id = rel.proxy_resident_id if mine else rel.principal_id
            try:
                other = portal.register.get(other_id).name
            except NotFound:
                other = "—"
            rows.append(
                {
                    "handle": portal.proxy_handle(ctx, rel.proxy_id),
                    "mine": mine,
                    "other": other,
                    "scope": [pick(*SCOPE_LABELS[s]) for s in rel.scope],
                    "expires_on": rel.expires_on,
                    "in_force": rel.in_force(today),
                    "revoked_at": rel.revoked_at,
                }
            )
        children = [c for c in ctx.choices if c.kind is ActingKind.PARENT]
        return page(
            request,
            "proxies.html",
            {
                "ctx": ctx,
                "rows": rows,
                "children": children,
                "today": today,
                "scopes": [(s.value, pick(*SCOPE_LABELS[s])) for s in PROXY_SCOPES],
                **extra,
            },
            status=status,
        )

    async def proxies(request: Request, ctx: PortalContext) -> Response:
        ctx.require(Scope.PROXIES)
        return proxies_page(request, ctx)

    async def proxies_invite(request: Request, ctx: PortalContext) -> Response:
        form = await posted(request, ctx)
        ctx.require(Scope.PROXIES)
        try:
            scope = parse_scope(form.getlist("scope"))
            expires = parse_date(form.get("expires_on", max_chars=20, required=True), "expires_on")
            invitation = portal.invite_proxy(ctx, scope, expires)
        except InvalidInput as exc:
            return proxies_page(request, ctx, status=exc.status, error=exc)
        return proxies_page(request, ctx, invitation=invitation)

    async def proxies_accept(request: Request, ctx: PortalContext) -> Response:
        form = await posted(request, ctx)
        ctx.require(Scope.PROXIES)
        try:
            portal.accept_proxy(ctx, form.get("code", max_chars=40, required=True))
        except KojinError as exc:
            if exc.status >= 500:
                raise
            return proxies_page(request, ctx, status=exc.status, error=exc)
        return proxies_page(request, ctx, accepted=True)

    async def proxies_revoke(request: Request, ctx: PortalContext) -> Response:
        form = await posted(request, ctx)
        ctx.require(Scope.PROXIES)
        portal.revoke_proxy(ctx, form.get("proxy", max_chars=64, required=True))
        return proxies_page(request, ctx, revoked=True)

    router.add_api_route("/proxies", guarded(proxies), methods=["GET"])
    router.add_api_route("/proxies/invite", guarded(proxies_invite), methods=["POST"])
    router.add_api_route("/proxies/accept", guarded(proxies_accept), methods=["POST"])
    router.add_api_route("/proxies/revoke", guarded(proxies_revoke), methods=["POST"])

    # -- カード ----------------------------------------------------------------------
    async def card(request: Request, ctx: PortalContext) -> Response:
        portal.viewed(ctx, Scope.CARD)
        return page(request, "card.html", {"ctx": ctx, "cards": portal.cards_of(ctx)})

    async def card_lost(request: Request, ctx: PortalContext) -> Response:
        form = await posted(request, ctx)
        ctx.require(Scope.CARD)
        if form.get("confirm", max_chars=10) != "yes":
            raise InvalidInput(
                "card.confirm", "確認欄にチェックを入れてください。", "Tick the confirmation box.", field="confirm"
            )
        which = form.get("card", max_chars=4, required=True)
        if not which.isdigit():
            raise NotFound("card.not_found", "そのカードはありません。", "No such card.", field="card")
        state = portal.report_lost(ctx, int(which))
        # The session may have ended with the card (the person's own): show the
        # result without the personal navigation, and clear the cookie if so.
        still = portal.sessions.find(token(request))
        response = page(request, "card_lost.html", {"state": state, "ended": still is None})
        if still is None:
            delete_cookie(response, request, COOKIE)
        return response

    router.add_api_route("/card", guarded(card), methods=["GET"])
    router.add_api_route("/card/lost", guarded(card_lost), methods=["POST"])

    # -- お知らせ --------------------------------------------------------------------
    async def notices(request: Request, ctx: PortalContext) -> Response:
        portal.viewed(ctx, Scope.NOTICES)
        return page(request, "notices.html", {"ctx": ctx, "notices": portal.notices.of(ctx.subject.resident_id)})

    async def notice_read(request: Request, ctx: PortalContext) -> Response:
        await posted(request, ctx)
        ctx.require(Scope.NOTICES)
        raw = request.path_params["notice_id"]
        if not _INDEX.match(raw):
            raise NotFound("notice.not_found", "そのお知らせはありません。", "No such notice.", field="notice")
        notice = portal.notices.mark_read(ctx.subject.resident_id, int(raw))
        portal.record(ctx, "notice_read", notice.title[:100])
        if request.headers.get("hx-request") == "true":
            return page(request, "partials/notice.html", {"notice": notice})
        return RedirectResponse("/portal/notices", status_code=303)

    router.add_api_route("/notices", guarded(notices), methods=["GET"])
    router.add_api_route("/notices/{notice_id}/read", guarded(notice_read), methods=["POST"])

    # -- 利用履歴 ---------------------------------------------------------------------
    async def activity(request: Request, ctx: PortalContext) -> Response:
        portal.viewed(ctx, Scope.ACTIVITY)
        entries = portal.activity_of(ctx)
        names = {i: portal.name_of(i) for e in entries for i in (e.actor_id, e.subject_id)}
        return page(request, "activity.html", {"ctx": ctx, "entries": entries, "names": names})

    router.add_api_route("/activity", guarded(activity), methods=["GET"])

    # -- データの書き出し ------------------------------------------------------------
    async def export_page(request: Request, ctx: PortalContext) -> Response:
        ctx.require(Scope.EXPORT)
        return page(request, "export.html", {"ctx": ctx})

    async def export(request: Request, ctx: PortalContext) -> Response:
        await posted(request, ctx)
        from kojin.portal.export import build_export

        data, name = build_export(portal, ctx)
        return Response(
            data,
            media_type="application/zip",
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
            },
        )

    router.add_api_route("/export", guarded(export_page), methods=["GET"])
    router.add_api_route("/export", guarded(export), methods=["POST"])

    return router


def _date_param(value: str | None, field: str) -> date | None:
    if not value:
        return None
    if len(value) > 20:
        raise InvalidInput("form.too_long", "日付が長すぎます。", "The date is too long.", field=field)
    return parse_date(value, field)
