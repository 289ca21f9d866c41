"""The J-LIS certificate authority (公的個人認証サービスの認証局): issue, revoke, publish.

The hierarchy is one root CA over two issuing CAs, one per certificate kind,
as in JPKI. End-entity certificates are issued for a public key made on the
card: the CA never sees a card's private key. Every revocation rebuilds the
issuing CA's CRL in the same transaction, so a revocation is never visible in
OCSP but missing from the CRL, or the other way round.

:class:`CertificateAuthority` is the one object the rest of kojin holds; it
gives each of its parts the same engine, clock and URLs, and answers by asking
the part concerned:

- :mod:`kojin.pki.hierarchy` — the CAs, their keys and certificates;
- :mod:`kojin.pki.issuing` — end-entity certificates for a card's keys;
- :mod:`kojin.pki.certificate_rows` — the record of every certificate;
- :mod:`kojin.pki.revocation` and :mod:`kojin.pki.crl` — revoking and CRLs;
- :mod:`kojin.pki.serial_links` — which serial replaces which on reissue.

CA keys are used only through a :class:`~kojin.pki.keys.KeyBackend`; the CA's
``algorithm`` (RSA-2048 by default, P-256 for fast demos) applies when the CAs
are first created by :meth:`CertificateAuthority.bootstrap` — an existing CA
keeps the key it has. CA key rollover is not implemented: an end-entity
certificate never outlives its issuing CA (its notAfter is cut to the CA's).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Final

from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from sqlalchemy import Engine

from kojin.core.events import Event
from kojin.core.japan import JST
from kojin.pki.certificate_rows import CertificateRecord, CertificateRows
from kojin.pki.crl import DEFAULT_CRL_VALIDITY, CrlPublisher
from kojin.pki.domain import CA_NAMES, ROOT_CA, Algorithm, CertKind, RevocationReason, parse_algorithm
from kojin.pki.extensions import CaUrls
from kojin.pki.hierarchy import CA_BACKDATE, ISSUING_VALIDITY, ROOT_VALIDITY, CaHierarchy, CaMaterial
from kojin.pki.issuing import CertificateIssuer, IssuedCertificate, load_public_key
from kojin.pki.keys import KeyBackend
from kojin.pki.revocation import RevocationListener, Revocations
from kojin.pki.serial_links import SerialLinks
from kojin.pki.staff_certs import StaffCertificateIssuer, StaffTrust
from kojin.pki.trust import TrustStore

__all__ = [
    "CA_BACKDATE",
    "DEFAULT_BASE_URL",
    "DEFAULT_CRL_VALIDITY",
    "ISSUING_VALIDITY",
    "ROOT_VALIDITY",
    "CaMaterial",
    "CertificateAuthority",
    "CertificateRecord",
    "IssuedCertificate",
    "load_public_key",
]

DEFAULT_BASE_URL: Final = "http://127.0.0.1:8000"


class CertificateAuthority:
    """J-LIS's CA (地方公共団体情報システム機構 認証局): the root and two issuing CAs."""

    def __init__(
        self,
        engine: Engine,
        *,
        base_url: str = DEFAULT_BASE_URL,
        algorithm: Algorithm | str = "rsa2048",
        key_backend: KeyBackend | None = None,
        crl_validity: timedelta = DEFAULT_CRL_VALIDITY,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.engine = engine
        self.base_url = base_url.rstrip("/")
        self.algorithm: Algorithm = parse_algorithm(algorithm)
        self.crl_validity = crl_validity
        self._clock = clock or (lambda: datetime.now(UTC))
        self._urls = CaUrls(self.base_url)
        self._hierarchy = CaHierarchy(engine, self._urls, self.algorithm, key_backend)
        self._rows = CertificateRows(engine)
        self._issuer = CertificateIssuer(self._hierarchy, self._rows, self._urls, now=self.now, today=self.today)
        self._crls = CrlPublisher(engine, self._hierarchy, validity=crl_validity, now=self.now)
        self._revocations = Revocations(engine, self._rows, self._crls, now=self.now)
        self._links = SerialLinks(engine, now=self.now)
        self._staff = StaffCertificateIssuer(self._hierarchy, self._rows, self._crls, self._urls, now=self.now)

    # -- time and URLs ----------------------------------------------------------
    def now(self) -> datetime:
        """The CA's clock in UTC, to the second (X.509 times have no fractions)."""
        return self._clock().astimezone(UTC).replace(microsecond=0)

    def today(self) -> date:
        return self.now().astimezone(JST).date()

    def ca_url(self, name: str) -> str:
        return self._urls.ca(name)

    def crl_url(self, name: str) -> str:
        return self._urls.crl(name)

    @property
    def ocsp_url(self) -> str:
        return self._urls.ocsp

    @property
    def key_backend(self) -> KeyBackend:
        return self._hierarchy.key_backend

    # -- the CAs ----------------------------------------------------------------
    def bootstrap(self) -> None:
        """Create the root and issuing CAs and their first CRLs if missing (``kojin init``)."""
        now = self.now()
        self._hierarchy.create_missing(now)
        self._crls.publish_missing(now)

    def ca(self, name: str) -> CaMaterial:
        """A CA by name (``root``, ``sign``, ``auth``), loaded once per process."""
        return self._hierarchy.ca(name)

    def ca_pem(self, name: str) -> bytes:
        return self.ca(name).pem

    def ca_der(self, name: str) -> bytes:
        return self.ca(name).der

    def trust_store(self) -> TrustStore:
        """The CA certificates as a relying party would hold them."""
        return self._hierarchy.trust_store()

    def ca_names(self) -> list[str]:
        """Every CA: the root, the two issuing CAs, and the staff CAs made so far."""
        return [*CA_NAMES, *self._hierarchy.staff_ca_names()]

    # -- staff CAs (職員認証局) -----------------------------------------------------
    def staff_ca(self, organisation: str) -> CaMaterial:
        """The organisation's staff CA (``municipality:131016`` → ``staff-municipality-131016``), made on first use."""
        return self._staff.staff_ca(organisation)

    def staff_trust(self) -> StaffTrust:
        """The root and every staff CA, as a staff login holds them."""
        names = self._hierarchy.staff_ca_names()
        return StaffTrust(self.ca(ROOT_CA).certificate, {name: self.ca(name).certificate for name in names})

    def issue_staff_certificate(
        self, public_key: CertificatePublicKeyTypes | bytes, *, staff_id: str, organisation: str
    ) -> IssuedCertificate:
        """A staff card's authentication certificate from its organisation's staff CA."""
        return self._staff.issue(public_key, staff_id=staff_id, organisation=organisation)

    # -- issuing ----------------------------------------------------------------
    def issue_auth_certificate(
        self,
        public_key: CertificatePublicKeyTypes | bytes,
        *,
        juminhyo_code: str,
        birth_date: date,
        today: date | None = None,
    ) -> IssuedCertificate:
        """利用者証明用電子証明書: no personal data; the birth date sets its validity only."""
        return self._issuer.issue_auth_certificate(
            public_key, juminhyo_code=juminhyo_code, birth_date=birth_date, today=today
        )

    def issue_signature_certificate(
        self,
        public_key: CertificatePublicKeyTypes | bytes,
        *,
        juminhyo_code: str,
        name: str,
        address: str,
        birth_date: date,
        sex: str,
        today: date | None = None,
    ) -> IssuedCertificate:
        """署名用電子証明書 with the four basic items; refused under 15."""
        return self._issuer.issue_signature_certificate(
            public_key,
            juminhyo_code=juminhyo_code,
            name=name,
            address=address,
            birth_date=birth_date,
            sex=sex,
            today=today,
        )

    # -- looking up -------------------------------------------------------------
    def find(self, serial: int) -> CertificateRecord | None:
        """The record of a serial, or None (OCSP answers "unknown" then)."""
        return self._rows.find(serial)

    def status(self, serial: int) -> CertificateRecord:
        """有効性: the certificate's state, or ``pki.unknown_serial``."""
        return self._rows.status(serial)

    def certificate_der(self, serial: int) -> bytes:
        return self._rows.der(serial)

    def certificates_for(self, juminhyo_code: str) -> list[CertificateRecord]:
        """Every certificate ever issued to a person, oldest first."""
        return self._rows.of_person(juminhyo_code)

    # -- revoking and CRLs ------------------------------------------------------
    def revoke(self, serial: int, reason: RevocationReason | str = RevocationReason.UNSPECIFIED) -> CertificateRecord:
        """失効: mark revoked and publish a new CRL, in one transaction."""
        return self._revocations.revoke(serial, reason)

    def on_revoked(self, listener: RevocationListener) -> None:
        """Call ``listener`` with the serials of every revocation here, once committed.

        A relying party's OCSP cache in this process subscribes its ``forget``;
        other processes bound how long they believe a good answer instead.
        """
        self._revocations.on_revoked(listener)

    def revoke_for_person(
        self,
        juminhyo_code: str,
        *,
        kinds: Iterable[CertKind | str] = (CertKind.SIGN, CertKind.AUTH),
        reason: RevocationReason | str = RevocationReason.UNSPECIFIED,
    ) -> list[int]:
        """Revoke every good certificate of these kinds held by a person.

        Returns the serials revoked (none is not an error: the person may hold
        no certificate). Certificates already revoked are left as they are.
        """
        return self._revocations.revoke_for_person(juminhyo_code, kinds=kinds, reason=reason)

    def handle_register_event(self, event: Event) -> None:
        """Revoke what a resident-register event invalidates (subscribe it to the bus).

        Safe to deliver twice: certificates already revoked are left alone.
        """
        self._revocations.handle_register_event(event)

    def crl_der(self, ca_name: str) -> bytes:
        """The CA's current CRL (DER); reissued once half its lifetime has passed."""
        return self._crls.current_der(ca_name)

    # -- serial linkage (シリアル番号の紐付け) -----------------------------------------
    def link_serials(self, old_serial: int, new_serial: int) -> None:
        """Record that ``new_serial`` replaces ``old_serial`` (same person, same kind)."""
        self._links.link(old_serial, new_serial)

    def current_serial(self, old_serial: int) -> int:
        """The newest serial a (possibly reissued) certificate's serial leads to."""
        return self._links.current(old_serial)
