"""ひも付けの確認 in Debian's Chromium: the person disputes an insurance membership, it is suspended at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from kojin.core.errors import KojinError
from tests.clinic.world import World
from tests.e2e.conftest import LiveServer
from tests.e2e.test_portal import check, login

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def fits(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_person_disputes_a_membership_in_the_portal(world: World, page: Page) -> None:
    kojin = world.kojin
    taro = world.people["taro"]
    assert taro.card_id is not None
    kyokai = kojin.eligibility.insurer("kyokai").name
    with LiveServer(kojin) as server:
        login(page, server, taro.card_id)
        page.click("a[href='/portal/links']")
        page.wait_for_selector("#links-membership")
        check(page, "links")
        fits(page)
        item = page.locator("#links-membership .link-item", has_text=kyokai)
        item.locator("textarea").fill("この保険に加入したことはありません")
        item.locator("button[type=submit]").click()
        page.wait_for_selector("#link-disputed")
        assert kyokai in page.inner_text("#link-disputed")
        assert "申し出中" in page.inner_text("#links-membership")
        assert "この保険に加入したことはありません" in page.inner_text("#disputes")
        check(page, "links-disputed")
        fits(page)
        page.goto(server.url + "/lang?to=en&next=/portal/links")  # English too: the same page, complete
        page.wait_for_selector("#links-membership")
        assert "disputed (suspended)" in page.inner_text("#links-membership")
        assert "Your disputes and their outcome" in page.inner_text("#disputes")
        check(page, "links-en")
        fits(page)
    with pytest.raises(KojinError) as err:
        kojin.clinics.check_card(world.clinic, *world.card_answer("taro"))
    assert err.value.code == "eligibility.link_disputed"
