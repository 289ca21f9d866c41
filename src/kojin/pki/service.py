"""The J-LIS certificate authority (公的個人認証サービスの認証局): issue, revoke, publish.

The hierarchy is one root CA over two issuing CAs, one per certificate kind,
as in JPKI. End-entity certificates are issued for a public key made on the
card: the CA never sees a card's private key. Every revocation rebuilds the
issuing CA's CRL in the same transaction, so a revocation is never visible in
OCSP but missing from the CRL, or the other way round.

CA keys are used only through a :class:`~kojin.pki.keys.KeyBackend`; the CA's
``algorithm`` (RSA-2048 by default, P-256 for fast demos) applies when the CAs
are first created by :meth:`CertificateAuthority.bootstrap` — an existing CA
keeps the key it has. CA key rollover is not implemented: an end-entity
certificate never outlives its issuing CA (its notAfter is cut to the CA's).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificatePublicKeyTypes,
)
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID, ObjectIdentifier
from sqlalchemy import Connection, Engine, RowMapping, insert, select, update
from sqlalchemy.exc import IntegrityError

from kojin.core.errors import Conflict, InvalidInput, NotFound, NotPermitted
from kojin.core.events import Event
from kojin.core.japan import JST
from kojin.numbering.domain import validate_juminhyo_code
from kojin.pki.domain import (
    CA_NAMES,
    PROFILES,
    REVOKED_ON_EVENT,
    ROOT_CA,
    Algorithm,
    BasicFourItems,
    CertKind,
    CertStatus,
    RevocationReason,
    as_utc,
    basic_items_to_other_names,
    check_may_hold,
    new_serial,
    new_subject_ref,
    parse_algorithm,
    parse_kind,
    parse_reason,
    parse_serial_key,
    serial_key,
    validate_basic_items,
    validity_window,
)
from kojin.pki.keys import EncryptedFileKeyBackend, KeyBackend, signing_key
from kojin.pki.store import cas, certificates, crls, revocations, serial_links

if TYPE_CHECKING:
    from kojin.pki.verify import TrustStore

DEFAULT_BASE_URL: Final = "http://127.0.0.1:8000"
ROOT_VALIDITY: Final = timedelta(days=20 * 365 + 5)
ISSUING_VALIDITY: Final = timedelta(days=12 * 365 + 3)
# Backdating a CA certificate a little keeps clients with slow clocks working.
CA_BACKDATE: Final = timedelta(hours=1)
DEFAULT_CRL_VALIDITY: Final = timedelta(days=1)
_ISSUE_ATTEMPTS: Final = 5
_MAX_LINK_HOPS: Final = 10_000

_ORGANIZATION: Final = "kojin JPKI"
_CA_SUBJECTS: Final = {
    ROOT_CA: ("kojin JPKI Root CA", None),
    "sign": ("kojin JPKI Signature CA", "kojin JPKI for digital signature"),
    "auth": ("kojin JPKI User Authentication CA", "kojin JPKI for user authentication"),
}


def _unknown_serial(field: str = "serial") -> NotFound:
    return NotFound(
        "pki.unknown_serial",
        "そのシリアル番号の電子証明書は発行されていません。",
        "No certificate with that serial number has been issued.",
        field=field,
    )


def _unknown_ca(name: str) -> NotFound:
    return NotFound(
        "pki.unknown_ca",
        f"認証局「{name}」はありません。",
        f"There is no CA named {name!r}; one of {', '.join(CA_NAMES)}.",
        field="ca",
    )


@dataclass(frozen=True)
class CaMaterial:
    """One CA ready to sign (認証局): its certificate and a key that signs via the backend."""

    name: str
    certificate: x509.Certificate
    signing_key: CertificateIssuerPrivateKeyTypes

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def key_identifier(self) -> bytes:
        ski = self.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        return ski.value.digest


@dataclass(frozen=True)
class IssuedCertificate:
    """A newly issued end-entity certificate (発行した電子証明書)."""

    serial: int
    kind: CertKind
    ca: str
    subject_ref: str
    not_before: datetime
    not_after: datetime
    der: bytes

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_der_x509_certificate(self.der)

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class CertificateRecord:
    """What the CA records about one certificate (電子証明書の発行・失効情報)."""

    serial: int
    ca: str
    kind: CertKind
    subject_ref: str
    not_before: datetime
    not_after: datetime
    status: CertStatus
    revoked_at: datetime | None
    reason: RevocationReason | None

    @classmethod
    def from_row(cls, row: RowMapping) -> CertificateRecord:
        return cls(
            serial=parse_serial_key(row["serial"]),
            ca=row["ca"],
            kind=CertKind(row["kind"]),
            subject_ref=row["subject_ref"],
            not_before=as_utc(row["not_before"]),
            not_after=as_utc(row["not_after"]),
            status=CertStatus(row["status"]),
            revoked_at=None if row["revoked_at"] is None else as_utc(row["revoked_at"]),
            reason=None if row["reason"] is None else RevocationReason(row["reason"]),
        )


def _ca_name(name: str) -> x509.Name:
    common_name, unit = _CA_SUBJECTS[name]
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, _ORGANIZATION),
    ]
    if unit:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _key_usage(**bits: bool) -> x509.KeyUsage:
    names = (
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
        "encipher_only",
        "decipher_only",
    )
    unknown = set(bits) - set(names)
    if unknown:
        raise ValueError(f"unknown key usage bits {sorted(unknown)}")
    return x509.KeyUsage(**{name: bits.get(name, False) for name in names})


def load_public_key(
    value: CertificatePublicKeyTypes | bytes,
) -> rsa.RSAPublicKey | ec.EllipticCurvePublicKey:
    """A card's public key: an object, or DER/PEM SubjectPublicKeyInfo bytes.

    Accepted: RSA 2048–4096 bits (what the card makes) and EC P-256 / P-384.
    """
    key: object = value
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        try:
            key = (
                serialization.load_pem_public_key(raw)
                if raw.lstrip().startswith(b"-----BEGIN")
                else serialization.load_der_public_key(raw)
            )
        except (ValueError, TypeError):
            key = None
    if isinstance(key, rsa.RSAPublicKey) and 2048 <= key.key_size <= 4096:
        return key
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1 | ec.SECP384R1):
        return key
    raise InvalidInput(
        "pki.bad_public_key",
        "公開鍵が読めないか、対応していない方式です。",
        "The public key is unreadable or of an unsupported type (RSA 2048–4096, EC P-256/P-384).",
        field="public_key",
    )


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
        self._key_backend = key_backend
        self._materials: dict[str, CaMaterial] = {}
        self._lock = threading.Lock()

    # -- time and URLs ----------------------------------------------------------
    def now(self) -> datetime:
        """The CA's clock in UTC, to the second (X.509 times have no fractions)."""
        return self._clock().astimezone(UTC).replace(microsecond=0)

    def today(self) -> date:
        return self.now().astimezone(JST).date()

    def ca_url(self, name: str) -> str:
        return f"{self.base_url}/pki/ca/{name}.cer"

    def crl_url(self, name: str) -> str:
        return f"{self.base_url}/pki/crl/{name}.crl"

    @property
    def ocsp_url(self) -> str:
        return f"{self.base_url}/pki/ocsp"

    @property
    def key_backend(self) -> KeyBackend:
        # Built on first use: the default reads its passphrase from the store,
        # which may not be migrated yet when the CA object is constructed.
        with self._lock:
            if self._key_backend is None:
                self._key_backend = EncryptedFileKeyBackend.in_store(self.engine)
            return self._key_backend

    # -- the CAs ----------------------------------------------------------------
    def bootstrap(self) -> None:
        """Create the root and issuing CAs and their first CRLs if missing (``kojin init``)."""
        now = self.now()
        with self.engine.connect() as conn:
            present = set(conn.execute(select(cas.c.name)).scalars())
        if ROOT_CA not in present:
            self._create_ca(ROOT_CA, now)
        for name in CA_NAMES[1:]:
            if name not in present:
                self._create_ca(name, now)
        with self.engine.connect() as conn:
            with_crl = set(conn.execute(select(crls.c.ca)).scalars())
        for name in CA_NAMES:
            if name not in with_crl:
                try:
                    with self.engine.begin() as conn:
                        self._write_crl(conn, name, now, number=1, insert_row=True)
                except IntegrityError:
                    pass  # another process published the first CRL

    def _create_ca(self, name: str, now: datetime) -> None:
        key_id = f"{name}-{secrets.token_hex(8)}"
        public = self.key_backend.generate(key_id, self.algorithm)
        subject = _ca_name(name)
        ski = x509.SubjectKeyIdentifier.from_public_key(public)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .public_key(public)
            .serial_number(new_serial())
            .not_valid_before(now - CA_BACKDATE)
            .add_extension(ski, critical=False)
        )
        if name == ROOT_CA:
            issuer_key = signing_key(self.key_backend, key_id)
            builder = (
                builder.issuer_name(subject)
                .not_valid_after(now + ROOT_VALIDITY)
                .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
                .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
                .add_extension(
                    x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
                    critical=False,
                )
            )
        else:
            root = self.ca(ROOT_CA)
            issuer_key = root.signing_key
            builder = (
                builder.issuer_name(root.certificate.subject)
                .not_valid_after(min(now + ISSUING_VALIDITY, root.certificate.not_valid_after_utc))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                # digitalSignature because the issuing CA signs its own OCSP answers.
                .add_extension(
                    _key_usage(digital_signature=True, key_cert_sign=True, crl_sign=True),
                    critical=True,
                )
                .add_extension(self._aki(root), critical=False)
                .add_extension(self._crl_distribution(ROOT_CA), critical=False)
                .add_extension(
                    x509.AuthorityInformationAccess(
                        [
                            x509.AccessDescription(
                                AuthorityInformationAccessOID.CA_ISSUERS,
                                x509.UniformResourceIdentifier(self.ca_url(ROOT_CA)),
                            )
                        ]
                    ),
                    critical=False,
                )
            )
        certificate = builder.sign(issuer_key, hashes.SHA256())
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(cas).values(
                        name=name,
                        algorithm=self.algorithm,
                        key_id=key_id,
                        certificate=certificate.public_bytes(serialization.Encoding.DER),
                        created_at=now,
                    )
                )
        except IntegrityError:
            pass  # another process created this CA first; its key is the one in use

    @staticmethod
    def _aki(issuer: CaMaterial) -> x509.AuthorityKeyIdentifier:
        return x509.AuthorityKeyIdentifier(issuer.key_identifier, None, None)

    def _crl_distribution(self, ca_name: str) -> x509.CRLDistributionPoints:
        return x509.CRLDistributionPoints(
            [
                x509.DistributionPoint(
                    full_name=[x509.UniformResourceIdentifier(self.crl_url(ca_name))],
                    relative_name=None,
                    reasons=None,
                    crl_issuer=None,
                )
            ]
        )

    def ca(self, name: str) -> CaMaterial:
        """A CA by name (``root``, ``sign``, ``auth``), loaded once per process."""
        if name not in CA_NAMES:
            raise _unknown_ca(name)
        with self._lock:
            cached = self._materials.get(name)
        if cached is not None:
            return cached
        with self.engine.connect() as conn:
            row = conn.execute(select(cas).where(cas.c.name == name)).mappings().first()
        if row is None:
            raise RuntimeError(f"CA {name!r} missing: run `kojin init` (bootstrap the CA)")
        material = CaMaterial(
            name=name,
            certificate=x509.load_der_x509_certificate(bytes(row["certificate"])),
            signing_key=signing_key(self.key_backend, row["key_id"]),
        )
        with self._lock:
            self._materials[name] = material
        return material

    def ca_pem(self, name: str) -> bytes:
        return self.ca(name).pem

    def ca_der(self, name: str) -> bytes:
        return self.ca(name).der

    def trust_store(self) -> TrustStore:
        """The CA certificates as a relying party would hold them."""
        from kojin.pki.verify import TrustStore

        return TrustStore(
            root=self.ca(ROOT_CA).certificate,
            sign_ca=self.ca(CertKind.SIGN.ca_name).certificate,
            auth_ca=self.ca(CertKind.AUTH.ca_name).certificate,
        )

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
        return self._issue(
            CertKind.AUTH,
            public_key,
            juminhyo_code=juminhyo_code,
            birth_date=birth_date,
            today=today,
            items=None,
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
        items = validate_basic_items(BasicFourItems(name=name, address=address, birth_date=birth_date, sex=str(sex)))
        return self._issue(
            CertKind.SIGN,
            public_key,
            juminhyo_code=juminhyo_code,
            birth_date=birth_date,
            today=today,
            items=items,
        )

    def _issue(
        self,
        kind: CertKind,
        public_key: CertificatePublicKeyTypes | bytes,
        *,
        juminhyo_code: str,
        birth_date: date,
        today: date | None,
        items: BasicFourItems | None,
    ) -> IssuedCertificate:
        validate_juminhyo_code(juminhyo_code)
        issued_on = today or self.today()
        check_may_hold(kind, birth_date, issued_on)
        key = load_public_key(public_key)
        not_before, not_after = validity_window(birth_date, issued_on)
        issuer = self.ca(kind.ca_name)
        not_after = min(not_after, issuer.certificate.not_valid_after_utc)
        not_before, not_after = not_before.astimezone(UTC), not_after.astimezone(UTC)
        for _ in range(_ISSUE_ATTEMPTS):
            serial, subject_ref = new_serial(), new_subject_ref()
            certificate = self._end_entity(kind, issuer, key, serial, subject_ref, not_before, not_after, items)
            der = certificate.public_bytes(serialization.Encoding.DER)
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        insert(certificates).values(
                            serial=serial_key(serial),
                            ca=issuer.name,
                            kind=kind.value,
                            subject_ref=subject_ref,
                            juminhyo_code=juminhyo_code,
                            not_before=not_before,
                            not_after=not_after,
                            status=CertStatus.GOOD.value,
                            issued_at=self.now(),
                            der=der,
                        )
                    )
            except IntegrityError:
                continue  # serial or subject_ref taken: draw again
            return IssuedCertificate(
                serial=serial,
                kind=kind,
                ca=issuer.name,
                subject_ref=subject_ref,
                not_before=not_before,
                not_after=not_after,
                der=der,
            )
        raise RuntimeError("could not draw a free serial number")

    def _end_entity(
        self,
        kind: CertKind,
        issuer: CaMaterial,
        key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey,
        serial: int,
        subject_ref: str,
        not_before: datetime,
        not_after: datetime,
        items: BasicFourItems | None,
    ) -> x509.Certificate:
        profile = PROFILES[kind]
        builder = (
            x509.CertificateBuilder()
            # The subject names no one: an opaque reference, as on the real card.
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                        x509.NameAttribute(NameOID.COMMON_NAME, subject_ref),
                    ]
                )
            )
            .issuer_name(issuer.certificate.subject)
            .public_key(key)
            .serial_number(serial)
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(**dict.fromkeys(profile.key_usage, True)), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key), critical=False)
            .add_extension(self._aki(issuer), critical=False)
            .add_extension(self._crl_distribution(issuer.name), critical=False)
            .add_extension(
                x509.AuthorityInformationAccess(
                    [
                        x509.AccessDescription(
                            AuthorityInformationAccessOID.OCSP,
                            x509.UniformResourceIdentifier(self.ocsp_url),
                        ),
                        x509.AccessDescription(
                            AuthorityInformationAccessOID.CA_ISSUERS,
                            x509.UniformResourceIdentifier(self.ca_url(issuer.name)),
                        ),
                    ]
                ),
                critical=False,
            )
        )
        if profile.extended_key_usage:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ObjectIdentifier(o) for o in profile.extended_key_usage]),
                critical=False,
            )
        if items is not None:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.OtherName(ObjectIdentifier(oid), value) for oid, value in basic_items_to_other_names(items)]
                ),
                critical=False,
            )
        return builder.sign(issuer.signing_key, hashes.SHA256())

    # -- looking up -------------------------------------------------------------
    def find(self, serial: int) -> CertificateRecord | None:
        """The record of a serial, or None (OCSP answers "unknown" then)."""
        try:
            key = serial_key(serial)
        except InvalidInput:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(certificates).where(certificates.c.serial == key)).mappings().first()
        return None if row is None else CertificateRecord.from_row(row)

    def status(self, serial: int) -> CertificateRecord:
        """有効性: the certificate's state, or ``pki.unknown_serial``."""
        record = self.find(serial)
        if record is None:
            raise _unknown_serial()
        return record

    def certificate_der(self, serial: int) -> bytes:
        with self.engine.connect() as conn:
            der = conn.execute(select(certificates.c.der).where(certificates.c.serial == serial_key(serial))).scalar()
        if der is None:
            raise _unknown_serial()
        return bytes(der)

    def certificates_for(self, juminhyo_code: str) -> list[CertificateRecord]:
        """Every certificate ever issued to a person, oldest first."""
        validate_juminhyo_code(juminhyo_code)
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    select(certificates)
                    .where(certificates.c.juminhyo_code == juminhyo_code)
                    .order_by(certificates.c.issued_at, certificates.c.serial)
                )
                .mappings()
                .all()
            )
        return [CertificateRecord.from_row(row) for row in rows]

    # -- revoking ---------------------------------------------------------------
    def revoke(self, serial: int, reason: RevocationReason | str = RevocationReason.UNSPECIFIED) -> CertificateRecord:
        """失効: mark revoked and publish a new CRL, in one transaction."""
        why = parse_reason(reason)
        key = serial_key(serial)
        now = self.now()
        with self.engine.begin() as conn:
            row = conn.execute(
                select(certificates.c.ca, certificates.c.status, certificates.c.not_after).where(
                    certificates.c.serial == key
                )
            ).first()
            if row is None:
                raise _unknown_serial()
            if row.status == CertStatus.REVOKED:
                raise self._already_revoked()
            number = self._lock_crl(conn, row.ca)
            if not self._mark_revoked(conn, key, row.ca, row.not_after, why, now):
                raise self._already_revoked()
            self._write_crl(conn, row.ca, now, number=number + 1)
        return self.status(serial)

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
        validate_juminhyo_code(juminhyo_code)
        wanted = sorted({parse_kind(str(kind)).value for kind in kinds})
        if not wanted:
            raise InvalidInput(
                "pki.bad_kind",
                "失効させる証明書の種類がありません。",
                "No certificate kind to revoke was given.",
                field="kinds",
            )
        why = parse_reason(reason)
        now = self.now()
        revoked: list[int] = []
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(certificates.c.serial, certificates.c.ca, certificates.c.not_after)
                .where(
                    certificates.c.juminhyo_code == juminhyo_code,
                    certificates.c.kind.in_(wanted),
                    certificates.c.status == CertStatus.GOOD.value,
                )
                .order_by(certificates.c.serial)
            ).all()
            touched = sorted({row.ca for row in rows})
            numbers = {ca: self._lock_crl(conn, ca) for ca in touched}
            for row in rows:
                if self._mark_revoked(conn, row.serial, row.ca, row.not_after, why, now):
                    revoked.append(parse_serial_key(row.serial))
            for ca in touched:
                self._write_crl(conn, ca, now, number=numbers[ca] + 1)
        return revoked

    def handle_register_event(self, event: Event) -> None:
        """Revoke what a resident-register event invalidates (subscribe it to the bus).

        Safe to deliver twice: certificates already revoked are left alone.
        """
        rule = REVOKED_ON_EVENT.get(event.name)
        if rule is None:
            return
        kinds, reason = rule
        self.revoke_for_person(str(event.payload.get("juminhyo_code", "")), kinds=kinds, reason=reason)

    @staticmethod
    def _already_revoked() -> Conflict:
        return Conflict(
            "pki.already_revoked",
            "この電子証明書はすでに失効しています。",
            "This certificate is already revoked.",
            field="serial",
        )

    @staticmethod
    def _mark_revoked(
        conn: Connection,
        key: str,
        ca: str,
        not_after: datetime,
        reason: RevocationReason,
        now: datetime,
    ) -> bool:
        result = conn.execute(
            update(certificates)
            .where(certificates.c.serial == key, certificates.c.status == CertStatus.GOOD.value)
            .values(status=CertStatus.REVOKED.value, revoked_at=now, reason=reason.value)
        )
        if result.rowcount != 1:
            return False
        conn.execute(
            insert(revocations).values(serial=key, ca=ca, revoked_at=now, reason=reason.value, not_after=not_after)
        )
        return True

    # -- CRLs -------------------------------------------------------------------
    def _lock_crl(self, conn: Connection, ca_name: str) -> int:
        """Lock a CA's CRL row for this transaction; return its current number."""
        # A no-op write, not SELECT … FOR UPDATE: pysqlite opens its transaction
        # at the first write, so only a write makes SQLite take the writer lock
        # before the number is read; on PostgreSQL it locks the row. Either way
        # two revocations can never publish the same CRL number.
        locked = conn.execute(update(crls).where(crls.c.ca == ca_name).values(crl_number=crls.c.crl_number))
        if locked.rowcount != 1:
            raise RuntimeError(f"CA {ca_name!r} has no CRL: run `kojin init` (bootstrap the CA)")
        return int(conn.execute(select(crls.c.crl_number).where(crls.c.ca == ca_name)).scalar_one())

    def _write_crl(
        self,
        conn: Connection,
        ca_name: str,
        now: datetime,
        *,
        number: int,
        insert_row: bool = False,
    ) -> bytes:
        material = self.ca(ca_name)
        # An expired certificate is invalid anyway, so it leaves the CRL
        # (RFC 5280 §3.3) and the CRL does not grow for ever.
        entries = conn.execute(
            select(revocations.c.serial, revocations.c.revoked_at, revocations.c.reason)
            .where(revocations.c.ca == ca_name, revocations.c.not_after > now)
            .order_by(revocations.c.serial)
        ).all()
        next_update = now + self.crl_validity
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(material.certificate.subject)
            .last_update(now)
            .next_update(next_update)
            .add_extension(x509.CRLNumber(number), critical=False)
            .add_extension(self._aki(material), critical=False)
        )
        for entry in entries:
            revoked = (
                x509.RevokedCertificateBuilder()
                .serial_number(parse_serial_key(entry.serial))
                .revocation_date(as_utc(entry.revoked_at))
            )
            # RFC 5280 §5.3.1: omit the reason code rather than say "unspecified".
            if entry.reason != RevocationReason.UNSPECIFIED:
                revoked = revoked.add_extension(x509.CRLReason(x509.ReasonFlags[entry.reason]), critical=False)
            builder = builder.add_revoked_certificate(revoked.build())
        der = builder.sign(material.signing_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
        values = {"crl_number": number, "this_update": now, "next_update": next_update, "der": der}
        if insert_row:
            conn.execute(insert(crls).values(ca=ca_name, **values))
        else:
            conn.execute(update(crls).where(crls.c.ca == ca_name).values(**values))
        return der

    def crl_der(self, ca_name: str) -> bytes:
        """The CA's current CRL (DER); reissued once half its lifetime has passed."""
        if ca_name not in CA_NAMES:
            raise _unknown_ca(ca_name)
        now = self.now()
        with self.engine.connect() as conn:
            row = conn.execute(select(crls.c.der, crls.c.next_update).where(crls.c.ca == ca_name)).first()
        if row is None:
            raise RuntimeError(f"CA {ca_name!r} has no CRL: run `kojin init` (bootstrap the CA)")
        if now < as_utc(row.next_update) - self.crl_validity / 2:
            return bytes(row.der)
        with self.engine.begin() as conn:
            number = self._lock_crl(conn, ca_name)
            # Another worker may have refreshed it while this one waited.
            row = conn.execute(select(crls.c.der, crls.c.next_update).where(crls.c.ca == ca_name)).first()
            if row is not None and now < as_utc(row.next_update) - self.crl_validity / 2:
                return bytes(row.der)
            return self._write_crl(conn, ca_name, now, number=number + 1)

    # -- serial linkage (シリアル番号の紐付け) -----------------------------------------
    def link_serials(self, old_serial: int, new_serial: int) -> None:
        """Record that ``new_serial`` replaces ``old_serial`` (same person, same kind)."""
        old_key, new_key = serial_key(old_serial), serial_key(new_serial)
        if old_key == new_key:
            raise InvalidInput(
                "pki.link_to_self",
                "同じ電子証明書どうしは紐付けできません。",
                "A certificate cannot be linked to itself.",
                field="new_serial",
            )
        try:
            with self.engine.begin() as conn:
                # Lock both rows first (a no-op write, see _lock_crl) so two
                # links made at once cannot close a cycle between them.
                conn.execute(
                    update(certificates)
                    .where(certificates.c.serial.in_([old_key, new_key]))
                    .values(status=certificates.c.status)
                )
                rows = {
                    row.serial: row
                    for row in conn.execute(
                        select(
                            certificates.c.serial,
                            certificates.c.kind,
                            certificates.c.juminhyo_code,
                        ).where(certificates.c.serial.in_([old_key, new_key]))
                    )
                }
                if old_key not in rows:
                    raise _unknown_serial("old_serial")
                if new_key not in rows:
                    raise _unknown_serial("new_serial")
                old, new = rows[old_key], rows[new_key]
                # Linking two people's certificates is exactly the wrong-person
                # link the real system suffered; refuse it outright.
                if old.juminhyo_code != new.juminhyo_code or old.kind != new.kind:
                    raise NotPermitted(
                        "pki.link_mismatch",
                        "別の人または別の種類の電子証明書とは紐付けできません。",
                        "Only certificates of the same person and kind can be linked.",
                        field="new_serial",
                    )
                if self._successor(conn, old_key) is not None:
                    raise self._already_linked("old_serial")
                if conn.execute(select(serial_links.c.old_serial).where(serial_links.c.new_serial == new_key)).first():
                    raise self._already_linked("new_serial")
                if self._reaches(conn, new_key, old_key):
                    raise Conflict(
                        "pki.link_cycle",
                        "この紐付けは循環になります。",
                        "This link would make a cycle.",
                        field="new_serial",
                    )
                conn.execute(insert(serial_links).values(old_serial=old_key, new_serial=new_key, linked_at=self.now()))
        except IntegrityError:
            raise self._already_linked("old_serial") from None

    @staticmethod
    def _already_linked(field: str) -> Conflict:
        return Conflict(
            "pki.already_linked",
            "この電子証明書はすでに紐付けられています。",
            "This certificate is already linked.",
            field=field,
        )

    @staticmethod
    def _successor(conn: Connection, key: str) -> str | None:
        found = conn.execute(select(serial_links.c.new_serial).where(serial_links.c.old_serial == key)).scalar()
        return None if found is None else str(found)

    def _reaches(self, conn: Connection, start: str, target: str) -> bool:
        key: str | None = start
        for _ in range(_MAX_LINK_HOPS):
            if key is None:
                return False
            if key == target:
                return True
            key = self._successor(conn, key)
        return True  # treat an absurdly long chain as a cycle

    def _follow(self, conn: Connection, start: str) -> str:
        key = start
        for _ in range(_MAX_LINK_HOPS):
            successor = self._successor(conn, key)
            if successor is None:
                return key
            key = successor
        raise RuntimeError("serial link chain too long")

    def current_serial(self, old_serial: int) -> int:
        """The newest serial a (possibly reissued) certificate's serial leads to."""
        key = serial_key(old_serial)
        with self.engine.connect() as conn:
            if conn.execute(select(certificates.c.serial).where(certificates.c.serial == key)).first() is None:
                raise _unknown_serial()
            return parse_serial_key(self._follow(conn, key))
