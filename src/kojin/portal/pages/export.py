"""データの書き出し: everything the portal holds about the person, as one zip file."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from kojin.portal.domain import Scope
from kojin.portal.export import build_export
from kojin.portal.pages.kit import PageKit
from kojin.portal.service import PortalContext


def make_router(kit: PageKit) -> APIRouter:
    router = APIRouter()
    portal = kit.portal

    async def export_page(request: Request, ctx: PortalContext) -> Response:
        ctx.require(Scope.EXPORT)
        return kit.page(request, "export.html", {"ctx": ctx})

    async def export(request: Request, ctx: PortalContext) -> Response:
        await kit.posted(request, ctx)
        data, name = build_export(portal, ctx)
        return Response(
            data,
            media_type="application/zip",
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
            },
        )

    router.add_api_route("/export", kit.guarded(export_page), methods=["GET"])
    router.add_api_route("/export", kit.guarded(export), methods=["POST"])
    return router
