"""わたしの情報: the person's register entry and household, and self-information fetched from agencies (自己情報)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from kojin.core.i18n import pick
from kojin.portal.domain import Scope
from kojin.portal.pages.kit import PageKit, is_htmx
from kojin.portal.service import PortalContext
from kojin.registry.domain import EVENT_LABELS


def make_router(kit: PageKit) -> APIRouter:
    router = APIRouter()
    portal = kit.portal

    async def me(request: Request, ctx: PortalContext) -> Response:
        portal.viewed(ctx, Scope.ME)
        person = ctx.subject
        household = portal.register.household_members(person.household_id)
        history = [
            {"label": pick(*EVENT_LABELS[h.kind]), "date": h.effective_date}
            for h in portal.register.history_of(person.resident_id)
        ]
        options = portal.selfinfo.options() if portal.selfinfo is not None else []
        return kit.page(
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
        form = await kit.posted(request, ctx)
        # The exchange waits for durable records at three parties: off the event loop.
        result = await run_in_threadpool(portal.fetch_self_info, ctx, form.get("option", max_chars=200, required=True))
        template = "partials/selfinfo.html" if is_htmx(request) else "selfinfo.html"
        return kit.page(request, template, {"ctx": ctx, "result": result})

    router.add_api_route("/me", kit.guarded(me), methods=["GET"])
    router.add_api_route("/me/fetch", kit.guarded(me_fetch), methods=["POST"])
    return router
