"""The reader software, talking only APDUs through a transport."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Iterator

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from kojin.card import errors as errors_module
from kojin.card import reader as reader_module
from kojin.card import storage as storage_module
from kojin.card import transport as transport_module
from kojin.card.apdu import CommandAPDU
from kojin.card.emulator import KeyAlgorithm, MyNumberCard
from kojin.card.errors import (
    CardCommunicationError,
    CardFileMissing,
    CardNotPresent,
    CardReaderUnavailable,
    PinFormatError,
    PinKind,
    PinLocked,
    PinWrong,
    UnexpectedStatus,
)
from kojin.card.reader import CardReader
from kojin.card.transport import (
    CardTransport,
    InProcessTransport,
    PcscTransport,
    exchange_with_t0_recovery,
)
from kojin.core.errors import InvalidInput, KojinError, Unauthenticated
from kojin.core.i18n import language

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
    issued,
)


class RecordingTransport:
    """Wraps a transport and keeps every command APDU and response."""

    def __init__(self, inner: CardTransport) -> None:
        self.inner = inner
        self.log: list[tuple[CommandAPDU, bytes]] = []

    def connect(self) -> None:
        self.inner.connect()

    def disconnect(self) -> None:
        self.inner.disconnect()

    def transmit(self, apdu: bytes) -> bytes:
        response = self.inner.transmit(apdu)
        self.log.append((CommandAPDU.parse(apdu), response))
        return response

    def commands(self, ins: int) -> list[CommandAPDU]:
        return [cmd for cmd, _ in self.log if cmd.ins == ins]


@pytest.fixture(scope="module")
def rsa_issued() -> IssuedCard:
    return issued(KeyAlgorithm.RSA2048)


@pytest.fixture(scope="module")
def ec_issued() -> IssuedCard:
    return issued(KeyAlgorithm.P256)


@pytest.fixture
def card(rsa_issued: IssuedCard) -> MyNumberCard:
    return rsa_issued.fresh()


@pytest.fixture
def wire(card: MyNumberCard) -> RecordingTransport:
    return RecordingTransport(InProcessTransport(card))


@pytest.fixture
def reader(wire: RecordingTransport) -> Iterator[CardReader]:
    with CardReader(wire) as reader:
        yield reader


def test_public_names() -> None:
    for module in (reader_module, transport_module, errors_module, storage_module):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"
    assert set(reader_module.__all__) == {"BasicItems", "CardReader"}
    assert set(transport_module.__all__) == {
        "CardTransport",
        "InProcessTransport",
        "PcscTransport",
        "exchange_with_t0_recovery",
    }


def test_transports_implement_the_protocol(card: MyNumberCard) -> None:
    assert isinstance(InProcessTransport(card), CardTransport)
    assert isinstance(PcscTransport(), CardTransport)


# --- JPKI --------------------------------------------------------------------------


def test_reads_certificates_and_token(reader: CardReader, rsa_issued: IssuedCard) -> None:
    assert reader.read_auth_certificate() == rsa_issued.auth_cert
    assert reader.read_auth_ca_certificate() == rsa_issued.auth_ca_cert
    assert reader.read_signature_ca_certificate() == rsa_issued.sign_ca_cert
    assert reader.read_signature_certificate(SIGN_PASSWORD) == rsa_issued.sign_cert
    assert b"JPKIAPICCTOKEN2" in reader.read_token()


def test_certificate_is_read_as_real_clients_do(
    reader: CardReader, wire: RecordingTransport, rsa_issued: IssuedCard
) -> None:
    cert = reader.read_auth_certificate()
    reads = wire.commands(0xB0)
    assert (reads[0].p1p2, reads[0].ne) == (0, 4)
    assert len(cert) > 4 + 256  # at least two chunks after the header
    offset = 4
    for cmd in reads[1:]:
        assert cmd.p1p2 == offset
        assert cmd.ne is not None and cmd.ne <= 256
        offset += cmd.ne
    assert offset == len(rsa_issued.auth_cert)
    assert len(reads) == 1 + -(-(len(cert) - 4) // 256)


def test_chunk_size_is_respected(wire: RecordingTransport, rsa_issued: IssuedCard) -> None:
    with CardReader(wire, chunk_size=100) as reader:
        assert reader.read_auth_certificate() == rsa_issued.auth_cert
    assert all(cmd.ne is not None and cmd.ne <= 100 for cmd in wire.commands(0xB0))
    with pytest.raises(ValueError):
        CardReader(wire, chunk_size=257)


def test_sign_with_auth_key(reader: CardReader, rsa_issued: IssuedCard) -> None:
    public = rsa_issued.auth_public
    assert isinstance(public, rsa.RSAPublicKey)
    signature = reader.sign_with_auth_key(AUTH_PIN, b"portal challenge 42")
    assert len(signature) == 256
    public.verify(signature, b"portal challenge 42", padding.PKCS1v15(), hashes.SHA256())
    digest = hashlib.sha256(b"portal challenge 43").digest()
    signature = reader.sign_with_auth_key(AUTH_PIN, digest, prehashed=True)
    public.verify(signature, b"portal challenge 43", padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(InvalidInput) as info:
        reader.sign_with_auth_key(AUTH_PIN, b"short", prehashed=True)
    assert info.value.code == "card.digest_length"


def test_sign_document(reader: CardReader, rsa_issued: IssuedCard) -> None:
    public = rsa_issued.sign_public
    assert isinstance(public, rsa.RSAPublicKey)
    signature = reader.sign_document(SIGN_PASSWORD, "確定申告書".encode())
    public.verify(signature, "確定申告書".encode(), padding.PKCS1v15(), hashes.SHA256())


def test_p256_card_through_the_reader(ec_issued: IssuedCard) -> None:
    with CardReader(InProcessTransport(ec_issued.fresh())) as reader:
        signature = reader.sign_with_auth_key(AUTH_PIN, b"bulk login")
        signed_doc = reader.sign_document(SIGN_PASSWORD, b"bulk doc")
        assert reader.read_auth_certificate() == ec_issued.auth_cert
    auth_public, sign_public = ec_issued.auth_public, ec_issued.sign_public
    assert isinstance(auth_public, ec.EllipticCurvePublicKey)
    assert isinstance(sign_public, ec.EllipticCurvePublicKey)
    auth_public.verify(signature, b"bulk login", ec.ECDSA(hashes.SHA256()))
    sign_public.verify(signed_doc, b"bulk doc", ec.ECDSA(hashes.SHA256()))


def test_the_reader_sends_verify_then_compute_digital_signature(reader: CardReader, wire: RecordingTransport) -> None:
    reader.sign_with_auth_key(AUTH_PIN, b"m")
    sequence = [cmd.to_bytes().hex().upper()[:8] for cmd, _ in wire.log]
    assert sequence == [
        "00A4040C",  # JPKI AP
        "00A4020C",  # EF 0018
        "00200080",
        "00A4020C",  # EF 0017
        "802A0080",
        "00A4040C",  # selecting the AP again closes the session
    ]
    cds = wire.commands(0x2A)[0]
    assert len(cds.data) == 51
    assert cds.ne == 256


def test_no_pin_stays_verified_after_an_operation(reader: CardReader, wire: RecordingTransport) -> None:
    reader.sign_with_auth_key(AUTH_PIN, b"m")
    wire.transmit(bytes.fromhex("00A4020C020017"))
    response = wire.transmit(bytes.fromhex("802A008033" + "00" * 51 + "00"))
    assert response == bytes.fromhex("6982")


# --- PINs ----------------------------------------------------------------------------


def test_tries_left_does_not_spend_a_try(reader: CardReader) -> None:
    assert reader.auth_pin_tries_left() == 3
    assert reader.auth_pin_tries_left() == 3
    assert reader.signature_password_tries_left() == 5
    assert reader.card_info_pin_tries_left() == 3


def test_wrong_pin_then_lock(reader: CardReader, card: MyNumberCard) -> None:
    with pytest.raises(PinWrong) as first:
        reader.sign_with_auth_key("0000", b"m")
    error = first.value
    assert isinstance(error, Unauthenticated)
    assert error.code == "card.pin_wrong"
    assert error.tries_left == 2
    assert error.field == "pin"
    assert error.pin is PinKind.AUTH
    assert "2" in error.message_ja and "2" in error.message_en
    assert "0000" not in error.message_ja + error.message_en
    with language("en"):
        assert error.as_dict() == {
            "code": "card.pin_wrong",
            "message": "Wrong user-authentication PIN; 2 tries left before it locks.",
            "field": "pin",
        }
    assert reader.auth_pin_tries_left() == 2
    with pytest.raises(PinWrong) as second:
        reader.sign_with_auth_key("0001", b"m")
    assert second.value.tries_left == 1
    with pytest.raises(PinLocked) as third:
        reader.sign_with_auth_key("0002", b"m")
    assert third.value.code == "card.pin_locked"
    assert third.value.tries_left == 0
    assert isinstance(third.value, Unauthenticated)
    with pytest.raises(PinLocked):
        reader.sign_with_auth_key(AUTH_PIN, b"m")
    assert reader.auth_pin_tries_left() == 0
    card.reset_pin("auth", "1357")
    assert reader.auth_pin_tries_left() == 3
    reader.sign_with_auth_key("1357", b"m")


def test_wrong_signature_password(reader: CardReader) -> None:
    with pytest.raises(PinWrong) as info:
        reader.read_signature_certificate("WRONGPASS1")
    assert info.value.field == "password"
    assert info.value.tries_left == 4
    assert info.value.pin is PinKind.SIGNATURE


def test_wrong_card_info_pin(reader: CardReader) -> None:
    with pytest.raises(PinWrong) as info:
        reader.read_individual_number("0000")
    assert (info.value.tries_left, info.value.pin) == (2, PinKind.CARD_INFO)
    assert reader.card_info_pin_tries_left() == 2
    assert reader.auth_pin_tries_left() == 3


@pytest.mark.parametrize("pin", ["123", "12345", "abcd", "", "12 4"])
def test_malformed_pins_never_reach_the_card(reader: CardReader, wire: RecordingTransport, pin: str) -> None:
    with pytest.raises(PinFormatError) as info:
        reader.sign_with_auth_key(pin, b"m")
    assert info.value.code == "card.pin_format"
    assert wire.log == []
    assert reader.auth_pin_tries_left() == 3


def test_signature_password_format(reader: CardReader, wire: RecordingTransport) -> None:
    for bad in ("SHORT", "X" * 17, "PASS-WORD"):
        with pytest.raises(PinFormatError):
            reader.sign_document(bad, b"m")
    assert wire.log == []


def test_full_width_and_lower_case_input_is_what_the_holder_meant(reader: CardReader, rsa_issued: IssuedCard) -> None:
    reader.sign_with_auth_key("１２３４", b"m")
    assert reader.read_signature_certificate(SIGN_PASSWORD.lower()) == rsa_issued.sign_cert
    assert reader.read_individual_number("５６７８") == INDIVIDUAL_NUMBER


# --- 券面事項入力補助AP --------------------------------------------------------------


def test_read_individual_number(reader: CardReader) -> None:
    assert reader.read_individual_number(CARD_INFO_PIN) == INDIVIDUAL_NUMBER


def test_read_basic_items(reader: CardReader) -> None:
    items = reader.read_basic_items(CARD_INFO_PIN)
    assert items == {"name": NAME, "address": ADDRESS, "birth_date": BIRTH_DATE, "sex": SEX}
    assert items["name"].encode() == NAME.encode()  # the variation selector survived


# --- errors from the card and the link ---------------------------------------------


def test_a_blank_card_has_no_files() -> None:
    with CardReader(InProcessTransport(MyNumberCard())) as reader:
        with pytest.raises(CardFileMissing) as info:
            reader.read_auth_certificate()
        assert info.value.code == "card.file_not_found"
        with pytest.raises(CardFileMissing):
            reader.auth_pin_tries_left()
        with pytest.raises(CardFileMissing):
            reader.read_basic_items("1234")
        assert reader.read_token() == b"JPKIAPICCTOKEN2"


def test_not_a_my_number_card() -> None:
    class OtherCard:
        def connect(self) -> None: ...
        def disconnect(self) -> None: ...
        def transmit(self, apdu: bytes) -> bytes:
            return bytes.fromhex("6A82")

    with pytest.raises(CardFileMissing) as info:
        CardReader(OtherCard()).read_auth_certificate()
    assert "JPKI" in info.value.message_en


def test_no_card_on_the_reader(card: MyNumberCard) -> None:
    transport = InProcessTransport(card)
    with pytest.raises(CardNotPresent) as info:
        CardReader(transport).read_auth_certificate()
    assert info.value.code == "card.not_present"
    with pytest.raises(CardNotPresent):
        InProcessTransport().connect()


def test_swapping_cards_ends_the_session(rsa_issued: IssuedCard) -> None:
    first, second = rsa_issued.fresh(), rsa_issued.fresh()
    transport = InProcessTransport(first)
    transport.connect()
    for command in ("00A4040C0AD392F000260100000001", "00A4020C020018", "002000800431323334"):
        assert transport.transmit(bytes.fromhex(command)) == b"\x90\x00"
    transport.insert(second)
    assert not first.inserted
    with pytest.raises(CardNotPresent):
        transport.transmit(bytes.fromhex("00A4040C0AD392F000260100000001"))
    transport.connect()
    assert second.inserted
    transport.transmit(bytes.fromhex("00A4040C0AD392F000260100000001"))
    transport.transmit(bytes.fromhex("00A4020C020017"))
    assert transport.transmit(bytes.fromhex("802A008033" + "00" * 51 + "00")) == b"\x69\x82"
    transport.connect()  # connecting again while connected changes nothing
    assert transport.connected


@pytest.mark.parametrize(
    ("answer", "error", "code"),
    [
        (lambda apdu: b"\x90", CardCommunicationError, "card.data_invalid"),
        (lambda apdu: b"\x6f\x00", UnexpectedStatus, "card.unexpected_status"),
    ],
)
def test_garbled_answers_become_errors(answer: Callable[[bytes], bytes], error: type[KojinError], code: str) -> None:
    class Garbled:
        def connect(self) -> None: ...
        def disconnect(self) -> None: ...
        def transmit(self, apdu: bytes) -> bytes:
            return answer(apdu)

    with pytest.raises(error) as info:
        CardReader(Garbled()).read_auth_certificate()
    assert info.value.code == code


def test_a_certificate_shorter_than_its_length_field(card: MyNumberCard) -> None:
    class Truncating:
        """Cuts the certificate file short, as a damaged card would."""

        def __init__(self) -> None:
            self.inner = InProcessTransport(card)

        def connect(self) -> None:
            self.inner.connect()

        def disconnect(self) -> None:
            self.inner.disconnect()

        def transmit(self, apdu: bytes) -> bytes:
            cmd = CommandAPDU.parse(apdu)
            if cmd.ins == 0xB0 and cmd.p1p2 >= 260:
                return b"\x6b\x00"
            return self.inner.transmit(apdu)

    with CardReader(Truncating()) as reader, pytest.raises(CardCommunicationError) as info:
        reader.read_auth_certificate()
    assert info.value.code == "card.data_invalid"


# --- PC/SC ---------------------------------------------------------------------------


def test_pcsc_transport_without_pyscard(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "smartcard", None)
    monkeypatch.setitem(sys.modules, "smartcard.System", None)
    transport = PcscTransport()
    with pytest.raises(CardReaderUnavailable) as info:
        transport.connect()
    assert info.value.code == "card.reader_unavailable"
    assert "pyscard" in info.value.message_en
    with pytest.raises(CardReaderUnavailable):
        PcscTransport.reader_names()
    with pytest.raises(CardNotPresent):
        transport.transmit(b"\x00\xa4\x04\x0c")
    transport.disconnect()  # nothing to do, and no error


def test_t0_get_response_and_wrong_le_are_handled() -> None:
    sent: list[bytes] = []
    script = {
        "00B0000000": bytes.fromhex("6C0F"),
        "00B000000F": b"A" * 10 + bytes.fromhex("6105"),
        "00C0000005": b"B" * 5 + bytes.fromhex("9000"),
        "802A0080010100": bytes.fromhex("6100"),
        "00C0000000": b"S" * 256 + bytes.fromhex("9000"),
    }

    def send(apdu: bytes) -> bytes:
        sent.append(apdu)
        return script[apdu.hex().upper()]

    assert exchange_with_t0_recovery(send, bytes.fromhex("00B0000000")) == (b"A" * 10 + b"B" * 5 + b"\x90\x00")
    assert [s.hex().upper() for s in sent] == ["00B0000000", "00B000000F", "00C0000005"]
    assert exchange_with_t0_recovery(send, bytes.fromhex("802A0080010100")) == (b"S" * 256 + b"\x90\x00")
