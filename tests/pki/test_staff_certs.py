"""Staff CAs per organisation and staff certificates: made on first use, published, checked, kept apart."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kojin.app import Kojin
from kojin.core.errors import KojinError
from kojin.pki.api import make_router
from kojin.pki.domain import CertKind, CertStatus, staff_ca_name
from kojin.pki.ocsp import OcspResponder
from kojin.pki.staff_certs import verify_staff_certificate
from kojin.pki.verify import OcspClient, verify_end_entity

ORG = "municipality:131016"


def _key() -> ec.EllipticCurvePublicKey:
    return ec.generate_private_key(ec.SECP256R1()).public_key()


def test_staff_ca_names_are_per_organisation() -> None:
    assert staff_ca_name("municipality:131016") == "staff-municipality-131016"
    assert staff_ca_name("jlis") == "staff-jlis"
    assert staff_ca_name("agency:nenkin_2") == "staff-agency-nenkin_2"
    for bad in ("", "Municipality:1", "agency:", "agency:a-b", "a:b:c"):
        with pytest.raises(KojinError) as refused:
            staff_ca_name(bad)
        assert refused.value.code == "pki.bad_organisation"


def test_a_staff_ca_is_made_once_under_the_root_even_when_raced(kojin: Kojin) -> None:
    made: list[bytes] = []
    errors: list[BaseException] = []

    def make() -> None:
        try:
            made.append(kojin.ca.staff_ca("agency:nenkin").der)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=make) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(set(made)) == 1
    assert kojin.ca.staff_ca("agency:nenkin").der == made[0]
    ca = x509.load_der_x509_certificate(made[0])
    ca.verify_directly_issued_by(kojin.ca.ca("root").certificate)
    assert "staff-agency-nenkin" in kojin.ca.ca_names()
    # Its first CRL is published at once.
    crl = x509.load_der_x509_crl(kojin.ca.crl_der("staff-agency-nenkin"))
    assert crl.issuer == ca.subject and len(crl) == 0


def test_a_staff_certificate_names_the_staff_id_and_organisation_never_a_role(kojin: Kojin) -> None:
    issued = kojin.ca.issue_staff_certificate(_key(), staff_id="c.tanaka", organisation=ORG)
    cert = issued.certificate
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "c.tanaka"
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == ORG
    assert "clerk" not in cert.subject.rfc4514_string()
    record = kojin.ca.status(issued.serial)
    assert record.kind is CertKind.STAFF and record.ca == "staff-municipality-131016"
    assert record.status is CertStatus.GOOD
    with pytest.raises(KojinError) as bad_id:
        kojin.ca.issue_staff_certificate(_key(), staff_id="Not Valid", organisation=ORG)
    assert bad_id.value.code == "pki.bad_staff_id"


def test_staff_and_resident_certificates_never_pass_for_each_other(kojin: Kojin) -> None:
    ocsp = OcspClient(OcspResponder(kojin.ca).respond)
    staff = kojin.ca.issue_staff_certificate(_key(), staff_id="c.tanaka", organisation=ORG)
    at = kojin.ca.now() + timedelta(minutes=1)
    checked = verify_staff_certificate(staff.der, at=at, ocsp_lookup=ocsp, trust=kojin.ca.staff_trust())
    assert (checked.staff_id, checked.organisation, checked.serial) == ("c.tanaka", ORG, staff.serial)
    with pytest.raises(KojinError) as as_resident:
        verify_end_entity(staff.der, expected_kind=CertKind.AUTH, at=at, ocsp_lookup=ocsp, trust=kojin.ca.trust_store())
    assert as_resident.value.code == "pki.foreign_ca"

    from datetime import date

    resident = kojin.ca.issue_auth_certificate(_key(), juminhyo_code="12345678903", birth_date=date(1980, 1, 1))
    with pytest.raises(KojinError) as as_staff:
        verify_staff_certificate(resident.der, at=at, ocsp_lookup=ocsp, trust=kojin.ca.staff_trust())
    assert as_staff.value.code == "pki.foreign_ca"


def test_crl_and_ocsp_routes_answer_for_staff_cas(kojin: Kojin) -> None:
    issued = kojin.ca.issue_staff_certificate(_key(), staff_id="c.tanaka", organisation=ORG)
    responder = OcspResponder(kojin.ca)
    app = FastAPI()
    app.include_router(make_router(kojin.ca, responder=responder))
    client = TestClient(app)
    ca_name = "staff-municipality-131016"
    assert client.get(f"/pki/ca/{ca_name}.cer").status_code == 200
    ocsp = OcspClient(
        lambda der: client.post("/pki/ocsp", content=der, headers={"content-type": "application/ocsp-request"}).content
    )
    issuer = kojin.ca.ca(ca_name).certificate
    assert ocsp(issued.certificate, issuer).status.value == "good"
    kojin.ca.revoke(issued.serial, "key_compromise")
    assert ocsp(issued.certificate, issuer).status.value == "revoked"
    crl = x509.load_der_x509_crl(client.get(f"/pki/crl/{ca_name}.crl").content)
    assert crl.get_revoked_certificate_by_serial_number(issued.serial) is not None
    # A staff CA that was never made is an unknown CA, not a server error.
    assert client.get("/pki/crl/staff-jlis.crl").status_code == 404
    # The root's OCSP knows the staff CA it signed.
    assert ocsp(issuer, kojin.ca.ca("root").certificate).status.value == "good"
