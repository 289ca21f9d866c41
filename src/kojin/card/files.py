"""The card's file system: its two applications, their elementary files (EF) and who may read them.

The layout, as on the real card (FACTS.md §3), is tabled in
:mod:`kojin.card.emulator`. An EF that has not been personalised does not
exist. A transparent EF is read with READ BINARY, freely or after its PIN; a
key EF is used only by COMPUTE DIGITAL SIGNATURE; a PIN EF only by VERIFY.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from cryptography import x509

from kojin.card import reasons
from kojin.card.apdu import (
    CARD_INFO_AID,
    CARD_INFO_EF_BASIC_ITEMS,
    CARD_INFO_EF_NUMBER,
    CARD_INFO_EF_PIN,
    JPKI_AID,
    JPKI_EF_AUTH_CA_CERT,
    JPKI_EF_AUTH_CERT,
    JPKI_EF_AUTH_KEY,
    JPKI_EF_SIGN_CA_CERT,
    JPKI_EF_SIGN_CERT,
    JPKI_EF_SIGN_KEY,
    JPKI_EF_SIGN_PIN,
    JPKI_EF_TOKEN,
    JPKI_TOKEN,
)
from kojin.card.errors import PinKind
from kojin.card.keypairs import KeyAlgorithm, KeyKind, PrivateKey
from kojin.card.pins import PinEF

MAX_EF_SIZE: Final = 0x7FFF  # READ BINARY addresses 15 bits


@dataclass(frozen=True, slots=True)
class KeySlot:
    """Where a key pair, its certificate and its CA's certificate live, and which PIN guards the key."""

    key_fid: int
    cert_fid: int
    ca_fid: int
    pin: PinKind


@dataclass(slots=True)
class BinaryEF:
    """A transparent EF; ``read_pin`` is the PIN EF that guards READ BINARY (None: free to read).

    A ``withdrawn`` EF holds nothing any more and answers READ BINARY with
    ``69 85`` (conditions of use not satisfied): what the issuer leaves in
    place of a fact the register no longer stands behind.
    """

    data: bytes
    read_pin: int | None
    withdrawn: bool = False


@dataclass(slots=True)
class KeyEF:
    """A private key EF, usable after the PIN EF ``pin_fid`` is verified."""

    key: PrivateKey
    algorithm: KeyAlgorithm
    pin_fid: int


EF = BinaryEF | KeyEF | PinEF
FileSystem = dict[bytes, dict[int, EF]]

KEY_SLOTS: dict[KeyKind, KeySlot] = {
    KeyKind.AUTH: KeySlot(JPKI_EF_AUTH_KEY, JPKI_EF_AUTH_CERT, JPKI_EF_AUTH_CA_CERT, PinKind.AUTH),
    KeyKind.SIGNATURE: KeySlot(JPKI_EF_SIGN_KEY, JPKI_EF_SIGN_CERT, JPKI_EF_SIGN_CA_CERT, PinKind.SIGNATURE),
}
KEY_AT: dict[int, KeySlot] = {s.key_fid: s for s in KEY_SLOTS.values()}
# Which PIN EF guards READ BINARY of each transparent EF (None: free to read).
READ_RULES: dict[bytes, dict[int, int | None]] = {
    JPKI_AID: {
        JPKI_EF_AUTH_CERT: None,
        JPKI_EF_AUTH_CA_CERT: None,
        JPKI_EF_SIGN_CERT: JPKI_EF_SIGN_PIN,
        JPKI_EF_SIGN_CA_CERT: None,
        JPKI_EF_TOKEN: None,
    },
    CARD_INFO_AID: {
        CARD_INFO_EF_NUMBER: CARD_INFO_EF_PIN,
        CARD_INFO_EF_BASIC_ITEMS: CARD_INFO_EF_PIN,
    },
}


def blank_file_system() -> FileSystem:
    """A card before personalisation: both applications, only the JPKI token written."""
    return {
        JPKI_AID: {JPKI_EF_TOKEN: BinaryEF(JPKI_TOKEN, None)},
        CARD_INFO_AID: {},
    }


def load_certificate(der: bytes, field: str) -> x509.Certificate:
    """A certificate to be written to the card: DER X.509 that fits an EF."""
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise reasons.CERTIFICATE_DER.error(field=field) from exc
    if len(der) > MAX_EF_SIZE:
        raise reasons.CERTIFICATE_TOO_LONG.error(field=field)
    return cert
