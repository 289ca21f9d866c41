"""お知らせ: notices to the person, and marking one read."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from kojin.portal import reasons
from kojin.portal.domain import Scope
from kojin.portal.pages.kit import INDEX, PageKit, is_htmx
from kojin.portal.service import PortalContext


def make_router(kit: PageKit) -> APIRouter:
    router = APIRouter()
    portal = kit.portal

    async def notices(request: Request, ctx: PortalContext) -> Response:
        portal.viewed(ctx, Scope.NOTICES)
        return kit.page(request, "notices.html", {"ctx": ctx, "notices": portal.notices.of(ctx.subject.resident_id)})

    async def notice_read(request: Request, ctx: PortalContext) -> Response:
        await kit.posted(request, ctx)
        ctx.require(Scope.NOTICES)
        raw = request.path_params["notice_id"]
        if not INDEX.match(raw):
            raise reasons.NOTICE_NOT_FOUND.error()
        notice = portal.notices.mark_read(ctx.subject.resident_id, int(raw))
        portal.record(ctx, "notice_read", notice.title[:100])
        if is_htmx(request):
            return kit.page(request, "partials/notice.html", {"notice": notice})
        return RedirectResponse("/portal/notices", status_code=303)

    router.add_api_route("/notices", kit.guarded(notices), methods=["GET"])
    router.add_api_route("/notices/{notice_id}/read", kit.guarded(notice_read), methods=["POST"])
    return router
