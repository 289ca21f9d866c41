"""やりとり履歴: the exchanges about the person, each with the server's proof that the log holds it."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from starlette.responses import Response

from kojin.core import reasons as core_reasons
from kojin.core.japan import parse_date
from kojin.portal import reasons
from kojin.portal.domain import Scope
from kojin.portal.history import ExchangeHistory
from kojin.portal.pages.kit import INDEX, PageKit, is_htmx
from kojin.portal.service import Portal, PortalContext

# Entries shown with a verification badge; beyond these the person opens one.
MAX_BADGES = 100


def make_router(kit: PageKit) -> APIRouter:
    router = APIRouter()
    portal = kit.portal

    async def history(request: Request, ctx: PortalContext) -> Response:
        portal.viewed(ctx, Scope.HISTORY)
        q = request.query_params
        item = (q.get("item") or "")[:100]
        agency = (q.get("agency") or "")[:40]
        date_from = date_param(q.get("from"), "from")
        date_to = date_param(q.get("to"), "to")
        service = history_service(portal)
        everything = service.entries(ctx.subject)
        shown = [
            e
            for e in everything
            if e.matches(item=item or None, agency=agency or None, date_from=date_from, date_to=date_to)
        ]
        # Each entry shown carries the server's own verification as a badge; the
        # button checks again and shows every step.
        proofs = service.verify_all(ctx.subject, [e.leaf_index for e in shown[:MAX_BADGES]])
        return kit.page(
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
        service = history_service(portal)
        entry = service.entry(ctx.subject, index)
        portal.viewed(ctx, Scope.HISTORY)
        return kit.page(
            request, "history_entry.html", {"ctx": ctx, "entry": entry, "proof": service.verify(ctx.subject, index)}
        )

    async def history_verify(request: Request, ctx: PortalContext) -> Response:
        await kit.posted(request, ctx)
        ctx.require(Scope.HISTORY)
        index = leaf_index(request.path_params["index"])
        service = history_service(portal)
        entry = service.entry(ctx.subject, index)
        proof = service.verify(ctx.subject, index)
        if is_htmx(request):
            return kit.page(request, "partials/proof.html", {"proof": proof, "entry": entry})
        return kit.page(request, "history_entry.html", {"ctx": ctx, "entry": entry, "proof": proof})

    async def history_proof(request: Request, ctx: PortalContext) -> Response:
        ctx.require(Scope.HISTORY)
        index = leaf_index(request.path_params["index"])
        bundle_json = history_service(portal).bundle_json(ctx.subject, index)
        return Response(
            bundle_json,
            media_type="application/json",
            headers={
                "Content-Disposition": f'attachment; filename="kojin-proof-{index}.json"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    router.add_api_route("/history", kit.guarded(history), methods=["GET"])
    router.add_api_route("/history/{index}", kit.guarded(history_entry), methods=["GET"])
    router.add_api_route("/history/{index}/verify", kit.guarded(history_verify), methods=["POST"])
    router.add_api_route("/history/{index}/proof.json", kit.guarded(history_proof), methods=["GET"])
    return router


def leaf_index(value: str) -> int:
    if not INDEX.match(value):
        raise reasons.HISTORY_NOT_FOUND.error()
    return int(value)


def history_service(portal: Portal) -> ExchangeHistory:
    if portal.history is None:
        raise reasons.HISTORY_UNAVAILABLE.error()
    return portal.history


def date_param(value: str | None, field: str) -> date | None:
    if not value:
        return None
    if len(value) > 20:
        raise core_reasons.FORM_TOO_LONG.error(max_chars=20, field=field)
    return parse_date(value, field)
