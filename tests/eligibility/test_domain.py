"""Pure rules: insurer numbers, contribution ratios, 資格確認書 validity, the answer's field names."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from kojin.core.errors import KojinError
from kojin.eligibility.domain import (
    DEMO_INSURERS,
    CardClass,
    CardIdentifiers,
    InsurerKind,
    LossReason,
    Qualification,
    answer_fields,
    certificate_validity,
    contribution_ratio,
    elderly_info,
    insurer_check_digit,
    pick_current,
    school_age_start,
    validate_insurer_number,
)

# The answer's fields as clinic software reads them (FACTS.md §5).
FACTS_FIELDS = {
    "InsuredCardClassification",
    "InsurerNumber",
    "InsurerName",
    "InsuredCardSymbol",
    "InsuredIdentificationNumber",
    "InsuredBranchNumber",
    "PersonalFamilyClassification",
    "InsuredName",
    "Name",
    "NameKana",
    "Sex1",
    "Birthdate",
    "Address",
    "PostNumber",
    "QualificationDate",
    "InsuredCardValidDate",
    "InsuredCardExpirationDate",
    "InsuredPartialContributionRatio",
    "ElderlyRecipientCertificateInfo",
    "ReasonOfLoss",
}


def test_check_digit_matches_a_real_insurer_number() -> None:
    # 協会けんぽ東京支部 is 01130012: body 0113001, check digit 2.
    assert insurer_check_digit("0113001") == "2"
    assert validate_insurer_number("01130012") == "01130012"
    assert {len(i.insurer_number) for i in DEMO_INSURERS} == {6, 8}
    for insurer in DEMO_INSURERS:
        validate_insurer_number(insurer.insurer_number)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("01130013", "eligibility.unknown_insurer"),
        ("0113001", "eligibility.bad_insurer_number"),
        ("abc", "eligibility.bad_insurer_number"),
        (None, "eligibility.bad_insurer_number"),
    ],
)
def test_bad_insurer_numbers(value: object, code: str) -> None:
    with pytest.raises(KojinError) as err:
        validate_insurer_number(value)
    assert err.value.code == code


def test_typed_identifiers_are_checked_field_by_field() -> None:
    ids = CardIdentifiers.parse(" 01130012 ", "50110037", "12", "01")
    assert ids.insurer_number == "01130012"
    for args, field in (
        (("01130012", "x" * 30, "1", "00"), "symbol"),
        (("01130012", "", "", "00"), "number"),
        (("01130012", "", "1", "1"), "branch"),
    ):
        with pytest.raises(KojinError) as err:
            CardIdentifiers.parse(*args)
        assert err.value.field == field


def test_contribution_ratio_by_age() -> None:
    today = date(2026, 11, 24)
    assert contribution_ratio(date(2022, 1, 1), today) == 20  # before school
    assert contribution_ratio(date(2020, 4, 2), today) == 20  # starts school in April 2027
    assert contribution_ratio(date(2019, 4, 2), today) == 30  # at school since April 2026
    assert contribution_ratio(date(1980, 1, 1), today) == 30
    assert contribution_ratio(date(1954, 1, 1), today) == 20  # 72
    assert contribution_ratio(date(1954, 1, 1), today, high_income=True) == 30
    assert contribution_ratio(date(1940, 1, 1), today) == 10
    assert school_age_start(date(2019, 4, 1)) == date(2025, 4, 1)
    assert school_age_start(date(2019, 4, 2)) == date(2026, 4, 1)


def test_elderly_recipient_certificate_from_the_month_after_seventy() -> None:
    info = elderly_info(date(1955, 6, 15), date(2026, 11, 24), 20)
    assert info is not None
    assert info.valid_from == date(2025, 7, 1)
    assert info.valid_until == date(2030, 6, 14)
    assert elderly_info(date(1980, 1, 1), date(2026, 11, 24), 30) is None


def test_certificate_validity_is_at_most_five_years() -> None:
    issued = date(2026, 11, 24)
    assert certificate_validity(InsurerKind.KYOKAI, issued) == date(2031, 11, 23)
    assert certificate_validity(InsurerKind.NHI, issued) == date(2027, 7, 31)
    assert certificate_validity(InsurerKind.LATE_ELDERLY, date(2026, 3, 1)) == date(2026, 7, 31)
    assert certificate_validity(InsurerKind.SOCIETY, issued, lost_on=date(2027, 1, 1)) == date(2026, 12, 31)
    for kind in InsurerKind:
        assert (certificate_validity(kind, issued) - issued).days <= 5 * 366


def _qual(**kw: Any) -> Qualification:
    base: dict[str, Any] = dict(
        insurer_id="kyokai",
        member_code="C",
        insurer_number="01130012",
        symbol="1",
        number="2",
        branch="00",
        family=False,
        insured_name="保険　太郎",
        name="保険　太郎",
        kana="ホケン　タロウ",
        sex="1",
        birth_date=date(1978, 5, 12),
        address="東京都文京区本郷1-1",
        postal_code="1130033",
        qualified_on=date(2015, 4, 1),
        ratio=30,
    )
    base.update(kw)
    return Qualification(**base)


def test_answer_has_exactly_the_official_fields() -> None:
    answer = answer_fields(_qual(), "協会けんぽ", date(2026, 11, 24))
    assert answer["ProcessingResultStatus"] == "1"
    assert answer["QualificationValidity"] == "1"
    assert set(answer["ResultList"]) >= FACTS_FIELDS
    assert answer["ResultList"]["InsuredPartialContributionRatio"] == "030"
    assert answer["ResultList"]["Birthdate"] == "19780512"
    lost = answer_fields(_qual(lost_on=date(2026, 10, 1), loss_reason=LossReason.RETIREMENT), "x", date(2026, 11, 24))
    assert lost["QualificationValidity"] == "2"
    assert lost["result_code"] == "eligibility.lost"
    assert lost["ResultList"]["ReasonOfLoss"] == "1"


def test_current_qualification_prefers_a_valid_one() -> None:
    old = _qual(member_code="A", lost_on=date(2024, 3, 31), loss_reason=LossReason.RETIREMENT)
    new = _qual(member_code="B", qualified_on=date(2024, 4, 1), card_class=CardClass.INSURED)
    assert pick_current([old, new], date(2026, 11, 24)) == new
    assert pick_current([old], date(2026, 11, 24)) == old
    assert pick_current([], date(2026, 11, 24)) is None
