"""Recipients of exports: a name and a certificate of an RSA key of at least 2048 bits, valid now."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from kojin.app import Kojin
from kojin.core.errors import KojinError
from kojin.staff.domain import Organisation, Role, StaffPrincipal
from tests.staff.support import recipient_key

CITY = Organisation.of("municipality", "131016")


def _login(kojin: Kojin, staff_id: str, role: Role) -> StaffPrincipal:
    kojin.staff.register(staff_id, staff_id, CITY, role)
    return kojin.staff.check_token(kojin.staff.issue_token(staff_id).access_token)


def _code(attempt: object) -> tuple[str, int]:
    assert callable(attempt)
    with pytest.raises(KojinError) as caught:
        attempt()
    return caught.value.code, caught.value.status


def _ec_certificate() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "ec")])
    der = x509.load_pem_x509_certificate(recipient_key().certificate_pem.encode())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(der.not_valid_before_utc)
        .not_valid_after(der.not_valid_after_utc)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_a_supervisor_registers_a_recipient(kojin: Kojin) -> None:
    boss = _login(kojin, "s.yamada", Role.SUPERVISOR)
    pem = recipient_key().certificate_pem
    added = kojin.staff.add_recipient(boss, "agency:nenkin", "\n" + pem + "\n")
    assert (added.name, added.registered_by, added.organisation) == ("agency:nenkin", "s.yamada", CITY)
    assert added.certificate_pem == pem
    assert "年金機構" in added.subject and len(added.fingerprint) == 64
    assert kojin.staff.recipient("agency:nenkin") == added
    assert _code(lambda: kojin.staff.add_recipient(boss, "agency:nenkin", pem)) == ("staff.recipient_exists", 409)
    assert _code(lambda: kojin.staff.recipient("agency:nta")) == ("staff.unknown_recipient", 404)


def test_only_supervisors_and_system_administrators_register(kojin: Kojin) -> None:
    clerk = _login(kojin, "c.tanaka", Role.COUNTER_CLERK)
    pem = recipient_key().certificate_pem
    assert _code(lambda: kojin.staff.add_recipient(clerk, "agency:nenkin", pem)) == ("staff.wrong_role", 403)
    admin = _login(kojin, "s.admin", Role.SYSADMIN)
    assert kojin.staff.add_recipient(admin, "agency:nenkin", pem).registered_by == "s.admin"


@pytest.mark.parametrize(
    ("certificate", "code"),
    [
        (lambda: "not a certificate", "staff.recipient_certificate_invalid"),
        (lambda: recipient_key().certificate_pem * 2, "staff.recipient_certificate_invalid"),
        (lambda: recipient_key().key_pem, "staff.recipient_certificate_invalid"),
        (lambda: recipient_key(bits=1024).certificate_pem, "staff.recipient_certificate_key"),
        (_ec_certificate, "staff.recipient_certificate_key"),
        (lambda: recipient_key(days=-1).certificate_pem, "staff.recipient_certificate_expired"),
    ],
)
def test_a_bad_certificate_is_refused(kojin: Kojin, certificate: object, code: str) -> None:
    assert callable(certificate)
    boss = _login(kojin, "s.yamada", Role.SUPERVISOR)
    assert _code(lambda: kojin.staff.add_recipient(boss, "agency:nenkin", certificate())) == (code, 422)
    assert kojin.staff.recipients.find("agency:nenkin") is None
