"""Tests of :mod:`kojin.card`, and the helpers they share to issue test cards.

RSA-2048 key generation costs 50–100 ms, so each kind of card is personalised
once per test session (:func:`issued`) and every test takes a fresh copy of
that card's state (:meth:`IssuedCard.fresh`), which costs only a key parse.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kojin.card.emulator import KeyAlgorithm, MyNumberCard, PublicKey

AUTH_PIN = "1234"
SIGN_PASSWORD = "KOJIN2024PW"
CARD_INFO_PIN = "5678"
INDIVIDUAL_NUMBER = "123456789018"
# 邉 followed by an ideographic variation selector (U+E0101): the bytes must
# come back exactly, selector included.
NAME = "渡邉\U000e0101　花子"
ADDRESS = "東京都千代田区千代田1番1号"
BIRTH_DATE = "19800401"
SEX = "2"


@functools.cache
def ca_key() -> ec.EllipticCurvePrivateKey:
    # The CA's own key type does not matter to the card; P-256 keeps tests fast.
    return ec.generate_private_key(ec.SECP256R1())


def make_certificate(subject_key: PublicKey, common_name: str, *, issuer: str = "kojin test CA") -> bytes:
    """A DER certificate for ``subject_key`` signed by the test CA."""
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(subject_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(ca_key(), hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


@dataclass(frozen=True)
class IssuedCard:
    """A personalised card's state, and what the issuer learnt while issuing it."""

    state: bytes
    card_id: str
    algorithm: KeyAlgorithm
    auth_public: PublicKey
    sign_public: PublicKey
    auth_cert: bytes
    auth_ca_cert: bytes
    sign_cert: bytes
    sign_ca_cert: bytes

    def fresh(self) -> MyNumberCard:
        """A new card object in the issued state, unbound from any file."""
        return MyNumberCard._restore_state(self.state)


@functools.cache
def issued(algorithm: KeyAlgorithm = KeyAlgorithm.RSA2048) -> IssuedCard:
    """Personalise one card of ``algorithm`` as a municipality would."""
    card = MyNumberCard(f"test-{algorithm.value}")
    auth_public = card.generate_key_pair("auth", algorithm)
    sign_public = card.generate_key_pair("signature", algorithm)
    ca_cert = make_certificate(ca_key().public_key(), "kojin test CA")
    auth_cert = make_certificate(auth_public, "auth")
    sign_cert = make_certificate(sign_public, "signature")
    card.write_certificate("auth", auth_cert, ca_cert)
    card.write_certificate("signature", sign_cert, ca_cert)
    card.write_card_info(
        individual_number=INDIVIDUAL_NUMBER,
        name=NAME,
        address=ADDRESS,
        birth_date=BIRTH_DATE,
        sex=SEX,
    )
    card.set_pin("auth", AUTH_PIN)
    card.set_pin("signature", SIGN_PASSWORD)
    card.set_pin("card_info", CARD_INFO_PIN)
    return IssuedCard(
        state=card._export_state(),
        card_id=card.card_id,
        algorithm=algorithm,
        auth_public=auth_public,
        sign_public=sign_public,
        auth_cert=auth_cert,
        auth_ca_cert=ca_cert,
        sign_cert=sign_cert,
        sign_ca_cert=ca_cert,
    )


def apdu(card: MyNumberCard, hex_or_bytes: str | bytes) -> tuple[bytes, int]:
    """Send one APDU (hex with spaces allowed); return (data, SW)."""
    raw = bytes.fromhex(hex_or_bytes) if isinstance(hex_or_bytes, str) else hex_or_bytes
    out = card.transmit(raw)
    assert len(out) >= 2
    return out[:-2], int.from_bytes(out[-2:], "big")
