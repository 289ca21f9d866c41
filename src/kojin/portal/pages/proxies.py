"""代理人: proxies the person appointed or acts as, invitations, acceptance and revocation."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from kojin.core.errors import InvalidInput, KojinError, NotFound
from kojin.core.i18n import pick
from kojin.core.japan import parse_date
from kojin.portal.domain import PROXY_SCOPES, SCOPE_LABELS, ActingKind, Scope, parse_scope
from kojin.portal.pages.kit import PageKit
from kojin.portal.service import Portal, PortalContext


def make_router(kit: PageKit) -> APIRouter:
    router = APIRouter()
    portal = kit.portal

    def proxies_page(request: Request, ctx: PortalContext, *, status: int = 200, **extra: Any) -> Response:
        today = portal.today()
        children = [c for c in ctx.choices if c.kind is ActingKind.PARENT]
        return kit.page(
            request,
            "proxies.html",
            {
                "ctx": ctx,
                "rows": proxy_rows(portal, ctx, today),
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
        form = await kit.posted(request, ctx)
        ctx.require(Scope.PROXIES)
        try:
            scope = parse_scope(form.getlist("scope"))
            expires = parse_date(form.get("expires_on", max_chars=20, required=True), "expires_on")
            invitation = portal.invite_proxy(ctx, scope, expires)
        except InvalidInput as exc:
            return proxies_page(request, ctx, status=exc.status, error=exc)
        return proxies_page(request, ctx, invitation=invitation)

    async def proxies_accept(request: Request, ctx: PortalContext) -> Response:
        form = await kit.posted(request, ctx)
        ctx.require(Scope.PROXIES)
        try:
            portal.accept_proxy(ctx, form.get("code", max_chars=40, required=True))
        except KojinError as exc:
            if exc.status >= 500:
                raise
            return proxies_page(request, ctx, status=exc.status, error=exc)
        return proxies_page(request, ctx, accepted=True)

    async def proxies_revoke(request: Request, ctx: PortalContext) -> Response:
        form = await kit.posted(request, ctx)
        ctx.require(Scope.PROXIES)
        portal.revoke_proxy(ctx, form.get("proxy", max_chars=64, required=True))
        return proxies_page(request, ctx, revoked=True)

    router.add_api_route("/proxies", kit.guarded(proxies), methods=["GET"])
    router.add_api_route("/proxies/invite", kit.guarded(proxies_invite), methods=["POST"])
    router.add_api_route("/proxies/accept", kit.guarded(proxies_accept), methods=["POST"])
    router.add_api_route("/proxies/revoke", kit.guarded(proxies_revoke), methods=["POST"])
    return router


def proxy_rows(portal: Portal, ctx: PortalContext, today: date) -> list[dict[str, Any]]:
    """The user's own proxy relations, both ways, each with the other person's name and whether in force."""
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
    return rows
