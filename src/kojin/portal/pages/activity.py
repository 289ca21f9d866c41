"""利用履歴: who used the portal for the person, and for what."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from kojin.portal.domain import Scope
from kojin.portal.pages.kit import PageKit
from kojin.portal.service import PortalContext


def make_router(kit: PageKit) -> APIRouter:
    router = APIRouter()
    portal = kit.portal

    async def activity(request: Request, ctx: PortalContext) -> Response:
        portal.viewed(ctx, Scope.ACTIVITY)
        entries = portal.activity_of(ctx)
        names = {i: portal.name_of(i) for e in entries for i in (e.actor_id, e.subject_id)}
        return kit.page(request, "activity.html", {"ctx": ctx, "entries": entries, "names": names})

    router.add_api_route("/activity", kit.guarded(activity), methods=["GET"])
    return router
