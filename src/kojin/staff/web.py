"""Mounting the staff party on the web app: the token endpoint (JSON) and the staff pages."""

from __future__ import annotations

from fastapi import FastAPI

from kojin.reader.service import allow_return
from kojin.staff.api import make_router as token_router
from kojin.staff.pages import LOGIN_PATH
from kojin.staff.pages import make_router as pages_router
from kojin.staff.service import StaffService
from kojin.web.errors import register_html_prefix
from kojin.web.templating import add_template_package


def include_staff(app: FastAPI, staff: StaffService) -> None:
    """``/staff/token…`` (OAuth 2 token endpoint), ``/staff/``, ``/staff/login``, ``/staff/logout`` (pages)."""
    add_template_package("kojin.staff")
    # The pages' errors are pages; the token endpoint's stay JSON.
    for prefix in ("/staff/", LOGIN_PATH, "/staff/logout"):
        register_html_prefix(prefix)
    # The reader may hand a staff card's signed answer back to the staff login.
    allow_return(LOGIN_PATH, "職員ログイン")
    app.include_router(token_router(staff))
    app.include_router(pages_router(staff))
