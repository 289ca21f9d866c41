"""The counter page says what the register did to the resident's cards."""

from __future__ import annotations

from datetime import date

from kojin.app import Kojin
from kojin.entrypoints.http.app import create_app
from kojin.registry.domain import Address
from kojin.staff.domain import Organisation
from tests.portal.helpers import Browser, resident
from tests.portal.helpers import card as resident_card
from tests.staff.helpers import staff_with_card
from tests.staff.test_pages import staff_login


def test_the_counter_shows_a_stale_chip_and_a_card_to_take_back(kojin: Kojin) -> None:
    person = resident(kojin, "山田　太郎", "ヤマダ　タロウ", date(1980, 4, 1))
    issued = resident_card(kojin, person)
    kojin.register.move_within(person.resident_id, Address("1120012", "", "", "", "1-2-3"))
    b = Browser(create_app(kojin))
    bunkyo = Organisation.of("municipality", "13105")  # the resident's own municipality
    staff_login(b, staff_with_card(kojin, organisation=bunkyo).card.card_id)
    look = {"resident_id": str(person.resident_id), "purpose": "転居届"}
    page = b.get("/registry/counter", params=look).text
    assert issued.card_id in page and 'class="chip-stale"' in page and 'class="card-recalled"' not in page
    kojin.cards.rewrite(issued.card_id)
    assert 'class="chip-stale"' not in b.get("/registry/counter", params=look).text
    kojin.register.change_number(person.resident_id, reason="漏えい")
    page = b.get("/registry/counter", params=look).text
    assert "返納が必要（個人番号の変更）" in page and 'class="card-recalled"' in page
    english = b.get("/registry/counter", params={**look, "lang": "en"}).text
    assert "must be returned (number changed)" in english and "Take the card back" in english
