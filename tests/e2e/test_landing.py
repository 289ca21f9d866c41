from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.e2e.conftest import LiveServer, axe_violations

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def test_landing_page_links_every_entrance_and_is_accessible(live_server: LiveServer, page: Page) -> None:
    page.goto(live_server.url + "/")
    assert page.locator("h1").inner_text() == "kojin"
    assert page.locator("html").get_attribute("lang") == "ja"
    hrefs = [a.get_attribute("href") for a in page.locator("a").all()]
    assert "/docs" in hrefs
    assert axe_violations(page) == []


def test_api_docs_render_offline(live_server: LiveServer, page: Page) -> None:
    # Swagger UI comes from the package, so the docs render with no network.
    page.goto(live_server.url + "/docs")
    page.get_by_text("/registry/residents", exact=True).first.wait_for(timeout=15000)
    assert "kojin" in page.title() or "kojin" in page.content()
