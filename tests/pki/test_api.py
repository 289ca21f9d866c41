"""The CA's HTTP endpoints: CA certificates, CRLs, OCSP by POST and by GET."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509 import ocsp
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kojin.pki.api import decode_get_request, make_router
from kojin.pki.service import CertificateAuthority, IssuedCertificate
from kojin.pki.verify import build_ocsp_request

from . import ADULT_BIRTH, CODE, authority, card_key


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CertificateAuthority]:
    with authority(tmp_path_factory.mktemp("pki-api")) as made:
        yield made


@pytest.fixture(scope="module")
def client(ca: CertificateAuthority) -> Iterator[TestClient]:
    app = FastAPI()
    app.include_router(make_router(ca))
    with TestClient(app, raise_server_exceptions=True) as test_client:
        yield test_client


def _auth(ca: CertificateAuthority) -> IssuedCertificate:
    return ca.issue_auth_certificate(card_key().public_key(), juminhyo_code=CODE, birth_date=ADULT_BIRTH)


def _request(ca: CertificateAuthority, issued: IssuedCertificate, nonce: bytes | None = None) -> bytes:
    return build_ocsp_request(issued.certificate, ca.ca("auth").certificate, nonce=nonce, algorithm=hashes.SHA1())


def _ocsp(reply_content: bytes) -> ocsp.OCSPResponse:
    return ocsp.load_der_ocsp_response(reply_content)


# -- CA certificates and CRLs ------------------------------------------------------


@pytest.mark.parametrize("name", ["root", "sign", "auth"])
def test_ca_certificates(ca: CertificateAuthority, client: TestClient, name: str) -> None:
    pem = client.get(f"/pki/ca/{name}.pem")
    assert pem.status_code == 200
    assert pem.headers["content-type"] == "application/x-pem-file"
    assert pem.content == ca.ca_pem(name)
    der = client.get(f"/pki/ca/{name}.cer")
    assert der.headers["content-type"] == "application/pkix-cert"
    assert x509.load_der_x509_certificate(der.content) == ca.ca(name).certificate


@pytest.mark.parametrize("path", ["/pki/ca/other.pem", "/pki/ca/other.cer", "/pki/crl/other.crl"])
def test_unknown_ca_is_a_404_in_the_error_shape(client: TestClient, path: str) -> None:
    reply = client.get(path)
    assert reply.status_code == 404
    assert reply.json()["error"]["code"] == "pki.unknown_ca"


def test_crl_endpoint(ca: CertificateAuthority, client: TestClient) -> None:
    issued = _auth(ca)
    ca.revoke(issued.serial, "key_compromise")
    reply = client.get("/pki/crl/auth.crl")
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(reply.content)
    assert crl.get_revoked_certificate_by_serial_number(issued.serial) is not None
    # cryptography types a certificate's key wider (X25519 and such) than a CRL's issuer key: a CA's is RSA or EC.
    assert crl.is_signature_valid(ca.ca("auth").certificate.public_key())  # type: ignore[arg-type]


# -- OCSP ---------------------------------------------------------------------------


def test_ocsp_post(ca: CertificateAuthority, client: TestClient) -> None:
    issued = _auth(ca)
    reply = client.post(
        "/pki/ocsp",
        content=_request(ca, issued, b"a nonce"),
        headers={"Content-Type": "application/ocsp-request"},
    )
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/ocsp-response"
    assert reply.headers["cache-control"] == "no-store"
    response = _ocsp(reply.content)
    assert response.certificate_status is ocsp.OCSPCertStatus.GOOD
    assert response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == b"a nonce"


def test_ocsp_post_revoked_and_unknown_issuer(
    ca: CertificateAuthority, client: TestClient, tmp_path_factory: pytest.TempPathFactory
) -> None:
    issued = _auth(ca)
    ca.revoke(issued.serial, "cessation_of_operation")
    response = _ocsp(
        client.post(
            "/pki/ocsp", content=_request(ca, issued), headers={"content-type": "application/ocsp-request"}
        ).content
    )
    assert response.certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert response.revocation_reason is x509.ReasonFlags.cessation_of_operation
    with authority(tmp_path_factory.mktemp("pki-api-other")) as other:
        stranger = _auth(other)
        request = build_ocsp_request(stranger.certificate, other.ca("auth").certificate)
    response = _ocsp(
        client.post("/pki/ocsp", content=request, headers={"content-type": "application/ocsp-request"}).content
    )
    assert response.response_status is ocsp.OCSPResponseStatus.UNAUTHORIZED


@pytest.mark.parametrize("body", [b"", b"garbage", b"\x30\x80\x00\x00", b"\x30\x82\x00\x05\x01", b"x" * 20_000])
def test_ocsp_post_garbage_is_malformed_request(client: TestClient, body: bytes) -> None:
    reply = client.post("/pki/ocsp", content=body, headers={"Content-Type": "application/ocsp-request"})
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/ocsp-response"
    assert _ocsp(reply.content).response_status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_ocsp_get(ca: CertificateAuthority, client: TestClient) -> None:
    issued = _auth(ca)
    encoded = quote(base64.b64encode(_request(ca, issued)).decode("ascii"), safe="")
    reply = client.get(f"/pki/ocsp/{encoded}")
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/ocsp-response"
    response = _ocsp(reply.content)
    assert response.certificate_status is ocsp.OCSPCertStatus.GOOD
    # no nonce: cacheable until nextUpdate (RFC 5019)
    cache_control = reply.headers["cache-control"]
    assert cache_control.startswith("max-age=") and "public" in cache_control
    max_age = int(cache_control.split(",")[0].removeprefix("max-age="))
    assert 0 < max_age <= 600
    # unencoded base64 in the path works too ('/' is allowed by the route)
    raw = base64.b64encode(_request(ca, issued)).decode("ascii")
    assert _ocsp(client.get(f"/pki/ocsp/{raw}").content).serial_number == issued.serial
    # with a nonce the answer is for one request only
    with_nonce = base64.b64encode(_request(ca, issued, b"n" * 8)).decode("ascii")
    reply = client.get(f"/pki/ocsp/{quote(with_nonce, safe='')}")
    assert reply.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", ["/pki/ocsp/", "/pki/ocsp/!!!!", "/pki/ocsp/AAAA", "/pki/ocsp/a/b/c"])
def test_ocsp_get_garbage_is_malformed_request(client: TestClient, path: str) -> None:
    reply = client.get(path)
    assert reply.status_code == 200
    assert _ocsp(reply.content).response_status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_decode_get_request_forms() -> None:
    der = bytes(range(256))
    standard = base64.b64encode(der).decode("ascii")
    assert "/" in standard and "+" in standard
    assert decode_get_request(standard) == der
    assert decode_get_request(quote(standard, safe="")) == der
    assert decode_get_request(standard.rstrip("=")) == der
    assert decode_get_request(base64.urlsafe_b64encode(der).decode("ascii")) == der
    assert decode_get_request(standard.replace("+", " ")) == der
    assert decode_get_request("@@@") is None


def test_ocsp_never_answers_500(ca: CertificateAuthority, client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    issued = _auth(ca)

    def broken(serial: int) -> None:
        raise RuntimeError("database gone")

    monkeypatch.setattr(ca, "find", broken)
    reply = client.post("/pki/ocsp", content=_request(ca, issued), headers={"content-type": "application/ocsp-request"})
    assert reply.status_code == 200
    assert _ocsp(reply.content).response_status is ocsp.OCSPResponseStatus.INTERNAL_ERROR


def test_each_answer_is_the_media_type_the_document_names(client: TestClient) -> None:
    spec = client.app.openapi()  # type: ignore[attr-defined]
    ocsp_doc = spec["paths"]["/pki/ocsp/{encoded}"]["get"]["responses"]["200"]["content"]
    malformed = client.get("/pki/ocsp/not-base64!")
    assert malformed.status_code == 200
    assert list(ocsp_doc) == [malformed.headers["content-type"]]
    pem_doc = spec["paths"]["/pki/ca/{name}.pem"]["get"]["responses"]["200"]["content"]
    assert list(pem_doc) == ["application/x-pem-file"]
