"""What every medical page shares: the portal session, for the person or a parent only, and CSRF-checked forms."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import Request
from starlette.responses import RedirectResponse, Response

from kojin.clinic.service import ClinicService
from kojin.core.i18n import language
from kojin.portal import reasons as portal_reasons
from kojin.portal.domain import ActingKind
from kojin.portal.service import Portal, PortalContext
from kojin.portal.sessions import SessionEnded
from kojin.portal.views import COOKIE
from kojin.portal.views import nav as portal_nav
from kojin.web.i18n import request_language
from kojin.web.security import FormFields, check_csrf, delete_cookie, read_cookie


@dataclass(frozen=True)
class MedicalKit:
    """The portal, the clinic service, and the steps every medical page takes."""

    portal: Portal
    clinics: ClinicService

    def context(self, request: Request) -> PortalContext:
        """The session's context, refused to a proxy: medical data is the person's (or a parent's) only."""
        with language(request_language(request)):
            ctx = self.portal.context(read_cookie(request, COOKIE))
            request.state.csrf_token = ctx.session.csrf_token
            request.state.nav = portal_nav(request, self.portal, ctx)
            if ctx.kind not in (ActingKind.SELF, ActingKind.PARENT):
                raise portal_reasons.MEDICAL_SELF_ONLY.error()
        return ctx

    def signed_in(self, request: Request) -> PortalContext | Response:
        """The context, or for a GET without a live session the portal's front page, saying why."""
        try:
            return self.context(request)
        except SessionEnded as exc:
            if request.method == "GET":
                response = RedirectResponse(f"/portal/?{urlencode({'ended': exc.code})}", status_code=303)
                delete_cookie(response, request, COOKIE)
                return response
            raise

    async def posted(self, request: Request, ctx: PortalContext) -> FormFields:
        form = await FormFields.read(request)
        check_csrf(ctx.session.csrf_token, form.csrf(request))
        return form

    @staticmethod
    def back(section: str, done: str) -> Response:
        """Back to ``section`` of the overview, saying what was done."""
        return RedirectResponse(f"/portal/medical?{urlencode({'done': done})}#{section}", status_code=303)
