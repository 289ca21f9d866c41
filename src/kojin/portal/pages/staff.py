"""職員の閲覧記録: which offices looked at the person's information, in which role, why and when."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from kojin.portal.domain import Scope
from kojin.portal.pages.kit import PageKit
from kojin.portal.service import PortalContext


def make_router(kit: PageKit) -> APIRouter:
    router = APIRouter()
    portal = kit.portal

    async def staff_looks(request: Request, ctx: PortalContext) -> Response:
        portal.viewed(ctx, Scope.STAFF)
        looks = portal.staff_looks.of(ctx.subject) if portal.staff_looks is not None else []
        return kit.page(request, "staff_looks.html", {"ctx": ctx, "looks": looks})

    router.add_api_route("/staff-looks", kit.guarded(staff_looks), methods=["GET"])
    return router
