"""Staff card login (職員カードによるログイン): a one-time challenge, the card's answer, its single use.

1. :meth:`CardLogin.challenge` hands out ``kojin-challenge/1.staff.…`` (the
   same form as the relying parties' challenges, under the staff party's own
   key), good for two minutes; issuing one writes nothing.
2. The staff card signs it with its authentication key after the 4-digit PIN.
3. :meth:`CardLogin.check` checks the challenge (form, MAC, audience, expiry),
   the certificate (:func:`~kojin.pki.staff_certs.verify_staff_certificate`:
   chain through a staff CA, dates, profile, OCSP) and the signature, writing
   nothing; the caller checks the roster, then :meth:`CardLogin.spend` records
   the challenge's nonce once (``staff.challenge_replayed`` the second time).

pki's refusals that a staff member can do something about get the staff
party's own codes: an expired certificate (``staff.certificate_expired``), a
revoked one (``staff.certificate_revoked``), and a card that is no staff card
at all — a resident's My Number card, say (``staff.not_staff_card``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, insert
from sqlalchemy.exc import IntegrityError

from kojin.auth.domain import Challenge, check_card_signature, make_challenge, parse_challenge
from kojin.core.errors import KojinError
from kojin.pki.domain import serial_key
from kojin.pki.ocsp_client import OcspLookup
from kojin.pki.staff_certs import StaffTrust, VerifiedStaffCertificate, verify_staff_certificate
from kojin.staff import reasons
from kojin.staff.store import staff_used_challenges

RELYING_PARTY = "staff"
CHALLENGE_TTL_S = 120
MAX_CERT_BYTES = 8192
MAX_SIGNATURE_BYTES = 1024
TRUST_TTL_S = 60.0


class CardVerifier:
    """A staff login's relying-party side: the staff CAs (re-read once a minute) and OCSP."""

    def __init__(self, trust: Callable[[], StaffTrust], ocsp: OcspLookup) -> None:
        self._trust = trust
        self._cached: tuple[StaffTrust, float] | None = None
        self._lock = threading.Lock()
        self.ocsp = ocsp

    def trust(self, *, fresh: bool = False) -> StaffTrust:
        with self._lock:
            cached = self._cached
            if fresh or cached is None or cached[1] < time.monotonic():
                cached = (self._trust(), time.monotonic() + TRUST_TTL_S)
                self._cached = cached
            return cached[0]

    def verify(self, certificate_der: bytes, at: datetime) -> VerifiedStaffCertificate:
        """The certificate checked as pki checks it; a CA made since the last read is looked for once more."""
        try:
            return verify_staff_certificate(certificate_der, at=at, ocsp_lookup=self.ocsp, trust=self.trust())
        except KojinError as exc:
            if exc.code != "pki.foreign_ca":
                raise
        return verify_staff_certificate(certificate_der, at=at, ocsp_lookup=self.ocsp, trust=self.trust(fresh=True))


@dataclass(frozen=True)
class CheckedAnswer:
    """A card answer that passed every check but the roster's; its challenge is not spent yet."""

    staff_id: str
    organisation: str
    card_serial: str
    nonce: str
    expires_at: datetime


def _staff_reason(exc: KojinError) -> KojinError:
    """pki's refusal, or the staff party's own code for it."""
    if exc.code == "pki.expired" and exc.field == "certificate":
        return reasons.CERTIFICATE_EXPIRED.error()
    if exc.code == "pki.revoked":
        return reasons.CERTIFICATE_REVOKED.error()
    if exc.code in ("pki.foreign_ca", "pki.wrong_kind"):
        return reasons.NOT_STAFF_CARD.error()
    return exc


class CardLogin:
    def __init__(
        self,
        engine: Engine,
        key: Callable[[], bytes],
        verifier: CardVerifier | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self._key = key
        self.verifier = verifier
        self._clock = clock

    def challenge(self, ttl_s: int = CHALLENGE_TTL_S) -> Challenge:
        return make_challenge(self._key(), RELYING_PARTY, int(self._clock()) + ttl_s)

    def check(self, challenge: str, certificate_der: bytes, signature: bytes) -> CheckedAnswer:
        """Every check of the answer that needs no roster; writes nothing."""
        if self.verifier is None:
            raise RuntimeError("staff card login needs a CardVerifier (kojin.app.build passes one)")
        now = self._clock()
        parsed = parse_challenge(self._key(), challenge, RELYING_PARTY, int(now))
        if not certificate_der or len(certificate_der) > MAX_CERT_BYTES:
            raise reasons.BAD_TOKEN_REQUEST.error(name="certificate", field="certificate")
        if not signature or len(signature) > MAX_SIGNATURE_BYTES:
            raise reasons.BAD_TOKEN_REQUEST.error(name="signature", field="signature")
        try:
            verified = self.verifier.verify(certificate_der, datetime.fromtimestamp(now, UTC))
        except KojinError as exc:
            raise _staff_reason(exc) from None
        check_card_signature(verified.certificate, challenge.encode(), signature)
        return CheckedAnswer(
            verified.staff_id,
            verified.organisation,
            serial_key(verified.serial),
            parsed.nonce,
            datetime.fromtimestamp(parsed.expires_at, UTC),
        )

    def spend(self, checked: CheckedAnswer) -> None:
        """Record the challenge's single use; ``staff.challenge_replayed`` if it was used before."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(staff_used_challenges).values(
                        nonce=checked.nonce,
                        staff_id=checked.staff_id,
                        expires_at=checked.expires_at,
                        used_at=datetime.fromtimestamp(self._clock(), UTC),
                    )
                )
        except IntegrityError:
            raise reasons.CHALLENGE_REPLAYED.error() from None
