"""公金受取口座: format, the holder is the person, one per person, a shared account held for review."""

from __future__ import annotations

from collections.abc import Callable

import httpx2
import pytest

from kojin.app import Kojin
from kojin.core.errors import InvalidInput
from kojin.portal.domain import AccountStatus, kana_key, validate_account
from tests.portal.conftest import Town
from tests.portal.helpers import Browser

ACCOUNT = {"bank_code": "0005", "branch_code": "123", "account_type": "ordinary", "account_number": "7654321"}


@pytest.mark.parametrize(
    "written",
    [
        "ヤマダ　タロウ",
        "ﾔﾏﾀﾞ ﾀﾛｳ",
        "やまだ たろう",
        "ヤマダタロウ",
        "  ヤマダ・タロウ ",
        "ﾔﾏﾀﾞﾀﾛｳ",
    ],
)
def test_holder_kana_is_compared_after_normalisation(written: str) -> None:
    assert kana_key(written) == kana_key("ヤマダ　タロウ")


def test_small_kana_and_width_do_not_matter_but_letters_do() -> None:
    assert kana_key("ｻﾄｳ ｷﾖｳｺ") == kana_key("サトウ　キョウコ")  # banks write small kana large
    assert kana_key("ガッコウ") == kana_key("ｶﾞｯｺｳ")
    assert kana_key("サトウ　キョウコ") != kana_key("サトウ　キョウカ")
    assert kana_key("ヤマダ　ハナコ") != kana_key("ヤマダ　タロウ")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("bank_code", "123"),
        ("bank_code", "12a4"),
        ("branch_code", "1234"),
        ("account_type", "checking"),
        ("account_number", "123456"),
        ("account_number", "12345678"),
        ("holder_kana", "山田太郎"),
        ("holder_kana", "YAMADA"),
        ("holder_kana", "  "),
    ],
)
def test_malformed_accounts_name_the_field(field: str, value: str) -> None:
    values = {**ACCOUNT, "holder_kana": "ヤマダ　タロウ", field: value}
    with pytest.raises(InvalidInput) as err:
        validate_account(**values)
    assert err.value.field == field


def test_full_width_digits_are_accepted() -> None:
    account = validate_account("０００５", "１２３", "ordinary", "７６５４３２１", "ﾔﾏﾀﾞ ﾀﾛｳ")
    assert (account.bank_code, account.account_number, account.holder_kana) == ("0005", "7654321", "ヤマダ　タロウ")


def register(b: Browser, **values: str) -> httpx2.Response:
    return b.post("/portal/account", dict(ACCOUNT, csrf_token=b.csrf(), **values))


def test_register_change_and_refuse(kojin: Kojin, town: Town, browser: Callable[..., Browser]) -> None:
    b = browser()
    b.login(town.parent.card.card_id)
    r = register(b, holder_kana="ﾔﾏﾀﾞ ﾀﾛｳ")
    assert r.status_code == 200 and 'id="account-saved"' in r.text
    record = kojin.portal.accounts.get(town.parent.rid)
    assert record is not None and record.status is AccountStatus.REGISTERED and record.holder_kana == "ヤマダ　タロウ"
    # Someone else's name is refused with the reason, and nothing changes.
    r = register(b, holder_kana="サトウ　キョウコ", account_number="1111111")
    assert r.status_code == 422
    assert "一致しません" in r.text
    assert kojin.portal.accounts.get(town.parent.rid) == record
    # A change replaces the account: one per person.
    register(b, holder_kana="ヤマダ　タロウ", account_number="2222222")
    assert [a for a in kojin.portal.accounts.iter_accounts() if a[2] == town.parent.rid] == [
        ("0005-123-ordinary-2222222", "ヤマダ　タロウ", town.parent.rid)
    ]
    actions = [e.action for e in kojin.portal.activity.for_person(town.parent.rid)]
    assert actions[:3] == ["account_registered", "account_refused", "account_registered"]


def test_an_account_of_another_person_is_held_for_review(
    kojin: Kojin, town: Town, browser: Callable[..., Browser]
) -> None:
    a, b = browser(), browser()
    a.login(town.parent.card.card_id)
    register(a, holder_kana="ヤマダ　タロウ")
    b.login(town.neighbour.card.card_id)
    # Same bank, branch, type and number — under B's own name, so the kana check alone would pass.
    r = register(b, holder_kana="サトウ　キョウコ")
    assert r.status_code == 200 and 'id="account-review"' in r.text
    held = kojin.portal.accounts.get(town.neighbour.rid)
    assert held is not None and held.status is AccountStatus.REVIEW
    assert held.reason == "account.registered_to_another" and held.reason_text
    accounts = list(kojin.portal.accounts.iter_accounts())
    assert sorted(a[2] for a in accounts if a[0] == "0005-123-ordinary-7654321") == sorted(
        [town.parent.rid, town.neighbour.rid]
    )
    # The first person's registration is untouched.
    first = kojin.portal.accounts.get(town.parent.rid)
    assert first is not None and first.status is AccountStatus.REGISTERED
