"""Comparison keys: variant kanji, kana forms and address forms fold together; nothing else does."""

from __future__ import annotations

import pytest

from kojin.linkage.normalise import (
    block_numbers,
    fold_area,
    fold_kanji,
    kana_loose,
    kana_strict,
    member_address,
    name_key,
    numbers_relation,
    parse_one_line,
    register_address,
    split_name,
)

IVS = "\U000e0100"


@pytest.mark.parametrize(
    ("variant", "plain"),
    [
        ("髙", "高"),
        ("﨑", "崎"),
        ("邊", "辺"),
        ("邉", "辺"),
        ("齋", "斎"),
        ("齊", "斎"),
        ("斉", "斎"),
        ("濵", "浜"),
        ("濱", "浜"),
        ("𠮷", "吉"),
        ("葛" + IVS, "葛"),
        ("澤", "沢"),
        ("々", "々"),
    ],
)
def test_variant_kanji_fold_to_one_key(variant: str, plain: str) -> None:
    assert fold_kanji(variant) == fold_kanji(plain)
    assert fold_kanji(f"山{variant}") == fold_kanji(f"山{plain}")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("髙橋　一郎", "高橋 一郎"),
        ("渡邉　花子", "渡辺 花子"),
        ("山﨑　太郎", "山崎　太郎"),
        ("𠮷田　茂", "吉田 茂"),
        ("葛" + IVS + "西　勇", "葛西　勇"),
        ("佐々木　健", "佐佐木　健"),
        ("齋藤　明", "斉藤　明"),
    ],
)
def test_names_with_variants_compare_equal(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)


def test_different_kanji_stay_different() -> None:
    # The MJ maps join 功 and 切; they are different characters in names.
    assert fold_kanji("功") != fold_kanji("切")
    assert fold_kanji("大野") != fold_kanji("小野")
    assert fold_kanji("太郎") != fold_kanji("次郎")


def test_folding_is_idempotent_and_keeps_the_stored_name() -> None:
    name = "髙橋　﨑子" + IVS
    once = fold_kanji(name)
    assert fold_kanji(once) == once
    assert name == "髙橋　﨑子" + IVS  # the input is never altered


def test_split_name() -> None:
    assert split_name("山田　太郎") == ("山田", "太郎")
    assert split_name("山田 太郎") == ("山田", "太郎")
    assert split_name("山田太郎") == ("", "山田太郎")
    assert split_name("NGUYEN VAN AN") == ("NGUYEN", "VANAN")


@pytest.mark.parametrize(
    "form",
    ["サトウ　タロウ", "ｻﾄｳ ﾀﾛｳ", "さとう　たろう", "サトウタロウ", "サトウ タロウ", "ｻﾄｳﾀﾛｳ", "サトウ・タロウ"],
)
def test_kana_width_script_and_spacing(form: str) -> None:
    assert kana_strict(form) == "サトウタロウ"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("サトウ", "サトー"),
        ("サトウ", "サトオ"),
        ("キョウコ", "キヨウコ"),
        ("ジュンコ", "ジユンコ"),
        ("オオノ", "オーノ"),
        ("ヂ", "ジ"),
        ("ヅ", "ズ"),
        ("ヴ", "ブ"),
        ("ユウコ", "ユーコ"),
        ("ケイコ", "ケーコ"),
    ],
)
def test_loose_kana_small_long_vowels_and_pairs(a: str, b: str) -> None:
    assert kana_strict(a) != kana_strict(b) or a == b
    assert kana_loose(a) == kana_loose(b)


def test_loose_kana_keeps_different_names_apart() -> None:
    assert kana_loose("タロウ") != kana_loose("ジロウ")
    assert kana_loose("サトウ") != kana_loose("サイトウ")


@pytest.mark.parametrize(
    "block",
    ["一丁目二番三号", "1-2-3", "１－２－３", "1丁目2番3号", "１丁目２番３号", "1ー2ー3", "1−2−3", "一丁目2-3"],
)
def test_block_forms(block: str) -> None:
    assert block_numbers(fold_area(block)) == (1, 2, 3)


def test_block_with_building_and_lot_numbers() -> None:
    assert block_numbers(fold_area("1-2-3 メゾン本郷 302号室")) == (1, 2, 3)
    assert block_numbers(fold_area("1-2-3メゾン本郷302")) == (1, 2, 3)
    assert block_numbers(fold_area("123番地5")) == (123, 5)
    assert block_numbers(fold_area("百二十三番地の五")) == (123, 5)
    assert block_numbers(fold_area("１２３－５")) == (123, 5)
    # Kanji numerals in a building name are not block numbers (千川 is no 1000).
    assert block_numbers(fold_area("1-20-6 千川マンション 206号室")) == (1, 20, 6)
    assert block_numbers(fold_area("1-20-6千川マンション")) == (1, 20, 6)
    assert block_numbers(fold_area("一丁目二十番六号 第二コーポ")) == (1, 20, 6)


def test_numbers_relation() -> None:
    assert numbers_relation((4, 15, 14), (4, 15, 14)) == "full"
    assert numbers_relation((4, 15, 14, 302), (4, 15, 14)) == "full"  # a room number glued on
    assert numbers_relation((4, 15), (4, 15, 14)) == "partial"  # 号 left out
    assert numbers_relation((), (4, 15, 14)) == "partial"
    assert numbers_relation((4, 16, 14), (4, 15, 14)) == "first"
    assert numbers_relation((3, 15, 14), (4, 15, 14)) == "none"


HONGO = register_address("1130033", "東京都", "文京区", "本郷", "4丁目15番14号")


@pytest.mark.parametrize(
    "line",
    [
        "東京都文京区本郷4丁目15番14号",
        "東京都文京区本郷四丁目十五番十四号",
        "東京都文京区本郷４－１５－１４",
        "文京区本郷4-15-14 メゾン本郷 302号室",
        "本郷4-15-14",
        "東京都 文京区 本郷 4丁目 15番 14号",
        "東京都文京区本郷4-15-14-302",
    ],
)
def test_address_forms_agree(line: str) -> None:
    assert member_address("1130033", line).against(HONGO) == (True, "full")


def test_address_parts_missing_or_wrong() -> None:
    assert member_address("1130033", "東京都文京区本郷4丁目15番").against(HONGO) == (True, "partial")
    assert member_address("1130033", "東京都文京区本郷").against(HONGO) == (True, "partial")
    assert member_address("1130033", "東京都文京区西片4-15-14").against(HONGO) == (False, "full")
    assert member_address("1130033", "東京都文京区本郷3-15-14").against(HONGO)[1] == "none"


def test_town_spellings_fold() -> None:
    key = register_address("1000013", "東京都", "千代田区", "霞が関", "1丁目2番1号")
    assert member_address("1000013", "東京都千代田区霞ヶ関1-2-1").against(key) == (True, "full")


def test_towns_with_kanji_numerals_in_their_names() -> None:
    # 一之江町 is no block "1の…"; the lot number after it is 9, not 91.
    key = register_address("1340092", "東京都", "江戸川区", "一之江町", "9番地")
    with_building = member_address("1340092", "東京都江戸川区一之江町9 一之江町レジデンス 107号室")
    assert with_building.against(key) == (True, "full")
    assert member_address("1340092", "東京都江戸川区一の江町九番地").against(key) == (True, "full")


def test_history_line_is_structured_with_the_municipalitys_towns() -> None:
    towns = {fold_area("本郷"): "1130033", fold_area("西片"): "1130024"}
    key = parse_one_line("東京都文京区本郷4丁目15番14号 メゾン本郷 302号室", "東京都", "文京区", towns)
    assert key == HONGO
    assert parse_one_line("大阪府大阪市北区梅田1-1-1", "東京都", "文京区", towns) is None
