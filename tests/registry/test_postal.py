from __future__ import annotations

import pytest

from kojin.core.errors import InvalidInput, NotFound
from kojin.registry import postal


def test_address_completed_from_japan_post_data() -> None:
    address = postal.complete_address("113-0033", block="4-15-14")
    assert (address.prefecture, address.city, address.town) == ("東京都", "文京区", "本郷")
    assert address.one_line() == "東京都文京区本郷4-15-14"


def test_town_with_chome_matches() -> None:
    assert postal.complete_address("1130033", town="本郷四丁目").town == "本郷四丁目"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"town": "大塚"}, "postal_code.mismatch"),
        ({"city": "新宿区"}, "postal_code.mismatch"),
        ({"prefecture": "大阪府"}, "postal_code.mismatch"),
    ],
)
def test_postal_code_not_matching_the_town(kwargs: dict[str, str], code: str) -> None:
    with pytest.raises(InvalidInput) as err:
        postal.complete_address("1130033", **kwargs)
    assert (err.value.code, err.value.field) == (code, "postal_code")


def test_unknown_and_malformed_postal_codes() -> None:
    with pytest.raises(NotFound) as err:
        postal.complete_address("0000000")
    assert err.value.code == "postal_code.unknown"
    with pytest.raises(InvalidInput) as err2:
        postal.complete_address("113")
    assert err2.value.code == "postal_code.format"


def test_municipality_codes() -> None:
    assert postal.municipality("13105").name == "東京都文京区"
    assert postal.municipality("131059").code == "13105"
    with pytest.raises(InvalidInput):
        postal.municipality("131058")
    with pytest.raises(NotFound) as err:
        postal.municipality("99999")
    assert err.value.code == "municipality_code.unknown"
    assert all(a.municipality_code == "13105" for a in postal.areas_in("13105"))
