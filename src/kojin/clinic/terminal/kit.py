"""What every terminal page shares: the signed-in clinic, rendering, error pages, CSRF-checked forms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from starlette.responses import Response

from kojin.clinic import reasons
from kojin.clinic.labels import CHECKUP_LABELS
from kojin.clinic.service import ClinicService
from kojin.clinic.terminal.session import COOKIE, TerminalSession, decode, encode
from kojin.core.errors import KojinError
from kojin.core.i18n import language, pick
from kojin.ehr.domain import DOCUMENT_LABELS, ITEM_LABELS, SCOPE_LABELS
from kojin.eligibility.domain import Clinic
from kojin.web.i18n import request_language
from kojin.web.security import FormFields, check_csrf, read_cookie
from kojin.web.templating import render


@dataclass(frozen=True)
class TerminalKit:
    """The clinic service and the steps every terminal page takes."""

    clinics: ClinicService

    def cookie(self, session: TerminalSession) -> str:
        return encode(session, self.clinics.eligibility.terminal_key)

    def session_of(self, request: Request) -> tuple[TerminalSession, Clinic] | None:
        session = decode(read_cookie(request, COOKIE), self.clinics.eligibility.terminal_key)
        if session is None:
            return None
        try:
            return session, self.clinics.eligibility.clinic(session.clinic_id)
        except KojinError:
            return None

    def signed_in(self, request: Request) -> tuple[TerminalSession, Clinic]:
        found = self.session_of(request)
        if found is None:
            raise reasons.SIGNED_OUT.error()
        return found

    def page(
        self,
        request: Request,
        template: str,
        values: dict[str, Any] | None = None,
        *,
        status: int = 200,
        session: TerminalSession | None = None,
        clinic: Clinic | None = None,
    ) -> Response:
        context = {
            "t": pick,
            "clinic": clinic,
            "csrf": session.csrf if session else None,
            "scope_labels": SCOPE_LABELS,
            "checkup_labels": CHECKUP_LABELS,
            "document_labels": DOCUMENT_LABELS,
            "item_labels": ITEM_LABELS,
            **(values or {}),
        }
        with language(request_language(request)):
            return render(request, f"clinic/{template}", context, status_code=status)

    def failure(
        self, request: Request, exc: KojinError, session: TerminalSession | None, clinic: Clinic | None
    ) -> Response:
        return self.page(request, "error.html", {"error": exc}, status=exc.status, session=session, clinic=clinic)

    async def posted(self, request: Request, session: TerminalSession) -> FormFields:
        form = await FormFields.read(request)
        check_csrf(session.csrf, form.csrf(request))
        return form
