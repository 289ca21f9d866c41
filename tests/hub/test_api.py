"""The hub's HTTP API, and the same exchange over the in-process and HTTP transports."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from kojin.agency.client import HttpHub
from kojin.app import Kojin
from kojin.core.errors import KojinError
from kojin.entrypoints.http.app import create_app
from kojin.hub.transport import HttpIntermediates, IntermediateRouter
from kojin.staff.domain import Role
from tests.hub.helpers import CHILD_ALLOWANCE, LOCAL_TAX, PENSION, Person, as_httpx, counts
from tests.staff.support import staff_headers


@pytest.fixture
def client(kojin: Kojin, people: list[Person]) -> Iterator[TestClient]:
    with TestClient(create_app(kojin)) as test_client:
        yield test_client


def test_one_exchange_gives_the_same_result_in_process_and_over_http(
    kojin: Kojin, people: list[Person], client: TestClient
) -> None:
    code = people[0].codes["13105"]
    local = kojin.agencies.client("13105")
    remote = kojin.agencies.client("13105", HttpHub(client=as_httpx(client)))
    a = local.request("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=code)
    b = remote.request("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=code)
    assert a.comparable() == b.comparable()
    assert b.leaf_index == a.leaf_index + 1
    # Refusals come back with the same reason code and field either way.
    errors = []
    for c in (local, remote):
        with pytest.raises(KojinError) as err:
            c.request("13104", CHILD_ALLOWANCE, PENSION, code=code)
        errors.append((err.value.code, err.value.field, err.value.status))
    assert errors[0] == errors[1] == ("hub.not_permitted", "task", 403)


def test_the_hub_to_provider_hop_over_http(kojin: Kojin, people: list[Person]) -> None:
    # 新宿区's intermediate server now answers at an endpoint; the hub reaches it over HTTP.
    provider_app = TestClient(create_app(kojin))
    router = kojin.hub.transport
    assert isinstance(router, IntermediateRouter)
    router.use_http(HttpIntermediates(as_httpx(provider_app)))
    kojin.hub.set_endpoint("13104", "http://testserver")
    code = people[0].codes["13105"]
    over_http = kojin.agencies.client("13105").request("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=code)
    kojin.hub.set_endpoint("13104", None)
    in_process = kojin.agencies.client("13105").request("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=code)
    assert over_http.comparable() == in_process.comparable()


def test_the_intermediate_server_answers_only_the_hub(kojin: Kojin, people: list[Person], client: TestClient) -> None:
    query = {
        "kojin": "provision-query/1",
        "request_id": "r",
        "requester": "13105",
        "requester_name": "x",
        "requester_box_key": "",
        "provider": "13104",
        "task": CHILD_ALLOWANCE,
        "item": LOCAL_TAX,
        "code": people[0].codes["13104"],
        "requested_at": 0,
        "sent_at_ms": 0,
    }
    response = client.post("/agency/13104/intermediate/answer", json={"query": query, "mac": "0" * 64})
    assert (response.status_code, response.json()["error"]["code"]) == (401, "agency.bad_channel_mac")
    assert kojin.agencies.get("13104").counts()["exchange_log"] == 0
    missing = client.post("/agency/nobody/intermediate/answer", json={"query": query, "mac": "0" * 64})
    assert missing.json()["error"]["code"] == "agency.not_hosted"


def test_json_nested_too_deeply_is_refused_before_it_is_read(client: TestClient) -> None:
    for depth in (65, 100_000):
        for path in ("/hub/exchange", "/hub/exchange/batch"):
            body = "[" * depth + "]" * depth
            response = client.post(path, content=body, headers={"content-type": "application/json"})
            error = response.json()["error"]
            assert (response.status_code, error["code"], error["field"]) == (422, "request.too_deep", "body"), path
    # strings do not nest, however many brackets they hold
    flat = json.dumps({"requester": "[" * 1000})
    assert client.post("/hub/exchange", content=flat).json()["error"]["code"] != "request.too_deep"


def test_a_mac_that_is_not_ascii_is_a_wrong_mac(kojin: Kojin, people: list[Person], client: TestClient) -> None:
    for mac in ("é" * 64, "\u0000ü", "マック"):
        answer = client.post("/agency/13104/intermediate/answer", json={"query": {"kojin": "x"}, "mac": mac})
        batch = client.post("/agency/13104/intermediate/answer-batch", json={"message": {"kojin": "x"}, "mac": mac})
        codes = client.post("/hub/agencies/nta/codes", json={"link_id": "x", "time": int(time.time()), "mac": mac})
        for response, code in (
            (answer, "agency.bad_channel_mac"),
            (batch, "agency.bad_channel_mac"),
            (codes, "hub.bad_channel_mac"),
        ):
            assert (response.status_code, response.json()["error"]["code"]) == (401, code), (mac, response.text)


def test_malformed_http_bodies_are_refused_counted_and_not_logged(
    kojin: Kojin, people: list[Person], client: TestClient
) -> None:
    before = counts(kojin)
    size = kojin.exchange_log.size()
    for number, body in enumerate((b"not json", b"[]", b'{"request": {}}', b"null"), start=1):
        response = client.post("/hub/exchange", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 422, body
        assert response.json()["error"]["code"] == "request.invalid"
        assert kojin.hub.unlogged_refusals.value(("exchange", "request.invalid")) == number
    assert kojin.exchange_log.size() == size
    assert counts(kojin) == before


def test_metrics_count_unlogged_refusals_for_the_operators_only(
    kojin: Kojin, people: list[Person], client: TestClient
) -> None:
    for body in (b"not json", b'{"request": {}, "signature": ""}'):
        client.post("/hub/exchange", content=body, headers={"content-type": "application/json"})
    client.post("/hub/exchange/batch", content=b"[]", headers={"content-type": "application/json"})
    # A text/plain post never reaches the hub at all: refused at the door, not counted.
    plain = client.post("/hub/exchange", content=b"{}", headers={"content-type": "text/plain"})
    assert plain.status_code == 415
    assert client.get("/hub/metrics").status_code == 401
    clerk = client.get("/hub/metrics", headers=staff_headers(kojin, Role.COUNTER_CLERK))
    assert clerk.status_code == 403
    for role in (Role.SYSADMIN, Role.AUDITOR):
        organisation = "oversight" if role is Role.AUDITOR else "municipality:13105"
        shown = client.get("/hub/metrics", headers=staff_headers(kojin, role, organisation))
        assert shown.status_code == 200 and shown.headers["content-type"].startswith("text/plain")
        assert "# TYPE kojin_hub_unlogged_refusals_total counter" in shown.text
        assert 'kojin_hub_unlogged_refusals_total{endpoint="exchange",reason="request.invalid"} 2' in shown.text
        assert 'kojin_hub_unlogged_refusals_total{endpoint="batch",reason="request.invalid"} 1' in shown.text
    assert kojin.exchange_log.size() == 0


def test_english_messages_on_request(kojin: Kojin, people: list[Person], client: TestClient) -> None:
    response = client.post("/hub/exchange?lang=en", json={"request": {}, "signature": ""})
    assert response.json()["error"]["message"].endswith("field is missing.")
    ja = client.post("/hub/exchange", json={"request": {}, "signature": ""})
    assert "項目がありません" in ja.json()["error"]["message"]


def test_directory_and_table(client: TestClient) -> None:
    agencies = client.get("/hub/agencies").json()["agencies"]
    assert {a["agency_id"] for a in agencies} >= {"13105", "13104", "nta", "jps", "kyokai", "mhlw", "tokyo_kouki"}
    assert all("channel_key" not in a for a in agencies)
    bunkyo = next(a for a in agencies if a["agency_id"] == "13105")
    assert bunkyo["kind"] == "municipality" and bunkyo["name"] == "文京区長"
    # One agency's record: what a requester opens that agency's answers with.
    assert client.get("/hub/agencies/13105").json() == bunkyo
    missing = client.get("/hub/agencies/nobody")
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "hub.unknown_agency")
    table = client.get("/hub/permitted").json()["permitted"]
    # 50 rows between agencies, plus the portal's self-information rows (issue 5).
    assert len([r for r in table if r["requester_kind"] != "portal"]) == 50
    pension = client.get("/hub/permitted", params={"provider_kind": "pension_service"}).json()["permitted"]
    assert pension and all(r["provider_kind"] == "pension_service" for r in pension)
    bad = client.get("/hub/permitted", params={"provider_kind": "nobody"})
    assert bad.json()["error"]["code"] == "request.invalid"


def test_openapi_documents_the_hub_and_agency_routes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in (
        "/hub/exchange",
        "/hub/agencies/{agency_id}/codes",
        "/hub/agencies",
        "/hub/agencies/{agency_id}",
        "/hub/permitted",
        "/hub/exchange/batch",
        "/agency/{agency_id}/intermediate/answer",
        "/agency/{agency_id}/intermediate/answer-batch",
    ):
        assert path in spec["paths"], path
    body = spec["paths"]["/hub/exchange"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert set(body["properties"]) == {"request", "signature"}
    assert "request_id" in json.dumps(body)
    batch = spec["paths"]["/hub/exchange/batch"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert set(batch["properties"]) == {"requests", "signature"} and batch["properties"]["requests"]["maxItems"] == 1000


def test_the_standalone_hub_app_answers_like_the_full_app(kojin: Kojin, people: list[Person]) -> None:
    from kojin.entrypoints.http.hub import MAX_BODY, create_hub_app

    hub_app = create_hub_app(kojin)
    try:
        with TestClient(hub_app) as hub_client, TestClient(create_app(kojin)) as full_client:
            code = people[0].codes["13105"]
            results = [
                kojin.agencies.client("13105", HttpHub(client=as_httpx(c))).request(
                    "13104", CHILD_ALLOWANCE, LOCAL_TAX, code=code
                )
                for c in (hub_client, full_client)
            ]
            assert results[0].comparable() == results[1].comparable()
            for c in (hub_client, full_client):
                bad = c.post("/hub/exchange?lang=en", content=b"[]", headers={"content-type": "application/json"})
                assert bad.status_code == 422
                assert bad.json()["error"] == {
                    "code": "request.invalid",
                    "field": "body",
                    "message": "body: must be an object.",
                }
            huge = hub_client.post(
                "/hub/exchange", content=b" " * (MAX_BODY + 1), headers={"content-type": "application/json"}
            )
            assert (huge.status_code, huge.json()["error"]["code"]) == (413, "request.too_large")
            # Only JSON reaches the hub, on the lean route and the FastAPI ones alike.
            for path in ("/hub/exchange", "/hub/exchange/batch"):
                for c in (hub_client, full_client):
                    plain = c.post(path, content=b"{}", headers={"content-type": "text/plain"})
                    assert (plain.status_code, plain.json()["error"]["code"]) == (415, "request.content_type"), path
            assert kojin.exchange_log.size() == 2  # the two answered exchanges
            # Everything else is FastAPI's, documented as usual.
            assert hub_client.get("/healthz").json() == {"status": "ok"}
            assert "/hub/exchange" in hub_client.get("/openapi.json").json()["paths"]
            assert hub_client.get("/hub/agencies").status_code == 200
    finally:
        hub_app.close()
