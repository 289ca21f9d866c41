"""PIN state (暗証番号): where each PIN lives, its tries, and how one VERIFY counts.

The counter is decremented and saved *before* the comparison and restored
after a match, so killing the process mid-command never gives a try back; if
the save fails the card answers ``65 81`` without comparing.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass

from kojin.card.apdu import (
    CARD_INFO_AID,
    CARD_INFO_EF_PIN,
    CARD_INFO_PIN_TRIES,
    JPKI_AID,
    JPKI_AUTH_PIN_TRIES,
    JPKI_EF_AUTH_PIN,
    JPKI_EF_SIGN_PIN,
    JPKI_SIGN_PIN_TRIES,
    SW,
    sw_tries_left,
)
from kojin.card.errors import PinKind, validate_pin


@dataclass(frozen=True, slots=True)
class PinSlot:
    """Where a PIN lives on the card and how many tries it has."""

    aid: bytes
    fid: int
    max_tries: int


@dataclass(slots=True)
class PinEF:
    """A PIN's elementary file: the secret and the tries left."""

    secret: bytes
    max_tries: int
    tries_left: int


PIN_SLOTS: dict[PinKind, PinSlot] = {
    PinKind.AUTH: PinSlot(JPKI_AID, JPKI_EF_AUTH_PIN, JPKI_AUTH_PIN_TRIES),
    PinKind.SIGNATURE: PinSlot(JPKI_AID, JPKI_EF_SIGN_PIN, JPKI_SIGN_PIN_TRIES),
    PinKind.CARD_INFO: PinSlot(CARD_INFO_AID, CARD_INFO_EF_PIN, CARD_INFO_PIN_TRIES),
}
PIN_AT: dict[tuple[bytes, int], PinSlot] = {(s.aid, s.fid): s for s in PIN_SLOTS.values()}


def new_pin_ef(kind: PinKind, pin: str) -> PinEF:
    """A PIN set (or reset) to ``pin`` with its full tries; the PIN's format is checked."""
    slot = PIN_SLOTS[kind]
    validate_pin(kind, pin)
    return PinEF(pin.encode("ascii"), slot.max_tries, slot.max_tries)


def try_pin(ef: PinEF, offered: bytes, save: Callable[[], bool]) -> int:
    """One counted VERIFY of ``offered``: the status word to answer.

    ``save`` writes the card's state and says whether that worked.
    """
    ef.tries_left -= 1
    if not save():
        return SW.MEMORY_FAILURE
    if hmac.compare_digest(offered, ef.secret):
        ef.tries_left = ef.max_tries
        # A failed save here costs the holder at most one try, never gives one.
        save()
        return SW.OK
    return sw_tries_left(ef.tries_left)
