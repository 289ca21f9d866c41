"""The web application: every party's API and pages under one FastAPI app (``kojin up``).

APIs answer JSON; the pages (landing page, portal, card reader) are rendered
on the server from Jinja2 templates, Japanese first with an English catalog,
with htmx and the stylesheet served from the package (``/static``), never from
a CDN.
"""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.requests import HTTPConnection
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from kojin.agency.api import make_router as agency_router
from kojin.app import Kojin
from kojin.audit.api import make_router as audit_router
from kojin.auth.api import make_router as auth_router
from kojin.clinic.web import include_clinic  # clinics (issue 6)
from kojin.core.i18n import pick, set_language
from kojin.corporate.api import make_router as corporate_router
from kojin.hub.api import make_router as hub_router
from kojin.linkage.views import make_router as linkage_review_router  # linkage (issue 7)
from kojin.numbering.api import make_router as numbering_router
from kojin.pki.api import make_router as pki_router
from kojin.portal.dispute_api import make_router as portal_dispute_router
from kojin.portal.views import make_router as portal_router
from kojin.reader.service import ReaderService
from kojin.reader.views import make_router as reader_router
from kojin.registry.api import make_router as registry_router
from kojin.registry.counter import make_router as counter_router
from kojin.staff.bulk_api import make_router as staff_bulk_router
from kojin.staff.domain import ROLE_LABELS, Role
from kojin.staff.guard import StaffDoors
from kojin.staff.web import include_staff
from kojin.web.errors import install_error_handlers, is_page, page_for
from kojin.web.headers import SecurityHeaders
from kojin.web.i18n import LANG_COOKIE, request_language
from kojin.web.limits import RequestLimits
from kojin.web.openapi import install_openapi
from kojin.web.security import BodyLimit
from kojin.web.templating import render


class LanguageMiddleware:
    """Sets the request's language (a context variable) before the app runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            set_language(request_language(HTTPConnection(scope)))
        await self.app(scope, receive, send)


def _add_middleware(app: FastAPI, kojin: Kojin) -> None:
    """The plain ASGI middleware, innermost first."""
    # Japanese first; English when asked for by ?lang=en, the toggle's cookie
    # or the browser. A plain ASGI middleware: Starlette's @app.middleware("http")
    # wrapper costs several hundred microseconds on every request.
    app.add_middleware(LanguageMiddleware)

    # Page requests (portal, reader …) are size-limited while their body is read.
    app.add_middleware(BodyLimit, is_page=is_page)
    # Every other request: the Host allow-list, header size, and the JSON APIs'
    # body type, size and depth: refused before any route or page runs.
    app.add_middleware(
        RequestLimits,
        allowed_hosts=lambda: kojin.settings.allowed_hosts,
        is_page=is_page,
        render_page=page_for,
    )
    # CSP, no framing and nosniff on every answer, the refusals above included.
    app.add_middleware(SecurityHeaders)


def create_app(kojin: Kojin) -> FastAPI:
    # Swagger UI's assets are served from the package, not a CDN: /docs works offline.
    app = FastAPIOffline(
        title="kojin",
        description="社会保障・税番号制度の実装 — a privacy-by-design implementation of Japan's My Number system",
        version="0.1.0",
    )
    install_error_handlers(app)
    install_openapi(app)

    _add_middleware(app, kojin)
    static = resources.files("kojin.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    @app.get("/", include_in_schema=False)
    def landing(request: Request) -> Response:
        roles = [
            {"value": role.value, "label": pick(label.ja, label.en), "scope": pick(label.scope_ja, label.scope)}
            for role, label in ROLE_LABELS.items()
            if role is not Role.LOCAL_ADMIN
        ]
        return render(request, "landing.html", {"staff_roles": roles})

    @app.get("/lang", include_in_schema=False)
    def switch_language(request: Request, to: str = "ja", next: str = "/") -> Response:
        # Only a path on this site: the toggle must not become an open redirect.
        target = next
        if not target.startswith("/") or target.startswith("//") or "\\" in target:
            target = "/"
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            LANG_COOKIE, "en" if to == "en" else "ja", samesite="lax", httponly=True, max_age=365 * 86400
        )
        return response

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    doors = StaffDoors(kojin.staff, session=kojin.staff.check_session)
    app.include_router(registry_router(kojin.register, doors))
    app.include_router(counter_router(kojin.register, doors, kojin.cards.cards_of))
    app.include_router(staff_bulk_router(kojin.staff, doors))
    app.include_router(numbering_router(kojin.numbering, doors))
    app.include_router(corporate_router(kojin.corporate, doors))
    app.include_router(pki_router(kojin.ca, responder=kojin.ocsp))
    app.include_router(auth_router(kojin.auth))
    app.include_router(hub_router(kojin.hub, doors))
    app.include_router(agency_router(kojin.agencies, doors))
    app.include_router(audit_router(kojin.exchange_log))
    # The citizen portal and the card-reader software (issue 5). A card taken
    # out of the reader, or replaced by another, ends the portal or staff
    # session opened with it.
    app.include_router(portal_router(kojin.portal))
    app.include_router(portal_dispute_router(kojin.portal, doors))

    def card_removed(insertion_id: str) -> None:
        kojin.portal.sessions.end_insertion(insertion_id)
        kojin.staff.end_insertion(insertion_id)

    # The list of every card file only in demo mode on a loopback address; else a card goes in by its id.
    reader = ReaderService(kojin.cards, on_removed=card_removed, list_cards=kojin.settings.reader_lists_cards)
    app.include_router(reader_router(reader))
    # Staff: the token endpoint for staff software and the staff pages.
    include_staff(app, kojin.staff)
    # Clinics (issue 6): the reception terminal (/clinic) and the APIs for
    # clinic software (/eligibility, /ehr).
    include_clinic(app, kojin.clinics, kojin.portal)
    # Record linkage (issue 7): the clerk's review queue (/linkage/review).
    app.include_router(linkage_review_router(kojin.matching, doors))
    app.state.kojin = kojin
    return app
