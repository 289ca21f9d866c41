"""カード: the person's cards, and reporting one lost (紛失の届出)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from kojin.card import reasons as card_reasons
from kojin.portal.domain import Scope
from kojin.portal.pages.kit import COOKIE, INDEX, PageKit
from kojin.portal.service import PortalContext
from kojin.web.security import delete_cookie


def make_router(kit: PageKit) -> APIRouter:
    router = APIRouter()
    portal = kit.portal

    async def card(request: Request, ctx: PortalContext) -> Response:
        portal.viewed(ctx, Scope.CARD)
        return kit.page(request, "card.html", {"ctx": ctx, "cards": portal.cards_of(ctx)})

    async def card_lost(request: Request, ctx: PortalContext) -> Response:
        form = await kit.posted(request, ctx)
        ctx.require(Scope.CARD)
        if form.get("confirm", max_chars=10) != "yes":
            raise card_reasons.CONFIRM.error()
        which = form.get("card", max_chars=4, required=True)
        if not INDEX.match(which):
            raise card_reasons.NOT_FOUND.error()
        state = portal.report_lost(ctx, int(which))
        # The session may have ended with the card (the person's own): show the
        # result without the personal navigation, and clear the cookie if so.
        still = portal.sessions.find(kit.token(request))
        response = kit.page(request, "card_lost.html", {"state": state, "ended": still is None})
        if still is None:
            delete_cookie(response, request, COOKIE)
        return response

    router.add_api_route("/card", kit.guarded(card), methods=["GET"])
    router.add_api_route("/card/lost", kit.guarded(card_lost), methods=["POST"])
    return router
