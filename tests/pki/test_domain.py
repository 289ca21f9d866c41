"""Pure JPKI rules: validity to the fifth birthday, age, basic items, reasons."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kojin.core.errors import InvalidInput, NotPermitted
from kojin.core.japan import JST, age_on
from kojin.numbering.domain import validate_juminhyo_code
from kojin.pki.domain import (
    OID_ADDRESS,
    OID_BIRTH_DATE,
    OID_NAME,
    OID_SEX,
    PROFILES,
    REVOKED_ON_EVENT,
    BasicFourItems,
    CertKind,
    RevocationReason,
    basic_items_from_other_names,
    basic_items_to_other_names,
    birthday_in,
    check_may_hold,
    check_secret_format,
    decode_birth_date,
    der_utf8string,
    encode_birth_date,
    last_valid_day,
    new_serial,
    new_subject_ref,
    parse_der_utf8string,
    parse_kind,
    parse_reason,
    serial_key,
    validity_window,
)

# -- validity: the fifth birthday after issue -----------------------------------


@pytest.mark.parametrize(
    ("birth", "issued", "last"),
    [
        # issued well before the birthday in the year: that birthday is the first
        (date(1985, 6, 15), date(2026, 1, 10), date(2030, 6, 15)),
        # issued after the birthday: the first is next year's
        (date(1985, 6, 15), date(2026, 7, 1), date(2031, 6, 15)),
        # issued on the birthday: that day does not count
        (date(1985, 6, 15), date(2026, 6, 15), date(2031, 6, 15)),
        # issued the day before: four years and a day
        (date(1985, 6, 15), date(2026, 6, 14), date(2030, 6, 15)),
        # a baby issued a card on the day of birth
        (date(2026, 3, 3), date(2026, 3, 3), date(2031, 3, 3)),
    ],
)
def test_last_valid_day(birth: date, issued: date, last: date) -> None:
    assert last_valid_day(birth, issued) == last


@pytest.mark.parametrize(
    ("issued", "last"),
    [
        # first birthday after issue 2025-02-28 (common year, 28th = the birthday)
        (date(2025, 1, 10), date(2029, 2, 28)),
        # fifth birthday lands in the leap year 2032: the real 29th
        (date(2027, 3, 1), date(2032, 2, 29)),
        # issued on 28 Feb of a common year: that is the birthday, so not counted
        (date(2027, 2, 28), date(2032, 2, 29)),
        # issued on 29 Feb itself
        (date(2028, 2, 29), date(2033, 2, 28)),
        # issued on 28 Feb of a leap year: the 29th that year is the first birthday
        (date(2028, 2, 28), date(2032, 2, 29)),
    ],
)
def test_leap_day_birthdays(issued: date, last: date) -> None:
    born = date(2000, 2, 29)
    assert last_valid_day(born, issued) == last


def test_birthday_in_common_year_is_28_february() -> None:
    born = date(2004, 2, 29)
    assert birthday_in(born, 2025) == date(2025, 2, 28)
    assert birthday_in(born, 2028) == date(2028, 2, 29)


def test_validity_window_is_jst_whole_days() -> None:
    start, end = validity_window(date(1985, 6, 15), date(2026, 6, 1))
    assert start == datetime.combine(date(2026, 6, 1), time(0, 0), JST)
    assert end == datetime.combine(date(2030, 6, 15), time(23, 59, 59), JST)
    assert start.utcoffset() == timedelta(hours=9)


def test_birth_after_issue_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        last_valid_day(date(2030, 1, 1), date(2026, 1, 1))
    assert caught.value.code == "pki.birth_after_issue"


@given(
    birth=st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 12, 31)),
    offset=st.integers(min_value=0, max_value=40_000),
)
def test_validity_is_always_a_birthday_four_to_five_years_out(birth: date, offset: int) -> None:
    issued = birth + timedelta(days=offset)
    last = last_valid_day(birth, issued)
    assert last > issued
    assert last == birthday_in(birth, last.year)
    # exactly five birthdays in (issued, last]
    birthdays = [birthday_in(birth, y) for y in range(issued.year, last.year + 1)]
    assert sum(issued < b <= last for b in birthdays) == 5
    assert timedelta(days=4 * 365) < last - issued <= timedelta(days=5 * 366)


# -- age and the signature certificate ------------------------------------------


def test_age_on() -> None:
    assert age_on(date(2011, 4, 2), date(2026, 4, 1)) == 14
    assert age_on(date(2011, 4, 2), date(2026, 4, 2)) == 15
    # 29 February: the new age starts on 1 March in a common year
    assert age_on(date(2008, 2, 29), date(2023, 2, 28)) == 14
    assert age_on(date(2008, 2, 29), date(2023, 3, 1)) == 15


def test_signature_certificate_needs_15() -> None:
    with pytest.raises(NotPermitted) as caught:
        check_may_hold(CertKind.SIGN, date(2011, 4, 2), date(2026, 4, 1))
    assert caught.value.code == "pki.signature_under_15"
    check_may_hold(CertKind.SIGN, date(2011, 4, 2), date(2026, 4, 2))
    # the authentication certificate has no age limit
    check_may_hold(CertKind.AUTH, date(2026, 4, 1), date(2026, 4, 1))


def test_profiles_follow_facts() -> None:
    sign, auth = PROFILES[CertKind.SIGN], PROFILES[CertKind.AUTH]
    assert sign.key_usage == {"digital_signature", "content_commitment"}
    assert auth.key_usage == {"digital_signature"}
    assert auth.extended_key_usage == ("1.3.6.1.5.5.7.3.2",)
    assert sign.carries_personal_data and not auth.carries_personal_data
    assert (sign.secret.tries, auth.secret.tries) == (5, 3)
    assert sign.revoked_on_move_or_name_change and not auth.revoked_on_move_or_name_change


@pytest.mark.parametrize(
    ("kind", "secret", "ok"),
    [
        (CertKind.AUTH, "1234", True),
        (CertKind.AUTH, "12345", False),
        (CertKind.AUTH, "12a4", False),
        (CertKind.SIGN, "ABC123", True),
        (CertKind.SIGN, "A" * 16, True),
        (CertKind.SIGN, "ABC12", False),
        (CertKind.SIGN, "abc123", False),
        (CertKind.SIGN, "A" * 17, False),
    ],
)
def test_secret_format(kind: CertKind, secret: str, ok: bool) -> None:
    if ok:
        check_secret_format(kind, secret)
    else:
        with pytest.raises(InvalidInput) as caught:
            check_secret_format(kind, secret)
        assert caught.value.code == "pki.bad_secret_format"


# -- the four basic items in the subjectAltName ---------------------------------


@pytest.mark.parametrize(
    ("day", "encoded"),
    [
        (date(1912, 7, 29), "119120729"),  # 明治 last day
        (date(1912, 7, 30), "219120730"),  # 大正
        (date(1926, 12, 25), "319261225"),  # 昭和
        (date(1989, 1, 7), "319890107"),  # 昭和64年
        (date(1989, 1, 8), "419890108"),  # 平成
        (date(2019, 4, 30), "420190430"),
        (date(2019, 5, 1), "520190501"),  # 令和
    ],
)
def test_birth_date_era_encoding(day: date, encoded: str) -> None:
    assert encode_birth_date(day) == encoded
    assert decode_birth_date(encoded) == day


@pytest.mark.parametrize("bad", ["", "20200101", "620200101", "420201301", "4202001011", "x20200101"])
def test_bad_birth_date_encoding(bad: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_birth_date(bad)
    assert caught.value.code == "pki.malformed"


def test_der_utf8string_long_form() -> None:
    text = "東京都" * 50  # 450 bytes: needs the two-octet long length form
    der = der_utf8string(text)
    assert der[:4] == b"\x0c\x82\x01\xc2"
    assert parse_der_utf8string(der) == text
    assert der_utf8string("a") == b"\x0c\x01a"


@pytest.mark.parametrize(
    "bad",
    [b"", b"\x0c", b"\x13\x01a", b"\x0c\x02a", b"\x0c\x81\x01a", b"\x0c\x01\xff", b"\x0c\x80"],
)
def test_parse_der_utf8string_refuses(bad: bytes) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_der_utf8string(bad)
    assert caught.value.code == "pki.malformed"


def test_basic_items_round_trip_keeps_variant_characters() -> None:
    # 髙 (U+9AD9) and 𠮷 (U+20BB7) and an IVS sequence must survive unchanged.
    items = BasicFourItems(
        name="髙橋 𠮷男\U000e0100",
        address="東京都文京区本郷七丁目3番1号",
        birth_date=date(1970, 1, 2),
        sex="2",
    )
    pairs = basic_items_to_other_names(items)
    assert [oid for oid, _ in pairs] == [OID_NAME, OID_SEX, OID_BIRTH_DATE, OID_ADDRESS]
    assert basic_items_from_other_names(pairs) == items


def test_basic_items_must_all_be_present_once() -> None:
    items = BasicFourItems(name="山田", address="東京都", birth_date=date(1970, 1, 2), sex="1")
    pairs = basic_items_to_other_names(items)
    with pytest.raises(InvalidInput):
        basic_items_from_other_names(pairs[:-1])
    with pytest.raises(InvalidInput):
        basic_items_from_other_names([*pairs, pairs[0]])
    # unknown OIDs in the arc (.2, .6 substitutes) are ignored
    assert basic_items_from_other_names([*pairs, ("1.2.392.200149.8.5.5.2", b"\x0c\x00")]) == items


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"name": ""}, "pki.empty_name"),
        ({"name": "山田\x00"}, "pki.control_in_name"),
        ({"address": " "}, "pki.empty_address"),
        ({"address": "あ" * 301}, "pki.long_address"),
        ({"sex": "3"}, "pki.bad_sex"),
        ({"birth_date": date(1860, 1, 1)}, "pki.bad_birth_date"),
    ],
)
def test_basic_items_validation(change: dict[str, Any], code: str) -> None:
    values: dict[str, Any] = {
        "name": "山田",
        "address": "東京都",
        "birth_date": date(1970, 1, 2),
        "sex": "1",
    }
    values.update(change)
    with pytest.raises(InvalidInput) as caught:
        basic_items_to_other_names(BasicFourItems(**values))
    assert caught.value.code == code


# -- identifiers and reasons ----------------------------------------------------


def test_serials_are_random_positive_and_long() -> None:
    serials = {new_serial() for _ in range(200)}
    assert len(serials) == 200
    assert all(s > 0 and s.bit_length() == 96 for s in serials)
    assert all(len(serial_key(s)) == 24 for s in serials)
    with pytest.raises(InvalidInput):
        serial_key(0)
    with pytest.raises(InvalidInput):
        serial_key(1 << 160)


def test_subject_ref_is_opaque() -> None:
    refs = {new_subject_ref() for _ in range(100)}
    assert len(refs) == 100
    assert all(len(r) == 20 and r.isalnum() and r.isupper() for r in refs)


def test_reasons_and_kinds() -> None:
    assert parse_reason("key_compromise") is RevocationReason.KEY_COMPROMISE
    assert RevocationReason.AFFILIATION_CHANGED.code == 3
    assert RevocationReason.PRIVILEGE_WITHDRAWN.code == 9
    with pytest.raises(InvalidInput) as caught:
        parse_reason("lost it")
    assert caught.value.code == "pki.bad_reason"
    assert parse_kind("auth") is CertKind.AUTH
    with pytest.raises(InvalidInput):
        parse_kind("both")
    assert CertKind.SIGN.ca_name == "sign"


def test_a_move_revokes_only_the_signature_certificate() -> None:
    for event in ("registry.address_changed", "registry.moved_out", "registry.name_changed"):
        kinds, reason = REVOKED_ON_EVENT[event]
        assert kinds == {CertKind.SIGN}
        assert reason is RevocationReason.AFFILIATION_CHANGED
    assert REVOKED_ON_EVENT["registry.deceased"][0] == {CertKind.SIGN, CertKind.AUTH}


@pytest.mark.parametrize(
    "bad", ["1234567890", "123456789012", "1234567890a", "１２３４５６７８９０３", "12345678903\n", "12345678901"]
)
def test_juminhyo_code_format(bad: str) -> None:
    with pytest.raises(InvalidInput):
        validate_juminhyo_code(bad)
    assert validate_juminhyo_code("12345678903") == "12345678903"
