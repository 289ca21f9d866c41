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
from kojin.staff.domain import Organisation, Role
from tests.linkage.conftest import Town
from tests.staff.support import clerk_headers


@pytest.fixture
def client(kojin: Kojin) -> Iterator[TestClient]:
    """The browser of a linkage clerk, 照合 花子."""
    kojin.staff.register("l.hanako", "照合 花子", Organisation.parse("linkage"), Role.LINKAGE_CLERK)
    headers = {"authorization": f"Bearer {kojin.staff.issue_token('l.hanako').access_token}"}
    with TestClient(create_app(kojin), raise_server_exceptions=False, headers=headers) as c:
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
    assert "照合 花子（l.hanako）" in html and 'type="hidden" name="csrf_token"' in html
    assert "○" in html and "×" in html  # agreement is not shown by colour alone
    assert "<script" not in html


def test_opening_a_case_records_a_look_at_each_candidate(
    client: TestClient, kojin: Kojin, case_id: int, town: Town
) -> None:
    client.get(f"/linkage/review/{case_id}")
    for resident in (town.yamada, town.double):
        [seen] = kojin.staff.accesses_of(str(resident.resident_id))
        assert (seen.purpose, seen.role, seen.what.value) == ("名寄せの確認", Role.LINKAGE_CLERK, "search")


def test_only_linkage_clerks_reach_the_queue(client: TestClient, kojin: Kojin, case_id: int) -> None:
    assert client.get("/linkage/review", headers={"authorization": ""}).status_code == 401
    counter = client.get(f"/linkage/review/{case_id}", headers=clerk_headers(kojin))
    assert counter.status_code == 403 and '<html lang="ja">' in counter.text
    assert kojin.matching.case(case_id).status == "open"


def test_decision_needs_the_token_and_is_the_logged_in_clerks(
    client: TestClient, kojin: Kojin, case_id: int, town: Town
) -> None:
    url = f"/linkage/review/{case_id}"
    token = _token(client.get(url).text)
    choice = str(town.yamada.resident_id)

    forged = client.post(url, data={"choice": choice, "clerk": "攻撃者", "csrf_token": "1.deadbeef"})
    assert forged.status_code == 403 and "フォームの有効期限" in forged.text
    for garbled in ("1.é", "².deadbeef", token[:-1] + "ü"):
        refused = client.post(url, data={"choice": choice, "csrf_token": garbled})
        assert refused.status_code == 403 and "フォームの有効期限" in refused.text, garbled
    other_case = client.post(
        url, data={"choice": choice, "clerk": "x", "csrf_token": kojin.matching.csrf_token(f"case:{case_id + 1}")}
    )
    assert other_case.status_code == 403
    no_choice = client.post(url, data={"clerk": "田中", "csrf_token": token})
    assert no_choice.status_code == 400
    # a choice that is not a stored id is the same refusal, not a server error
    for bad in ("99999999999999999999", "²", "١٢"):
        refused = client.post(url, data={"choice": bad, "csrf_token": token})
        assert refused.status_code == 400 and "紐付ける住民" in refused.text, bad
    assert kojin.matching.case(case_id).status == "open"

    # A typed name is ignored: the decision is the logged-in clerk's — a proposal, both candidates being low.
    done = client.post(url, data={"choice": choice, "clerk": "窓口 田中", "csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"{url}?done=1"
    shown = client.get(done.headers["location"])
    assert "判断を記録しました" in shown.text and "照合 花子（l.hanako）" in shown.text
    assert "別の担当者の確認待ち" in shown.text and "ご自身の提案は確認できません" in shown.text
    case = kojin.matching.case(case_id)
    assert case.status == "pending_second" and case.decisions[0].clerk == "照合 花子（l.hanako）"
    own = client.post(url, data={"choice": choice, "csrf_token": token})
    assert own.status_code == 403 and "別の担当者の確認が必要です" in own.text
    assert kojin.matching.case(case_id).status == "pending_second"

    # A second linkage clerk, logged in on another browser, confirms.
    kojin.staff.register("l.jiro", "照合 次郎", Organisation.parse("linkage"), Role.LINKAGE_CLERK)
    second = {"authorization": f"Bearer {kojin.staff.issue_token('l.jiro').access_token}"}
    confirmed = client.post(url, data={"choice": choice, "csrf_token": token}, headers=second, follow_redirects=False)
    assert confirmed.status_code == 303
    assert 'name="csrf_token"' not in client.get(url).text  # a closed case has no form
    case = kojin.matching.case(case_id)
    assert case.status == "linked" and case.decisions[1].clerk == "照合 次郎（l.jiro）"
    twice = client.post(url, data={"choice": "no_match", "clerk": "窓口 鈴木", "csrf_token": token})
    assert twice.status_code == 409


def test_unknown_case_is_a_page(client: TestClient) -> None:
    missing = client.get("/linkage/review/424242")
    assert missing.status_code == 404 and '<html lang="ja">' in missing.text
    assert client.post(
        "/linkage/review/424242", data={"choice": "no_match", "clerk": "x", "csrf_token": "x"}
    ).status_code in (403, 404)
