"""公金受取口座: the person's registered account for public payments."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from kojin.core.errors import InvalidInput
from kojin.core.i18n import pick
from kojin.portal.domain import ACCOUNT_TYPE_LABELS, AccountType, Scope
from kojin.portal.pages.kit import PageKit
from kojin.portal.service import PortalContext

FIELDS = ("bank_code", "branch_code", "account_type", "account_number", "holder_kana")


def make_router(kit: PageKit) -> APIRouter:
    router = APIRouter()
    portal = kit.portal

    def account_page(request: Request, ctx: PortalContext, *, status: int = 200, **extra: Any) -> Response:
        return kit.page(
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
        form = await kit.posted(request, ctx)
        values = {name: form.get(name, max_chars=100) for name in FIELDS}
        try:
            record = portal.register_account(ctx, **values)
        except InvalidInput as exc:
            return account_page(request, ctx, status=exc.status, error=exc, values=values)
        return account_page(request, ctx, saved=record, values={})

    router.add_api_route("/account", kit.guarded(account), methods=["GET"])
    router.add_api_route("/account", kit.guarded(account_post), methods=["POST"])
    return router
