"""What every portal page shares: the session cookie, the signed-in context, rendering, CSRF-checked forms.

Every page runs :meth:`PageKit.context` first: the session decides whose data
is shown, so no URL or form ever names a resident. Every POST carries the
session's CSRF token (hidden field, or the htmx header).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from starlette.responses import RedirectResponse, Response

from kojin.core.i18n import language
from kojin.portal.pages.nav import nav
from kojin.portal.service import Portal, PortalContext
from kojin.portal.sessions import SessionEnded
from kojin.web.i18n import request_language
from kojin.web.security import FormFields, check_csrf, delete_cookie, read_cookie
from kojin.web.templating import render

COOKIE = "kojin_portal"
# A record's number in a URL (a leaf index, a notice id): digits only, so a
# malformed one is "no such record", never a server error.
INDEX = re.compile(r"^[0-9]{1,12}\Z")

PageHandler = Callable[[Request, PortalContext], Awaitable[Response]]


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


@dataclass(frozen=True)
class PageKit:
    """The portal and the steps every page of it takes."""

    portal: Portal

    def token(self, request: Request) -> str | None:
        return read_cookie(request, COOKIE)

    def context(self, request: Request) -> PortalContext:
        with language(request_language(request)):
            ctx = self.portal.context(self.token(request))
            request.state.csrf_token = ctx.session.csrf_token
            request.state.nav = nav(request, self.portal, ctx)
        return ctx

    def page(
        self, request: Request, template: str, values: dict[str, Any] | None = None, *, status: int = 200
    ) -> Response:
        return render(request, f"portal/{template}", values or {}, status_code=status)

    def ended(self, request: Request, exc: SessionEnded) -> Response:
        """A GET without a live session goes to the portal's front page, saying why."""
        response = RedirectResponse(f"/portal/?{urlencode({'ended': exc.code})}", status_code=303)
        delete_cookie(response, request, COOKIE)
        return response

    def guarded(self, handler: PageHandler) -> Callable[[Request], Awaitable[Response]]:
        """``handler`` run with the session's context, in the request's language."""

        async def run(request: Request) -> Response:
            try:
                ctx = self.context(request)
            except SessionEnded as exc:
                if request.method == "GET" and not is_htmx(request):
                    return self.ended(request, exc)
                raise
            with language(request_language(request)):
                return await handler(request, ctx)

        return run

    async def posted(self, request: Request, ctx: PortalContext) -> FormFields:
        form = await FormFields.read(request)
        check_csrf(ctx.session.csrf_token, form.csrf(request))
        return form
