"""The hub's checks of a signed request before it reaches a provider, and the query it sends.

In order: the requester is known and signed it; the request is fresh; the
provider is known; the request id is unused; the permitted-exchange table
(利用特定個人情報) allows it; the code is the requester's own; neither the
requester's code nor the provider's is a link the person disputed. Then the
code is translated to the provider's. A single exchange and a batch run the same
checks in the same order; only the batch asks the store about its request
ids once for all of them.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable
from typing import Any

from kojin.core.crypto import verify_ed25519
from kojin.hub import reasons
from kojin.hub.agencies import AgencyEntry, AgencyRegistry
from kojin.hub.codes import CodeRegistry
from kojin.hub.disputes import DisputedCodes
from kojin.hub.domain import FRESHNESS_SECONDS, ExchangeRequest, ProvisionQuery, find_permission, invalid
from kojin.hub.leaves import Attempt
from kojin.hub.reservations import RequestIds


def signature(value: object) -> bytes:
    """An Ed25519 signature as sent (base64), decoded."""
    if not isinstance(value, str):
        raise invalid("signature", "署名（base64）がありません。", "the signature (base64) is missing.")
    try:
        raw = binascii.a2b_base64(value.encode("ascii"), strict_mode=True)
    except (ValueError, UnicodeEncodeError):
        raise invalid("signature", "base64 ではありません。", "not base64.") from None
    if len(raw) != 64:
        raise invalid("signature", "Ed25519 の署名は64バイトです。", "an Ed25519 signature is 64 bytes.")
    return raw


class Admission:
    """Runs the checks against the hub's registries; made once per hub."""

    def __init__(
        self,
        agencies: AgencyRegistry,
        codes: CodeRegistry,
        disputes: DisputedCodes,
        ids: RequestIds,
        clock: Callable[[], float],
    ) -> None:
        self.agencies = agencies
        self.codes = codes
        self.disputes = disputes
        self.ids = ids
        self.clock = clock

    def requester(self, request: ExchangeRequest, signed: bytes) -> AgencyEntry:
        """The requester of a single request, which it signed."""
        requester = self.agencies.find(request.requester)
        if requester is None:
            raise reasons.UNKNOWN_AGENCY.error(role_ja="照会機関", agency_id=request.requester, role_en="Requester")
        if not verify_ed25519(requester.sign_public, signed, request.signing_input()):
            raise reasons.BAD_SIGNATURE.error(what_ja="照会", what_en="request")
        return requester

    def admit(
        self, request: ExchangeRequest, requester: AgencyEntry, now: float, attempt: Attempt
    ) -> tuple[AgencyEntry, dict[str, Any]]:
        """The checks after the signature's, in order; the provider and the query to send it."""
        provider = self.provider_of(request, now)
        self.ids.reserve(request, attempt)
        return provider, self.query(request, requester, provider, now, attempt)

    def provider_of(self, request: ExchangeRequest, now: float) -> AgencyEntry:
        """The first of :meth:`admit`'s checks: freshness, and a provider the hub knows."""
        if abs(now - request.time) > FRESHNESS_SECONDS:
            raise reasons.STALE_REQUEST.error(what_ja="照会", freshness_seconds=FRESHNESS_SECONDS, what_en="request")
        provider = self.agencies.find(request.provider)
        if provider is None:
            raise reasons.UNKNOWN_AGENCY.error(
                role_ja="提供機関", agency_id=request.provider, role_en="Provider", field="provider"
            )
        return provider

    def query(
        self,
        request: ExchangeRequest,
        requester: AgencyEntry,
        provider: AgencyEntry,
        now: float,
        attempt: Attempt,
    ) -> dict[str, Any]:
        """The last of :meth:`admit`'s checks, after the request id's: the table and the code; the query."""
        permission = find_permission(requester.kind, request.task, provider.kind, request.item)
        owner = self.codes.owner(request.code)
        if owner is not None and owner[0] == request.requester:
            # Authenticated and the requester's own person: a refusal from here
            # on is shown to that person too.
            attempt.subject = self.codes.subject(owner[1], request)
            attempt.tag = self.codes.tag(owner[1])
        if permission is None:
            raise reasons.NOT_PERMITTED.error()
        if owner is None:
            raise reasons.UNKNOWN_CODE.error()
        if owner[0] != request.requester:
            raise reasons.FOREIGN_CODE.error()
        internal_id = owner[1]
        provider_code = self.codes.code_for(provider.agency_id, internal_id)
        # Either side's code may be the wrong person's: the requester would ask
        # about, or the provider answer with, someone else's records.
        if self.disputes.disputed(request.code) or self.disputes.disputed(provider_code):
            raise reasons.LINK_DISPUTED.error()
        return ProvisionQuery(
            request.request_id,
            requester.agency_id,
            requester.name,
            requester.box_public_b64,
            provider.agency_id,
            request.task,
            request.item,
            provider_code,
            request.time,
            int(now * 1000),
        ).to_wire()
