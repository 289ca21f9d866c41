"""The clerk's review pages: accessible HTML, Japanese first, decisions by POST with a CSRF token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient

from kojin.app import Kojin
from kojin.entrypoints.http.app import create_app
from kojin.linkage.matcher import MemberRecord
from kojin.registry.domain import Sex
from tests.linkage.conftest import Town


@pytest.fixture
def client(kojin: Kojin) -> Iterator[TestClient]:
    with TestClient(create_app(kojin), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def case_id(kojin: Kojin, town: Town, agency: str) -> int:
    member = MemberRecord(
        "W-1", "山田　太郎", "ヤマダ　タロウ", Sex.MALE, date(1980, 4, 1), "1000001", "東京都千代田区千代田1-1"
    )
    [outcome] = kojin.matching.link_members(agency, [member])
    assert outcome.case_id is not None
    return outcome.case_id


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_queue_and_case_pages(client: TestClient, case_id: int, town: Town) -> None:
    queue = client.get("/linkage/review")
    assert queue.status_code == 200 and queue.headers["content-type"].startswith("text/html")
    html = queue.text
    assert '<html lang="ja">' in html and "<h1>要確認案件一覧" in html
    assert '<th scope="col">' in html and f'href="/linkage/review/{case_id}"' in html
    assert "<script" not in html

    page = client.get(f"/linkage/review/{case_id}")
    assert page.status_code == 200
    html = page.text
    assert "<h1>案件" in html and "<caption>" in html and '<th scope="row">' in html
    for resident in (town.yamada, town.double):
        assert f'id="choice-{resident.resident_id}"' in html and f'for="choice-{resident.resident_id}"' in html
    assert '<label for="clerk">' in html and 'type="hidden" name="csrf_token"' in html
    assert "○" in html and "×" in html  # agreement is not shown by colour alone
    assert "<script" not in html


def test_decision_needs_the_token_and_a_clerk(client: TestClient, kojin: Kojin, case_id: int, town: Town) -> None:
    url = f"/linkage/review/{case_id}"
    token = _token(client.get(url).text)
    choice = str(town.yamada.resident_id)

    forged = client.post(url, data={"choice": choice, "clerk": "攻撃者", "csrf_token": "1.deadbeef"})
    assert forged.status_code == 403 and "フォームの有効期限" in forged.text
    other_case = client.post(
        url, data={"choice": choice, "clerk": "x", "csrf_token": kojin.matching.csrf_token(f"case:{case_id + 1}")}
    )
    assert other_case.status_code == 403
    no_clerk = client.post(url, data={"choice": choice, "clerk": "", "csrf_token": token})
    assert no_clerk.status_code == 422 and "担当者名" in no_clerk.text
    no_choice = client.post(url, data={"clerk": "田中", "csrf_token": token})
    assert no_choice.status_code == 400
    assert kojin.matching.case(case_id).status == "open"

    done = client.post(url, data={"choice": choice, "clerk": "窓口 田中", "csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"{url}?done=1"
    shown = client.get(done.headers["location"])
    assert "判断を記録しました" in shown.text and "窓口 田中" in shown.text
    assert 'name="csrf_token"' not in shown.text  # a closed case has no form
    case = kojin.matching.case(case_id)
    assert case.status == "linked" and case.decisions[0].clerk == "窓口 田中"
    twice = client.post(url, data={"choice": "no_match", "clerk": "窓口 鈴木", "csrf_token": token})
    assert twice.status_code == 409


def test_unknown_case_is_a_page(client: TestClient) -> None:
    missing = client.get("/linkage/review/424242")
    assert missing.status_code == 404 and '<html lang="ja">' in missing.text
    assert client.post(
        "/linkage/review/424242", data={"choice": "no_match", "clerk": "x", "csrf_token": "x"}
    ).status_code in (403, 404)
