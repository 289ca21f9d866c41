"""The card-reader software (カードリーダーのソフトウェア) on the person's computer.

It stands for what the real portal asks people to install: the only program
that ever sees the PIN. It reads from an inserted card only what the card
gives without a PIN (the authentication certificate), and signs a relying
party's challenge after the PIN — all in APDUs through
:class:`~kojin.card.reader.CardReader`, exactly as it would drive a real card.

The emulated cards all sit in ``kojin-data/cards/`` on the server, so holding
a card is stood for by knowing its id (128 random bits): a person inserts a
card by typing the id printed with it. The list of every card file exists only
in demo mode (:attr:`~kojin.core.config.Settings.reader_lists_cards`).

A slot holds one card at a time. Every insertion gets a random id; when a card
is taken out, or another card is put in, the reader reports the end of that
insertion (``on_removed``), and the portal ends the session opened with it.
The slot's state travels in a cookie MACed with a key of the reader's own.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509

from kojin.auth.service import sign_challenge_with_card
from kojin.card.issuance import CardOffice
from kojin.card.reader import CardReader
from kojin.card.transport import InProcessTransport
from kojin.core.errors import NotFound
from kojin.reader import reasons

_CARD_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}\Z")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}\Z")
# How a card id is printed for people to type (groups of four, see group_card_id);
# what is typed may also be full-width or upper case.
_GROUP = 4
_SEPARATORS = re.compile(r"[\s\-]+")

# Where a signed answer may be sent: the relying parties' login endpoints on
# this site, never an address taken from the request.
RETURN_PATHS: dict[str, str] = {"/portal/login": "マイナポータル"}


def allow_return(path: str, name: str) -> None:
    """Let another relying party (clinic, kiosk) receive signed answers at ``path``."""
    RETURN_PATHS[path] = name


@dataclass(frozen=True)
class Slot:
    """The reader's slot (カードスロット): which card is in, since which insertion."""

    card_id: str | None
    insertion_id: str | None
    csrf: str


@dataclass(frozen=True)
class CardView:
    """What the reader may show of a card without its PIN."""

    card_id: str
    serial: int
    not_before: datetime
    not_after: datetime
    issuer: str
    tries_left: int


def no_card() -> NotFound:
    return reasons.NO_CARD.error()


def group_card_id(card_id: str) -> str:
    """The id as printed for a person to type: ``3f2a 9c1b …``."""
    return " ".join(card_id[i : i + _GROUP] for i in range(0, len(card_id), _GROUP))


def typed_card_ids(typed: str) -> list[str]:
    """The card ids a typed text may mean: as typed, and without the spaces and hyphens of grouping."""
    text = unicodedata.normalize("NFKC", typed).strip()
    joined = _SEPARATORS.sub("", text).lower()
    return [text] if joined == text else [text, joined]


class ReaderService:
    def __init__(
        self, cards: CardOffice, on_removed: Callable[[str], object] | None = None, *, list_cards: bool = False
    ) -> None:
        self.cards = cards
        self._on_removed = on_removed
        self.list_cards = list_cards
        self._key: bytes | None = None

    @property
    def key(self) -> bytes:
        if self._key is None:
            self._key = hmac.digest(self.cards.secret, b"kojin-reader-slot-cookie/1", "sha256")
        return self._key

    # -- the slot ------------------------------------------------------------------
    def new_slot(self) -> Slot:
        return Slot(None, None, secrets.token_urlsafe(24))

    def encode(self, slot: Slot) -> str:
        body = (
            base64.urlsafe_b64encode(json.dumps({"c": slot.card_id, "i": slot.insertion_id, "t": slot.csrf}).encode())
            .decode()
            .rstrip("=")
        )
        mac = base64.urlsafe_b64encode(hmac.digest(self.key, body.encode(), "sha256")).decode().rstrip("=")
        return f"{body}.{mac}"

    def decode(self, value: str | None) -> Slot | None:
        if not value or len(value) > 600 or value.count(".") != 1:
            return None
        body, mac = value.split(".")
        expected = base64.urlsafe_b64encode(hmac.digest(self.key, body.encode(), "sha256")).decode().rstrip("=")
        if not hmac.compare_digest(mac.encode(), expected.encode()):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except (ValueError, binascii.Error):
            return None
        card, insertion, csrf = data.get("c"), data.get("i"), data.get("t")
        if not isinstance(csrf, str) or not _TOKEN.match(csrf):
            return None
        if card is not None and (not isinstance(card, str) or not _CARD_ID.match(card)):
            return None
        if insertion is not None and (not isinstance(insertion, str) or not _TOKEN.match(insertion)):
            return None
        return Slot(card, insertion, csrf)

    def listed_cards(self) -> list[str]:
        """Every card file, in demo mode only; otherwise nothing (a card goes in by its id)."""
        return self.cards.card_files() if self.list_cards else []

    def _check_card(self, card_id: str) -> str:
        if not isinstance(card_id, str) or not _CARD_ID.match(card_id) or card_id not in self.cards.card_files():
            raise no_card()
        return card_id

    def insert(self, slot: Slot, typed: str) -> Slot:
        """Put in the card whose id was typed; the card that was in is taken out first (its insertion ends).

        An id of no card is refused as a missing card is, and the slot stays as it was.
        """
        for candidate in typed_card_ids(typed):
            try:
                card_id = self._check_card(candidate)
                break
            except NotFound:
                continue
        else:
            raise no_card()
        self.remove(slot)
        return Slot(card_id, secrets.token_urlsafe(24), slot.csrf)

    def remove(self, slot: Slot) -> Slot:
        if slot.insertion_id and self._on_removed is not None:
            self._on_removed(slot.insertion_id)
        return Slot(None, None, slot.csrf)

    # -- talking to the card ---------------------------------------------------------
    def _transport(self, card_id: str) -> InProcessTransport:
        return InProcessTransport(self.cards.load(self._check_card(card_id)))

    def read(self, card_id: str) -> CardView:
        """The authentication certificate and the PIN counter: what needs no PIN."""
        with CardReader(self._transport(card_id)) as reader:
            der = reader.read_auth_certificate()
            tries = reader.auth_pin_tries_left()
        cert = x509.load_der_x509_certificate(der)
        return CardView(
            card_id,
            cert.serial_number,
            cert.not_valid_before_utc,
            cert.not_valid_after_utc,
            cert.issuer.rfc4514_string(),
            tries,
        )

    def sign(self, card_id: str, pin: str, challenge: str) -> tuple[bytes, bytes]:
        """The card's certificate and its signature over ``challenge``, after the PIN."""
        if not challenge or len(challenge) > 300:
            raise reasons.BAD_CHALLENGE.error()
        return sign_challenge_with_card(self._transport(card_id), pin, challenge)
