"""The link rule: one certain candidate agreeing on birth date, sex, names and address — or review."""

from __future__ import annotations

from datetime import date

import pytest

from kojin.linkage.matcher import Decision, Matcher, Reason, ReasonItem
from tests.linkage.helpers import entry, index_with, member

BORN = date(1980, 4, 1)
A = entry(1, "山田　太郎", "ヤマダ　タロウ", "1", BORN, "1130033", "本郷", "4丁目15番14号")
# An unrelated man with the same name, birth date and sex, elsewhere in the ward.
B = entry(2, "山田　太郎", "ヤマダ　タロウ", "1", BORN, "1120001", "白山", "2丁目3番4号")
# Twins in one household: same surname, birth date, sex and address.
TWIN_1 = entry(3, "鈴木　大翔", "スズキ　ヒロト", "1", date(2015, 6, 2), "1130022", "千駄木", "3丁目1番2号")
TWIN_2 = entry(4, "鈴木　大和", "スズキ　ヤマト", "1", date(2015, 6, 2), "1130022", "千駄木", "3丁目1番2号")
# A family: mother and son at one address.
MOTHER = entry(5, "髙橋　和子", "タカハシ　カズコ", "2", date(1960, 2, 3), "1120012", "大塚", "1丁目2番3号")
SON = entry(6, "髙橋　健一", "タカハシ　ケンイチ", "1", date(1990, 7, 8), "1120012", "大塚", "1丁目2番3号")
# A woman who married (old name) and a man who moved (old address), per the register's history.
MARRIED = entry(
    7,
    "伊藤　美咲",
    "イトウ　ミサキ",
    "2",
    date(1992, 9, 9),
    "1130031",
    "根津",
    "1丁目1番1号",
    old_names=(("中村　美咲", "ナカムラ　ミサキ"),),
)
MOVED = entry(
    8,
    "小林　誠",
    "コバヤシ　マコト",
    "1",
    date(1975, 1, 20),
    "1120002",
    "小石川",
    "2丁目5番6号",
    old_addresses=(("1130021", "本駒込", "3丁目7番8号"),),
)
# A foreign couple; the wife keeps her surname.
HUSBAND = entry(
    10, "KIM DONGHYUN", "キム　ドンヒョン", "1", date(1975, 5, 5), "1620807", "東榎町", "21番地", city="新宿区"
)
WIFE = entry(11, "PARK SUNJA", "パク　スンジャ", "2", date(1977, 1, 2), "1620807", "東榎町", "21番地", city="新宿区")
DEAD = entry(
    9, "森　静子", "モリ　シズコ", "2", date(1930, 3, 3), "1120006", "小日向", "1丁目1番1号", status="deceased"
)


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(index_with(A, B, TWIN_1, TWIN_2, MOTHER, SON, MARRIED, MOVED, DEAD, HUSBAND, WIFE))


def test_exact_member_links(matcher: Matcher) -> None:
    result = matcher.match(
        member("山田　太郎", "ヤマダ　タロウ", "1", BORN, "1130033", "東京都文京区本郷4丁目15番14号")
    )
    assert result.decision is Decision.LINKED and result.resident_id == 1
    assert result.score is not None and result.score > 12


@pytest.mark.parametrize(
    ("name", "kana", "address"),
    [
        ("山田太郎", "ﾔﾏﾀﾞ ﾀﾛｳ", "東京都文京区本郷４－１５－１４ メゾン本郷 302"),
        ("山田　太郎", "やまだ　たろう", "文京区本郷四丁目十五番十四号"),
        ("山田　太郎", "ヤマダ　タロー", "本郷4-15-14"),
        ("山田　太郎", "ヤマタ　タロウ", "東京都文京区本郷4-15-14"),  # a kana typo
        ("山田　太郎", "ヤマダ　タロウ", "東京都文京区本郷4丁目15番"),  # 号 left out
    ],
)
def test_forms_and_typos_still_link(matcher: Matcher, name: str, kana: str, address: str) -> None:
    result = matcher.match(member(name, kana, "1", BORN, "1130033", address))
    assert (result.decision, result.resident_id) == (Decision.LINKED, 1), result.reasons


def test_same_name_and_birth_date_is_told_apart_by_the_address(matcher: Matcher) -> None:
    at_b = matcher.match(member("山田　太郎", "ヤマダ　タロウ", "1", BORN, "1120001", "東京都文京区白山2-3-4"))
    assert (at_b.decision, at_b.resident_id) == (Decision.LINKED, 2)
    assert {c.resident_id for c in at_b.candidates} >= {1, 2}


def test_same_name_and_birth_date_without_the_address_is_never_linked(matcher: Matcher) -> None:
    # Moved in from elsewhere, or not this person at all: name and birth date alone never link.
    result = matcher.match(member("山田　太郎", "ヤマダ　タロウ", "1", BORN, "5300001", "大阪府大阪市北区梅田1-1-1"))
    assert result.decision is Decision.REVIEW and result.resident_id is None
    assert ReasonItem(Reason.CONFLICTING_FIELD, "address") in result.reasons
    assert ReasonItem(Reason.AMBIGUOUS) in result.reasons


def test_name_and_birth_date_only_never_links_even_when_unique(matcher: Matcher) -> None:
    result = matcher.match(
        member("鈴木　大翔", "スズキ　ヒロト", "1", date(2015, 6, 2), "5300001", "大阪府大阪市北区梅田1-1-1")
    )
    assert result.decision is Decision.REVIEW
    assert ReasonItem(Reason.CONFLICTING_FIELD, "address") in result.reasons


def test_twins_link_to_the_right_one(matcher: Matcher) -> None:
    one = matcher.match(
        member("鈴木　大翔", "スズキ　ヒロト", "1", date(2015, 6, 2), "1130022", "東京都文京区千駄木3-1-2")
    )
    two = matcher.match(
        member("鈴木　大和", "スズキ　ヤマト", "1", date(2015, 6, 2), "1130022", "東京都文京区千駄木3-1-2")
    )
    assert (one.decision, one.resident_id) == (Decision.LINKED, 3)
    assert (two.decision, two.resident_id) == (Decision.LINKED, 4)


def test_a_twin_without_a_given_name_match_is_not_linked(matcher: Matcher) -> None:
    result = matcher.match(
        member("鈴木　大輝", "スズキ　ダイキ", "1", date(2015, 6, 2), "1130022", "東京都文京区千駄木3-1-2")
    )
    assert result.decision is Decision.REVIEW


def test_variant_kanji_in_the_register_link(matcher: Matcher) -> None:
    result = matcher.match(
        member("高橋　和子", "タカハシ　カズコ", "2", date(1960, 2, 3), "1120012", "東京都文京区大塚1-2-3")
    )
    assert (result.decision, result.resident_id) == (Decision.LINKED, 5)


def test_a_family_members_details_on_the_line_go_to_review(matcher: Matcher) -> None:
    # The son's line, with the mother's reading, birth date and sex keyed from the same form.
    mixed = matcher.match(
        member("髙橋　健一", "タカハシ　カズコ", "2", date(1960, 2, 3), "1120012", "東京都文京区大塚1-2-3")
    )
    assert mixed.decision is Decision.REVIEW
    assert any(r.code is Reason.CONFLICTING_FIELD for r in mixed.reasons)
    # The son's name and reading with the mother's birth date.
    born_wrong = matcher.match(
        member("髙橋　健一", "タカハシ　ケンイチ", "1", date(1960, 2, 3), "1120012", "東京都文京区大塚1-2-3")
    )
    assert born_wrong.decision is Decision.REVIEW
    assert ReasonItem(Reason.CONFLICTING_FIELD, "birth_date") in born_wrong.reasons


def test_a_spouses_reading_under_a_latin_name_goes_to_review(matcher: Matcher) -> None:
    # KIM and PARK share a letter by chance; that is no agreement.
    line = member("KIM DONGHYUN", "パク　スンジャ", "2", date(1977, 1, 2), "1620807", "東京都新宿区東榎町21番地")
    result = matcher.match(line)
    assert result.decision is Decision.REVIEW, result
    own = matcher.match(
        member("KIM DONGHYUN", "キム　ドンヒョン", "1", date(1975, 5, 5), "1620807", "東京都新宿区東榎町21番地")
    )
    assert (own.resident_id, own.address_level) == (10, "full")


def test_birth_date_and_sex_must_agree(matcher: Matcher) -> None:
    near = matcher.match(
        member("山田　太郎", "ヤマダ　タロウ", "1", date(1980, 4, 2), "1130033", "東京都文京区本郷4-15-14")
    )
    assert near.decision is Decision.REVIEW
    assert ReasonItem(Reason.CONFLICTING_FIELD, "birth_date") in near.reasons
    sex = matcher.match(member("山田　太郎", "ヤマダ　タロウ", "2", BORN, "1130033", "東京都文京区本郷4-15-14"))
    assert sex.decision is Decision.REVIEW
    assert ReasonItem(Reason.CONFLICTING_FIELD, "sex") in sex.reasons


def test_old_name_and_old_address_go_to_review_with_the_reason(matcher: Matcher) -> None:
    maiden = matcher.match(
        member("中村　美咲", "ナカムラ　ミサキ", "2", date(1992, 9, 9), "1130031", "東京都文京区根津1-1-1")
    )
    assert maiden.decision is Decision.REVIEW
    assert maiden.candidates[0].resident_id == 7
    assert ReasonItem(Reason.NAME_CHANGED) in maiden.reasons
    old_home = matcher.match(
        member("小林　誠", "コバヤシ　マコト", "1", date(1975, 1, 20), "1130021", "東京都文京区本駒込3-7-8")
    )
    assert old_home.decision is Decision.REVIEW
    assert old_home.candidates[0].resident_id == 8
    assert ReasonItem(Reason.MOVED) in old_home.reasons


def test_a_deceased_resident_is_not_linked(matcher: Matcher) -> None:
    result = matcher.match(
        member("森　静子", "モリ　シズコ", "2", date(1930, 3, 3), "1120006", "東京都文京区小日向1-1-1")
    )
    assert result.decision is Decision.REVIEW
    assert ReasonItem(Reason.CONFLICTING_FIELD, "status") in result.reasons


def test_nobody_is_no_match(matcher: Matcher) -> None:
    result = matcher.match(
        member("勅使河原　蓮", "テシガワラ　レン", "1", date(2001, 1, 1), "9000001", "沖縄県那覇市港町1-1-1")
    )
    assert result.decision is Decision.NO_MATCH
    assert result.reasons == (ReasonItem(Reason.NO_MATCH),)
    assert result.reason_text == "no_match"
