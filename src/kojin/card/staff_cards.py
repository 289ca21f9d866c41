"""Staff cards (職員カード): the same card as a resident's, for logging in as staff.

A staff card is the emulated JPKI card with only its authentication slot
filled: a key pair made on the card, certified by the organisation's staff CA
(:meth:`~kojin.pki.service.CertificateAuthority.issue_staff_certificate`), and
a 4-digit PIN. It holds no individual number, no basic items and no signature
key. The card file goes where resident cards go, so the reader offers it the
same way. The staff roster records the certificate serial as the member's
``card_serial`` (:func:`card_serial_of`); revoking the card revokes that
certificate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from kojin.card.emulator import KeyAlgorithm, KeyKind, MyNumberCard
from kojin.card.errors import PinKind, validate_pin
from kojin.card.storage import CardStore, card_path
from kojin.core.errors import Conflict, NotFound
from kojin.pki.domain import RevocationReason, parse_serial_key, serial_key
from kojin.pki.service import CertificateAuthority


@dataclass(frozen=True)
class IssuedStaffCard:
    """A staff card handed over: its file id for the reader, and its certificate's serial."""

    card_id: str
    staff_id: str
    organisation: str
    serial: int
    not_after: datetime
    algorithm: str
    path: Path

    @property
    def card_serial(self) -> str:
        """What the staff roster records as the member's card (the certificate serial, hex)."""
        return card_serial_of(self.serial)


def card_serial_of(serial: int) -> str:
    return serial_key(serial)


def issue_staff_card(
    ca: CertificateAuthority,
    cards_dir: Path,
    secret: bytes,
    *,
    staff_id: str,
    organisation: str,
    pin: str,
    algorithm: KeyAlgorithm,
) -> IssuedStaffCard:
    """Make a staff card: key pair on the card, staff certificate, PIN; saved for the reader."""
    validate_pin(PinKind.AUTH, pin)
    card = MyNumberCard()
    public = card.generate_key_pair(KeyKind.AUTH, algorithm)
    issued = ca.issue_staff_certificate(public, staff_id=staff_id, organisation=organisation)
    card.write_certificate(KeyKind.AUTH, issued.der, ca.ca_der(issued.ca))
    card.set_pin(PinKind.AUTH, pin)
    path = card_path(cards_dir, card.card_id)
    CardStore(path, secret).save(card)
    return IssuedStaffCard(card.card_id, staff_id, organisation, issued.serial, issued.not_after, algorithm.value, path)


def revoke_staff_card(
    ca: CertificateAuthority, card_serial: str, reason: RevocationReason = RevocationReason.KEY_COMPROMISE
) -> None:
    """Revoke a staff card's certificate (lost, or its holder left); a card already revoked stays so.

    A card serial that names no certificate of ours (recorded by hand before
    staff cards existed) has nothing to revoke.
    """
    try:
        ca.revoke(parse_serial_key(card_serial), reason)
    except ValueError:
        return  # not a certificate serial
    except (Conflict, NotFound):
        return  # already revoked, or not ours
