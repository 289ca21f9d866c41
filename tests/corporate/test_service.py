from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from kojin.app import Kojin
from kojin.core.errors import Conflict, InvalidInput, KojinError, NotFound
from kojin.numbering.domain import validate_corporate_number


def add(kojin: Kojin, name: str = "株式会社こじん", **kw: str) -> str:
    values: dict[str, Any] = {"furigana": "コジン", "kind": "301", "postal_code": "1130033", "street": "4-15-14", **kw}
    return kojin.corporate.register(name=name, **values).corporate_number


def test_register_assigns_a_valid_number(kojin: Kojin) -> None:
    number = add(kojin)
    assert validate_corporate_number(number) == number
    corp = kojin.corporate.get(number)
    assert corp.address == "東京都文京区本郷4-15-14"
    assert not corp.is_closed


def test_search_prefix_and_partial(kojin: Kojin) -> None:
    add(kojin, "株式会社こじん")
    add(kojin, "こじん合同会社", kind="305", furigana="コジンゴウドウガイシャ")
    add(kojin, "100%_商事", furigana="ヒャクパーセントショウジ")
    assert [c.name for c in kojin.corporate.search("株式", mode=1)] == ["株式会社こじん"]
    assert {c.name for c in kojin.corporate.search("こじん", mode=2)} == {"株式会社こじん", "こじん合同会社"}
    # LIKE wildcards in the query are literal characters.
    assert [c.name for c in kojin.corporate.search("100%_", mode=1)] == ["100%_商事"]
    assert kojin.corporate.search("%", mode=1) == []


def test_lookup_by_up_to_ten_numbers(kojin: Kojin) -> None:
    numbers = [add(kojin, f"会社{i}", furigana="カイシャ") for i in range(3)]
    assert [c.corporate_number for c in kojin.corporate.get_many(numbers)] == numbers
    with pytest.raises(InvalidInput):
        kojin.corporate.get_many(numbers * 4)


def test_close(kojin: Kojin) -> None:
    number = add(kojin)
    closed = kojin.corporate.close(number, cause="01", close_date=date(2026, 3, 31))
    assert closed.is_closed
    with pytest.raises(Conflict):
        kojin.corporate.close(number, cause="01", close_date=date(2026, 3, 31))
    assert kojin.corporate.search("株式", include_closed=False) == []


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"kind": "999"}, "kind.invalid"),
        ({"furigana": "こじん"}, "kana.not_katakana"),
        ({"postal_code": "0000000"}, "postal_code.unknown"),
        ({"street": " "}, "street.empty"),
    ],
)
def test_bad_registrations(kojin: Kojin, kw: dict[str, str], code: str) -> None:
    with pytest.raises(KojinError) as err:
        add(kojin, **kw)
    assert err.value.code == code
    assert kojin.corporate.search("株式", mode=2) == []


def test_duplicate_and_unknown(kojin: Kojin) -> None:
    add(kojin)
    with pytest.raises(Conflict):
        add(kojin)
    with pytest.raises(NotFound):
        kojin.corporate.get("7000012050002")
    with pytest.raises(InvalidInput):
        kojin.corporate.get("7000012050003")
