"""Issuing My Number cards at the counter (個人番号カードの交付): municipality + J-LIS.

The key pairs are generated on the card; only public keys leave it, for the CA
to certify. PINs are set at hand-over. A new card for the same person replaces
the old one: its certificates are revoked and the new authentication serial is
linked to the old, so relying parties that knew the old serial can follow.

The card follows the register (:meth:`CardOffice.handle_register_event`):

- a number change puts the person's cards in ``to_return`` (返納が必要) and
  withdraws the number from the chip, so the 券面事項入力補助AP answers ``69 85``
  instead of the retired number; the certificates stay good, so the holder can
  still log in to the portal and read why;
- a move or a name change marks the chip stale (``chip_stale_since``) until the
  counter writes the new four basic items to it (:meth:`CardOffice.rewrite`).
  J-LIS answers the flag with the card's state (:class:`CardState`), which is
  what a relying party that read the chip's items checks them against.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Engine

from kojin.card import reasons
from kojin.card.emulator import KeyAlgorithm, KeyKind, MyNumberCard
from kojin.card.errors import PinKind, validate_pin
from kojin.card.staff_cards import IssuedStaffCard, issue_staff_card, revoke_staff_card
from kojin.card.storage import CARD_FILE_SUFFIX, CardStore, card_path
from kojin.core.errors import Conflict
from kojin.core.events import Event, EventBus
from kojin.core.japan import age_on
from kojin.core.key_passphrase import is_sealed, key_passphrase, seal, unseal
from kojin.numbering.service import NumberingService
from kojin.pki.card_records import CardRecords
from kojin.pki.domain import SIGNATURE_MIN_AGE, CertKind, RevocationReason
from kojin.pki.service import CertificateAuthority
from kojin.registry.domain import Resident, Status
from kojin.registry.service import ADDRESS_CHANGED, NAME_CHANGED, NUMBER_CHANGED, RegisterService

ADULT_AGE = 18
# The register events a card follows (see the module doc).
CARD_EVENTS = (NUMBER_CHANGED, ADDRESS_CHANGED, NAME_CHANGED)


@dataclass(frozen=True)
class IssuedCard:
    """A card handed over at the counter."""

    card_id: str
    resident_id: int
    auth_serial: int
    sign_serial: int | None
    issued_on: date
    expires_on: date
    algorithm: str
    path: Path


@dataclass(frozen=True)
class CardState:
    """What the counter sees of a card (カードの状態)."""

    card_id: str
    status: str
    issued_on: date
    expires_on: date
    auth_serial: int
    sign_serial: int | None
    auth_status: str
    sign_status: str | None
    pin_tries: dict[str, int]
    chip_stale_since: datetime | None = None

    @property
    def chip_stale(self) -> bool:
        """The chip's four basic items lag behind the register until the counter rewrites them."""
        return self.chip_stale_since is not None


def _birthday(birth_date: date, year: int) -> date:
    try:
        return birth_date.replace(year=year)
    except ValueError:  # 29 February in a common year
        return date(year, 2, 28)


def card_expiry(birth_date: date, issued_on: date) -> date:
    """The card is valid to the holder's 10th birthday after issue; under 18, the 5th."""
    count = 10 if age_on(birth_date, issued_on) >= ADULT_AGE else 5
    first = _birthday(birth_date, issued_on.year)
    first_year = issued_on.year if first > issued_on else issued_on.year + 1
    return _birthday(birth_date, first_year + count - 1)


def load_card_secret(cards_dir: Path) -> bytes:
    """The issuer's key for card files, made once per installation (mode 0600).

    Sealed under ``KOJIN_KEY_PASSPHRASE`` when that is set; a key stored plain
    before the passphrase was set is sealed in place the first time it is read.
    """
    cards_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = cards_dir / ".card-secret"
    passphrase = key_passphrase()
    if not path.exists():
        secret = secrets.token_bytes(32)
        # If another process made it first, theirs is the key.
        with contextlib.suppress(FileExistsError):
            _write_key_file(path, seal(secret, passphrase) if passphrase else secret, replace=False)
    stored = path.read_bytes()
    if is_sealed(stored):
        return unseal(stored, passphrase, what=str(path))
    if passphrase:
        _write_key_file(path, seal(stored, passphrase), replace=True)
    return stored


def _write_key_file(path: Path, blob: bytes, *, replace: bool) -> None:
    """``blob`` at ``path`` (0600) all at once: written aside, then linked (new) or renamed (replacing)."""
    aside = path.with_name(f"{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        if replace:
            os.replace(aside, path)
        else:
            os.link(aside, path)
    finally:
        aside.unlink(missing_ok=True)


@dataclass(frozen=True)
class _CardPins:
    """The PINs a new card gets; no signature password when the holder gets no signature certificate."""

    auth_pin: str
    card_info_pin: str
    signature_password: str | None


def _check_may_receive(resident: Resident) -> None:
    if resident.status is not Status.RESIDENT:
        raise reasons.NOT_RESIDENT.error()


def _check_pins(
    resident: Resident,
    today: date,
    auth_pin: str,
    signature_password: str | None,
    card_info_pin: str | None,
) -> _CardPins:
    """Every PIN in its format before anything is made; the card-info PIN defaults to the auth PIN."""
    validate_pin(PinKind.AUTH, auth_pin)
    card_info_pin = card_info_pin or auth_pin
    validate_pin(PinKind.CARD_INFO, card_info_pin)
    if age_on(resident.birth_date, today) < SIGNATURE_MIN_AGE:
        return _CardPins(auth_pin, card_info_pin, None)
    if signature_password is None:
        raise reasons.SIGNATURE_PASSWORD_MISSING.error()
    validate_pin(PinKind.SIGNATURE, signature_password)
    return _CardPins(auth_pin, card_info_pin, signature_password)


def _personalise(card: MyNumberCard, resident: Resident, number: str, pins: _CardPins) -> None:
    """The 券面事項入力補助AP's files, then the PINs of the authentication key and of the card info."""
    card.write_card_info(
        individual_number=number,
        name=resident.name,
        address=resident.address.one_line(),
        birth_date=resident.birth_date,
        sex=resident.sex.value,
    )
    card.set_pin(PinKind.AUTH, pins.auth_pin)
    card.set_pin(PinKind.CARD_INFO, pins.card_info_pin)


class CardOffice:
    """The counter where cards are issued, reported lost and PINs reset."""

    def __init__(
        self,
        engine: Engine,
        register: RegisterService,
        numbering: NumberingService,
        ca: CertificateAuthority,
        cards_dir: Path,
        *,
        algorithm: str = "rsa2048",
    ) -> None:
        self.engine = engine
        self.register = register
        self.numbering = numbering
        self.ca = ca
        self.cards_dir = cards_dir
        self.algorithm = KeyAlgorithm(algorithm)
        self.records = CardRecords(engine)
        self._secret: bytes | None = None

    @property
    def secret(self) -> bytes:
        if self._secret is None:
            self._secret = load_card_secret(self.cards_dir)
        return self._secret

    # -- issuing -----------------------------------------------------------------
    def issue(
        self,
        resident_id: int,
        *,
        auth_pin: str,
        signature_password: str | None = None,
        card_info_pin: str | None = None,
        algorithm: str | None = None,
        today: date | None = None,
    ) -> IssuedCard:
        """Make a card, generate keys on it, certify them, set the PINs, hand it over."""
        resident = self.register.get(resident_id)
        today = today or self.ca.today()
        _check_may_receive(resident)
        pins = _check_pins(resident, today, auth_pin, signature_password, card_info_pin)
        alg = KeyAlgorithm(algorithm) if algorithm else self.algorithm
        number = self.numbering.number_for(resident.juminhyo_code)
        previous = self._active_cards(resident.juminhyo_code)

        card = MyNumberCard()
        auth_serial = self._certify_auth(card, resident, alg, today)
        sign_serial: int | None = None
        if pins.signature_password is not None:
            sign_serial = self._certify_signature(card, resident, alg, today, pins.signature_password)
        _personalise(card, resident, number, pins)
        path = card_path(self.cards_dir, card.card_id)
        CardStore(path, self.secret).save(card)
        expires = card_expiry(resident.birth_date, today)
        self._record(card.card_id, resident, alg, auth_serial, sign_serial, today, expires)
        self._replace(previous, auth_serial)
        return IssuedCard(card.card_id, resident.resident_id, auth_serial, sign_serial, today, expires, alg.value, path)

    def _certify_auth(self, card: MyNumberCard, resident: Resident, alg: KeyAlgorithm, today: date) -> int:
        """The 利用者証明用 key pair made on the card, certified, the certificate written back."""
        public = card.generate_key_pair(KeyKind.AUTH, alg)
        issued = self.ca.issue_auth_certificate(
            public, juminhyo_code=resident.juminhyo_code, birth_date=resident.birth_date, today=today
        )
        card.write_certificate(KeyKind.AUTH, issued.der, self.ca.ca_der(CertKind.AUTH.ca_name))
        return issued.serial

    def _certify_signature(
        self, card: MyNumberCard, resident: Resident, alg: KeyAlgorithm, today: date, password: str
    ) -> int:
        """The 署名用 key pair made on the card, certified with the four basic items, its password set."""
        public = card.generate_key_pair(KeyKind.SIGNATURE, alg)
        issued = self.ca.issue_signature_certificate(
            public,
            juminhyo_code=resident.juminhyo_code,
            name=resident.name,
            address=resident.address.one_line(),
            birth_date=resident.birth_date,
            sex=resident.sex.value,
            today=today,
        )
        card.write_certificate(KeyKind.SIGNATURE, issued.der, self.ca.ca_der(CertKind.SIGN.ca_name))
        card.set_pin(PinKind.SIGNATURE, password)
        return issued.serial

    def _record(
        self,
        card_id: str,
        resident: Resident,
        alg: KeyAlgorithm,
        auth_serial: int,
        sign_serial: int | None,
        issued_on: date,
        expires_on: date,
    ) -> None:
        """J-LIS's record of the card (個人番号カードの発行記録)."""
        self.records.add(
            card_id=card_id,
            juminhyo_code=resident.juminhyo_code,
            algorithm=alg.value,
            auth_serial=auth_serial,
            sign_serial=sign_serial,
            issued_on=issued_on,
            expires_on=expires_on,
        )

    def _replace(self, previous: list[CardState], auth_serial: int) -> None:
        """Retire the person's earlier cards and link their authentication serials to the new one."""
        for old in previous:
            self._retire(old.card_id, "replaced", RevocationReason.SUPERSEDED)
            self.ca.link_serials(old.auth_serial, auth_serial)

    def _active_cards(self, juminhyo_code: str) -> list[CardState]:
        """The cards a new one replaces: those active and those waiting to be returned."""
        return [self.status(i) for i in self.records.active_ids(juminhyo_code, with_to_return=True)]

    # -- following the register -------------------------------------------------------
    def follow(self, bus: EventBus) -> None:
        """Subscribe to the register's events a card follows: recalled on a number change, stale after a move."""
        for name in CARD_EVENTS:
            bus.subscribe(name, self.handle_register_event)

    def handle_register_event(self, event: Event) -> None:
        """What a register change does to the person's cards (subscribe it to the bus); safe twice."""
        code = str(event.payload["juminhyo_code"])
        if event.name == NUMBER_CHANGED:
            self._recall(code)
        elif event.name in (ADDRESS_CHANGED, NAME_CHANGED):
            self.records.mark_chip_stale(code)

    def _recall(self, juminhyo_code: str) -> None:
        """The number changed: each active card must be returned and stops giving out the old number."""
        for card_id in self.records.active_ids(juminhyo_code, with_to_return=True):
            if card_path(self.cards_dir, card_id).exists():
                card = self.load(card_id)
                if not card.number_withdrawn:
                    card.withdraw_number()
            self.records.set_status(card_id, "to_return")

    def rewrite(self, card_id: str) -> CardState:
        """券面記載事項の変更 at the counter: the register's four basic items written to the chip."""
        state = self.status(card_id)
        if state.status == "to_return":
            raise reasons.MUST_RETURN.error()
        if state.status != "active":
            raise reasons.NOT_ACTIVE.error()
        record = self.records.get(card_id)
        assert record is not None
        resident = self.register.find_by_code(record.juminhyo_code)
        if resident is None:
            raise reasons.NOT_FOUND.error(field="card_id")
        _check_may_receive(resident)
        self.load(card_id).write_basic_items(
            name=resident.name,
            address=resident.address.one_line(),
            birth_date=resident.birth_date,
            sex=resident.sex.value,
        )
        self.records.clear_chip_stale(card_id)
        return self.status(card_id)

    # -- staff cards (職員カード) ------------------------------------------------------
    def issue_staff_card(
        self, staff_id: str, organisation: str, *, pin: str, algorithm: str | None = None
    ) -> IssuedStaffCard:
        """A staff card for ``staff_id`` of ``organisation`` (``municipality:131016`` …), with a 4-digit PIN."""
        alg = KeyAlgorithm(algorithm) if algorithm else self.algorithm
        return issue_staff_card(
            self.ca, self.cards_dir, self.secret, staff_id=staff_id, organisation=organisation, pin=pin, algorithm=alg
        )

    def revoke_staff_card(self, card_serial: str, reason: RevocationReason = RevocationReason.KEY_COMPROMISE) -> None:
        """Revoke the certificate of a staff card (the roster's ``card_serial``); idempotent."""
        revoke_staff_card(self.ca, card_serial, reason)

    # -- loss, PIN reset, status ----------------------------------------------------
    def report_lost(self, card_id: str) -> CardState:
        """紛失届: both certificates are revoked at once."""
        state = self.status(card_id)
        if state.status not in ("active", "to_return"):
            raise reasons.NOT_ACTIVE.error()
        self._retire(card_id, "lost", RevocationReason.KEY_COMPROMISE)
        return self.status(card_id)

    def _retire(self, card_id: str, status: str, reason: RevocationReason) -> None:
        state = self.status(card_id)
        for serial, cert_status in ((state.auth_serial, state.auth_status), (state.sign_serial, state.sign_status)):
            if serial is not None and cert_status == "good":
                self.ca.revoke(serial, reason)
        self.records.set_status(card_id, status)

    def reset_pin(self, card_id: str, which: PinKind | str, new_pin: str, *, clerk: str) -> CardState:
        """暗証番号の初期化 at the counter, recorded with who did it."""
        kind = PinKind(which)
        validate_pin(kind, new_pin)
        if not clerk.strip():
            raise reasons.CLERK_EMPTY.error()
        state = self.status(card_id)
        if state.status == "to_return":
            raise reasons.MUST_RETURN.error()
        if state.status != "active":
            raise reasons.NOT_ACTIVE.error()
        card = self.load(card_id)
        card.reset_pin(kind, new_pin)
        self.records.record_pin_reset(card_id, kind.value, clerk.strip()[:100])
        return self.status(card_id)

    def pin_resets(self, card_id: str) -> list[tuple[str, datetime, str]]:
        return self.records.pin_resets(card_id)

    def status(self, card_id: str) -> CardState:
        row = self.records.get(card_id)
        if row is None:
            raise reasons.NOT_FOUND.error(field="card_id")
        auth = row.auth_serial
        sign = row.sign_serial
        tries: dict[str, int] = {}
        if card_path(self.cards_dir, card_id).exists():
            card = self.load(card_id)
            for kind in PinKind:
                try:
                    tries[kind.value] = card.pin_tries_left(kind)
                except Conflict:
                    continue
        return CardState(
            card_id=row.card_id,
            status=row.status,
            issued_on=row.issued_on,
            expires_on=row.expires_on,
            auth_serial=auth,
            sign_serial=sign,
            auth_status=self.ca.status(auth).status,
            sign_status=self.ca.status(sign).status if sign else None,
            pin_tries=tries,
            chip_stale_since=row.chip_stale_since,
        )

    def cards_of(self, resident: Resident) -> list[CardState]:
        return [self.status(i) for i in self.records.ids_of(resident.juminhyo_code)]

    def card_for_serial(self, auth_serial: int) -> str | None:
        return self.records.card_for_serial(auth_serial)

    def load(self, card_id: str) -> MyNumberCard:
        """The card itself (as a reader would hold it), bound to its file."""
        path = card_path(self.cards_dir, card_id)
        if not path.exists():
            raise reasons.FILE_MISSING.error()
        return CardStore(path, self.secret).load()

    def card_files(self) -> list[str]:
        """Card ids present in the cards directory (what a reader can see)."""
        if not self.cards_dir.exists():
            return []
        return sorted(p.stem for p in self.cards_dir.glob(f"*{CARD_FILE_SUFFIX}"))
