"""The clinic terminal's pages (医療機関の受付端末), mounted at ``/clinic``.

1. The clinic's staff sign the terminal in with the clinic code and key.
2. マイナ保険証: the patient puts the card on the reader and types the 4-digit
   PIN there (the shared card reader at ``/reader``; face matching is not
   built), the signed challenge comes back to ``/clinic/card``.
3. The patient chooses on the terminal what this clinic may see at this visit
   (medication, check-ups, e-health records, or nothing).
4. The terminal shows eligibility and exactly what the consent covers.

Without a card the staff type in the 資格確認書's insurer number, symbol,
number and branch: eligibility and nothing more.

The terminal's session is a cookie MACed with the eligibility service's key:
the clinic, a CSRF token, an expiry. No patient is named in a URL or a cookie;
a visit id is a random handle valid for this clinic only.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from kojin.clinic.service import ClinicService
from kojin.core.errors import KojinError, Unauthenticated
from kojin.core.i18n import language, pick
from kojin.ehr.domain import DOCUMENT_LABELS, ITEM_LABELS, SCOPE_LABELS, Scope
from kojin.eligibility.domain import LOSS_REASON_LABELS, Clinic, LossReason
from kojin.web.i18n import request_language
from kojin.web.security import FormFields, check_csrf, delete_cookie, read_cookie, set_cookie
from kojin.web.templating import render

COOKIE = "kojin_clinic"
SESSION_S = 12 * 3600
"""A terminal stays signed in for a working day."""

CHECKUP_LABELS: dict[str, tuple[str, str]] = {
    "height_cm": ("身長 (cm)", "height (cm)"),
    "weight_kg": ("体重 (kg)", "weight (kg)"),
    "bmi": ("BMI", "BMI"),
    "waist_cm": ("腹囲 (cm)", "waist (cm)"),
    "systolic_mmHg": ("収縮期血圧 (mmHg)", "systolic BP (mmHg)"),
    "diastolic_mmHg": ("拡張期血圧 (mmHg)", "diastolic BP (mmHg)"),
    "hba1c_percent": ("HbA1c (%)", "HbA1c (%)"),
    "fasting_glucose_mg_dl": ("空腹時血糖 (mg/dL)", "fasting glucose (mg/dL)"),
    "ldl_mg_dl": ("LDLコレステロール (mg/dL)", "LDL (mg/dL)"),
    "hdl_mg_dl": ("HDLコレステロール (mg/dL)", "HDL (mg/dL)"),
    "tg_mg_dl": ("中性脂肪 (mg/dL)", "triglycerides (mg/dL)"),
    "ast_u_l": ("AST (U/L)", "AST (U/L)"),
    "alt_u_l": ("ALT (U/L)", "ALT (U/L)"),
    "ggt_u_l": ("γ-GT (U/L)", "γ-GT (U/L)"),
    "urine_protein": ("尿蛋白", "urine protein"),
    "urine_glucose": ("尿糖", "urine glucose"),
}


@dataclass(frozen=True)
class TerminalSession:
    clinic_id: str
    csrf: str
    expires: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def make_router(clinics: ClinicService) -> APIRouter:
    router = APIRouter(prefix="/clinic", include_in_schema=False)

    def encode(session: TerminalSession) -> str:
        body = _b64(json.dumps({"c": session.clinic_id, "t": session.csrf, "e": session.expires}).encode())
        mac = _b64(hmac.digest(clinics.eligibility.terminal_key(), body.encode(), "sha256"))
        return f"{body}.{mac}"

    def decode(value: str | None) -> TerminalSession | None:
        if not value or len(value) > 400 or value.count(".") != 1:
            return None
        body, mac = value.split(".")
        expected = _b64(hmac.digest(clinics.eligibility.terminal_key(), body.encode(), "sha256"))
        if not hmac.compare_digest(mac.encode(), expected.encode()):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except (ValueError, binascii.Error):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("e"), int) or data["e"] < time.time():
            return None
        return TerminalSession(str(data.get("c")), str(data.get("t")), int(data["e"]))

    def session_of(request: Request) -> tuple[TerminalSession, Clinic] | None:
        session = decode(read_cookie(request, COOKIE))
        if session is None:
            return None
        try:
            return session, clinics.eligibility.clinic(session.clinic_id)
        except KojinError:
            return None

    def signed_in(request: Request) -> tuple[TerminalSession, Clinic]:
        found = session_of(request)
        if found is None:
            raise Unauthenticated(
                "clinic.signed_out", "端末にログインしてください。", "Sign the terminal in first.", field="clinic"
            )
        return found

    def page(
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

    def failure(request: Request, exc: KojinError, session: TerminalSession | None, clinic: Clinic | None) -> Response:
        return page(request, "error.html", {"error": exc}, status=exc.status, session=session, clinic=clinic)

    async def posted(request: Request, session: TerminalSession) -> FormFields:
        form = await FormFields.read(request)
        check_csrf(session.csrf, form.csrf(request))
        return form

    @router.get("/")
    def index(request: Request) -> Response:
        found = session_of(request)
        if found is None:
            return page(request, "login.html")
        session, clinic = found
        return page(request, "index.html", session=session, clinic=clinic)

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await FormFields.read(request)
        with language(request_language(request)):
            try:
                clinic = clinics.eligibility.authenticate_clinic(form.get("key", max_chars=120))
                if clinic.clinic_id != form.get("clinic_id", max_chars=10).strip():
                    raise Unauthenticated(
                        "eligibility.clinic_unauthenticated",
                        "医療機関の認証に失敗しました。",
                        "The clinic could not be authenticated.",
                        field="clinic_key",
                    )
            except KojinError as exc:
                return page(request, "login.html", {"error": exc}, status=exc.status)
        session = TerminalSession(clinic.clinic_id, secrets.token_urlsafe(24), int(time.time()) + SESSION_S)
        response = RedirectResponse("/clinic/", status_code=303)
        set_cookie(response, request, COOKIE, encode(session), path="/clinic")
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        session, _clinic = signed_in(request)
        await posted(request, session)
        response = RedirectResponse("/clinic/", status_code=303)
        delete_cookie(response, request, COOKIE, path="/clinic")
        return response

    @router.get("/card/start")
    def card_start(request: Request) -> Response:
        """A fresh challenge, handed to the reader; the answer comes back to /clinic/card."""
        session, _clinic = signed_in(request)
        challenge = clinics.challenge()
        query = urlencode({"challenge": challenge.value, "state": session.csrf, "return": "/clinic/card"})
        return RedirectResponse(f"/reader/?{query}", status_code=303)

    @router.post("/card")
    async def card(request: Request) -> Response:
        session, clinic = signed_in(request)
        form = await FormFields.read(request)
        # The reader hands back our CSRF token as its "state", untouched.
        check_csrf(session.csrf, form.get("csrf_token", max_chars=200))
        with language(request_language(request)):
            try:
                certificate = base64.b64decode(form.get("certificate", max_chars=12_000), validate=True)
                signature = base64.b64decode(form.get("signature", max_chars=12_000), validate=True)
                outcome = clinics.check_card(clinic, form.get("challenge", max_chars=300), certificate, signature)
            except (ValueError, binascii.Error):
                exc = KojinError(
                    "request.bad_base64", "カードの応答が正しくありません。", "The card's answer is malformed."
                )
                return failure(request, exc, session, clinic)
            except KojinError as exc:
                return failure(request, exc, session, clinic)
        suffix = "?registered=1" if outcome.registered_now else ""
        return RedirectResponse(f"/clinic/visit/{outcome.visit.visit_id}/consent{suffix}", status_code=303)

    @router.get("/visit/{visit_id}/consent")
    def consent_page(request: Request, visit_id: str) -> Response:
        session, clinic = signed_in(request)
        with language(request_language(request)):
            try:
                visit = clinics.eligibility.visit(visit_id, clinic)
            except KojinError as exc:
                return failure(request, exc, session, clinic)
        return page(
            request,
            "consent.html",
            {
                "visit": visit,
                "scopes": list(Scope),
                "registered_now": request.query_params.get("registered") == "1",
            },
            session=session,
            clinic=clinic,
        )

    @router.post("/visit/{visit_id}/consent")
    async def consent(request: Request, visit_id: str) -> Response:
        session, clinic = signed_in(request)
        form = await posted(request, session)
        chosen = [] if form.get("action", max_chars=20) == "none" else form.getlist("scope", max_items=3)
        with language(request_language(request)):
            try:
                clinics.consent(clinic, visit_id, chosen)
            except KojinError as exc:
                return failure(request, exc, session, clinic)
        return RedirectResponse(f"/clinic/visit/{visit_id}", status_code=303)

    @router.get("/visit/{visit_id}")
    def visit_page(request: Request, visit_id: str) -> Response:
        session, clinic = signed_in(request)
        with language(request_language(request)):
            try:
                visit = clinics.eligibility.visit(visit_id, clinic)
                answer = clinics.eligibility.answer_for_visit(visit)
                history = clinics.history(clinic, visit_id)
            except KojinError as exc:
                return failure(request, exc, session, clinic)
        return page(
            request,
            "result.html",
            {
                "answer": answer,
                "history": history,
                "via_card": True,
                "loss_labels": _loss_labels(answer),
            },
            session=session,
            clinic=clinic,
        )

    @router.post("/certificate")
    async def certificate(request: Request) -> Response:
        session, clinic = signed_in(request)
        form = await posted(request, session)
        with language(request_language(request)):
            try:
                answer = clinics.check_certificate(
                    clinic,
                    form.get("insurer_number", max_chars=8),
                    form.get("symbol", max_chars=20),
                    form.get("number", max_chars=20),
                    form.get("branch", max_chars=2),
                )
            except KojinError as exc:
                return failure(request, exc, session, clinic)
        return page(
            request,
            "result.html",
            {
                "answer": answer,
                "history": None,
                "via_card": False,
                "loss_labels": _loss_labels(answer),
            },
            session=session,
            clinic=clinic,
        )

    return router


def _loss_labels(answer: dict[str, Any]) -> tuple[str, str] | None:
    reason = answer.get("ResultList", {}).get("ReasonOfLoss")
    return LOSS_REASON_LABELS[LossReason(reason)] if reason else None
