"""OCSP in process: the responder, the relying-party client and cache, and verify."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from hypothesis import given, settings
from hypothesis import strategies as st

from kojin.core.errors import InvalidInput, KojinError, NotPermitted, Unauthenticated
from kojin.pki.domain import CertKind
from kojin.pki.ocsp import OcspResponder, issuer_key_hash, issuer_name_hash
from kojin.pki.service import CertificateAuthority, IssuedCertificate
from kojin.pki.verify import (
    OcspAnswer,
    OcspCache,
    OcspClient,
    OcspStatus,
    TrustStore,
    build_ocsp_request,
    verify_end_entity,
)

from . import ADULT_BIRTH, CODE, OTHER_CODE, PERSON, Clock, authority, card_key


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CertificateAuthority]:
    with authority(tmp_path_factory.mktemp("pki-ocsp")) as made:
        yield made


@pytest.fixture(scope="module")
def foreign(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CertificateAuthority]:
    """Another kojin CA: same names, different keys."""
    with authority(tmp_path_factory.mktemp("pki-foreign")) as made:
        yield made


@pytest.fixture(scope="module")
def responder(ca: CertificateAuthority) -> OcspResponder:
    return OcspResponder(ca)


@pytest.fixture(scope="module")
def trust(ca: CertificateAuthority) -> TrustStore:
    return TrustStore.from_pem(ca.ca_pem("root"), ca.ca_pem("sign"), ca.ca_pem("auth"))


def _auth(ca: CertificateAuthority) -> IssuedCertificate:
    return ca.issue_auth_certificate(card_key().public_key(), juminhyo_code=CODE, birth_date=ADULT_BIRTH)


def _sign(ca: CertificateAuthority) -> IssuedCertificate:
    return ca.issue_signature_certificate(card_key().public_key(), juminhyo_code=CODE, **PERSON)


def _ask(
    responder: OcspResponder,
    cert: x509.Certificate,
    issuer: x509.Certificate,
    *,
    nonce: bytes | None = None,
    algorithm: hashes.HashAlgorithm | None = None,
) -> ocsp.OCSPResponse:
    request = build_ocsp_request(cert, issuer, nonce=nonce, algorithm=algorithm or hashes.SHA1())
    return ocsp.load_der_ocsp_response(responder.respond(request))


# -- the responder ---------------------------------------------------------------------


def test_good_answer_is_signed_by_the_issuing_ca(ca: CertificateAuthority, responder: OcspResponder) -> None:
    issued = _auth(ca)
    issuer = ca.ca("auth").certificate
    response = _ask(responder, issued.certificate, issuer, nonce=b"0123456789abcdef")
    assert response.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert response.certificate_status is ocsp.OCSPCertStatus.GOOD
    assert response.serial_number == issued.serial
    assert response.responder_key_hash == issuer_key_hash(issuer, hashes.SHA1())
    assert response.issuer_key_hash == issuer_key_hash(issuer, hashes.SHA1())
    assert response.issuer_name_hash == issuer_name_hash(issuer, hashes.SHA1())
    assert isinstance(response.hash_algorithm, hashes.SHA1)
    nonce = response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
    assert nonce == b"0123456789abcdef"
    assert response.next_update_utc is not None
    assert response.next_update_utc - response.this_update_utc == timedelta(minutes=10)
    assert response.certificates == [issuer]
    key = issuer.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(response.signature, response.tbs_response_bytes, ec.ECDSA(hashes.SHA256()))


def test_sha256_cert_id(ca: CertificateAuthority, responder: OcspResponder) -> None:
    issued = _sign(ca)
    response = _ask(responder, issued.certificate, ca.ca("sign").certificate, algorithm=hashes.SHA256())
    assert response.certificate_status is ocsp.OCSPCertStatus.GOOD
    assert isinstance(response.hash_algorithm, hashes.SHA256)
    with pytest.raises(x509.ExtensionNotFound):
        response.extensions.get_extension_for_class(x509.OCSPNonce)


def test_revoked_answer(ca: CertificateAuthority, responder: OcspResponder) -> None:
    issued = _auth(ca)
    record = ca.revoke(issued.serial, "key_compromise")
    response = _ask(responder, issued.certificate, ca.ca("auth").certificate)
    assert response.certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert response.revocation_time_utc == record.revoked_at
    assert response.revocation_reason is x509.ReasonFlags.key_compromise


def test_unknown_answers(ca: CertificateAuthority, responder: OcspResponder) -> None:
    issued = _auth(ca)
    # an auth serial asked about under the sign CA is not the sign CA's
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate_by_hash(
            issuer_name_hash(ca.ca("sign").certificate, hashes.SHA1()),
            issuer_key_hash(ca.ca("sign").certificate, hashes.SHA1()),
            issued.serial,
            hashes.SHA1(),
        )
        .build()
        .public_bytes(serialization.Encoding.DER)
    )
    response = ocsp.load_der_ocsp_response(responder.respond(request))
    assert response.certificate_status is ocsp.OCSPCertStatus.UNKNOWN
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate_by_hash(
            issuer_name_hash(ca.ca("auth").certificate, hashes.SHA1()),
            issuer_key_hash(ca.ca("auth").certificate, hashes.SHA1()),
            424242,
            hashes.SHA1(),
        )
        .build()
        .public_bytes(serialization.Encoding.DER)
    )
    response = ocsp.load_der_ocsp_response(responder.respond(request))
    assert response.certificate_status is ocsp.OCSPCertStatus.UNKNOWN
    assert response.serial_number == 424242


def test_root_answers_for_the_issuing_cas(ca: CertificateAuthority, responder: OcspResponder) -> None:
    response = _ask(responder, ca.ca("sign").certificate, ca.ca("root").certificate)
    assert response.certificate_status is ocsp.OCSPCertStatus.GOOD


def test_unknown_issuer_is_unauthorized(
    ca: CertificateAuthority, foreign: CertificateAuthority, responder: OcspResponder
) -> None:
    stranger = foreign.issue_auth_certificate(card_key().public_key(), juminhyo_code=CODE, birth_date=ADULT_BIRTH)
    response = _ask(responder, stranger.certificate, foreign.ca("auth").certificate)
    assert response.response_status is ocsp.OCSPResponseStatus.UNAUTHORIZED


@pytest.mark.parametrize(
    "garbage",
    [b"", b"\x00", b"\x30\x00", b"not an ocsp request", b"\x30\x82\xff\xff" + b"\x00" * 10, b"\x30" * 20_000],
)
def test_garbage_is_a_malformed_request(responder: OcspResponder, garbage: bytes) -> None:
    response = ocsp.load_der_ocsp_response(responder.respond(garbage))
    assert response.response_status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_truncated_request_and_long_nonce(ca: CertificateAuthority, responder: OcspResponder) -> None:
    issued = _auth(ca)
    request = build_ocsp_request(issued.certificate, ca.ca("auth").certificate, nonce=b"n" * 16)
    for cut in (1, 5, len(request) // 2, len(request) - 1):
        response = ocsp.load_der_ocsp_response(responder.respond(request[:cut]))
        assert response.response_status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    long_nonce = build_ocsp_request(issued.certificate, ca.ca("auth").certificate, nonce=b"n" * 33)
    response = ocsp.load_der_ocsp_response(responder.respond(long_nonce))
    assert response.response_status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_a_failure_inside_is_internal_error(
    ca: CertificateAuthority, responder: OcspResponder, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = _auth(ca)

    def broken(serial: int) -> None:
        raise RuntimeError("database gone")

    monkeypatch.setattr(ca, "find", broken)
    response = _ask(responder, issued.certificate, ca.ca("auth").certificate)
    assert response.response_status is ocsp.OCSPResponseStatus.INTERNAL_ERROR


@settings(max_examples=150)
@given(st.binary(max_size=400))
def test_responder_never_raises(responder: OcspResponder, data: bytes) -> None:
    response = ocsp.load_der_ocsp_response(responder.respond(data))
    assert response.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL


# -- verify_end_entity -------------------------------------------------------------------


def _client(responder: OcspResponder, clock: Clock | None = None) -> OcspClient:
    return OcspClient(responder.respond, clock=clock)


def _now() -> datetime:
    return datetime.now(UTC)


def test_verify_signature_certificate(ca: CertificateAuthority, responder: OcspResponder, trust: TrustStore) -> None:
    issued = _sign(ca)
    verified = verify_end_entity(
        issued.der,
        expected_kind=CertKind.SIGN,
        at=_now(),
        ocsp_lookup=_client(responder),
        trust=trust,
    )
    assert verified.serial == issued.serial and verified.kind is CertKind.SIGN
    assert verified.subject_ref == issued.subject_ref
    assert verified.basic_items is not None
    assert verified.basic_items.name == PERSON["name"]
    assert verified.basic_items.birth_date == ADULT_BIRTH
    assert verified.revocation.status is OcspStatus.GOOD
    # PEM and certificate objects are accepted too
    verify_end_entity(
        issued.pem,
        expected_kind=CertKind.SIGN,
        at=_now(),
        ocsp_lookup=_client(responder),
        trust=trust,
    )


def test_verify_auth_certificate(ca: CertificateAuthority, responder: OcspResponder, trust: TrustStore) -> None:
    issued = _auth(ca)
    verified = verify_end_entity(
        issued.certificate,
        expected_kind=CertKind.AUTH,
        at=_now(),
        ocsp_lookup=_client(responder),
        trust=ca.trust_store(),
    )
    assert verified.basic_items is None and verified.kind is CertKind.AUTH


def test_wrong_kind(ca: CertificateAuthority, responder: OcspResponder, trust: TrustStore) -> None:
    with pytest.raises(NotPermitted) as caught:
        verify_end_entity(
            _auth(ca).der,
            expected_kind=CertKind.SIGN,
            at=_now(),
            ocsp_lookup=_client(responder),
            trust=trust,
        )
    assert caught.value.code == "pki.wrong_kind"
    with pytest.raises(NotPermitted) as caught:
        verify_end_entity(
            _sign(ca).der,
            expected_kind=CertKind.AUTH,
            at=_now(),
            ocsp_lookup=_client(responder),
            trust=trust,
        )
    assert caught.value.code == "pki.wrong_kind"


def test_dates(ca: CertificateAuthority, trust: TrustStore) -> None:
    issued = _auth(ca)

    def never(cert: x509.Certificate, issuer: x509.Certificate) -> OcspAnswer:
        raise AssertionError("OCSP must not be asked about an invalid certificate")

    with pytest.raises(Unauthenticated) as caught:
        verify_end_entity(
            issued.der,
            expected_kind=CertKind.AUTH,
            at=issued.not_after + timedelta(seconds=1),
            ocsp_lookup=never,
            trust=trust,
        )
    assert caught.value.code == "pki.expired"
    with pytest.raises(Unauthenticated) as caught:
        verify_end_entity(
            issued.der,
            expected_kind=CertKind.AUTH,
            at=issued.not_before - timedelta(seconds=1),
            ocsp_lookup=never,
            trust=trust,
        )
    assert caught.value.code == "pki.not_yet_valid"


def test_revoked(ca: CertificateAuthority, responder: OcspResponder, trust: TrustStore) -> None:
    issued = _auth(ca)
    ca.revoke(issued.serial, "key_compromise")
    with pytest.raises(Unauthenticated) as caught:
        verify_end_entity(
            issued.der,
            expected_kind=CertKind.AUTH,
            at=_now(),
            ocsp_lookup=_client(responder),
            trust=trust,
        )
    assert caught.value.code == "pki.revoked"


def test_foreign_ca(foreign: CertificateAuthority, responder: OcspResponder, trust: TrustStore) -> None:
    stranger = foreign.issue_auth_certificate(card_key().public_key(), juminhyo_code=CODE, birth_date=ADULT_BIRTH)
    with pytest.raises(Unauthenticated) as caught:
        verify_end_entity(
            stranger.der,
            expected_kind=CertKind.AUTH,
            at=_now(),
            ocsp_lookup=_client(responder),
            trust=trust,
        )
    assert caught.value.code == "pki.foreign_ca"


def test_forged_signature(ca: CertificateAuthority, responder: OcspResponder, trust: TrustStore) -> None:
    """A certificate naming our CA, with our key identifier, signed by another key."""
    genuine = _auth(ca).certificate
    forger = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(genuine.subject)
        .issuer_name(genuine.issuer)
        .public_key(card_key().public_key())
        .serial_number(genuine.serial_number + 1)
        .not_valid_before(genuine.not_valid_before_utc)
        .not_valid_after(genuine.not_valid_after_utc)
    )
    for extension in genuine.extensions:
        builder = builder.add_extension(extension.value, critical=extension.critical)
    forged = builder.sign(forger, hashes.SHA256())
    with pytest.raises(Unauthenticated) as caught:
        verify_end_entity(
            forged.public_bytes(serialization.Encoding.DER),
            expected_kind=CertKind.AUTH,
            at=_now(),
            ocsp_lookup=_client(responder),
            trust=trust,
        )
    assert caught.value.code == "pki.bad_signature"


def test_issuing_ca_not_under_our_root(
    ca: CertificateAuthority, foreign: CertificateAuthority, responder: OcspResponder
) -> None:
    mixed = TrustStore(
        root=foreign.ca("root").certificate,
        sign_ca=ca.ca("sign").certificate,
        auth_ca=ca.ca("auth").certificate,
    )
    with pytest.raises(Unauthenticated) as caught:
        verify_end_entity(
            _auth(ca).der,
            expected_kind=CertKind.AUTH,
            at=_now(),
            ocsp_lookup=_client(responder),
            trust=mixed,
        )
    assert (caught.value.code, caught.value.field) == ("pki.bad_signature", "issuer")


def test_unknown_critical_extension_is_malformed(
    ca: CertificateAuthority, responder: OcspResponder, trust: TrustStore
) -> None:
    # Signed by the real auth CA key so only the extension is wrong.
    genuine = _auth(ca).certificate
    builder = (
        x509.CertificateBuilder()
        .subject_name(genuine.subject)
        .issuer_name(genuine.issuer)
        .public_key(card_key().public_key())
        .serial_number(genuine.serial_number + 7)
        .not_valid_before(genuine.not_valid_before_utc)
        .not_valid_after(genuine.not_valid_after_utc)
        .add_extension(
            x509.UnrecognizedExtension(x509.ObjectIdentifier("1.2.3.4.5"), b"\x05\x00"),
            critical=True,
        )
    )
    for extension in genuine.extensions:
        builder = builder.add_extension(extension.value, critical=extension.critical)
    odd = builder.sign(ca.ca("auth").signing_key, hashes.SHA256())
    with pytest.raises(InvalidInput) as caught:
        verify_end_entity(odd, expected_kind=CertKind.AUTH, at=_now(), ocsp_lookup=_client(responder), trust=trust)
    assert caught.value.code == "pki.malformed"


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"\x30\x03\x02\x01\x01",
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        b"\xff" * 64,
    ],
)
def test_malformed_certificates(garbage: bytes, responder: OcspResponder, trust: TrustStore) -> None:
    with pytest.raises(InvalidInput) as caught:
        verify_end_entity(
            garbage,
            expected_kind=CertKind.AUTH,
            at=_now(),
            ocsp_lookup=_client(responder),
            trust=trust,
        )
    assert caught.value.code == "pki.malformed"


def test_version_1_certificate_is_malformed(
    ca: CertificateAuthority, responder: OcspResponder, trust: TrustStore
) -> None:
    issued = _auth(ca)
    der = bytearray(issued.der)
    # Drop the [0] EXPLICIT version field from the TBS: that is what a v1
    # certificate looks like; the now-wrong lengths make it unparseable at worst.
    marker = der.find(b"\xa0\x03\x02\x01\x02")
    assert marker > 0
    del der[marker : marker + 5]
    with pytest.raises(KojinError) as caught:
        verify_end_entity(
            bytes(der),
            expected_kind=CertKind.AUTH,
            at=_now(),
            ocsp_lookup=_client(responder),
            trust=trust,
        )
    assert caught.value.code == "pki.malformed"


@pytest.fixture(scope="module")
def sign_der(ca: CertificateAuthority) -> bytes:
    return _sign(ca).der


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_mutated_certificates_only_raise_kojin_errors(
    sign_der: bytes, responder: OcspResponder, trust: TrustStore, data: st.DataObject
) -> None:
    der = bytearray(sign_der)
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        position = data.draw(st.integers(min_value=0, max_value=len(der) - 1))
        der[position] = data.draw(st.integers(min_value=0, max_value=255))
    cut = data.draw(st.integers(min_value=0, max_value=len(der)))
    try:
        verify_end_entity(
            bytes(der[:cut]) if data.draw(st.booleans()) else bytes(der),
            expected_kind=CertKind.SIGN,
            at=_now(),
            ocsp_lookup=_client(responder),
            trust=trust,
        )
    except KojinError as exc:
        assert exc.code.startswith("pki.")


def test_revocation_unknown_and_unavailable(ca: CertificateAuthority, trust: TrustStore) -> None:
    issued = _auth(ca)

    def unknown(cert: x509.Certificate, issuer: x509.Certificate) -> OcspAnswer:
        return OcspAnswer(OcspStatus.UNKNOWN, _now(), None)

    def down(cert: x509.Certificate, issuer: x509.Certificate) -> OcspAnswer:
        raise ConnectionError("responder unreachable")

    with pytest.raises(Unauthenticated) as caught:
        verify_end_entity(issued.der, expected_kind=CertKind.AUTH, at=_now(), ocsp_lookup=unknown, trust=trust)
    assert caught.value.code == "pki.revocation_unknown"
    with pytest.raises(Unauthenticated) as caught:
        verify_end_entity(issued.der, expected_kind=CertKind.AUTH, at=_now(), ocsp_lookup=down, trust=trust)
    assert caught.value.code == "pki.revocation_unavailable"
    with pytest.raises(Unauthenticated) as caught:
        OcspClient(lambda request: (_ for _ in ()).throw(TimeoutError()))(issued.certificate, ca.ca("auth").certificate)
    assert caught.value.code == "pki.revocation_unavailable"


# -- the OCSP client checks the answers -----------------------------------------------------


def test_client_rejects_bad_answers(ca: CertificateAuthority, responder: OcspResponder) -> None:
    issued, other = _auth(ca), _auth(ca)
    issuer = ca.ca("auth").certificate

    def answer_for(cert: x509.Certificate, nonce: bytes | None = None) -> bytes:
        return responder.respond(build_ocsp_request(cert, issuer, nonce=nonce))

    cases = {
        "nonce not echoed": lambda request: answer_for(issued.certificate),
        "another certificate": lambda request: responder.respond(
            build_ocsp_request(
                other.certificate,
                issuer,
                nonce=ocsp.load_der_ocsp_request(request)
                .extensions.get_extension_for_class(x509.OCSPNonce)
                .value.nonce,
            )
        ),
        "signature does not verify": lambda request: _flip_signature(responder.respond(request)),
        "not a DER OCSPResponse": lambda request: b"<html>proxy error</html>",
    }
    for detail, fetch in cases.items():
        with pytest.raises(Unauthenticated) as caught:
            OcspClient(fetch)(issued.certificate, issuer)
        assert caught.value.code == "pki.ocsp_invalid", detail
        assert detail in caught.value.message_en

    # an answer from the issuer about the issuer's sibling CA is someone else's signature
    sign_issuer = ca.ca("sign").certificate
    with pytest.raises(Unauthenticated) as caught:
        OcspClient(
            lambda request: responder.respond(build_ocsp_request(_sign(ca).certificate, sign_issuer)), use_nonce=False
        )(issued.certificate, issuer)
    assert caught.value.code == "pki.ocsp_invalid"


def _flip_signature(data: bytes) -> bytes:
    """The response with one bit of its own signature flipped (not the attached cert's)."""
    signature = ocsp.load_der_ocsp_response(data).signature
    at = data.index(signature) + len(signature) // 2
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def test_client_rejects_stale_answers(ca: CertificateAuthority, responder: OcspResponder) -> None:
    issued = _auth(ca)
    clock = Clock()
    clock.advance(timedelta(minutes=16))  # nextUpdate (10 min) + skew (5 min) has passed
    with pytest.raises(Unauthenticated) as caught:
        OcspClient(responder.respond, clock=clock)(issued.certificate, ca.ca("auth").certificate)
    assert "stale" in caught.value.message_en


def test_unsuccessful_status_is_unavailable(ca: CertificateAuthority, foreign: CertificateAuthority) -> None:
    issued = _auth(ca)
    with pytest.raises(Unauthenticated) as caught:
        OcspClient(OcspResponder(foreign).respond)(issued.certificate, ca.ca("auth").certificate)
    assert caught.value.code == "pki.revocation_unavailable"
    assert "UNAUTHORIZED" in caught.value.message_en


# -- the cache ---------------------------------------------------------------------------------


def test_cache_keeps_answers_until_next_update(ca: CertificateAuthority, responder: OcspResponder) -> None:
    clock = Clock()
    calls: list[int] = []
    client = _client(responder)

    def counting(cert: x509.Certificate, issuer: x509.Certificate) -> OcspAnswer:
        calls.append(cert.serial_number)
        return client(cert, issuer)

    cache = OcspCache(counting, clock=clock)
    issued = _auth(ca)
    issuer = ca.ca("auth").certificate
    assert cache(issued.certificate, issuer).status is OcspStatus.GOOD
    assert cache(issued.certificate, issuer).status is OcspStatus.GOOD
    assert (len(calls), cache.hits, cache.misses) == (1, 1, 1)
    # A revocation this cache is not told of (made by another process) is seen
    # once the good answer is a second old, long before its nextUpdate.
    ca.revoke(issued.serial)
    clock.advance(timedelta(milliseconds=900))
    assert cache(issued.certificate, issuer).status is OcspStatus.GOOD
    clock.advance(timedelta(milliseconds=200))
    assert cache(issued.certificate, issuer).status is OcspStatus.REVOKED
    assert len(calls) == 2
    # revoked stays revoked: that answer is kept until its nextUpdate
    clock.advance(timedelta(minutes=5))
    assert cache(issued.certificate, issuer).status is OcspStatus.REVOKED
    assert len(calls) == 2


def test_cache_forgets_a_serial_the_ca_revokes(ca: CertificateAuthority, responder: OcspResponder) -> None:
    cache = OcspCache(_client(responder), clock=Clock(), good_for=timedelta(minutes=10))
    told: list[list[int]] = []
    ca.on_revoked(cache.forget)
    ca.on_revoked(lambda serials: told.append(list(serials)))
    issuer = ca.ca("auth").certificate
    kept, revoked = _auth(ca), _auth(ca)
    for issued in (kept, revoked):
        assert cache(issued.certificate, issuer).status is OcspStatus.GOOD
    ca.revoke(revoked.serial)
    # no clock moved: the listener alone made the cache ask again
    assert cache(revoked.certificate, issuer).status is OcspStatus.REVOKED
    assert cache(kept.certificate, issuer).status is OcspStatus.GOOD
    assert (cache.hits, cache.misses) == (1, 3)
    assert told == [[revoked.serial]]
    # a person's certificates revoked together (a loss report, a death) are told at once
    theirs = ca.issue_auth_certificate(card_key().public_key(), juminhyo_code=OTHER_CODE, birth_date=ADULT_BIRTH)
    assert cache(theirs.certificate, issuer).status is OcspStatus.GOOD
    assert ca.revoke_for_person(OTHER_CODE, kinds=[CertKind.AUTH]) == [theirs.serial]
    assert told[-1] == [theirs.serial]
    assert cache(theirs.certificate, issuer).status is OcspStatus.REVOKED


def test_cache_does_not_keep_an_answer_asked_before_a_revocation(ca: CertificateAuthority) -> None:
    clock = Clock()
    issued = _auth(ca)
    cache: OcspCache

    def racing(cert: x509.Certificate, issuer: x509.Certificate) -> OcspAnswer:
        # the revocation lands while this good answer is on its way
        cache.forget([cert.serial_number])
        return OcspAnswer(OcspStatus.GOOD, clock.now, clock.now + timedelta(minutes=5))

    cache = OcspCache(racing, clock=clock)
    assert cache(issued.certificate, ca.ca("auth").certificate).status is OcspStatus.GOOD
    assert len(cache) == 0


def test_cache_skips_unknown_and_is_bounded(ca: CertificateAuthority) -> None:
    clock = Clock()
    status = {"value": OcspStatus.UNKNOWN}

    def lookup(cert: x509.Certificate, issuer: x509.Certificate) -> OcspAnswer:
        return OcspAnswer(status["value"], clock.now, clock.now + timedelta(minutes=5))

    cache = OcspCache(lookup, clock=clock, max_entries=2)
    issuer = ca.ca("auth").certificate
    certs = [_auth(ca).certificate for _ in range(3)]
    cache(certs[0], issuer)
    assert len(cache) == 0
    status["value"] = OcspStatus.GOOD
    for cert in certs:
        cache(cert, issuer)
    assert len(cache) == 2
    cache(certs[0], issuer)  # evicted first, so a miss
    assert cache.hits == 0
    cache(certs[0], issuer)
    assert cache.hits == 1
    cache.clear()
    assert len(cache) == 0
    with pytest.raises(ValueError):
        OcspCache(lookup, max_entries=0)


def test_verify_through_the_cache(ca: CertificateAuthority, responder: OcspResponder, trust: TrustStore) -> None:
    cache = OcspCache(_client(responder))
    issued = _auth(ca)
    for _ in range(3):
        verify_end_entity(issued.der, expected_kind=CertKind.AUTH, at=_now(), ocsp_lookup=cache, trust=trust)
    assert (cache.misses, cache.hits) == (1, 2)


def test_a_cached_certificate_is_still_checked_for_dates_kind_and_revocation(
    ca: CertificateAuthority, responder: OcspResponder, trust: TrustStore
) -> None:
    # The chain and profile of the same bytes are cached after the first
    # success; what changes with time or state must still be checked.
    issued = _auth(ca)
    for presented in (issued.der, bytes(issued.der), issued.certificate):
        verified = verify_end_entity(
            presented, expected_kind=CertKind.AUTH, at=_now(), ocsp_lookup=_client(responder), trust=trust
        )
        assert verified.serial == issued.serial
    cases = [
        ("pki.expired", CertKind.AUTH, issued.not_after + timedelta(seconds=1)),
        ("pki.not_yet_valid", CertKind.AUTH, issued.not_before - timedelta(seconds=1)),
        ("pki.wrong_kind", CertKind.SIGN, _now()),
    ]
    for code, kind, at in cases:
        with pytest.raises(KojinError) as caught:
            verify_end_entity(issued.der, expected_kind=kind, at=at, ocsp_lookup=_client(responder), trust=trust)
        assert caught.value.code == code
    ca.revoke(issued.serial)
    with pytest.raises(Unauthenticated) as caught:
        verify_end_entity(
            issued.der, expected_kind=CertKind.AUTH, at=_now(), ocsp_lookup=_client(responder), trust=trust
        )
    assert caught.value.code == "pki.revoked"


def test_a_trust_store_is_a_cache_key_by_value(
    ca: CertificateAuthority, foreign: CertificateAuthority, responder: OcspResponder, trust: TrustStore
) -> None:
    again = TrustStore.from_pem(ca.ca_pem("root"), ca.ca_pem("sign"), ca.ca_pem("auth"))
    other = TrustStore.from_pem(foreign.ca_pem("root"), foreign.ca_pem("sign"), foreign.ca_pem("auth"))
    assert again == trust and hash(again) == hash(trust)
    assert other != trust
    issued = _auth(ca)
    verify_end_entity(issued.der, expected_kind=CertKind.AUTH, at=_now(), ocsp_lookup=_client(responder), trust=trust)
    # Cached as good under our store, the same bytes are foreign under another.
    with pytest.raises(Unauthenticated) as caught:
        verify_end_entity(
            issued.der, expected_kind=CertKind.AUTH, at=_now(), ocsp_lookup=_client(responder), trust=other
        )
    assert caught.value.code == "pki.foreign_ca"


def test_cache_knows_an_issuer_by_its_bytes(ca: CertificateAuthority, foreign: CertificateAuthority) -> None:
    clock = Clock()
    asked: list[bytes] = []

    def lookup(cert: x509.Certificate, issuer: x509.Certificate) -> OcspAnswer:
        asked.append(issuer.fingerprint(hashes.SHA256()))
        return OcspAnswer(OcspStatus.GOOD, clock.now, clock.now + timedelta(minutes=5))

    cache = OcspCache(lookup, clock=clock)
    cert = _auth(ca).certificate
    issuer = ca.ca("auth").certificate
    copy = x509.load_der_x509_certificate(issuer.public_bytes(serialization.Encoding.DER))
    cache(cert, issuer)
    cache(cert, copy)  # another object, the same certificate: the same answer
    assert (cache.misses, cache.hits) == (1, 1)
    # The same serial under another issuer is another certificate.
    cache(cert, foreign.ca("auth").certificate)
    assert cache.misses == 2 and len(set(asked)) == 2
