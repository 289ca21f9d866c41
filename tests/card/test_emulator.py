"""The emulated card at the APDU level: every command and status word."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import typing
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kojin.card import emulator as emulator_module
from kojin.card.apdu import (
    SHA256_DIGEST_INFO_PREFIX,
    tlv_header,
    tlv_parse,
)
from kojin.card.emulator import KeyAlgorithm, MyNumberCard, build_basic_items_file
from kojin.card.errors import PinFormatError
from kojin.core.errors import Conflict, InvalidInput

from . import (
    ADDRESS,
    AUTH_PIN,
    BIRTH_DATE,
    CARD_INFO_PIN,
    INDIVIDUAL_NUMBER,
    NAME,
    SEX,
    SIGN_PASSWORD,
    IssuedCard,
    apdu,
    issued,
    make_certificate,
)

SELECT_JPKI = "00A4040C0AD392F000260100000001"
SELECT_CARD_INFO = "00A4040C0AD3921000310001010408"


def select_ef(fid: int) -> str:
    return f"00A4020C02{fid:04X}"


def verify(pin: str) -> str:
    data = pin.encode("ascii")
    return f"00200080{len(data):02X}{data.hex()}"


def cds(data: bytes, le: str = "00") -> str:
    return f"802A0080{len(data):02X}{data.hex()}{le}"


def digest_info(message: bytes) -> bytes:
    return SHA256_DIGEST_INFO_PREFIX + hashlib.sha256(message).digest()


@pytest.fixture(scope="module")
def rsa_issued() -> IssuedCard:
    return issued(KeyAlgorithm.RSA2048)


@pytest.fixture(scope="module")
def ec_issued() -> IssuedCard:
    return issued(KeyAlgorithm.P256)


@pytest.fixture
def card(rsa_issued: IssuedCard) -> MyNumberCard:
    card = rsa_issued.fresh()
    card.connect()
    return card


@pytest.fixture
def ec_card(ec_issued: IssuedCard) -> MyNumberCard:
    card = ec_issued.fresh()
    card.connect()
    return card


def ok(card: MyNumberCard, *commands: str) -> None:
    for command in commands:
        _, sw = apdu(card, command)
        assert sw == 0x9000, f"{command} answered {sw:04X}"


def read_all(card: MyNumberCard) -> bytes:
    """Read the current EF as a real client does: 4 bytes, then chunks of ≤ 256."""
    head, sw = apdu(card, "00B0000004")
    assert sw == 0x9000
    parsed = tlv_header(head)
    assert parsed is not None
    _, hlen, vlen = parsed
    out = bytearray(head)
    while len(out) < hlen + vlen:
        n = min(256, hlen + vlen - len(out))
        chunk, sw = apdu(card, f"00B0{len(out):04X}{n & 0xFF:02X}")
        assert sw == 0x9000
        out += chunk
    return bytes(out)


def test_all_lists_exactly_the_public_names() -> None:
    defined = {
        name
        for name, value in vars(emulator_module).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == emulator_module.__name__
    }
    assert defined <= set(emulator_module.__all__)
    for name in emulator_module.__all__:
        assert hasattr(emulator_module, name)


# --- SELECT ----------------------------------------------------------------------


def test_select_applications_and_files(card: MyNumberCard) -> None:
    assert apdu(card, SELECT_JPKI) == (b"", 0x9000)
    assert apdu(card, select_ef(0x000A)) == (b"", 0x9000)
    assert apdu(card, SELECT_CARD_INFO) == (b"", 0x9000)
    assert apdu(card, select_ef(0x0011)) == (b"", 0x9000)


@pytest.mark.parametrize(
    ("command", "sw"),
    [
        ("00A4040C0AD392F000260100000002", 0x6A82),  # unknown AID
        ("00A4040C03D392F0", 0x6A82),  # a prefix is not enough
        ("00A4040005D392F00026", 0x6A86),  # P2 = 00 asks for an FCI the card does not give
        ("00A4010C020001", 0x6A86),  # P1 = 01 is not offered
        ("00A40400", 0x6A86),
        ("00A4040C", 0x6700),  # no AID at all
    ],
)
def test_select_application_errors(card: MyNumberCard, command: str, sw: int) -> None:
    assert apdu(card, command) == (b"", sw)


def test_select_ef_errors(card: MyNumberCard) -> None:
    assert apdu(card, select_ef(0x000A)) == (b"", 0x6A82)  # no application selected yet
    ok(card, SELECT_JPKI)
    assert apdu(card, select_ef(0x1234)) == (b"", 0x6A82)
    assert apdu(card, "00A4020C03000A00") == (b"", 0x6700)
    assert apdu(card, "00A4020C01") == (b"", 0x6700)
    assert apdu(card, select_ef(0x0011)) == (b"", 0x6A82)  # belongs to the other application


def test_failed_select_keeps_the_current_selection(card: MyNumberCard) -> None:
    ok(card, SELECT_JPKI, select_ef(0x0006))
    assert apdu(card, "00A4040C0AD392F000260100000002")[1] == 0x6A82
    assert apdu(card, select_ef(0x4242))[1] == 0x6A82
    assert apdu(card, "00B0000000") == (b"JPKIAPICCTOKEN2", 0x9000)


def test_unpersonalised_files_do_not_exist() -> None:
    blank = MyNumberCard()
    blank.connect()
    ok(blank, SELECT_JPKI, select_ef(0x0006))
    for fid in (0x000A, 0x000B, 0x0017, 0x0018, 0x0001, 0x0002, 0x001A, 0x001B):
        assert apdu(blank, select_ef(fid))[1] == 0x6A82
    ok(blank, SELECT_CARD_INFO)
    for fid in (0x0011, 0x0001, 0x0002):
        assert apdu(blank, select_ef(fid))[1] == 0x6A82


# --- READ BINARY ------------------------------------------------------------------


def test_read_binary_of_the_token(card: MyNumberCard) -> None:
    ok(card, SELECT_JPKI, select_ef(0x0006))
    assert apdu(card, "00B0000000") == (b"JPKIAPICCTOKEN2", 0x9000)  # Le 00: up to 256
    assert apdu(card, "00B0000004") == (b"JPKI", 0x9000)
    assert apdu(card, "00B000040B") == (b"APICCTOKEN2", 0x9000)
    assert apdu(card, "00B0000EFF") == (b"2", 0x9000)  # the file ends before Ne
    assert apdu(card, "00B0000F01") == (b"", 0x6B00)  # offset = size
    assert apdu(card, "00B07FFF01") == (b"", 0x6B00)


def test_read_binary_chunks_a_certificate_longer_than_256(card: MyNumberCard, rsa_issued: IssuedCard) -> None:
    assert len(rsa_issued.auth_cert) > 256
    ok(card, SELECT_JPKI, select_ef(0x000A))
    head, _ = apdu(card, "00B0000004")
    assert head[:2] == b"\x30\x82"
    assert int.from_bytes(head[2:4], "big") + 4 == len(rsa_issued.auth_cert)
    assert read_all(card) == rsa_issued.auth_cert
    # One Le = 00 read from 0 answers exactly 256 bytes.
    data, sw = apdu(card, "00B0000000")
    assert (data, sw) == (rsa_issued.auth_cert[:256], 0x9000)
    ok(card, select_ef(0x000B))
    assert read_all(card) == rsa_issued.auth_ca_cert
    ok(card, select_ef(0x0002))
    assert read_all(card) == rsa_issued.sign_ca_cert


@pytest.mark.parametrize(
    ("command", "sw"),
    [
        ("00B00000", 0x6700),  # no Le
        ("00B00000010000", 0x6700),  # command data
        ("00B0800004", 0x6A86),  # short-EF addressing
    ],
)
def test_read_binary_errors(card: MyNumberCard, command: str, sw: int) -> None:
    ok(card, SELECT_JPKI, select_ef(0x0006))
    assert apdu(card, command) == (b"", sw)


def test_read_binary_needs_a_current_ef(card: MyNumberCard) -> None:
    assert apdu(card, "00B0000004") == (b"", 0x6986)
    ok(card, SELECT_JPKI)
    assert apdu(card, "00B0000004") == (b"", 0x6986)


@pytest.mark.parametrize("fid", [0x0017, 0x001A, 0x0018, 0x001B])
def test_keys_and_pins_are_never_readable(card: MyNumberCard, fid: int) -> None:
    pin = AUTH_PIN if fid in (0x0017, 0x0018) else SIGN_PASSWORD
    ok(card, SELECT_JPKI, select_ef(0x0018 if pin == AUTH_PIN else 0x001B), verify(pin))
    ok(card, select_ef(fid))
    assert apdu(card, "00B0000004") == (b"", 0x6981)


def test_signature_certificate_needs_the_signature_password(card: MyNumberCard, rsa_issued: IssuedCard) -> None:
    ok(card, SELECT_JPKI, select_ef(0x0001))
    assert apdu(card, "00B0000004") == (b"", 0x6982)
    ok(card, select_ef(0x0018), verify(AUTH_PIN), select_ef(0x0001))
    assert apdu(card, "00B0000004") == (b"", 0x6982)  # the auth PIN is not enough
    ok(card, select_ef(0x001B), verify(SIGN_PASSWORD), select_ef(0x0001))
    assert read_all(card) == rsa_issued.sign_cert


def test_card_info_files_need_their_pin(card: MyNumberCard) -> None:
    ok(card, SELECT_CARD_INFO)
    for fid in (0x0001, 0x0002):
        ok(card, select_ef(fid))
        assert apdu(card, "00B0000004") == (b"", 0x6982)
    ok(card, select_ef(0x0011), verify(CARD_INFO_PIN), select_ef(0x0001))
    data, sw = apdu(card, "00B0000000")
    assert sw == 0x9000
    assert data == b"\xff\x10\x0c" + INDIVIDUAL_NUMBER.encode()


def test_basic_items_layout(card: MyNumberCard) -> None:
    ok(card, SELECT_CARD_INFO, select_ef(0x0011), verify(CARD_INFO_PIN), select_ef(0x0002))
    raw = read_all(card)
    [(outer_tag, content)] = tlv_parse(raw)
    assert outer_tag == 0xFF20
    objects = tlv_parse(content)
    assert [tag for tag, _ in objects] == [0xDF21, 0xDF22, 0xDF23, 0xDF24, 0xDF25]
    fields = dict(objects)
    assert fields[0xDF22] == NAME.encode("utf-8")  # IVS selector kept byte for byte
    assert "\U000e0101".encode() in fields[0xDF22]
    assert fields[0xDF23] == ADDRESS.encode("utf-8")
    assert fields[0xDF24] == BIRTH_DATE.encode("ascii")
    assert fields[0xDF25] == SEX.encode("ascii")
    offsets = [int.from_bytes(fields[0xDF21][i : i + 2], "big") for i in range(0, 8, 2)]
    for offset, tag in zip(offsets, (0xDF22, 0xDF23, 0xDF24, 0xDF25), strict=True):
        assert int.from_bytes(raw[offset : offset + 2], "big") == tag


def test_basic_items_file_uses_long_lengths_when_needed() -> None:
    raw = build_basic_items_file("名" * 100, "住" * 100, "20000229", "1")
    assert raw[:3] == b"\xff\x20\x82"
    fields = dict(tlv_parse(tlv_parse(raw)[0][1]))
    assert fields[0xDF22].decode() == "名" * 100
    offsets = [int.from_bytes(fields[0xDF21][i : i + 2], "big") for i in range(0, 8, 2)]
    assert raw[offsets[0] : offsets[0] + 2] == b"\xdf\x22"
    assert raw[offsets[3] : offsets[3] + 2] == b"\xdf\x25"


# --- VERIFY -----------------------------------------------------------------------


def test_verify_counts_down_and_locks_for_ever(card: MyNumberCard) -> None:
    ok(card, SELECT_JPKI, select_ef(0x0018))
    assert apdu(card, "00200080") == (b"", 0x63C3)
    assert apdu(card, "00200080") == (b"", 0x63C3)  # asking does not count
    assert apdu(card, verify("0000")) == (b"", 0x63C2)
    assert apdu(card, verify("0001")) == (b"", 0x63C1)
    assert apdu(card, "00200080") == (b"", 0x63C1)
    assert apdu(card, verify("0002")) == (b"", 0x63C0)
    for command in (verify("0003"), verify(AUTH_PIN), "00200080"):
        assert apdu(card, command) == (b"", 0x6983)
    card.disconnect()
    card.connect()
    ok(card, SELECT_JPKI, select_ef(0x0018))
    assert apdu(card, verify(AUTH_PIN)) == (b"", 0x6983)
    assert card.pin_tries_left("auth") == 0


def test_a_correct_pin_restores_the_counter(card: MyNumberCard) -> None:
    ok(card, SELECT_JPKI, select_ef(0x0018))
    assert apdu(card, verify("9999"))[1] == 0x63C2
    ok(card, verify(AUTH_PIN))
    assert apdu(card, "00200080") == (b"", 0x63C3)


def test_signature_password_has_five_tries(card: MyNumberCard) -> None:
    ok(card, SELECT_JPKI, select_ef(0x001B))
    assert apdu(card, "00200080") == (b"", 0x63C5)
    for left in (4, 3, 2, 1, 0):
        assert apdu(card, verify("WRONG1"))[1] == 0x63C0 | left
    assert apdu(card, verify(SIGN_PASSWORD))[1] == 0x6983


def test_card_info_pin_has_three_tries(card: MyNumberCard) -> None:
    ok(card, SELECT_CARD_INFO, select_ef(0x0011))
    assert apdu(card, "00200080") == (b"", 0x63C3)
    assert apdu(card, verify("0000"))[1] == 0x63C2


def test_pins_have_separate_counters(card: MyNumberCard) -> None:
    ok(card, SELECT_JPKI, select_ef(0x0018))
    apdu(card, verify("0000"))
    ok(card, select_ef(0x001B))
    assert apdu(card, "00200080")[1] == 0x63C5
    assert card.pin_tries_left("auth") == 2
    assert card.pin_tries_left("card_info") == 3


@pytest.mark.parametrize(
    ("command", "sw"),
    [
        ("00200081043132333400", 0x6A86),
        ("002001800431323334", 0x6A86),
        ("00200080043132333400", 0x6700),  # Le on VERIFY
    ],
)
def test_verify_errors(card: MyNumberCard, command: str, sw: int) -> None:
    ok(card, SELECT_JPKI, select_ef(0x0018))
    assert apdu(card, command) == (b"", sw)
    assert card.pin_tries_left("auth") == 3


def test_verify_needs_a_pin_ef(card: MyNumberCard) -> None:
    assert apdu(card, verify(AUTH_PIN)) == (b"", 0x6986)
    ok(card, SELECT_JPKI)
    assert apdu(card, verify(AUTH_PIN)) == (b"", 0x6986)
    ok(card, select_ef(0x000A))
    assert apdu(card, verify(AUTH_PIN)) == (b"", 0x6981)


def test_a_wrong_pin_revokes_an_earlier_verification(card: MyNumberCard) -> None:
    ok(card, SELECT_JPKI, select_ef(0x0018), verify(AUTH_PIN))
    apdu(card, verify("0000"))
    ok(card, select_ef(0x0017))
    assert apdu(card, cds(digest_info(b"m")))[1] == 0x6982


def test_reset_pin_unblocks(card: MyNumberCard) -> None:
    ok(card, SELECT_JPKI, select_ef(0x0018))
    for _ in range(3):
        apdu(card, verify("0000"))
    assert apdu(card, "00200080")[1] == 0x6983
    card.reset_pin("auth", "4321")
    assert apdu(card, "00200080")[1] == 0x63C3
    assert apdu(card, verify(AUTH_PIN))[1] == 0x63C2
    ok(card, verify("4321"))


# --- COMPUTE DIGITAL SIGNATURE ----------------------------------------------------


def test_rsa_signature_verifies_against_the_issued_public_key(card: MyNumberCard, rsa_issued: IssuedCard) -> None:
    ok(card, SELECT_JPKI, select_ef(0x0018), verify(AUTH_PIN), select_ef(0x0017))
    signature, sw = apdu(card, cds(digest_info(b"login challenge")))
    assert sw == 0x9000
    assert len(signature) == 256
    public = rsa_issued.auth_public
    assert isinstance(public, rsa.RSAPublicKey)
    public.verify(signature, b"login challenge", padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(InvalidSignature):
        public.verify(signature, b"another", padding.PKCS1v15(), hashes.SHA256())
    # The signature key is not the authentication key.
    sign_public = rsa_issued.sign_public
    assert isinstance(sign_public, rsa.RSAPublicKey)
    with pytest.raises(InvalidSignature):
        sign_public.verify(signature, b"login challenge", padding.PKCS1v15(), hashes.SHA256())


def test_signature_key_needs_the_signature_password(card: MyNumberCard, rsa_issued: IssuedCard) -> None:
    ok(card, SELECT_JPKI, select_ef(0x0018), verify(AUTH_PIN), select_ef(0x001A))
    assert apdu(card, cds(digest_info(b"doc")))[1] == 0x6982
    ok(card, select_ef(0x001B), verify(SIGN_PASSWORD), select_ef(0x001A))
    signature, sw = apdu(card, cds(digest_info(b"doc")))
    assert sw == 0x9000
    public = rsa_issued.sign_public
    assert isinstance(public, rsa.RSAPublicKey)
    public.verify(signature, b"doc", padding.PKCS1v15(), hashes.SHA256())


def test_openssl_verifies_a_card_signature(card: MyNumberCard, rsa_issued: IssuedCard, tmp_path: Path) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    message = "電子申請の本文".encode()
    ok(card, SELECT_JPKI, select_ef(0x001B), verify(SIGN_PASSWORD), select_ef(0x001A))
    signature, sw = apdu(card, cds(digest_info(message)))
    assert sw == 0x9000
    (tmp_path / "pub.pem").write_bytes(
        rsa_issued.sign_public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    (tmp_path / "msg").write_bytes(message)
    (tmp_path / "sig").write_bytes(signature)
    run = subprocess.run(
        [openssl, "dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig", "msg"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "Verified OK" in run.stdout
    (tmp_path / "msg").write_bytes(message + b"!")
    tampered = subprocess.run(
        [openssl, "dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig", "msg"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tampered.returncode != 0


@pytest.mark.parametrize(
    "data",
    [
        hashlib.sha256(b"m").digest(),  # a bare hash on an RSA key
        b"\x00" + digest_info(b"m")[1:],  # wrong prefix
        digest_info(b"m")[:-1],  # 50 bytes
        digest_info(b"m") + b"\x00",  # 52 bytes
        SHA256_DIGEST_INFO_PREFIX.replace(b"\x01\x05\x00", b"\x03\x05\x00")
        + hashlib.sha256(b"m").digest(),  # SHA-512's OID arc with a 32-byte hash
    ],
)
def test_rsa_key_takes_only_a_sha256_digest_info(card: MyNumberCard, data: bytes) -> None:
    ok(card, SELECT_JPKI, select_ef(0x0018), verify(AUTH_PIN), select_ef(0x0017))
    assert apdu(card, cds(data)) == (b"", 0x6A80)


@pytest.mark.parametrize(
    ("command", "sw"),
    [
        ("802A0081" + "33" + digest_info(b"m").hex() + "00", 0x6A86),
        ("802A9E9A" + "33" + digest_info(b"m").hex() + "00", 0x6A86),
        ("802A008000", 0x6700),  # no data
        ("802A0080", 0x6700),
        ("802A0080" + "33" + digest_info(b"m").hex() + "10", 0x6700),  # Ne 16 < 256
    ],
)
def test_compute_digital_signature_errors(card: MyNumberCard, command: str, sw: int) -> None:
    ok(card, SELECT_JPKI, select_ef(0x0018), verify(AUTH_PIN), select_ef(0x0017))
    assert apdu(card, command) == (b"", sw)


def test_compute_digital_signature_without_le_is_accepted(card: MyNumberCard) -> None:
    ok(card, SELECT_JPKI, select_ef(0x0018), verify(AUTH_PIN), select_ef(0x0017))
    signature, sw = apdu(card, f"802A008033{digest_info(b'm').hex()}")
    assert (len(signature), sw) == (256, 0x9000)


def test_compute_digital_signature_needs_a_key_ef(card: MyNumberCard) -> None:
    assert apdu(card, cds(digest_info(b"m")))[1] == 0x6986
    ok(card, SELECT_JPKI, select_ef(0x0018), verify(AUTH_PIN))
    assert apdu(card, cds(digest_info(b"m")))[1] == 0x6981  # the PIN EF is current
    ok(card, select_ef(0x000A))
    assert apdu(card, cds(digest_info(b"m")))[1] == 0x6981


def test_compute_digital_signature_needs_the_pin(card: MyNumberCard) -> None:
    ok(card, SELECT_JPKI, select_ef(0x0017))
    assert apdu(card, cds(digest_info(b"m"))) == (b"", 0x6982)


def test_p256_card_signs_hashes_and_digest_infos(ec_card: MyNumberCard, ec_issued: IssuedCard) -> None:
    public = ec_issued.auth_public
    assert isinstance(public, ec.EllipticCurvePublicKey)
    ok(ec_card, SELECT_JPKI, select_ef(0x0018), verify(AUTH_PIN), select_ef(0x0017))
    for data in (hashlib.sha256(b"bulk").digest(), digest_info(b"bulk")):
        signature, sw = apdu(ec_card, cds(data))
        assert sw == 0x9000
        assert signature[0] == 0x30  # DER ECDSA-Sig-Value
        public.verify(signature, b"bulk", ec.ECDSA(hashes.SHA256()))
    assert apdu(ec_card, cds(b"\x00" * 20))[1] == 0x6A80
    assert apdu(ec_card, cds(b"\x00" * 51))[1] == 0x6A80


# --- CLA, INS, malformed -----------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "sw"),
    [
        ("00CA9F7F00", 0x6D00),  # GET DATA
        ("00C0000000", 0x6D00),  # GET RESPONSE
        ("00D6000001FF", 0x6D00),  # UPDATE BINARY: the card is not writable by APDU
        ("00240080083132333435363738", 0x6D00),  # CHANGE REFERENCE DATA
        ("80A4040C0AD392F000260100000001", 0x6D00),
        ("002A00800100", 0x6D00),  # CDS needs the proprietary class
        ("84A4040C0AD392F000260100000001", 0x6E00),
        ("0CB0000004", 0x6E00),  # secure messaging
        ("FFB0000004", 0x6E00),
        ("A0A4000002", 0x6E00),
    ],
)
def test_unsupported_class_and_instruction(card: MyNumberCard, command: str, sw: int) -> None:
    assert apdu(card, command) == (b"", sw)


@pytest.mark.parametrize(
    "command",
    ["", "00", "00A4", "00A404", "00A4040C0AD392F0", "00A4040C02000A0000", "00B000000000FF"],
)
def test_malformed_apdus_answer_wrong_length(card: MyNumberCard, command: str) -> None:
    assert apdu(card, command) == (b"", 0x6700)


# --- security state --------------------------------------------------------------


def test_removal_forgets_verified_pins(card: MyNumberCard) -> None:
    ok(card, SELECT_JPKI, select_ef(0x0018), verify(AUTH_PIN), select_ef(0x0017))
    assert apdu(card, cds(digest_info(b"m")))[1] == 0x9000
    card.disconnect()
    assert not card.inserted
    card.connect()
    assert apdu(card, cds(digest_info(b"m")))[1] == 0x6986  # nothing selected after power-on
    ok(card, SELECT_JPKI, select_ef(0x0017))
    assert apdu(card, cds(digest_info(b"m")))[1] == 0x6982


def test_selecting_an_application_starts_a_new_session(card: MyNumberCard) -> None:
    ok(card, SELECT_JPKI, select_ef(0x0018), verify(AUTH_PIN))
    ok(card, SELECT_CARD_INFO, SELECT_JPKI, select_ef(0x0017))
    assert apdu(card, cds(digest_info(b"m")))[1] == 0x6982
    ok(card, select_ef(0x0018), verify(AUTH_PIN))
    ok(card, SELECT_JPKI, select_ef(0x0017))  # the same application again
    assert apdu(card, cds(digest_info(b"m")))[1] == 0x6982


def test_card_info_pin_does_not_open_the_jpki_application(card: MyNumberCard) -> None:
    ok(card, SELECT_CARD_INFO, select_ef(0x0011), verify(CARD_INFO_PIN))
    ok(card, SELECT_JPKI, select_ef(0x0017))
    assert apdu(card, cds(digest_info(b"m")))[1] == 0x6982


# --- fuzzing ------------------------------------------------------------------------


# Openings that put the card into each interesting state (a readable EF, a
# verified PIN with its key selected …) before the random APDUs arrive.
_openings = st.sampled_from(
    [
        [],
        [SELECT_JPKI],
        [SELECT_JPKI, select_ef(0x0006)],
        [SELECT_JPKI, select_ef(0x000A)],
        [SELECT_JPKI, select_ef(0x0018)],
        [SELECT_JPKI, select_ef(0x0018), verify(AUTH_PIN), select_ef(0x0017)],
        [SELECT_JPKI, select_ef(0x001B), verify(SIGN_PASSWORD), select_ef(0x001A)],
        [SELECT_JPKI, select_ef(0x001B), verify(SIGN_PASSWORD), select_ef(0x0001)],
        [SELECT_CARD_INFO, select_ef(0x0011), verify(CARD_INFO_PIN), select_ef(0x0002)],
    ]
).map(lambda commands: [bytes.fromhex(c) for c in commands])


def _encode(cla: int, ins: int, p1: int, p2: int, data: bytes, ne: int | None) -> bytes:
    body = (bytes((len(data),)) + data if data else b"") + (bytes((ne & 0xFF,)) if ne else b"")
    return bytes((cla, ins, p1, p2)) + body


# Well-formed APDUs with the card's own CLA/INS often, so the fuzz gets past
# the length check into every handler; raw bytes cover the malformed ones.
_well_formed = st.builds(
    _encode,
    st.sampled_from([0x00, 0x80]) | st.integers(0, 255),
    st.sampled_from([0xA4, 0xB0, 0x20, 0x2A]) | st.integers(0, 255),
    st.sampled_from([0x00, 0x02, 0x04]) | st.integers(0, 255),
    st.sampled_from([0x00, 0x0C, 0x80]) | st.integers(0, 255),
    st.sampled_from([b"", digest_info(b"m"), b"\x00\x17", b"\x00\x0a"]) | st.binary(max_size=255),
    st.none() | st.integers(1, 256),
)


_VALID = [
    bytes.fromhex(c)
    for c in (
        "00B0000000",
        "00B0000004",
        "00B0010000",
        "00200080",
        verify(AUTH_PIN),
        cds(digest_info(b"m")),
        cds(hashlib.sha256(b"m").digest()),
        select_ef(0x0006),
    )
]


def _mutate(command: bytes, position: int, value: int, cut: int) -> bytes:
    mutated = bytearray(command)
    mutated[position % len(mutated)] = value
    return bytes(mutated[: len(mutated) - cut])


# Valid commands with one byte changed or the tail cut: near misses reach the
# deepest checks of each handler.
_near_misses = st.sampled_from(_VALID) | st.builds(
    _mutate, st.sampled_from(_VALID), st.integers(0, 60), st.integers(0, 255), st.integers(0, 3)
)
_fuzz_apdu = st.binary(max_size=270) | _well_formed | _near_misses


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_openings, st.lists(_fuzz_apdu, max_size=4)), max_size=4))
def test_random_apdus_never_raise_and_always_answer_a_status_word(
    ec_issued: IssuedCard, script: list[tuple[list[bytes], list[bytes]]]
) -> None:
    card = ec_issued.fresh()  # P-256: cheap to load for every example
    card.connect()
    for opening, randoms in script:
        for command in opening + randoms:
            response = card.transmit(command)
            assert isinstance(response, bytes)
            assert len(response) >= 2
            assert response[-2:] != b"\x6f\x00", f"internal error on {command.hex()}"
            if response[-2:] != b"\x90\x00":
                assert len(response) == 2  # errors carry no data


# --- issuer side --------------------------------------------------------------------


def test_key_generation_returns_only_public_keys() -> None:
    card = MyNumberCard()
    public = card.generate_key_pair("auth", "p256")
    assert isinstance(public, ec.EllipticCurvePublicKey)
    assert card.key_algorithm("auth") is KeyAlgorithm.P256
    assert card.public_key("auth").public_numbers() == public.public_numbers()
    for name in dir(card):
        if name.startswith("_"):
            continue
        member = getattr(card, name)
        if callable(member):
            hints = typing.get_type_hints(member)
            assert "Private" not in repr(hints.get("return")), name
    assert "Private" not in repr(card)


def test_regenerating_a_key_removes_the_old_certificate(rsa_issued: IssuedCard) -> None:
    card = rsa_issued.fresh()
    card.generate_key_pair("auth", "p256")
    card.connect()
    ok(card, SELECT_JPKI)
    assert apdu(card, select_ef(0x000A))[1] == 0x6A82
    ok(card, select_ef(0x000B), select_ef(0x0001))


def test_certificate_must_match_the_card_key(rsa_issued: IssuedCard) -> None:
    card = MyNumberCard()
    with pytest.raises(Conflict) as no_key:
        card.write_certificate("auth", rsa_issued.auth_cert)
    assert no_key.value.code == "card.no_key"
    card.generate_key_pair("auth", "p256")
    with pytest.raises(InvalidInput) as mismatch:
        card.write_certificate("auth", rsa_issued.auth_cert)
    assert mismatch.value.code == "card.certificate_key_mismatch"
    with pytest.raises(InvalidInput) as not_der:
        card.write_certificate("auth", b"-----BEGIN CERTIFICATE-----")
    assert not_der.value.code == "card.certificate_der"
    good = make_certificate(card.public_key("auth"), "ok")
    with pytest.raises(InvalidInput):
        card.write_certificate("auth", good, b"\x30\x00")
    card.write_certificate("auth", good)
    card.connect()
    ok(card, SELECT_JPKI, select_ef(0x000A))
    assert read_all(card) == good
    assert apdu(card, select_ef(0x000B))[1] == 0x6A82  # no CA certificate was given


@pytest.mark.parametrize(
    ("which", "pin"),
    [
        ("auth", "123"),
        ("auth", "12345"),
        ("auth", "12a4"),
        ("auth", "１２３４"),
        ("auth", "123\n"),
        ("card_info", ""),
        ("signature", "ABCDE"),
        ("signature", "ABCDEFGHIJKLMNOPQ"),
        ("signature", "abcdef"),
        ("signature", "ABC-123"),
    ],
)
def test_pin_formats_are_checked_at_issue(which: str, pin: str) -> None:
    card = MyNumberCard()
    with pytest.raises(PinFormatError) as info:
        card.set_pin(which, pin)
    assert info.value.code == "card.pin_format"


@pytest.mark.parametrize(
    ("which", "pin"),
    [("auth", "0000"), ("signature", "A1B2C3"), ("signature", "ABCDEFGHIJ012345"), ("card_info", "9999")],
)
def test_valid_pins_are_accepted(which: str, pin: str) -> None:
    card = MyNumberCard()
    card.set_pin(which, pin)
    assert card.pin_tries_left(which) == {"auth": 3, "signature": 5, "card_info": 3}[which]


def test_set_and_reset_pin_rules() -> None:
    card = MyNumberCard()
    with pytest.raises(Conflict) as not_set:
        card.reset_pin("auth", "1111")
    assert not_set.value.code == "card.pin_not_set"
    with pytest.raises(Conflict):
        card.pin_tries_left("auth")
    card.set_pin("auth", "1111")
    with pytest.raises(Conflict) as twice:
        card.set_pin("auth", "2222")
    assert twice.value.code == "card.pin_already_set"
    with pytest.raises(ValueError):
        card.set_pin("nonsense", "1111")


def test_reset_pin_ends_an_open_verification(card: MyNumberCard) -> None:
    ok(card, SELECT_JPKI, select_ef(0x0018), verify(AUTH_PIN))
    card.reset_pin("auth", "2468")
    ok(card, select_ef(0x0017))
    assert apdu(card, cds(digest_info(b"m")))[1] == 0x6982


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("individual_number", "123456789012", "number.check_digit"),
        ("individual_number", "12345678901", "number.length"),
        ("name", "", "card.name_empty"),
        ("name", "山田\x00太郎", "card.name_control"),
        ("name", "\ud800", "card.name_encoding"),
        ("address", "  ", "card.address_empty"),
        ("birth_date", "19800230", "card.birth_date"),
        ("birth_date", "1980-04-01", "card.birth_date"),
        ("sex", "3", "card.sex"),
        ("sex", "男", "card.sex"),
    ],
)
def test_card_info_is_validated_at_issue(field: str, value: str, code: str) -> None:
    items: dict[str, str] = {
        "individual_number": INDIVIDUAL_NUMBER,
        "name": NAME,
        "address": ADDRESS,
        "birth_date": BIRTH_DATE,
        "sex": SEX,
    }
    items[field] = value
    with pytest.raises(InvalidInput) as info:
        MyNumberCard().write_card_info(**items)
    assert info.value.code == code


def test_birth_date_may_be_a_date() -> None:
    import datetime

    raw = build_basic_items_file("a", "b", datetime.date(2000, 2, 29), "1")
    assert b"\xdf\x24\x0820000229" in raw


def test_card_ids_are_file_name_safe() -> None:
    assert len(MyNumberCard().card_id) == 32
    assert MyNumberCard("abc-DEF_123").card_id == "abc-DEF_123"
    for bad in ("", "../x", "a b", "x" * 65, "名前"):
        with pytest.raises(InvalidInput):
            MyNumberCard(bad)
