"""HTTP API for relying parties: one-time challenges and their verification."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from kojin.auth.service import CardAuthService
from kojin.core.crypto import unb64


class VerifyIn(BaseModel):
    challenge: Annotated[str, Field(max_length=300)]
    certificate: Annotated[str, Field(max_length=12000, description="DER, base64")]
    signature: Annotated[str, Field(max_length=1400, description="base64")]


def make_router(auth: CardAuthService) -> APIRouter:
    router = APIRouter(prefix="/auth", tags=["auth 利用者証明"])

    @router.post("/{rp_id}/challenge")
    def challenge(rp_id: str) -> dict[str, Any]:
        """A one-time challenge for the card to sign after its 4-digit PIN."""
        issued = auth.challenge(rp_id)
        return {"challenge": issued.value, "expires_at": issued.expires_at}

    @router.post("/{rp_id}/verify")
    async def verify(rp_id: str, body: VerifyIn) -> dict[str, Any]:
        """Check the card's answer: signature, chain, dates, OCSP, single use.

        The answer names the certificate serial; a private relying party also
        gets its pairwise pseudonym. A public one resolves the person in process,
        never through this API.
        """
        # On the event loop: the checks are tens of microseconds of CPU, and
        # the durable single-use record is awaited, so no worker thread is held
        # (and handed off to and back) for the length of a commit.
        result = await auth.verify_async(
            rp_id, body.challenge, unb64(body.certificate, "certificate"), unb64(body.signature, "signature")
        )
        return {
            "serial": str(result.serial),
            "rp_id": rp_id,
            "subject_kind": result.subject.kind.value,
            "pseudonym": result.subject.pseudonym,
            "certificate_not_after": result.certificate_not_after.isoformat(),
        }

    return router
