from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest
from fastapi.testclient import TestClient

from kojin.app import Kojin
from kojin.entrypoints.http.app import create_app
from kojin.staff.domain import Role
from tests.staff.support import clerk_headers, staff_headers

BODY = {
    "name": "山田　太郎",
    "kana": "ヤマダ　タロウ",
    "sex": "1",
    "birth_date": "1980-04-01",
    "address": {"postal_code": "113-0033", "block": "4-15-14"},
    "municipality_code": "13105",
}


PURPOSE = {"purpose": "住民票の写しの交付"}


@pytest.fixture
def client(kojin: Kojin) -> Iterator[TestClient]:
    """A client of the counter clerk of 文京区 (13105)."""
    with TestClient(create_app(kojin), raise_server_exceptions=False, headers=clerk_headers(kojin)) as c:
        yield c


def error(response: httpx2.Response) -> dict[str, str]:
    found: dict[str, str] = response.json()["error"]
    return found


def test_register_show_and_history(client: TestClient, kojin: Kojin) -> None:
    r = client.post("/registry/residents", json=BODY)
    assert r.status_code == 201, r.text
    data = r.json()
    rid = data["resident"]["resident_id"]
    assert data["resident"]["address"] == "東京都文京区本郷4-15-14"
    # The API returns only a masked notice; the number never travels back.
    assert data["number_notice"].startswith("********")
    code = kojin.register.get(rid).juminhyo_code
    assert kojin.numbering.number_for(code) not in r.text
    assert client.get(f"/registry/residents/{rid}", params=PURPOSE).json()["kana"] == "ヤマダ　タロウ"
    history = client.get(f"/registry/residents/{rid}/history", params=PURPOSE).json()["history"]
    assert history[0]["kind"] == "birth"
    listed = client.get("/registry/residents?limit=5", params=PURPOSE).json()
    assert [x["resident_id"] for x in listed["residents"]] == [rid]
    # The birth, two reads and a listing: each recorded for the person, with its purpose.
    seen = kojin.staff.accesses_of(str(rid))
    assert [(a.purpose, a.what.value) for a in seen] == [
        ("出生届", "write"),
        ("住民票の写しの交付", "read"),
        ("住民票の写しの交付", "read"),
        ("住民票の写しの交付", "search"),
    ]


def test_changes_through_the_api(client: TestClient) -> None:
    rid = client.post("/registry/residents", json=BODY).json()["resident"]["resident_id"]
    moved = client.post(
        f"/registry/residents/{rid}/move", json={"address": {"postal_code": "1120012", "block": "1-2-3"}}
    )
    assert moved.status_code == 200 and moved.json()["residents"][0]["town"] == "大塚"
    renamed = client.post(f"/registry/residents/{rid}/rename", json={"name": "山田　次郎", "kana": "ヤマダ　ジロウ"})
    assert renamed.json()["name"] == "山田　次郎"
    changed = client.post(f"/registry/residents/{rid}/number-change", json={"reason": "漏えい"})
    assert changed.status_code == 200
    dead = client.post(f"/registry/residents/{rid}/death", json={"effective_date": "2026-01-01"})
    assert dead.json()["status"] == "deceased"
    again = client.post(f"/registry/residents/{rid}/move-out", json={"destination": "大阪府"})
    assert again.status_code == 409 and error(again)["code"] == "resident.deceased"


@pytest.mark.parametrize(
    ("patch", "status", "code", "field"),
    [
        ({"birth_date": "2020-02-30"}, 422, "birth_date.invalid", "birth_date"),
        ({"birth_date": "2999-01-01"}, 422, "birth_date.future", "birth_date"),
        ({"kana": "ﾔﾏﾀﾞ"}, 422, "kana.halfwidth", "kana"),
        ({"kana": "山田"}, 422, "kana.not_katakana", "kana"),
        ({"name": ""}, 422, "name.empty", "name"),
        ({"sex": "9"}, 422, "sex.invalid", "sex"),
        ({"municipality_code": "99999"}, 403, "staff.other_organisation", "organisation"),
        (
            {"address": {"postal_code": "1130033", "town": "大塚", "block": "1"}},
            422,
            "postal_code.mismatch",
            "postal_code",
        ),
        ({"name": "x" * 500}, 422, "request.invalid", "name"),
        ({"address": "not an object"}, 422, "request.invalid", "address"),
    ],
)
def test_bad_input_has_one_error_shape(
    client: TestClient, patch: dict[str, object], status: int, code: str, field: str
) -> None:
    r = client.post("/registry/residents", json={**BODY, **patch})
    assert r.status_code == status, r.text
    assert error(r)["code"] == code
    assert error(r)["field"] == field
    assert error(r)["message"]
    assert client.get("/registry/residents", params=PURPOSE).json()["residents"] == []


def test_unknown_municipality_is_refused_for_its_own_clerk(client: TestClient, kojin: Kojin) -> None:
    r = client.post(
        "/registry/residents", json={**BODY, "municipality_code": "99999"}, headers=clerk_headers(kojin, "99999")
    )
    assert r.status_code == 404 and error(r)["code"] == "municipality_code.unknown"


def test_english_messages(client: TestClient) -> None:
    r = client.post("/registry/residents?lang=en", json={**BODY, "kana": "ﾔﾏﾀﾞ"})
    assert "half-width" in error(r)["message"]


def test_malformed_json_and_unknown_paths(client: TestClient) -> None:
    r = client.post("/registry/residents", content=b"{", headers={"content-type": "application/json"})
    assert r.status_code == 422 and error(r)["code"] == "request.invalid"
    assert error(client.get("/nowhere"))["code"] == "http.not_found"
    assert error(client.get("/registry/residents/12345", params=PURPOSE))["code"] == "staff.not_in_scope"


def test_unknown_paths_and_methods_answer_in_the_requests_language(client: TestClient) -> None:
    assert error(client.get("/nowhere"))["message"] == "指定されたURLはありません。"
    assert error(client.get("/nowhere?lang=en"))["message"] == "There is nothing at this URL."
    r = client.delete("/registry/residents", headers={"accept-language": "en-GB,en;q=0.8"})
    assert r.status_code == 405 and error(r)["code"] == "http.method_not_allowed"
    assert error(r)["message"] == "This method is not allowed at this URL."
    assert error(client.delete("/registry/residents"))["message"] == "このURLではこのメソッドは使えません。"


def test_number_validation_takes_the_number_in_the_body(client: TestClient) -> None:
    assert client.post("/numbering/validate", json={"number": "123456789018"}).json() == {"valid": True}
    r = client.post("/numbering/validate", json={"number": "123456789017"})
    assert error(r)["code"] == "number.check_digit"


def test_corporate_api(client: TestClient, kojin: Kojin) -> None:
    nta = staff_headers(kojin, Role.AGENCY_OFFICER, "agency:nta")
    r = client.post(
        "/corporate/corporations",
        headers=nta,
        json={"name": "株式会社こじん", "furigana": "コジン", "kind": "301", "postal_code": "1130033", "street": "1-1"},
    )
    assert r.status_code == 201, r.text
    number = r.json()["corporateNumber"]
    assert client.get(f"/corporate/corporations/{number}").json()["name"] == "株式会社こじん"
    assert client.get(f"/corporate/num?id={number}").json()["corporations"][0]["corporateNumber"] == number
    assert client.get("/corporate/search", params={"name": "こじん", "mode": 2}).json()["count"] == 1
    assert error(client.get("/corporate/search", params={"name": "x", "mode": 3}))["code"] == "mode.invalid"


def test_openapi_and_landing(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/registry/residents" in paths and "/corporate/search" in paths
    assert "kojin" in client.get("/").text


def test_a_clerk_of_another_municipality_reads_and_writes_nothing(client: TestClient, kojin: Kojin) -> None:
    rid = client.post("/registry/residents", json=BODY).json()["resident"]["resident_id"]
    household = kojin.register.get(rid).household_id
    other = clerk_headers(kojin, "13101")  # 千代田区
    attempts = [
        client.get(f"/registry/residents/{rid}", params=PURPOSE, headers=other),
        client.get(f"/registry/residents/{rid}/history", params=PURPOSE, headers=other),
        client.get(f"/registry/households/{household}", params=PURPOSE, headers=other),
        client.post(f"/registry/residents/{rid}/death", json={"effective_date": "2026-12-01"}, headers=other),
        client.post(f"/registry/residents/{rid}/number-change", json={"reason": "漏えい"}, headers=other),
        client.get("/registry/residents/999999", params=PURPOSE, headers=other),  # nobody: the same answer
    ]
    assert {(r.status_code, error(r)["code"]) for r in attempts} == {(403, "staff.not_in_scope")}
    assert kojin.register.get(rid).status.value == "resident"
    assert [a.what.value for a in kojin.staff.accesses_of(str(rid))] == ["write"]  # the birth, by 文京区
    listed = client.get("/registry/residents", params=PURPOSE, headers=other).json()["residents"]
    assert listed == []  # a listing shows only the own municipality
    refused = [r.code for r in kojin.staff.refusals.recent(limit=20)]
    assert refused.count("staff.not_in_scope") == 6


def test_no_purpose_no_read(client: TestClient, kojin: Kojin) -> None:
    rid = client.post("/registry/residents", json=BODY).json()["resident"]["resident_id"]
    missing = client.get(f"/registry/residents/{rid}")
    assert missing.status_code == 422 and error(missing)["code"] == "staff.purpose_required"
    unknown = client.get(f"/registry/residents/{rid}", params={"purpose": "興味本位"})
    assert unknown.status_code == 422 and error(unknown)["code"] == "staff.unknown_purpose"
    assert "ヤマダ" not in missing.text + unknown.text
    assert [r.code for r in kojin.staff.refusals.recent(limit=2)] == ["staff.unknown_purpose", "staff.purpose_required"]


def test_the_register_history_names_the_clerk_who_wrote_it(client: TestClient, kojin: Kojin) -> None:
    from sqlalchemy import select

    from kojin.registry.store import history

    rid = client.post("/registry/residents", json=BODY).json()["resident"]["resident_id"]
    assert client.post(f"/registry/residents/{rid}/death", json={"effective_date": "2026-01-01"}).status_code == 200
    with kojin.db.engine("registry").connect() as conn:
        rows = conn.execute(select(history.c.kind, history.c.recorded_by).where(history.c.resident_id == rid)).all()
    clerk = kojin.staff.check_token(client.headers["authorization"].removeprefix("Bearer ")).staff_id
    assert {(kind, by) for kind, by in rows} == {("birth", clerk), ("death", clerk)}
