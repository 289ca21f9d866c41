"""Batches (一括照会): many requests under one signature, each an exchange of its own."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from kojin.agency.client import AgencyClient, HttpHub
from kojin.agency.domain import Ask, CopyEntry, ExchangeResult, Role
from kojin.app import Kojin
from kojin.core.crypto import b64
from kojin.core.errors import KojinError
from kojin.entrypoints.http.app import create_app
from kojin.hub.api import MAX_BATCH_BODY
from kojin.hub.domain import BATCH_MAX, ExchangeRequest, Outcome, batch_signing_input, channel_mac
from kojin.hub.transport import HttpIntermediates, IntermediateRouter
from tests.hub.helpers import CHILD_ALLOWANCE, LOCAL_TAX, PENSION, Person, as_httpx, counts

WELFARE = "生活保護の決定及び実施に関する事務"


@pytest.fixture
def client(kojin: Kojin, people: list[Person]) -> Iterator[TestClient]:
    with TestClient(create_app(kojin)) as test_client:
        yield test_client


def _mixed(people: list[Person]) -> list[Ask]:
    """Answered, withheld, no data, and three refusals, over two providers."""
    alice, bob = people
    return [
        Ask("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=alice.codes["13105"]),
        Ask("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=bob.codes["13105"]),
        Ask("jps", WELFARE, PENSION, code=alice.codes["13105"]),
        Ask("13104", CHILD_ALLOWANCE, PENSION, code=alice.codes["13105"]),  # not in the table
        Ask("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=alice.codes["13104"]),  # another agency's code
        Ask("nobody", CHILD_ALLOWANCE, LOCAL_TAX, code=alice.codes["13105"]),  # unknown provider
    ]


def _outcomes(results: list[ExchangeResult | KojinError]) -> list[str]:
    return [r.code if isinstance(r, KojinError) else r.outcome.value for r in results]


def _answered(results: list[ExchangeResult | KojinError]) -> list[ExchangeResult]:
    """``results`` whose outcomes the test has seen answered, typed as answers."""
    answered = [r for r in results if isinstance(r, ExchangeResult)]
    assert len(answered) == len(results)
    return answered


def _refused(results: list[ExchangeResult | KojinError]) -> list[KojinError]:
    """``results`` whose outcomes the test has seen refused, typed as refusals."""
    refused = [r for r in results if isinstance(r, KojinError)]
    assert len(refused) == len(results)
    return refused


EXPECTED = ["answered", "withheld", "no_data", "hub.not_permitted", "hub.foreign_code", "hub.unknown_agency"]


def _withhold_bob(kojin: Kojin, bob: Person) -> None:
    kojin.agencies.get("13104").update_copies([CopyEntry(bob.codes["13104"], LOCAL_TAX, {"x": 1}, withheld=True)])


def test_a_batch_answers_each_request_as_a_single_exchange_would(kojin: Kojin, people: list[Person]) -> None:
    alice, bob = people
    _withhold_bob(kojin, bob)
    asker = kojin.agencies.client("13105")
    singles: list[ExchangeResult | KojinError] = []
    for ask in _mixed(people):
        try:
            singles.append(asker.request(ask.provider, ask.task, ask.item, code=ask.code))
        except KojinError as exc:
            singles.append(exc)
    size = kojin.exchange_log.size()
    before = counts(kojin)

    batch = asker.request_many(_mixed(people))

    assert _outcomes(batch) == _outcomes(singles) == EXPECTED
    for one, many in zip(singles, batch, strict=True):
        if isinstance(one, KojinError):
            assert isinstance(many, KojinError)
            assert (many.code, many.field, many.status, many.message) == (one.code, one.field, one.status, one.message)
        else:
            assert isinstance(many, ExchangeResult) and many.comparable() == one.comparable()
    assert _answered(batch[:1])[0].payload == {"taxable_income": 3_200_000, "year": 2025}

    # One leaf per request, answered and refused alike; each result names its own.
    assert kojin.exchange_log.size() == size + len(batch)
    indexes = [r.leaf_index if isinstance(r, ExchangeResult) else None for r in batch]
    for result in batch:
        if isinstance(result, ExchangeResult):
            leaf = json.loads(kojin.exchange_log.leaf_data(result.leaf_index))
            assert (leaf["request_id"], leaf["outcome"]) == (result.request_id, result.outcome.value)
            for code in (*alice.codes.values(), *bob.codes.values()):
                assert code not in json.dumps(leaf)
    refused = [json.loads(kojin.exchange_log.leaf_data(i)) for i in range(size, size + len(batch))]
    assert sorted(leaf["reason"] for leaf in refused if leaf["outcome"] == "refused") == sorted(EXPECTED[3:])
    assert len({i for i in indexes if i is not None}) == 3

    # §23: the three answered exchanges are recorded by requester, providers and hub; the refused by nobody.
    after = counts(kojin)
    assert after["hub.exchange_records"] == before["hub.exchange_records"] + 3
    assert after["13105.exchange_log"] == before["13105.exchange_log"] + 3
    assert after["13104.exchange_log"] == before["13104.exchange_log"] + 2
    assert after["jps.exchange_log"] == before["jps.exchange_log"] + 1
    asked = {e.request_id: e for e in kojin.agencies.get("13105").log_entries(limit=1000)}
    for result in batch[:3]:
        assert isinstance(result, ExchangeResult)
        entry = asked[result.request_id]
        assert (entry.role, entry.outcome, entry.leaf_index) == (Role.REQUESTER, result.outcome, result.leaf_index)
    records = {r["request_id"]: r for r in kojin.hub.records(limit=1000)}
    assert records[_answered(batch[1:2])[0].request_id]["withheld"] is True


def test_the_event_loop_path_gives_the_same_batch(kojin: Kojin, people: list[Person]) -> None:
    _withhold_bob(kojin, people[1])
    results = asyncio.run(kojin.agencies.client("13105").request_many_async(_mixed(people)))
    assert _outcomes(results) == EXPECTED
    assert kojin.hub.counts()["exchange_records"] == 3


def _signed_batch(client: AgencyClient, requests: list[dict[str, Any]]) -> dict[str, Any]:
    return {"requests": requests, "signature": b64(client.agency.keys.sign.sign(batch_signing_input(requests)))}


def _request(client: AgencyClient, code: str, **fields: Any) -> dict[str, Any]:
    body = client.new_request("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=code).as_dict()
    body.update(fields)
    return body


def test_refusals_inside_a_batch_have_their_reasons_and_change_nothing(kojin: Kojin, people: list[Person]) -> None:
    alice = people[0]
    asker = kojin.agencies.client("13105")
    own = alice.codes["13105"]
    asker.request("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=own, request_id="used-before")
    twice = _request(asker, own, request_id="twice-in-one-batch", item=PENSION)
    cases: list[tuple[Any, str, str | None]] = [
        (_request(asker, own, time=int(time.time()) - 400), "hub.stale_request", "time"),
        (_request(asker, own, request_id="used-before"), "hub.replayed_request", "request_id"),
        (_request(asker, "AAAAAAAAAAAAAAAAAAAAAAAAAA"), "hub.unknown_code", "code"),
        (_request(asker, own, requester="13104"), "hub.batch_mixed_requesters", "requester"),
        ({k: v for k, v in _request(asker, own).items() if k != "item"}, "request.invalid", "item"),
        ("not an object", "request.invalid", "request"),
        (twice, "hub.not_permitted", "task"),
        (twice, "hub.replayed_request", "request_id"),  # the first of the pair still holds its id
    ]
    before, size = counts(kojin), kojin.exchange_log.size()
    answer = kojin.hub.exchange_batch(_signed_batch(asker, [c[0] for c in cases]))
    got = [(r["error"]["code"], r["error"]["field"]) for r in answer["results"]]
    assert got == [(code, field) for _, code, field in cases]
    assert counts(kojin) == before
    assert kojin.exchange_log.size() == size + len(cases)
    for result, (_, code, _) in zip(answer["results"], cases, strict=True):
        leaf = json.loads(kojin.exchange_log.leaf_data(result["leaf_index"]))
        assert (leaf["outcome"], leaf["reason"]) == ("refused", code)


def test_a_refused_batch_envelope_is_counted_without_a_leaf(kojin: Kojin, people: list[Person]) -> None:
    alice = people[0]
    asker = kojin.agencies.client("13105")
    good = [_request(asker, alice.codes["13105"]) for _ in range(3)]
    signed = _signed_batch(asker, good)
    stranger = Ed25519PrivateKey.generate()
    forged = [{**r, "requester": "nobody"} for r in good]
    cases: dict[str, tuple[object, str, str]] = {
        "not an object": ([1], "request.invalid", "body"),
        "no requests": ({"requests": [], "signature": signed["signature"]}, "request.invalid", "requests"),
        "too many": (
            {"requests": [good[0]] * (BATCH_MAX + 1), "signature": signed["signature"]},
            "request.invalid",
            "requests",
        ),
        "extra field": ({**signed, "note": 1}, "request.invalid", "note"),
        "no signature": ({"requests": good}, "request.invalid", "signature"),
        "tampered after signing": (
            {**signed, "requests": [good[0], good[1], {**good[2], "item": PENSION}]},
            "hub.bad_signature",
            "signature",
        ),
        "reordered after signing": ({**signed, "requests": good[::-1]}, "hub.bad_signature", "signature"),
        "unknown requester": (
            {"requests": forged, "signature": b64(stranger.sign(batch_signing_input(forged)))},
            "hub.unknown_agency",
            "requester",
        ),
    }
    before = counts(kojin)
    size = kojin.exchange_log.size()
    for name, (body, code, field) in cases.items():
        unlogged = kojin.hub.unlogged_refusals.value(("batch", code))
        with pytest.raises(KojinError) as err:
            kojin.hub.exchange_batch(body)
        assert (err.value.code, err.value.field) == (code, field), name
        assert kojin.exchange_log.size() == size, name
        assert kojin.hub.unlogged_refusals.value(("batch", code)) == unlogged + 1, name
        assert counts(kojin) == before, name
    # The same batch, untouched, is answered: nothing above spent its request ids.
    assert [r["outcome"] for r in kojin.hub.exchange_batch(signed)["results"]] == ["answered"] * 3


def test_a_batch_over_http_and_the_batch_hop_to_a_provider_over_http(
    kojin: Kojin, people: list[Person], client: TestClient
) -> None:
    _withhold_bob(kojin, people[1])
    local = kojin.agencies.client("13105").request_many(_mixed(people))
    remote_client = kojin.agencies.client("13105", HttpHub(client=as_httpx(client)))
    remote = remote_client.request_many(_mixed(people))
    assert _outcomes(remote) == _outcomes(local) == EXPECTED
    assert [r.comparable() for r in _answered(remote[:3])] == [r.comparable() for r in _answered(local[:3])]
    assert [(e.code, e.field, e.status) for e in _refused(remote[3:])] == [
        (e.code, e.field, e.status) for e in _refused(local[3:])
    ]
    # 新宿区's server at an endpoint: the hub sends it one message for its share of the batch.
    router = kojin.hub.transport
    assert isinstance(router, IntermediateRouter)
    router.use_http(HttpIntermediates(as_httpx(TestClient(create_app(kojin)))))
    kojin.hub.set_endpoint("13104", "http://testserver")
    try:
        over_http = kojin.agencies.client("13105").request_many(_mixed(people))
    finally:
        kojin.hub.set_endpoint("13104", None)
    assert _outcomes(over_http) == EXPECTED
    assert [r.comparable() for r in _answered(over_http[:3])] == [r.comparable() for r in _answered(local[:3])]
    # A malformed batch over HTTP is refused with the hub's reason, as in process; a huge one unread.
    response = client.post("/hub/exchange/batch", content=b"{not json", headers={"content-type": "application/json"})
    assert (response.status_code, response.json()["error"]["code"]) == (422, "request.invalid")
    size = kojin.exchange_log.size()
    huge = client.post(
        "/hub/exchange/batch", content=b" " * (MAX_BATCH_BODY + 1), headers={"content-type": "application/json"}
    )
    assert (huge.status_code, huge.json()["error"]["code"]) == (413, "request.too_large")
    assert kojin.exchange_log.size() == size


def test_the_batch_hop_answers_only_the_hub(kojin: Kojin, people: list[Person], client: TestClient) -> None:
    server = kojin.agencies.intermediate("13104")
    assert server is not None
    message: dict[str, Any] = {"kojin": "provision-queries/1", "queries": []}
    response = client.post("/agency/13104/intermediate/answer-batch", json={"message": message, "mac": "0" * 64})
    assert (response.status_code, response.json()["error"]["code"]) == (401, "agency.bad_channel_mac")
    # Authenticated, but one query in it is not for this server: that one is answered with an error.
    key = server.agency.keys.channel_key
    query = {
        "kojin": "provision-query/1",
        "request_id": "r1",
        "requester": "13105",
        "requester_name": "x",
        "requester_box_key": "",
        "provider": "jps",
        "task": CHILD_ALLOWANCE,
        "item": LOCAL_TAX,
        "code": people[0].codes["13104"],
        "requested_at": 0,
        "sent_at_ms": int(time.time() * 1000),
    }
    message = {"kojin": "provision-queries/1", "queries": [query, "junk"]}
    answers, mac = server.answer_many(message, channel_mac(key, message))
    assert mac == channel_mac(key, answers)
    assert answers["answers"] == [
        {"request_id": "r1", "error": "agency.wrong_provider"},
        {"request_id": None, "error": "request.invalid"},
    ]
    assert kojin.agencies.get("13104").counts()["exchange_log"] == 0


def test_a_provider_failing_its_share_refuses_only_that_share(kojin: Kojin, people: list[Person]) -> None:
    router = kojin.hub.transport
    assert isinstance(router, IntermediateRouter)
    kojin.hub.set_endpoint("jps", "http://127.0.0.1:9")  # nothing listens there
    try:
        results = kojin.agencies.client("13105").request_many(_mixed(people)[:3])
    finally:
        kojin.hub.set_endpoint("jps", None)
    assert _outcomes(results) == ["answered", "answered", "hub.provider_unavailable"]
    assert kojin.hub.counts()["exchange_records"] == 2


def test_every_answered_request_of_a_batch_spends_its_request_id(kojin: Kojin, people: list[Person]) -> None:
    asker = kojin.agencies.client("13105")
    code = people[0].codes["13105"]
    first = asker.request_many([Ask("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=code, request_id="b-1")])
    assert isinstance(first[0], ExchangeResult)
    (again,) = asker.request_many([Ask("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=code, request_id="b-1")])
    assert isinstance(again, KojinError) and again.code == "hub.replayed_request"
    with pytest.raises(KojinError) as err:
        asker.request("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=code, request_id="b-1")
    assert err.value.code == "hub.replayed_request"
    with pytest.raises(KojinError) as err:
        asker.request_many([])
    assert (err.value.code, err.value.field) == ("request.invalid", "requests")


def test_a_batch_request_matches_its_single_form(kojin: Kojin, people: list[Person]) -> None:
    # The batch signs the same request objects a single exchange signs, in order.
    asker = kojin.agencies.client("13105")
    request = asker.new_request("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=people[0].codes["13105"])
    body = asker.sign_batch([request])
    assert body["requests"] == [request.as_dict()]
    assert ExchangeRequest.from_dict(body["requests"][0]) == request
    assert Outcome(kojin.hub.exchange_batch(body)["results"][0]["outcome"]) is Outcome.ANSWERED
