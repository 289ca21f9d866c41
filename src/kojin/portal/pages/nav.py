"""The portal's navigation (メニュー): the links a session may follow, and whom it acts for.

Separate from the pages so other parties' portal pages (the medical pages) show
the same menu without importing every portal page.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from kojin.core.i18n import pick
from kojin.portal.domain import ACTING_LABELS, SCOPE_LABELS, Scope
from kojin.portal.service import Portal, PortalContext

NAV: tuple[tuple[str, Scope | None], ...] = (
    ("/portal/", None),
    ("/portal/me", Scope.ME),
    ("/portal/history", Scope.HISTORY),
    ("/portal/account", Scope.ACCOUNT),
    ("/portal/notices", Scope.NOTICES),
    ("/portal/card", Scope.CARD),
    ("/portal/proxies", Scope.PROXIES),
    ("/portal/activity", Scope.ACTIVITY),
    ("/portal/staff-looks", Scope.STAFF),
    ("/portal/links", Scope.LINKS),
    ("/portal/export", Scope.EXPORT),
)


def nav(request: Request, portal: Portal, ctx: PortalContext) -> dict[str, Any]:
    """The menu for ``ctx``: only the pages its scope allows, unread notices counted."""
    items = []
    for url, scope in NAV:
        if scope is not None and not ctx.allows(scope):
            continue
        label = pick("ホーム", "Home") if scope is None else pick(*SCOPE_LABELS[scope])
        if scope is Scope.NOTICES:
            unread = portal.notices.unread_count(ctx.subject.resident_id)
            if unread:
                label += f" ({unread})"
        items.append({"url": url, "label": label, "current": request.url.path == url})
    return {
        "links": items,
        "user": ctx.user,
        "subject": ctx.subject,
        "acting": ctx.acting,
        "acting_label": pick(*ACTING_LABELS[ctx.kind]),
        "choices": [
            {
                "handle": c.handle,
                "name": c.resident.name,
                "kind": pick(*ACTING_LABELS[c.kind]),
                "current": c.resident.resident_id == ctx.subject.resident_id and c.kind is ctx.kind,
            }
            for c in ctx.choices
        ],
    }
