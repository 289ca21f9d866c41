"""The CA on a real store: hierarchy, profiles, revocation, CRLs, serial links, keys."""

from __future__ import annotations

import stat
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import (
    AuthorityInformationAccessOID,
    ExtendedKeyUsageOID,
    NameOID,
    SignatureAlgorithmOID,
)
from sqlalchemy import Table, func, select

from kojin.core.config import Settings
from kojin.core.errors import Conflict, InvalidInput, KojinError, NotFound, NotPermitted
from kojin.core.events import Event
from kojin.pki.domain import (
    OID_ADDRESS,
    OID_BIRTH_DATE,
    OID_NAME,
    OID_SEX,
    CertKind,
    CertStatus,
    RevocationReason,
    der_utf8string,
)
from kojin.pki.keys import (
    PASSPHRASE_ENV,
    DirectoryKeyBlobs,
    EncryptedFileKeyBackend,
    KeyBackend,
    StoreKeyBlobs,
    store_passphrase,
)
from kojin.pki.service import CertificateAuthority, IssuedCertificate
from kojin.pki.store import cas, certificates, crls, revocations

from . import ADULT_BIRTH, CODE, OTHER_CODE, PERSON, Clock, authority, card_key, pki_store

TODAY = date(2026, 11, 24)


@pytest.fixture(scope="module")
def store_url(database: str, pg_template: Settings | None) -> str | None:
    """None for SQLite; the PostgreSQL server's URL when the suite runs there too."""
    if database == "postgres" and pg_template is not None:
        return pg_template.database_url
    return None


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory, store_url: str | None) -> Iterator[CertificateAuthority]:
    """The default CA: RSA-2048, as JPKI."""
    with authority(
        tmp_path_factory.mktemp("pki-rsa"),
        algorithm="rsa2048",
        base_url="http://ca.test:8000/",
        database_url=store_url,
    ) as made:
        yield made


@pytest.fixture(scope="module")
def rsa_card_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _auth(ca: CertificateAuthority, code: str = CODE, **kw: Any) -> IssuedCertificate:
    return ca.issue_auth_certificate(
        card_key().public_key(),
        juminhyo_code=code,
        birth_date=ADULT_BIRTH,
        **kw,
    )


def _sign(ca: CertificateAuthority, code: str = CODE) -> IssuedCertificate:
    return ca.issue_signature_certificate(card_key().public_key(), juminhyo_code=code, **PERSON)


def _crl(ca: CertificateAuthority, name: str) -> x509.CertificateRevocationList:
    return x509.load_der_x509_crl(ca.crl_der(name))


def _crl_number(ca: CertificateAuthority, name: str) -> int:
    return _crl(ca, name).extensions.get_extension_for_class(x509.CRLNumber).value.crl_number


def _count(ca: CertificateAuthority, table: Table) -> int:
    with ca.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


# -- the hierarchy ----------------------------------------------------------------


def test_bootstrap_is_idempotent(ca: CertificateAuthority) -> None:
    before = [ca.ca_der(name) for name in ("root", "sign", "auth")]
    numbers = [_crl_number(ca, name) for name in ("root", "sign", "auth")]
    ca.bootstrap()
    fresh = CertificateAuthority(ca.engine, base_url="http://ca.test:8000")
    fresh.bootstrap()
    assert [fresh.ca_der(name) for name in ("root", "sign", "auth")] == before
    assert [_crl_number(fresh, name) for name in ("root", "sign", "auth")] == numbers


def test_root_and_issuing_ca_profiles(ca: CertificateAuthority) -> None:
    root = ca.ca("root").certificate
    assert root.subject == root.issuer
    root.verify_directly_issued_by(root)
    assert root.signature_algorithm_oid == SignatureAlgorithmOID.RSA_WITH_SHA256
    root_key = root.public_key()
    assert isinstance(root_key, rsa.RSAPublicKey)
    assert root_key.key_size == 2048
    bc = root.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca and bc.value.path_length == 1
    for name, label in (("sign", "digital signature"), ("auth", "user authentication")):
        issuing = ca.ca(name).certificate
        issuing.verify_directly_issued_by(root)
        assert label in issuing.subject.rfc4514_string()
        bc = issuing.extensions.get_extension_for_class(x509.BasicConstraints)
        assert bc.critical and bc.value.ca and bc.value.path_length == 0
        ku = issuing.extensions.get_extension_for_class(x509.KeyUsage)
        assert ku.critical and ku.value.key_cert_sign and ku.value.crl_sign
        aki = issuing.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
        root_ski = root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        assert aki.key_identifier == root_ski.digest
        assert issuing.not_valid_after_utc <= root.not_valid_after_utc
    root_usage = root.extensions.get_extension_for_class(x509.KeyUsage).value
    assert root_usage.key_cert_sign and root_usage.crl_sign and not root_usage.digital_signature


def test_ca_by_unknown_name(ca: CertificateAuthority) -> None:
    with pytest.raises(NotFound) as caught:
        ca.ca_pem("intermediate")
    assert caught.value.code == "pki.unknown_ca"
    with pytest.raises(NotFound):
        ca.crl_der("../root")


def test_p256_hierarchy(tmp_path: Path, store_url: str | None) -> None:
    with authority(tmp_path, algorithm="p256", database_url=store_url) as fast:
        for name in ("root", "sign", "auth"):
            certificate = fast.ca(name).certificate
            assert certificate.signature_algorithm_oid == SignatureAlgorithmOID.ECDSA_WITH_SHA256
            assert isinstance(certificate.public_key(), ec.EllipticCurvePublicKey)
        issued = _auth(fast)
        issued.certificate.verify_directly_issued_by(fast.ca("auth").certificate)


def test_unknown_algorithm_is_refused(ca: CertificateAuthority) -> None:
    with pytest.raises(InvalidInput) as caught:
        CertificateAuthority(ca.engine, algorithm="dsa1024")
    assert caught.value.code == "pki.bad_algorithm"


# -- end-entity profiles ----------------------------------------------------------


def test_auth_certificate_profile(ca: CertificateAuthority, rsa_card_key: rsa.RSAPrivateKey) -> None:
    issued = ca.issue_auth_certificate(
        rsa_card_key.public_key(), juminhyo_code=CODE, birth_date=ADULT_BIRTH, today=TODAY
    )
    cert = issued.certificate
    assert cert.version is x509.Version.v3
    assert cert.serial_number == issued.serial and issued.serial.bit_length() >= 64
    assert cert.public_key() == rsa_card_key.public_key()
    assert cert.signature_algorithm_oid == SignatureAlgorithmOID.RSA_WITH_SHA256
    cert.verify_directly_issued_by(ca.ca("auth").certificate)
    # No personal data: country and an opaque reference, nothing else.
    assert [a.oid for a in cert.subject] == [NameOID.COUNTRY_NAME, NameOID.COMMON_NAME]
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == issued.subject_ref
    assert CODE.encode() not in issued.der
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature
    assert not (ku.value.content_commitment or ku.value.key_cert_sign or ku.value.key_encipherment)
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and not bc.value.ca
    dp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert [n.value for n in dp[0].full_name or []] == ["http://ca.test:8000/pki/crl/auth.crl"]
    aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    urls = {d.access_method: d.access_location.value for d in aia}
    assert urls[AuthorityInformationAccessOID.OCSP] == "http://ca.test:8000/pki/ocsp"
    assert urls[AuthorityInformationAccessOID.CA_ISSUERS] == "http://ca.test:8000/pki/ca/auth.cer"
    ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(rsa_card_key.public_key())
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ca.ca("auth").key_identifier
    # 2026-11-24 → fifth birthday after: 2031-06-15, JST whole days
    assert cert.not_valid_before_utc == datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    assert cert.not_valid_after_utc == datetime(2031, 6, 15, 14, 59, 59, tzinfo=UTC)


def test_signature_certificate_profile(ca: CertificateAuthority, rsa_card_key: rsa.RSAPrivateKey) -> None:
    issued = ca.issue_signature_certificate(
        rsa_card_key.public_key(),
        juminhyo_code=CODE,
        today=TODAY,
        **PERSON,
    )
    cert = issued.certificate
    cert.verify_directly_issued_by(ca.ca("sign").certificate)
    assert issued.ca == "sign" and issued.kind is CertKind.SIGN
    assert str(PERSON["name"]) not in cert.subject.rfc4514_string()
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert not san.critical
    others = {o.type_id.dotted_string: o.value for o in san.value.get_values_for_type(x509.OtherName)}
    assert others == {
        OID_NAME: der_utf8string("山田 太郎"),
        OID_SEX: der_utf8string("1"),
        OID_BIRTH_DATE: der_utf8string("319850615"),  # 昭和
        OID_ADDRESS: der_utf8string("東京都文京区本郷一丁目1番1号"),
    }
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and ku.content_commitment and not ku.key_encipherment
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    # the signature RSA is PKCS#1 v1.5 with SHA-256 by the signature CA's key
    ca_key = ca.ca("sign").certificate.public_key()
    assert isinstance(ca_key, rsa.RSAPublicKey)
    ca_key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), hashes.SHA256())


def test_leap_day_holder(ca: CertificateAuthority) -> None:
    issued = ca.issue_auth_certificate(
        card_key().public_key(),
        juminhyo_code=CODE,
        birth_date=date(2000, 2, 29),
        today=date(2027, 3, 1),
    )
    assert issued.not_after == datetime(2032, 2, 29, 14, 59, 59, tzinfo=UTC)
    issued = ca.issue_auth_certificate(
        card_key().public_key(),
        juminhyo_code=CODE,
        birth_date=date(2000, 2, 29),
        today=date(2028, 3, 1),
    )
    assert issued.not_after == datetime(2033, 2, 28, 14, 59, 59, tzinfo=UTC)


def test_signature_refused_under_15_and_nothing_stored(ca: CertificateAuthority) -> None:
    before = _count(ca, certificates)
    with pytest.raises(NotPermitted) as caught:
        ca.issue_signature_certificate(
            card_key().public_key(),
            juminhyo_code=OTHER_CODE,
            name="山田 花子",
            address="東京都文京区",
            birth_date=date(2011, 11, 25),
            sex="2",
            today=TODAY,
        )
    assert caught.value.code == "pki.signature_under_15"
    assert _count(ca, certificates) == before
    # the day of the 15th birthday is fine, and a child may hold the auth certificate
    ca.issue_signature_certificate(
        card_key().public_key(),
        juminhyo_code=OTHER_CODE,
        name="山田 花子",
        address="東京都文京区",
        birth_date=date(2011, 11, 24),
        sex="2",
        today=TODAY,
    )
    ca.issue_auth_certificate(
        card_key().public_key(), juminhyo_code=OTHER_CODE, birth_date=date(2020, 1, 1), today=TODAY
    )


def test_public_key_forms(ca: CertificateAuthority) -> None:
    key = card_key().public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    for form in (der, pem):
        issued = ca.issue_auth_certificate(form, juminhyo_code=CODE, birth_date=ADULT_BIRTH)
        assert issued.certificate.public_key() == key


@pytest.mark.parametrize(
    "bad",
    [
        b"",
        b"\x30\x03\x02\x01\x01",
        b"-----BEGIN PUBLIC KEY-----\nnonsense\n-----END PUBLIC KEY-----\n",
        "not bytes",
    ],
)
def test_bad_public_keys(ca: CertificateAuthority, bad: object) -> None:
    before = _count(ca, certificates)
    with pytest.raises(InvalidInput) as caught:
        # Junk keys on purpose, one not even bytes.
        ca.issue_auth_certificate(bad, juminhyo_code=CODE, birth_date=ADULT_BIRTH)  # type: ignore[arg-type]
    assert caught.value.code == "pki.bad_public_key"
    assert _count(ca, certificates) == before


def test_weak_or_odd_key_types_are_refused(ca: CertificateAuthority) -> None:
    for key in (
        rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key(),
        ec.generate_private_key(ec.SECP256K1()).public_key(),
        ed25519.Ed25519PrivateKey.generate().public_key(),
    ):
        with pytest.raises(InvalidInput) as caught:
            ca.issue_auth_certificate(key, juminhyo_code=CODE, birth_date=ADULT_BIRTH)
        assert caught.value.code == "pki.bad_public_key"


def test_bad_person_data(ca: CertificateAuthority) -> None:
    before = _count(ca, certificates)
    with pytest.raises(InvalidInput) as caught:
        _auth(ca, code="1234")
    assert caught.value.code == "juminhyo_code.length"
    with pytest.raises(InvalidInput) as caught:
        ca.issue_signature_certificate(
            card_key().public_key(),
            juminhyo_code=CODE,
            **(PERSON | {"sex": "9"}),
        )
    assert caught.value.code == "pki.bad_sex"
    with pytest.raises(InvalidInput) as caught:
        ca.issue_auth_certificate(card_key().public_key(), juminhyo_code=CODE, birth_date=date(2030, 1, 1), today=TODAY)
    assert caught.value.code == "pki.birth_after_issue"
    assert _count(ca, certificates) == before


# -- revocation and CRLs ------------------------------------------------------------


def test_revoke_and_status(ca: CertificateAuthority) -> None:
    issued = _auth(ca)
    assert ca.status(issued.serial).status is CertStatus.GOOD
    number = _crl_number(ca, "auth")
    record = ca.revoke(issued.serial, "key_compromise")
    assert record.status is CertStatus.REVOKED
    assert record.reason is RevocationReason.KEY_COMPROMISE
    assert record.revoked_at is not None
    assert record.kind is CertKind.AUTH and record.ca == "auth"
    crl = _crl(ca, "auth")
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == number + 1
    entry = crl.get_revoked_certificate_by_serial_number(issued.serial)
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason is (x509.ReasonFlags.key_compromise)
    # cryptography types a certificate's key wider (X25519 and such) than a CRL's issuer key: a CA's is RSA or EC.
    assert crl.is_signature_valid(ca.ca("auth").certificate.public_key())  # type: ignore[arg-type]
    assert crl.next_update_utc is not None and crl.last_update_utc < crl.next_update_utc
    aki = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ca.ca("auth").key_identifier
    # the sign CA's CRL is untouched
    assert _crl(ca, "sign").get_revoked_certificate_by_serial_number(issued.serial) is None


def test_revoking_twice_is_a_conflict_and_changes_nothing(ca: CertificateAuthority) -> None:
    issued = _auth(ca)
    ca.revoke(issued.serial, RevocationReason.SUPERSEDED)
    crl_before = ca.crl_der("auth")
    rows_before = _count(ca, revocations)
    with pytest.raises(Conflict) as caught:
        ca.revoke(issued.serial, "key_compromise")
    assert caught.value.code == "pki.already_revoked"
    assert ca.crl_der("auth") == crl_before
    assert _count(ca, revocations) == rows_before
    assert ca.status(issued.serial).reason is RevocationReason.SUPERSEDED


def test_unspecified_reason_is_omitted_from_the_crl(ca: CertificateAuthority) -> None:
    issued = _auth(ca)
    ca.revoke(issued.serial)
    entry = _crl(ca, "auth").get_revoked_certificate_by_serial_number(issued.serial)
    assert entry is not None and len(entry.extensions) == 0


@pytest.mark.parametrize("serial", [1, 12345678901234567890, 1 << 150])
def test_unknown_serial(ca: CertificateAuthority, serial: int) -> None:
    crl_before = ca.crl_der("auth")
    for call in (ca.status, ca.revoke, ca.current_serial, ca.certificate_der):
        with pytest.raises(NotFound) as caught:
            call(serial)
        assert caught.value.code == "pki.unknown_serial"
    assert ca.find(serial) is None
    assert ca.crl_der("auth") == crl_before


def test_bad_serial_and_reason(ca: CertificateAuthority) -> None:
    issued = _auth(ca)
    with pytest.raises(InvalidInput) as caught:
        ca.revoke(-5)
    assert caught.value.code == "pki.bad_serial"
    assert ca.find(-5) is None
    with pytest.raises(InvalidInput) as caught:
        ca.revoke(issued.serial, "because")
    assert caught.value.code == "pki.bad_reason"
    assert ca.status(issued.serial).status is CertStatus.GOOD


def test_revoke_for_person_by_kind(ca: CertificateAuthority) -> None:
    code = "55555555554"
    auth, sign = _auth(ca, code), _sign(ca, code)
    other = _sign(ca, OTHER_CODE)
    revoked = ca.revoke_for_person(code, kinds=[CertKind.SIGN], reason="affiliation_changed")
    assert revoked == [sign.serial]
    assert ca.status(sign.serial).status is CertStatus.REVOKED
    assert ca.status(auth.serial).status is CertStatus.GOOD
    assert ca.status(other.serial).status is CertStatus.GOOD
    assert ca.revoke_for_person(code, kinds=["sign"]) == []
    assert ca.revoke_for_person(code, reason="cessation_of_operation") == [auth.serial]
    assert {r.status for r in ca.certificates_for(code)} == {CertStatus.REVOKED}
    assert ca.revoke_for_person("99999999995") == []
    with pytest.raises(InvalidInput):
        ca.revoke_for_person(code, kinds=[])
    with pytest.raises(InvalidInput):
        ca.revoke_for_person(code, kinds=["card"])


def test_register_events_revoke_what_they_invalidate(ca: CertificateAuthority) -> None:
    code = "33333333339"
    auth, sign = _auth(ca, code), _sign(ca, code)
    moved = Event("registry.address_changed", {"resident_id": 1, "juminhyo_code": code})
    ca.handle_register_event(moved)
    assert ca.status(sign.serial).reason is RevocationReason.AFFILIATION_CHANGED
    assert ca.status(auth.serial).status is CertStatus.GOOD
    ca.handle_register_event(moved)  # delivered again by the outbox: no error
    ca.handle_register_event(Event("registry.something_else", {"juminhyo_code": code}))
    assert ca.status(auth.serial).status is CertStatus.GOOD
    ca.handle_register_event(Event("registry.deceased", {"juminhyo_code": code}))
    assert ca.status(auth.serial).reason is RevocationReason.CESSATION_OF_OPERATION


def test_concurrent_revocations_get_distinct_crl_numbers(ca: CertificateAuthority) -> None:
    issued = [_auth(ca) for _ in range(8)]
    start = _crl_number(ca, "auth")
    errors: list[BaseException] = []

    def revoke(serial: int) -> None:
        try:
            ca.revoke(serial, "superseded")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=revoke, args=(i.serial,)) for i in issued]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    crl = _crl(ca, "auth")
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == start + 8
    assert all(crl.get_revoked_certificate_by_serial_number(i.serial) for i in issued)


def test_racing_revocations_of_one_serial(ca: CertificateAuthority) -> None:
    issued = _auth(ca)
    outcomes: list[str] = []
    lock = threading.Lock()

    def revoke() -> None:
        try:
            ca.revoke(issued.serial, "key_compromise")
            result = "ok"
        except KojinError as exc:
            result = exc.code
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=revoke) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok"] + ["pki.already_revoked"] * 5


def test_crl_is_refreshed_when_half_its_life_has_passed(tmp_path: Path, store_url: str | None) -> None:
    clock = Clock(datetime(2026, 11, 24, 3, 0, tzinfo=UTC))
    with authority(tmp_path, clock=clock, database_url=store_url) as timed:
        first = x509.load_der_x509_crl(timed.crl_der("sign"))
        clock.advance(timedelta(hours=11))
        assert timed.crl_der("sign") == first.public_bytes(serialization.Encoding.DER)
        clock.advance(timedelta(hours=2))
        second = x509.load_der_x509_crl(timed.crl_der("sign"))
        number = second.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
        assert number == 2
        assert second.last_update_utc == clock.now
        assert second.next_update_utc == clock.now + timedelta(days=1)


def test_expired_certificates_leave_the_crl(tmp_path: Path, store_url: str | None) -> None:
    clock = Clock(datetime(2026, 11, 24, 3, 0, tzinfo=UTC))
    with authority(tmp_path, clock=clock, database_url=store_url) as timed:
        old = timed.issue_auth_certificate(card_key().public_key(), juminhyo_code=CODE, birth_date=date(1990, 11, 30))
        timed.revoke(old.serial, "superseded")
        assert x509.load_der_x509_crl(timed.crl_der("auth")).get_revoked_certificate_by_serial_number(old.serial)
        clock.now = old.not_after + timedelta(seconds=1)
        crl = x509.load_der_x509_crl(timed.crl_der("auth"))
        assert crl.get_revoked_certificate_by_serial_number(old.serial) is None
        # still revoked for OCSP and status
        assert timed.status(old.serial).status is CertStatus.REVOKED


def test_store_keeps_state_not_personal_data(ca: CertificateAuthority) -> None:
    issued = _sign(ca)
    with ca.engine.connect() as conn:
        row = (
            conn.execute(select(certificates).where(certificates.c.serial == format(issued.serial, "x")))
            .mappings()
            .one()
        )
        assert row["juminhyo_code"] == CODE and row["kind"] == "sign" and row["status"] == "good"
        assert set(row.keys()) & {"name", "address", "sex", "birth_date"} == set()
        assert conn.execute(select(func.count()).select_from(crls)).scalar_one() == 3


# -- serial linkage -------------------------------------------------------------------


def test_serial_links(ca: CertificateAuthority) -> None:
    code = "22222222226"
    first, second, third = _auth(ca, code), _auth(ca, code), _auth(ca, code)
    assert ca.current_serial(first.serial) == first.serial
    ca.link_serials(first.serial, second.serial)
    ca.link_serials(second.serial, third.serial)
    assert ca.current_serial(first.serial) == third.serial
    assert ca.current_serial(second.serial) == third.serial
    assert ca.current_serial(third.serial) == third.serial

    with pytest.raises(Conflict) as caught:
        ca.link_serials(first.serial, third.serial)
    assert caught.value.code == "pki.already_linked"
    fourth = _auth(ca, code)
    with pytest.raises(Conflict) as caught:
        ca.link_serials(fourth.serial, third.serial)  # third already has a predecessor
    assert caught.value.code == "pki.already_linked"
    with pytest.raises(Conflict) as caught:
        ca.link_serials(third.serial, first.serial)
    assert caught.value.code == "pki.link_cycle"
    with pytest.raises(InvalidInput) as invalid:
        ca.link_serials(fourth.serial, fourth.serial)
    assert invalid.value.code == "pki.link_to_self"
    with pytest.raises(NotPermitted) as refused:
        ca.link_serials(third.serial, _auth(ca, OTHER_CODE).serial)
    assert refused.value.code == "pki.link_mismatch"
    with pytest.raises(NotPermitted):
        ca.link_serials(third.serial, _sign(ca, code).serial)
    with pytest.raises(NotFound) as missing:
        ca.link_serials(third.serial, 42)
    assert missing.value.field == "new_serial"
    assert ca.current_serial(first.serial) == third.serial


# -- CA keys ------------------------------------------------------------------------


def test_key_backend_protocol() -> None:
    backend = EncryptedFileKeyBackend(DirectoryKeyBlobs(Path("/nonexistent")), b"x")
    assert isinstance(backend, KeyBackend)


def test_directory_keys_are_encrypted_files(tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    backend = EncryptedFileKeyBackend.in_directory(directory, b"correct horse")
    public = backend.generate("sign-0001", "p256")
    path = directory / "sign-0001.p8"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    blob = path.read_bytes()
    with pytest.raises(TypeError):
        serialization.load_der_private_key(blob, password=None)
    loaded = serialization.load_der_private_key(blob, password=b"correct horse")
    assert loaded.public_key() == public
    signature = backend.sign("sign-0001", b"data")
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(signature, b"data", ec.ECDSA(hashes.SHA256()))
    # a new process with the same passphrase reads it; a wrong one fails loudly
    again = EncryptedFileKeyBackend.in_directory(directory, b"correct horse")
    assert again.public_key("sign-0001") == public
    with pytest.raises(RuntimeError, match="cannot be decrypted"):
        EncryptedFileKeyBackend.in_directory(directory, b"wrong").sign("sign-0001", b"x")
    with pytest.raises(FileExistsError):
        backend.generate("sign-0001", "p256")
    with pytest.raises(ValueError):
        backend.generate("../escape", "p256")
    with pytest.raises(KeyError):
        backend.sign("missing", b"x")


def test_directory_backend_needs_a_passphrase(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    with pytest.raises(RuntimeError, match=PASSPHRASE_ENV):
        EncryptedFileKeyBackend.in_directory(tmp_path)
    monkeypatch.setenv(PASSPHRASE_ENV, "from the environment")
    backend = EncryptedFileKeyBackend.in_directory(tmp_path)
    backend.generate("k", "p256")
    blob = (tmp_path / "k.p8").read_bytes()
    serialization.load_der_private_key(blob, password=b"from the environment")


def test_store_keys_and_passphrase(tmp_path: Path, store_url: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    with pki_store(tmp_path, store_url) as db:
        engine = db.engine("pki")
        passphrase = store_passphrase(engine)
        assert len(passphrase) >= 32 and store_passphrase(engine) == passphrase
        CertificateAuthority(engine, algorithm="p256").bootstrap()
        with engine.connect() as conn:
            key_ids = list(conn.execute(select(cas.c.key_id)).scalars())
        assert len(key_ids) == 3
        blobs = StoreKeyBlobs(engine)
        for key_id in key_ids:
            blob = blobs.load(key_id)
            assert blob is not None
            with pytest.raises(TypeError):
                serialization.load_der_private_key(blob, password=None)
            serialization.load_der_private_key(blob, password=passphrase)
        # with KOJIN_CA_PASSPHRASE set to something else the keys are unreadable,
        # and the CA says so instead of making new ones
        monkeypatch.setenv(PASSPHRASE_ENV, "another")
        assert store_passphrase(engine) == b"another"
        with pytest.raises(RuntimeError, match="cannot be decrypted"):
            CertificateAuthority(engine).ca("auth")


def test_backend_signing_key_refuses_other_hashes(ca: CertificateAuthority) -> None:
    key = ca.ca("root").signing_key
    assert isinstance(key, rsa.RSAPrivateKey)
    with pytest.raises(ValueError):
        key.sign(b"x", padding.PKCS1v15(), hashes.SHA1())
    with pytest.raises(ValueError):
        key.sign(b"x", padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
    with pytest.raises(NotImplementedError):
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
