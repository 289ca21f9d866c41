"""ISO 7816-4 APDU encoding, status words and BER-TLV."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kojin.card import apdu as apdu_module
from kojin.card.apdu import (
    SHA256_DIGEST_INFO_PREFIX,
    SW,
    APDUFormatError,
    CommandAPDU,
    ResponseAPDU,
    compute_digital_signature,
    read_binary,
    select_aid,
    select_ef,
    sha256_digest_info,
    sw_tries_left,
    tlv_encode,
    tlv_header,
    tlv_parse,
    tries_left_from_sw,
    verify,
)


def test_all_lists_exactly_the_public_names() -> None:
    public = {
        name
        for name in vars(apdu_module)
        if not name.startswith("_") and name not in {"annotations", "dataclass", "IntEnum", "Final"}
    }
    assert set(apdu_module.__all__) == public


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("00A4040C", CommandAPDU(0x00, 0xA4, 0x04, 0x0C)),
        ("00B0000004", CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=4)),
        ("00B0000000", CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=256)),
        ("00A4020C02000A", CommandAPDU(0x00, 0xA4, 0x02, 0x0C, b"\x00\x0a")),
        ("802A00800301020300", CommandAPDU(0x80, 0x2A, 0x00, 0x80, b"\x01\x02\x03", 256)),
        ("802A0080030102037F", CommandAPDU(0x80, 0x2A, 0x00, 0x80, b"\x01\x02\x03", 0x7F)),
    ],
)
def test_parse_each_case(raw: str, expected: CommandAPDU) -> None:
    parsed = CommandAPDU.parse(bytes.fromhex(raw))
    assert parsed == expected
    assert parsed.to_bytes() == bytes.fromhex(raw)
    assert bytes(parsed) == bytes.fromhex(raw)


def test_cases_are_numbered_as_in_iso_7816_3() -> None:
    assert CommandAPDU(0, 0, 0, 0).case == 1
    assert CommandAPDU(0, 0, 0, 0, ne=1).case == 2
    assert CommandAPDU(0, 0, 0, 0, b"x").case == 3
    assert CommandAPDU(0, 0, 0, 0, b"x", 1).case == 4


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "00",
        "00A404",
        "00A4040C0AD392F0",  # Lc says 10, 3 follow
        "00A4040C02000A0000",  # two bytes too many for case 4
        "00B0000000FF",  # Lc = 00 would be extended length
        "00B00000000004",
    ],
)
def test_malformed_apdus_are_refused(raw: str) -> None:
    with pytest.raises(APDUFormatError):
        CommandAPDU.parse(bytes.fromhex(raw))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"cla": 256, "ins": 0, "p1": 0, "p2": 0},
        {"cla": 0, "ins": -1, "p1": 0, "p2": 0},
        {"cla": 0, "ins": 0, "p1": 0, "p2": 0, "data": bytes(256)},
        {"cla": 0, "ins": 0, "p1": 0, "p2": 0, "ne": 0},
        {"cla": 0, "ins": 0, "p1": 0, "p2": 0, "ne": 257},
    ],
)
def test_impossible_commands_cannot_be_built(kwargs: dict[str, Any]) -> None:
    with pytest.raises(APDUFormatError):
        CommandAPDU(**kwargs)


@given(
    cla=st.integers(0, 255),
    ins=st.integers(0, 255),
    p1=st.integers(0, 255),
    p2=st.integers(0, 255),
    data=st.binary(max_size=255),
    ne=st.none() | st.integers(1, 256),
)
def test_encode_then_parse_is_identity(cla: int, ins: int, p1: int, p2: int, data: bytes, ne: int | None) -> None:
    cmd = CommandAPDU(cla, ins, p1, p2, data, ne)
    assert CommandAPDU.parse(cmd.to_bytes()) == cmd


@given(st.binary(max_size=300))
def test_parse_either_succeeds_or_raises_format_error(raw: bytes) -> None:
    try:
        cmd = CommandAPDU.parse(raw)
    except APDUFormatError:
        return
    assert cmd.to_bytes() == raw


def test_builders_give_the_jpki_byte_strings() -> None:
    assert select_aid(bytes.fromhex("D392F000260100000001")).to_bytes() == bytes.fromhex(
        "00A4040C0AD392F000260100000001"
    )
    assert select_ef(0x0018).to_bytes() == bytes.fromhex("00A4020C020018")
    assert read_binary(0x0104, 256).to_bytes() == bytes.fromhex("00B0010400")
    assert verify(b"1234").to_bytes() == bytes.fromhex("002000800431323334")
    assert verify(None).to_bytes() == bytes.fromhex("00200080")
    digest_info = sha256_digest_info(hashlib.sha256(b"x").digest())
    assert compute_digital_signature(digest_info).to_bytes() == (bytes.fromhex("802A008033") + digest_info + b"\x00")
    with pytest.raises(APDUFormatError):
        read_binary(0x8000, 1)
    with pytest.raises(APDUFormatError):
        select_ef(0x10000)


def test_digest_info_is_51_bytes_with_the_sha256_prefix() -> None:
    digest = hashlib.sha256(b"abc").digest()
    info = sha256_digest_info(digest)
    assert len(info) == 51
    assert info.startswith(bytes.fromhex("3031300D060960864801650304020105000420"))
    assert info == SHA256_DIGEST_INFO_PREFIX + digest
    with pytest.raises(ValueError):
        sha256_digest_info(b"short")


def test_response_apdu() -> None:
    response = ResponseAPDU.parse(bytes.fromhex("0102039000"))
    assert response.data == b"\x01\x02\x03"
    assert (response.sw, response.sw1, response.sw2) == (0x9000, 0x90, 0x00)
    assert response.ok
    assert response.to_bytes() == bytes.fromhex("0102039000")
    assert not ResponseAPDU.parse(bytes.fromhex("6A82")).ok
    with pytest.raises(APDUFormatError):
        ResponseAPDU.parse(b"\x90")


def test_status_words() -> None:
    expected = {
        "OK": 0x9000,
        "WRONG_LENGTH": 0x6700,
        "FILE_NOT_FOUND": 0x6A82,
        "SECURITY_NOT_SATISFIED": 0x6982,
        "AUTH_METHOD_BLOCKED": 0x6983,
        "NO_CURRENT_EF": 0x6986,
        "INCORRECT_P1P2": 0x6A86,
        "INS_NOT_SUPPORTED": 0x6D00,
        "CLA_NOT_SUPPORTED": 0x6E00,
        "WRONG_P1P2": 0x6B00,
        "WRONG_DATA": 0x6A80,
    }
    for name, value in expected.items():
        assert SW[name] == value
    assert sw_tries_left(2) == 0x63C2
    assert tries_left_from_sw(0x63C2) == 2
    assert tries_left_from_sw(0x63C0) == 0
    assert tries_left_from_sw(0x9000) is None
    assert tries_left_from_sw(0x6983) is None
    with pytest.raises(ValueError):
        sw_tries_left(16)


def test_tlv_lengths_use_the_shortest_form() -> None:
    assert tlv_encode(0xDF22, b"ab") == bytes.fromhex("DF22026162")
    assert tlv_encode(0x30, bytes(0x80))[:3] == bytes.fromhex("308180")
    assert tlv_encode(0xFF20, bytes(0x100))[:5] == bytes.fromhex("FF20820100")
    with pytest.raises(ValueError):
        tlv_encode(0x1F, b"")  # a first byte announcing more tag bytes that never come


def test_tlv_header_asks_for_more_until_complete() -> None:
    full = tlv_encode(0xFF20, bytes(300))
    assert tlv_header(full[:1]) is None
    assert tlv_header(full[:2]) is None
    assert tlv_header(full[:4]) is None
    assert tlv_header(full[:5]) == (0xFF20, 5, 300)
    assert tlv_header(bytes.fromhex("30820296")) == (0x30, 4, 0x296)
    with pytest.raises(ValueError):
        tlv_header(bytes.fromhex("3080"))  # indefinite length


@given(st.lists(st.tuples(st.sampled_from([0x30, 0xDF21, 0xDF22, 0xFF10, 0x04]), st.binary(max_size=400)), max_size=5))
def test_tlv_round_trip(objects: list[tuple[int, bytes]]) -> None:
    assert tlv_parse(b"".join(tlv_encode(t, v) for t, v in objects)) == objects


def test_tlv_parse_skips_padding_and_refuses_truncation() -> None:
    body = tlv_encode(0xFF10, b"123456789018")
    assert tlv_parse(body + b"\xff\xff\x00") == [(0xFF10, b"123456789018")]
    with pytest.raises(ValueError):
        tlv_parse(body[:-1])
