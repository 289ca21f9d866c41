"""Card authentication for every relying party (公的個人認証による利用者証明).

1. The relying party asks for a one-time challenge with an expiry.
2. The card signs it after the 4-digit PIN (the reader software does this).
3. :meth:`CardAuthService.verify` checks the challenge (form, MAC, audience,
   expiry), the certificate (chain to the J-LIS root, dates, kind, revocation by
   OCSP with answers cached for their validity), the signature, and that the
   challenge is unused — then records its use. The result is the certificate
   serial and, through J-LIS serial linkage, the subject this relying party may
   know.

Nothing is written unless every check passed, so a failed attempt changes
nothing; the challenge's single use is enforced by a primary key shared by all
worker processes (:mod:`kojin.auth.single_use`), and the login is accepted only
once that record is durable.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select

from kojin.auth import reasons
from kojin.auth.domain import Challenge, check_card_signature, make_challenge, parse_challenge
from kojin.auth.single_use import UsedChallenges
from kojin.auth.store import challenge_keys
from kojin.card.reader import CardReader
from kojin.card.transport import CardTransport
from kojin.core.keys import open_secret, party_secret
from kojin.pki.domain import CertKind
from kojin.pki.linkage import SerialLinkage, Subject
from kojin.pki.verify import OcspLookup, TrustStore, VerifiedCertificate, verify_end_entity

CHALLENGE_TTL_S = 120
MAX_CERT_BYTES = 8192
MAX_SIGNATURE_BYTES = 1024


@dataclass(frozen=True)
class AuthResult:
    """A successful card authentication (利用者証明の結果)."""

    serial: int
    subject: Subject
    certificate_not_after: datetime


@dataclass(frozen=True)
class _Checked:
    """An answer that passed every check; its challenge is not spent yet."""

    result: AuthResult
    use: tuple[str, str, str, datetime, datetime]  # UsedChallenges.record's arguments


class CardAuthService:
    def __init__(
        self,
        engine: Engine,
        trust: Callable[[], TrustStore],
        ocsp: OcspLookup,
        linkage: SerialLinkage,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self._trust = trust
        self._trust_cache: tuple[TrustStore, float] | None = None
        self.ocsp = ocsp
        self.linkage = linkage
        self._clock = clock
        self._key: bytes | None = None
        self._used = UsedChallenges(engine)

    def ensure_key(self) -> None:
        party_secret(self.engine, challenge_keys)

    @property
    def key(self) -> bytes:
        if self._key is None:
            with self.engine.connect() as conn:
                key = conn.execute(select(challenge_keys.c.key).where(challenge_keys.c.id == 1)).scalar()
            if key is None:
                raise RuntimeError("challenge key missing: run `kojin init`")
            self._key = open_secret(bytes(key), challenge_keys.name)
        return self._key

    def trust(self) -> TrustStore:
        """The CA certificates, re-read once a minute (they change only at rollover)."""
        cached = self._trust_cache
        if cached is None or cached[1] < time.monotonic():
            cached = (self._trust(), time.monotonic() + 60)
            self._trust_cache = cached
        return cached[0]

    def challenge(self, rp_id: str, ttl_s: int = CHALLENGE_TTL_S) -> Challenge:
        """A fresh one-time challenge for ``rp_id`` (its registration is checked)."""
        self.linkage.kind_of(rp_id)
        return make_challenge(self.key, rp_id, int(self._clock()) + ttl_s)

    def verify(self, rp_id: str, challenge: str, certificate_der: bytes, signature: bytes) -> AuthResult:
        """Check a card's answer and spend its challenge; the login is accepted once that is durable."""
        checked = self._check(rp_id, challenge, certificate_der, signature)
        return self._accept(checked, self._used.record(*checked.use))

    async def verify_async(self, rp_id: str, challenge: str, certificate_der: bytes, signature: bytes) -> AuthResult:
        """:meth:`verify` for an event loop: the checks run on the loop, the commit is awaited.

        The checks are CPU work (tens of microseconds) and run on the calling
        thread; on a cache miss they may also read the trust store, the serial
        linkage or ask OCSP, and block the loop that long.
        """
        checked = self._check(rp_id, challenge, certificate_der, signature)
        return self._accept(checked, await self._used.record_async(*checked.use))

    def _check(self, rp_id: str, challenge: str, certificate_der: bytes, signature: bytes) -> _Checked:
        now = self._clock()
        parsed = parse_challenge(self.key, challenge, rp_id, int(now))
        if not certificate_der or len(certificate_der) > MAX_CERT_BYTES:
            raise reasons.CERTIFICATE_SIZE.error()
        if not signature or len(signature) > MAX_SIGNATURE_BYTES:
            raise reasons.SIGNATURE_SIZE.error()
        verified: VerifiedCertificate = verify_end_entity(
            certificate_der,
            expected_kind=CertKind.AUTH,
            at=datetime.fromtimestamp(now, UTC),
            ocsp_lookup=self.ocsp,
            trust=self.trust(),
        )
        check_card_signature(verified.certificate, challenge.encode(), signature)
        subject = self.linkage.resolve(rp_id, verified.serial)
        use = (
            parsed.nonce,
            rp_id,
            str(verified.serial),
            datetime.fromtimestamp(parsed.expires_at, UTC),
            datetime.fromtimestamp(now, UTC),
        )
        return _Checked(AuthResult(verified.serial, subject, verified.not_after), use)

    @staticmethod
    def _accept(checked: _Checked, fresh: bool) -> AuthResult:
        if not fresh:
            raise reasons.CHALLENGE_REPLAYED.error()
        return checked.result

    def close(self) -> None:
        self._used.close()


def sign_challenge_with_card(transport: CardTransport, pin: str, challenge: str) -> tuple[bytes, bytes]:
    """What the reader software does: read the certificate, sign after the PIN."""
    with CardReader(transport) as reader:
        certificate = reader.read_auth_certificate()
        signature = reader.sign_with_auth_key(pin, challenge.encode())
    return certificate, signature
