"""The Fellegi–Sunter model: levels, weights, term frequencies, EM."""

from __future__ import annotations

import random

import pytest

from kojin.linkage.normalise import kana_loose
from kojin.linkage.scoring import (
    DEFAULT_M,
    DEFAULT_U,
    FIELDS,
    LEVELS,
    Model,
    TermFrequencies,
    compare_birth,
    compare_name_part,
    estimate_em,
    within_one_edit,
)


def test_model_defaults_are_probabilities() -> None:
    for name in FIELDS:
        assert abs(sum(DEFAULT_M[name].values()) - 1) < 1e-6, name
        assert abs(sum(DEFAULT_U[name].values()) - 1) < 1e-6, name


def test_weights_order_levels() -> None:
    w = Model().weights()
    for name in ("surname", "given"):
        # (The matcher caps partial levels at the name's own exact weight.)
        assert w[name]["exact"] > w[name]["kana_kanji_close"] > 0 > w[name]["close"] > w[name]["none"]
        assert w[name]["kanji_kana_close"] > 0
    assert w["birth_date"]["exact"] > w["birth_date"]["near"] > 0 > w["birth_date"]["none"]
    assert w["sex"]["agree"] > 0 > w["sex"]["disagree"]
    assert w["address"]["full"] > w["address"]["partial"] > w["address"]["postal_only"] > w["address"]["none"]


def test_a_model_must_give_every_level() -> None:
    broken = {f: dict(DEFAULT_M[f]) for f in FIELDS}
    del broken["sex"]["disagree"]
    with pytest.raises(ValueError):
        Model(m=broken)


def test_term_frequency_makes_common_names_weaker() -> None:
    tf = TermFrequencies()
    for i in range(1000):
        tf.add("サト" if i < 20 else f"X{i}", "タロ", 1, ("1", "t", (1,)))
    model = Model()
    common = model.tf_weight("surname", tf.share(tf.surname, "サト"))
    rare = model.tf_weight("surname", tf.share(tf.surname, "X999"))
    assert rare - common == pytest.approx(__import__("math").log2(20))
    assert tf.share(tf.surname, "never seen") == 1 / 1000


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("サトウ", "サトウ", True),
        ("サトウ", "サドウ", True),
        ("サトウ", "サトウウ", True),
        ("サトウ", "サウト", True),
        ("サトウ", "トサウ", True),
        ("サトウ", "スズキ", False),
        ("ア", "アイウ", False),
    ],
)
def test_within_one_edit(a: str, b: str, expected: bool) -> None:
    assert within_one_edit(a, b) is expected
    assert within_one_edit(b, a) is expected


def test_name_part_levels() -> None:
    assert compare_name_part("高橋", "タカハシ", "高橋", "タカハシ") == "exact"
    assert compare_name_part("大野", "オノ", "小野", "オノ") == "kana_kanji_close"
    assert compare_name_part("高橋", "タカハス", "高橋", "タカハシ") == "kanji_kana_close"
    assert compare_name_part("和也", "シホ", "志保", "シホ") == "kana_only"  # a family member's reading
    assert compare_name_part("太郎", "タロ", "太郎", "イチロ") == "kanji_only"
    assert compare_name_part("太郎", "タロ", "花子", "ハナコ") == "none"
    assert compare_name_part("KIM", "パク", "PARK", "パク") == "kana_only"  # letters shared by chance
    # One mistyped kana that the loose fold turns into two differences is still one typo.
    typo, right = "リイスケ", "ダイスケ"
    assert not within_one_edit(kana_loose(typo), kana_loose(right))
    assert compare_name_part("大輔", kana_loose(typo), "大輔", kana_loose(right), typo, right) == "kanji_kana_close"
    assert compare_name_part("SMITH", "スミス", "SMYTH", "スミス") == "kana_kanji_close"


def test_birth_levels() -> None:
    assert compare_birth((1980, 4, 1), (1980, 4, 1)) == "exact"
    assert compare_birth((1980, 4, 1), (1980, 4, 2)) == "near"
    assert compare_birth((1980, 4, 1), (1980, 1, 4)) == "near"  # month and day swapped
    assert compare_birth((1980, 4, 1), (1981, 5, 1)) == "none"


def test_em_recovers_m_from_unlabelled_pairs() -> None:
    """Pairs drawn from known m and u: EM with u fixed finds m and the match share again."""
    rng = random.Random(7)
    truth = Model()

    def draw(table: dict[str, float]) -> str:
        r, acc = rng.random(), 0.0
        for level, p in table.items():
            acc += p
            if r < acc:
                return level
        return next(reversed(table))

    pairs = []
    for i in range(20_000):
        source = truth.m if i % 4 == 0 else truth.u
        pairs.append(tuple(draw(dict(source[f])) for f in FIELDS))
    flat = {f: dict.fromkeys(LEVELS[f], 1 / len(LEVELS[f])) for f in FIELDS}
    model, share = estimate_em(pairs, start=Model(m=flat, u=truth.u), iterations=50)
    assert share == pytest.approx(0.25, abs=0.02)
    for f in FIELDS:
        best = "full" if f == "address" else "agree" if f == "sex" else "exact"
        assert model.m[f][best] == pytest.approx(truth.m[f][best], abs=0.03), f
