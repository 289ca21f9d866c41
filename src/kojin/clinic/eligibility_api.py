"""HTTP API of the eligibility service for clinic software (オンライン資格確認 API), ``/eligibility``.

Clinics authenticate with their key in the ``X-Clinic-Key`` header (in the
real system, a client certificate on the closed network). Every refusal is
the shared error shape with a specific code (``auth.*``, ``pki.*``,
``eligibility.*``, ``ehr.*``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from starlette.routing import BaseRoute, Route

from kojin.clinic.doors import clinic_door
from kojin.clinic.service import ClinicService
from kojin.core.crypto import unb64
from kojin.core.i18n import current_language, language
from kojin.eligibility.domain import Clinic

# Card checks block on durable commits (group commit), not on the CPU: enough
# threads that concurrent checks share commits.
_pool = ThreadPoolExecutor(max_workers=48, thread_name_prefix="kojin-eligibility-check")

FACE_MATCHING = False
"""顔認証 is not built: the terminal and the API offer the PIN only."""


class CheckIn(BaseModel):
    challenge: Annotated[str, Field(max_length=300)]
    certificate: Annotated[str, Field(max_length=12000, description="the card's auth certificate, DER, base64")]
    signature: Annotated[str, Field(max_length=1400, description="the card's signature over the challenge, base64")]
    scopes: list[Annotated[str, Field(max_length=20)]] | None = Field(
        default=None,
        max_length=3,
        description="consent chosen on the terminal: medication, checkups, ehr; [] for nothing; omit to ask later",
    )


class CertificateIn(BaseModel):
    insurer_number: Annotated[str, Field(max_length=8)]
    symbol: Annotated[str, Field(max_length=20)] = ""
    number: Annotated[str, Field(max_length=20)]
    branch: Annotated[str, Field(max_length=2)] = ""


class ConsentIn(BaseModel):
    scopes: list[Annotated[str, Field(max_length=20)]] = Field(max_length=3)


def card_check_handler(clinics: ClinicService) -> Callable[[Request], Awaitable[Response]]:
    """``POST /eligibility/check``: signature, chain, OCSP, serial → eligibility, and a visit id.

    The hot path (274.6 M checks a month nationally): the body is checked by
    :class:`CheckIn` as usual, but the blocking work runs on the service's own
    thread pool and the answer is written as plain JSON — the framework's
    thread hand-off, dependency solving and answer re-validation cost more than
    the check itself.
    """

    async def check(request: Request) -> Response:
        """Card check (マイナ保険証): signature, chain, OCSP, serial → eligibility, and a visit id."""
        key = request.headers.get("x-clinic-key")
        if not key:  # refused before the body is read, as every clinic door is
            clinics.eligibility.authenticate_clinic(key)
        try:
            body = CheckIn.model_validate_json(await request.body())
        except ValidationError as exc:
            raise RequestValidationError(exc.errors()) from None
        # Context variables do not follow work onto a pool thread: take the language along.
        lang = current_language()

        def work() -> bytes:
            with language(lang):
                clinic = clinics.eligibility.authenticate_clinic(key)
                outcome = clinics.check_card(
                    clinic,
                    body.challenge,
                    unb64(body.certificate, "certificate"),
                    unb64(body.signature, "signature"),
                    body.scopes,
                )
            answer = dict(outcome.answer)
            answer["registered_now"] = outcome.registered_now
            answer["consent"] = None if outcome.consent is None else [s.value for s in outcome.consent.scopes]
            return json.dumps(answer, ensure_ascii=False).encode()

        loop = asyncio.get_running_loop()
        return Response(await loop.run_in_executor(_pool, work), media_type="application/json")

    return check


def fast_routes(clinics: ClinicService) -> list[BaseRoute]:
    """The card check as a plain route, to be matched before every other (the API route documents it)."""
    return [Route("/eligibility/check", card_check_handler(clinics), methods=["POST"])]


def make_router(clinics: ClinicService) -> APIRouter:
    router = APIRouter(prefix="/eligibility", tags=["eligibility オンライン資格確認"])
    door = Depends(clinic_door(clinics))

    @router.post("/challenge")
    def challenge(clinic: Clinic = door) -> dict[str, Any]:
        """A one-time challenge for the card on the terminal's reader to sign after the 4-digit PIN."""
        issued = clinics.challenge()
        return {"challenge": issued.value, "expires_at": issued.expires_at, "face_matching": FACE_MATCHING}

    router.add_api_route(
        "/check",
        card_check_handler(clinics),
        methods=["POST"],
        summary="Card check",
        openapi_extra={
            "security": [{"clinicKey": []}],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": CheckIn.model_json_schema()}},
            },
        },
        responses={200: {"description": "the eligibility answer (FACTS.md §5 fields) and a visit id"}},
    )

    @router.post("/check-certificate")
    def check_certificate(body: CertificateIn, clinic: Clinic = door) -> dict[str, Any]:
        """資格確認書: insurer number, symbol, number and branch typed in. Eligibility only."""
        return clinics.check_certificate(clinic, body.insurer_number, body.symbol, body.number, body.branch)

    @router.post("/visits/{visit_id}/consent")
    def consent(visit_id: str, body: ConsentIn, clinic: Clinic = door) -> dict[str, Any]:
        """The patient's choice on the terminal, within 5 minutes of the card check."""
        given = clinics.consent(clinic, visit_id, body.scopes)
        return given.as_record(clinics.ehr.now())

    @router.get("/visits/{visit_id}/medications")
    def medications(visit_id: str, clinic: Clinic = door) -> dict[str, Any]:
        """薬剤情報, when the consent at this visit covers it (the view is logged to the patient)."""
        return clinics.medications(clinic, visit_id)

    @router.get("/visits/{visit_id}/checkups")
    def checkups(visit_id: str, clinic: Clinic = door) -> dict[str, Any]:
        """特定健診等情報, when the consent at this visit covers it (the view is logged to the patient)."""
        return clinics.checkups(clinic, visit_id)

    return router
