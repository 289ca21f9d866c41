from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.jp import cn as stdnum_cn
from stdnum.jp import in_ as stdnum_in

from kojin.core.errors import InvalidInput
from kojin.numbering.domain import (
    NumberDerivation,
    corporate_check_digit,
    individual_check_digit,
    juminhyo_code_of,
    make_corporate_number,
    make_juminhyo_code,
    mask_number,
    mod11_check_digit,
    mod11_check_digit_of,
    validate_corporate_number,
    validate_individual_number,
    validate_juminhyo_code,
)

REAL_CORPORATE_NUMBERS = ["7000012050002", "4011001098993", "1180301018771", "9020001031109", "8013401000626"]


def test_the_ministerial_order_vector() -> None:
    assert individual_check_digit("12345678901") == 8
    assert validate_individual_number("123456789018") == "123456789018"


@pytest.mark.parametrize("number", REAL_CORPORATE_NUMBERS)
def test_real_corporate_numbers_validate(number: str) -> None:
    assert validate_corporate_number(number) == number
    assert corporate_check_digit(number[1:]) == int(number[0])


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("12345678901", "number.length"),
        ("1234567890188", "number.length"),
        ("12345678901a", "number.not_digits"),
        ("１２３４５６７８９０１８", "number.fullwidth"),
        ("123456789017", "number.check_digit"),
        ("", "number.not_digits"),
        # A trailing newline is not a digit: "^[0-9]+$" would have let it through.
        ("12345678901\n", "number.not_digits"),
        ("123456789018\n", "number.not_digits"),
    ],
)
def test_individual_number_reasons(value: str, code: str) -> None:
    with pytest.raises(InvalidInput) as err:
        validate_individual_number(value)
    assert err.value.code == code
    assert err.value.field == "number"
    # The number itself never appears in the message.
    if len(value) >= 8:
        assert value not in err.value.message_ja and value not in err.value.message_en


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("700001205000", "corporate_number.length"),
        ("6000012050002", "corporate_number.check_digit"),
        ("７000012050002", "corporate_number.fullwidth"),
        ("700001205000\n", "corporate_number.not_digits"),
    ],
)
def test_corporate_number_reasons(value: str, code: str) -> None:
    with pytest.raises(InvalidInput) as err:
        validate_corporate_number(value)
    assert err.value.code == code


@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_individual_check_digit_agrees_with_stdnum(body: str) -> None:
    number = f"{body}{individual_check_digit(body)}"
    assert stdnum_in.is_valid(number)
    assert str(stdnum_in.calc_check_digit(body)) == number[-1]


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_every_wrong_check_digit_is_refused_like_stdnum(number: str) -> None:
    ours = True
    try:
        validate_individual_number(number)
    except InvalidInput:
        ours = False
    assert ours == stdnum_in.is_valid(number)


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_corporate_check_digit_agrees_with_stdnum(base: str) -> None:
    number = make_corporate_number(base)
    assert stdnum_cn.is_valid(number)


@given(st.text(alphabet="0123456789", min_size=13, max_size=13))
def test_corporate_validation_agrees_with_stdnum(number: str) -> None:
    ours = True
    try:
        validate_corporate_number(number)
    except InvalidInput:
        ours = False
    assert ours == stdnum_cn.is_valid(number)


@given(st.text(alphabet="0123456789", min_size=10, max_size=10))
def test_juminhyo_codes_carry_a_valid_check_digit(body: str) -> None:
    code = make_juminhyo_code(body)
    assert validate_juminhyo_code(code) == code
    wrong = code[:10] + str((int(code[10]) + 1) % 10)
    with pytest.raises(InvalidInput):
        validate_juminhyo_code(wrong)


def test_derivation_is_keyed_and_valid() -> None:
    a = NumberDerivation(b"k" * 32)
    b = NumberDerivation(b"j" * 32)
    n = a.candidate("12345678901")
    assert validate_individual_number(n) == n
    assert n == a.candidate("12345678901")
    assert n != b.candidate("12345678901")
    assert n != a.candidate("12345678901", attempt=1)


def test_mask_keeps_only_the_last_four_digits() -> None:
    assert mask_number("123456789018") == "********9018"


@given(st.integers(min_value=0, max_value=10**11 - 1))
def test_check_digit_of_an_integer_body_agrees_with_stdnum(body: int) -> None:
    # J-LIS computes check digits from integer bodies (table look-ups); the
    # string rule and python-stdnum must agree with it for every body.
    text = f"{body:011d}"
    assert mod11_check_digit_of(body, 11) == mod11_check_digit(text) == int(stdnum_in.calc_check_digit(text))


@given(st.integers(min_value=0, max_value=10**10 - 1))
def test_juminhyo_code_of_an_integer_body(body: int) -> None:
    code = juminhyo_code_of(body)
    assert code == make_juminhyo_code(f"{body:010d}")
    assert validate_juminhyo_code(code) == code


def test_check_digit_of_refuses_other_lengths() -> None:
    with pytest.raises(ValueError):
        mod11_check_digit_of(1, 12)
