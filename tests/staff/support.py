"""Staff credentials for tests of guarded routes (a registered member and a bearer token); export recipients' keys.

The token is issued the way the token endpoint issues one after a card login
(tests/staff/test_login.py walks the card login itself); here the member is
taken as authenticated so that tests of other parties stay about their party.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from kojin.app import Kojin
from kojin.staff.domain import Organisation, Role

CITY = "13105"  # 文京区, the tests' usual municipality


def staff_headers(
    kojin: Kojin, role: Role, organisation: str = f"municipality:{CITY}", staff_id: str | None = None
) -> dict[str, str]:
    """``Authorization`` for a staff member in ``role`` at ``organisation`` (registered if new)."""
    org = Organisation.parse(organisation)
    staff_id = staff_id or f"{role.value}.{org.kind.value}.{org.id}".replace("_", "-")[:40]
    if kojin.staff.roster.find(staff_id) is None:
        kojin.staff.register(staff_id, f"試験 {role.value}", org, role)
    return {"authorization": f"Bearer {kojin.staff.issue_token(staff_id).access_token}"}


def clerk_headers(kojin: Kojin, municipality: str = CITY) -> dict[str, str]:
    return staff_headers(kojin, Role.COUNTER_CLERK, f"municipality:{municipality}")


@dataclass(frozen=True)
class RecipientKey:
    """A recipient's certificate and private key, as PEM, for export tests to encrypt to and decrypt with."""

    certificate_pem: str
    key_pem: str


@lru_cache(maxsize=8)
def recipient_key(bits: int = 2048, days: int = 365, common_name: str = "年金機構 出力担当") -> RecipientKey:
    """A self-signed certificate of a fresh RSA key, valid from yesterday for ``days`` days (negative: expired)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    start = now - timedelta(days=1) if days > 0 else now - timedelta(days=30)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(now + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    return RecipientKey(
        certificate.public_bytes(serialization.Encoding.PEM).decode(),
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
    )


def openssl_decrypt(sealed: Path, key: RecipientKey, workdir: Path) -> bytes:
    """What the recipient reads: ``openssl cms -decrypt`` of the DER file with their certificate and key."""
    cert, private = workdir / "recipient-cert.pem", workdir / "recipient-key.pem"
    cert.write_text(key.certificate_pem)
    private.write_text(key.key_pem)
    command = ["openssl", "cms", "-decrypt", "-inform", "DER", "-in", str(sealed), "-recip", str(cert)]
    done = subprocess.run([*command, "-inkey", str(private)], capture_output=True, check=True)
    return done.stdout
