"""The encrypted card file: round trips, tamper evidence, counters that survive."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from kojin.card.emulator import KeyAlgorithm, MyNumberCard
from kojin.card.errors import CardStorageError, PinLocked, PinWrong
from kojin.card.reader import CardReader
from kojin.card.storage import CardStore, card_path, load_card, save_card
from kojin.card.transport import InProcessTransport
from kojin.core.errors import InvalidInput

from . import (
    AUTH_PIN,
    CARD_INFO_PIN,
    INDIVIDUAL_NUMBER,
    NAME,
    SIGN_PASSWORD,
    IssuedCard,
    apdu,
    issued,
)

SECRET = bytes(range(32))
SELECT_JPKI = "00A4040C0AD392F000260100000001"


@pytest.fixture(scope="module")
def rsa_issued() -> IssuedCard:
    return issued(KeyAlgorithm.RSA2048)


@pytest.fixture
def saved(tmp_path: Path, rsa_issued: IssuedCard) -> Path:
    path = card_path(tmp_path, rsa_issued.card_id)
    save_card(rsa_issued.fresh(), path, SECRET)
    return path


def test_round_trip_keeps_everything(saved: Path, rsa_issued: IssuedCard) -> None:
    card = load_card(saved, SECRET)
    assert card.card_id == saved.stem == rsa_issued.card_id
    with CardReader(InProcessTransport(card)) as reader:
        assert reader.read_auth_certificate() == rsa_issued.auth_cert
        assert reader.read_signature_certificate(SIGN_PASSWORD) == rsa_issued.sign_cert
        assert reader.read_individual_number(CARD_INFO_PIN) == INDIVIDUAL_NUMBER
        assert reader.read_basic_items(CARD_INFO_PIN)["name"] == NAME
        signature = reader.sign_with_auth_key(AUTH_PIN, b"after reload")
    public = rsa_issued.auth_public
    assert isinstance(public, rsa.RSAPublicKey)
    public.verify(signature, b"after reload", padding.PKCS1v15(), hashes.SHA256())


def test_the_file_reveals_nothing(saved: Path, rsa_issued: IssuedCard) -> None:
    blob = saved.read_bytes()
    assert blob.startswith(b"KJCARD\x00\x01")
    for secret in (AUTH_PIN, SIGN_PASSWORD, INDIVIDUAL_NUMBER, NAME, "JPKIAPICCTOKEN2", "pkcs8"):
        assert secret.encode() not in blob
    assert rsa_issued.auth_cert[:64] not in blob
    if os.name == "posix":
        assert saved.stat().st_mode & 0o077 == 0


def test_each_save_uses_a_fresh_nonce(saved: Path) -> None:
    card = load_card(saved, SECRET)
    first = saved.read_bytes()
    CardStore(saved, SECRET).save(card)
    assert saved.read_bytes() != first
    assert load_card(saved, SECRET).card_id == card.card_id


def test_wrong_counter_survives_reload_and_reconnect(saved: Path) -> None:
    card = load_card(saved, SECRET)
    with CardReader(InProcessTransport(card)) as reader, pytest.raises(PinWrong):
        reader.sign_with_auth_key("0000", b"m")
    # No explicit save: the card wrote its file when the counter moved.
    reloaded = load_card(saved, SECRET)
    assert reloaded.pin_tries_left("auth") == 2
    transport = InProcessTransport(reloaded)
    with CardReader(transport) as reader:
        assert reader.auth_pin_tries_left() == 2
    with CardReader(transport) as reader:  # removed and inserted again
        assert reader.auth_pin_tries_left() == 2
        with pytest.raises(PinWrong):
            reader.sign_with_auth_key("0001", b"m")
        with pytest.raises(PinLocked):
            reader.sign_with_auth_key("0002", b"m")
    locked = load_card(saved, SECRET)
    with CardReader(InProcessTransport(locked)) as reader:
        assert reader.auth_pin_tries_left() == 0
        with pytest.raises(PinLocked):
            reader.sign_with_auth_key(AUTH_PIN, b"m")
    locked.reset_pin("auth", "8642")
    assert load_card(saved, SECRET).pin_tries_left("auth") == 3


def test_a_correct_pin_restores_the_saved_counter(saved: Path) -> None:
    card = load_card(saved, SECRET)
    with CardReader(InProcessTransport(card)) as reader:
        with pytest.raises(PinWrong):
            reader.sign_with_auth_key("0000", b"m")
        reader.sign_with_auth_key(AUTH_PIN, b"m")
    assert load_card(saved, SECRET).pin_tries_left("auth") == 3


class RecordingStore:
    """Remembers the tries left of the auth PIN at every save."""

    def __init__(self) -> None:
        self.tries: list[int] = []

    def save(self, card: MyNumberCard) -> None:
        self.tries.append(card.pin_tries_left("auth"))


class FailingStore:
    def save(self, card: MyNumberCard) -> None:
        raise OSError("disk full")


def _verify_auth(card: MyNumberCard, pin: str) -> int:
    apdu(card, SELECT_JPKI)
    apdu(card, "00A4020C020018")
    return apdu(card, "00200080" + f"{len(pin):02X}" + pin.encode().hex())[1]


def test_the_counter_is_saved_before_the_pin_is_compared(rsa_issued: IssuedCard) -> None:
    card = rsa_issued.fresh()
    store = RecordingStore()
    card.bind_persistence(store)
    card.connect()
    assert _verify_auth(card, AUTH_PIN) == 0x9000
    # Even for the right PIN, the first save holds a spent try: a process killed
    # between the comparison and the answer has already paid for the attempt.
    assert store.tries == [2, 3]
    assert _verify_auth(card, "0000") == 0x63C2
    assert store.tries == [2, 3, 2]


def test_if_the_counter_cannot_be_saved_the_pin_is_not_checked(rsa_issued: IssuedCard) -> None:
    card = rsa_issued.fresh()
    card.bind_persistence(FailingStore())
    card.connect()
    assert _verify_auth(card, AUTH_PIN) == 0x6581
    apdu(card, "00A4020C020017")
    digest_info = bytes.fromhex("3031300D060960864801650304020105000420") + bytes(32)
    assert apdu(card, "802A008033" + digest_info.hex() + "00")[1] == 0x6982
    card.bind_persistence(None)
    assert card.pin_tries_left("auth") == 2


def test_killing_the_process_does_not_undo_a_wrong_pin(saved: Path) -> None:
    child = textwrap.dedent(
        f"""
        import os, signal
        from kojin.card.storage import load_card
        card = load_card({str(saved)!r}, bytes(range(32)))
        card.connect()
        card.transmit(bytes.fromhex({SELECT_JPKI!r}))
        card.transmit(bytes.fromhex("00A4020C020018"))
        assert card.transmit(bytes.fromhex("002000800430303030")) == bytes.fromhex("63C2")
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    run = subprocess.run([sys.executable, "-c", child], env=env, capture_output=True, check=False)
    if os.name == "posix":
        assert run.returncode == -signal.SIGKILL, run.stderr.decode()
    assert load_card(saved, SECRET).pin_tries_left("auth") == 2


def test_saves_leave_no_temporary_files(saved: Path) -> None:
    card = load_card(saved, SECRET)
    card.connect()
    for _ in range(3):
        _verify_auth(card, "0000")
    assert sorted(p.name for p in saved.parent.iterdir()) == [saved.name]


def test_wrong_secret(saved: Path) -> None:
    with pytest.raises(CardStorageError) as info:
        load_card(saved, b"\x01" * 32)
    assert info.value.code == "card.storage_unreadable"


def test_a_renamed_file_does_not_open(saved: Path) -> None:
    other = saved.with_name("someone-else.card")
    saved.rename(other)
    with pytest.raises(CardStorageError) as info:
        load_card(other, SECRET)
    assert info.value.code == "card.storage_unreadable"


@pytest.mark.parametrize("position", [0, 8, 30, 40, -1])
def test_any_altered_byte_is_detected(saved: Path, position: int) -> None:
    blob = bytearray(saved.read_bytes())
    blob[position] ^= 0x01
    saved.write_bytes(bytes(blob))
    with pytest.raises(CardStorageError) as info:
        load_card(saved, SECRET)
    assert info.value.code in {"card.storage_unreadable", "card.storage_corrupt"}


def test_not_a_card_file(tmp_path: Path) -> None:
    path = tmp_path / "x.card"
    path.write_bytes(b"hello")
    with pytest.raises(CardStorageError) as info:
        load_card(path, SECRET)
    assert info.value.code == "card.storage_corrupt"
    with pytest.raises(CardStorageError) as missing:
        load_card(tmp_path / "absent.card", SECRET)
    assert missing.value.code == "card.storage_missing"


def test_the_file_is_named_after_the_card(tmp_path: Path) -> None:
    card = MyNumberCard("card-001")
    assert card_path(tmp_path, "card-001") == tmp_path / "card-001.card"
    with pytest.raises(CardStorageError) as info:
        save_card(card, tmp_path / "card-002.card", SECRET)
    assert info.value.code == "card.storage_name_mismatch"
    assert not (tmp_path / "card-002.card").exists()


def test_the_secret_must_be_strong(tmp_path: Path) -> None:
    for weak in (b"", b"short", b"fifteen bytes!!"):
        with pytest.raises(InvalidInput) as info:
            CardStore(tmp_path / "x.card", weak)
        assert info.value.code == "card.storage_secret"


def test_issuing_steps_are_saved_as_they_happen(tmp_path: Path) -> None:
    card = MyNumberCard("fresh")
    path = card_path(tmp_path, "fresh")
    save_card(card, path, SECRET)
    public = card.generate_key_pair("auth", "p256")
    card.set_pin("auth", "2580")
    reloaded = load_card(path, SECRET)
    assert reloaded.public_key("auth").public_numbers() == public.public_numbers()
    assert reloaded.key_algorithm("auth") is KeyAlgorithm.P256
    assert reloaded.pin_tries_left("auth") == 3
