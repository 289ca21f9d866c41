"""The portal's pages (マイナポータルの画面), mounted at ``/portal``.

Every page runs the session's context first: the session decides whose data
is shown, so no URL or form ever names a resident. Every POST carries the
session's CSRF token (hidden field, or the htmx header). A page for another
person is opened only within the scope the relation allows, and is logged to
both people. Each part of the portal is a module of :mod:`kojin.portal.pages`;
this one mounts them.
"""

from __future__ import annotations

from fastapi import APIRouter

from kojin.portal.pages import account, activity, card, export, history, links, login, me, notices, proxies, staff
from kojin.portal.pages.kit import COOKIE, PageKit
from kojin.portal.pages.nav import NAV, nav
from kojin.portal.service import Portal

__all__ = ["COOKIE", "NAV", "make_router", "nav"]

PARTS = (login, me, history, account, proxies, card, notices, activity, staff, links, export)


def make_router(portal: Portal) -> APIRouter:
    router = APIRouter(prefix="/portal", include_in_schema=False)
    kit = PageKit(portal)
    for part in PARTS:
        router.include_router(part.make_router(kit))
    return router
