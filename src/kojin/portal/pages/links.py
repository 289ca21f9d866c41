"""ひも付けの確認: what is tied to the person, and saying 「これは自分ではない・誤りがある」 about any of it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from kojin.core.errors import KojinError
from kojin.core.i18n import pick
from kojin.portal.disputes import Dispute
from kojin.portal.domain import LinkKind, Scope
from kojin.portal.pages.kit import PageKit
from kojin.portal.service import Portal, PortalContext
from kojin.staff.domain import ROLE_LABELS, Organisation, Role

SECTIONS: tuple[tuple[LinkKind, str, str], ...] = (
    (LinkKind.MEMBERSHIP, "医療保険の資格", "Health-insurance memberships"),
    (LinkKind.CODE, "あなたの機関別符号を持つ機関", "Agencies holding a code for you"),
    (LinkKind.ACCOUNT, "公金受取口座", "Public-funds account"),
)


def resolver_text(portal: Portal, dispute: Dispute) -> str:
    """The deciding office and role, as the person sees staff: never the staff member."""
    if dispute.resolver_org is None:
        return ""
    kind, _, org_id = dispute.resolver_org.partition(":")
    try:
        organisation = Organisation.of(kind, org_id or None)
    except KojinError:
        return dispute.resolver_org
    office = portal.staff_looks.office_name(organisation) if portal.staff_looks is not None else str(organisation)
    role = ROLE_LABELS[Role.SUPERVISOR]
    return f"{office} {pick(role.ja, role.en)}"


def make_router(kit: PageKit) -> APIRouter:
    router = APIRouter()
    portal = kit.portal

    def links_page(request: Request, ctx: PortalContext, *, status: int = 200, **extra: Any) -> Response:
        links = portal.links_of(ctx)
        sections = [
            {
                "id": kind.value,
                "title": pick(ja, en),
                "links": [(link, portal.link_handle(ctx, link)) for link in links if link.kind is kind],
            }
            for kind, ja, en in SECTIONS
        ]
        disputes = [(d, resolver_text(portal, d)) for d in portal.disputes_of(ctx)]
        return kit.page(
            request, "links.html", {"ctx": ctx, "sections": sections, "disputes": disputes, **extra}, status=status
        )

    async def links(request: Request, ctx: PortalContext) -> Response:
        portal.viewed(ctx, Scope.LINKS)
        return links_page(request, ctx)

    async def dispute(request: Request, ctx: PortalContext) -> Response:
        form = await kit.posted(request, ctx)
        ctx.require(Scope.LINKS)
        try:
            done = portal.dispute_link(
                ctx, form.get("link", max_chars=40, required=True), form.get("note", max_chars=2000)
            )
        except KojinError as exc:
            if exc.status >= 500:
                raise
            return links_page(request, ctx, status=exc.status, error=exc)
        return links_page(request, ctx, disputed=done)

    router.add_api_route("/links", kit.guarded(links), methods=["GET"])
    router.add_api_route("/links/dispute", kit.guarded(dispute), methods=["POST"])
    return router
