"""Mounting the clinic parts on the web app: the terminal pages and the two APIs."""

from __future__ import annotations

from fastapi import FastAPI

from kojin.clinic.ehr_api import make_router as ehr_router
from kojin.clinic.eligibility_api import fast_routes
from kojin.clinic.eligibility_api import make_router as eligibility_router
from kojin.clinic.portal_medical import make_router as portal_medical_router
from kojin.clinic.service import ClinicService
from kojin.clinic.terminal import make_router as terminal_router
from kojin.portal.service import Portal
from kojin.reader.service import allow_return
from kojin.web.errors import register_html_prefix
from kojin.web.templating import add_template_package


def include_clinic(app: FastAPI, clinics: ClinicService, portal: Portal) -> None:
    """``/clinic`` (terminal pages), ``/eligibility`` and ``/ehr`` (JSON APIs), ``/portal/medical`` (the patient's)."""
    add_template_package("kojin.clinic")
    register_html_prefix("/clinic")
    # The reader may hand the card's signed answer back to the terminal.
    allow_return("/clinic/card", "医療機関の受付端末")
    app.include_router(eligibility_router(clinics))
    # The card check is the busiest path of the whole system (274.6 M checks a
    # month nationally): it is matched first, as a plain route, not after
    # every other party's routes.
    for route in reversed(fast_routes(clinics)):
        app.router.routes.insert(0, route)
    app.include_router(ehr_router(clinics))
    app.include_router(terminal_router(clinics))
    app.include_router(portal_medical_router(portal, clinics))
