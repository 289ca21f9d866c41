"""Walk 4: signed request → table → translated code → sealed answer → §23 records → leaf."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from kojin.agency.domain import CopyEntry, Role
from kojin.app import Kojin, build
from kojin.core.crypto import ANSWER_BOX_VERSION, AnswerBox, b64, unb64
from kojin.core.errors import KojinError
from kojin.hub.domain import ExchangeRequest, Outcome, subject_commitment
from tests.hub.helpers import CHILD_ALLOWANCE, LOCAL_TAX, PENSION, Person, counts


def test_an_answered_exchange_is_recorded_by_all_three_and_logged(kojin: Kojin, people: list[Person]) -> None:
    alice = people[0]
    result = kojin.agencies.client("13105").request("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=alice.codes["13105"])
    assert result.outcome is Outcome.ANSWERED
    assert result.payload == {"taxable_income": 3_200_000, "year": 2025}
    assert result.provider_name == "新宿区長"

    (hub_record,) = kojin.hub.records()
    (asked,) = kojin.agencies.get("13105").log_entries()
    (told,) = kojin.agencies.get("13104").log_entries()
    for entry in (asked, told):
        assert (entry.requester_name, entry.provider_name) == ("文京区長", "新宿区長")
        assert (entry.task, entry.item, entry.request_id) == (CHILD_ALLOWANCE, LOCAL_TAX, result.request_id)
        assert entry.provided_at is not None and not entry.withheld
    # Each agency's record keeps its own code, never the other's.
    assert (asked.role, asked.code, asked.leaf_index) == (Role.REQUESTER, alice.codes["13105"], result.leaf_index)
    assert (told.role, told.code) == (Role.PROVIDER, alice.codes["13104"])
    assert hub_record["leaf_index"] == result.leaf_index
    assert (hub_record["requester_name"], hub_record["provider_name"]) == ("文京区長", "新宿区長")
    assert hub_record["withheld"] is False and hub_record["provided_at"] is not None

    leaf = json.loads(kojin.exchange_log.leaf_data(result.leaf_index))
    assert leaf["outcome"] == "answered" and leaf["request_id"] == result.request_id
    assert alice.codes["13105"] not in json.dumps(leaf) and alice.codes["13104"] not in json.dumps(leaf)


def test_the_person_recognises_their_own_leaves_with_their_subject_key(kojin: Kojin, people: list[Person]) -> None:
    alice, bob = people
    client = kojin.agencies.client("13105")
    mine = client.request("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=alice.codes["13105"])
    theirs = client.request("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=bob.codes["13105"])
    alice_key = kojin.hub.subject_key_for(kojin.numbering.link_id_for(alice.number))

    def is_alices(index: int) -> bool:
        leaf = json.loads(kojin.exchange_log.leaf_data(index))
        return bool(leaf["subject"] == subject_commitment(alice_key, leaf["requester"], leaf["request_id"]))

    assert is_alices(mine.leaf_index) and not is_alices(theirs.leaf_index)


def test_withheld_and_no_data(kojin: Kojin, people: list[Person]) -> None:
    alice, bob = people
    kojin.agencies.get("13104").update_copies([CopyEntry(bob.codes["13104"], LOCAL_TAX, {"x": 1}, withheld=True)])
    client = kojin.agencies.client("13105")
    withheld = client.request("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=bob.codes["13105"])
    assert withheld.outcome is Outcome.WITHHELD and withheld.payload is None
    # 日本年金機構 has no copy for Alice: an answer with no data, not an error.
    nothing = kojin.agencies.client("13105").request(
        "jps", "生活保護の決定及び実施に関する事務", PENSION, code=alice.codes["13105"]
    )
    assert nothing.outcome is Outcome.NO_DATA
    records = {r["request_id"]: r for r in kojin.hub.records()}
    assert records[withheld.request_id]["withheld"] is True
    assert records[nothing.request_id]["outcome"] == "no_data"
    told = {e.request_id: e for e in kojin.agencies.get("13104").log_entries()}
    assert told[withheld.request_id].withheld


def test_the_hub_cannot_read_the_answer(kojin: Kojin, people: list[Person]) -> None:
    alice = people[0]
    client = kojin.agencies.client("13105")
    request = client.new_request("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=alice.codes["13105"])
    answer = kojin.hub.exchange(client.sign(request))
    sealed = unb64(answer["sealed"], "sealed")
    assert b"3200000" not in sealed
    requester, provider = client.agency.keys.box, kojin.agencies.get("13104").keys.box
    rid = request.request_id.encode()
    # Only the requester opens it, only as coming from the provider, only for this request id.
    for box, peer, ad in (
        (kojin.agencies.get("jps").keys.box, provider.public_raw, rid),  # a third agency
        (provider, requester.public_raw, rid),  # the provider itself: the key is one-way
        (requester, kojin.agencies.get("jps").keys.box.public_raw, rid),  # as if another provider sent it
        (requester, provider.public_raw, b"another-request"),
    ):
        with pytest.raises(KojinError) as err:
            box.open_from(peer, sealed, ad)
        assert err.value.code == "crypto.sealed_tampered"
    assert json.loads(requester.open_from(provider.public_raw, sealed, rid))["payload"]
    hub_store = json.dumps(kojin.hub.records(), default=str)
    # As a number of its own: the same seven digits may turn up inside a timestamp.
    assert "taxable_income" not in hub_store
    assert not re.search(r"(?<!\d)3200000(?!\d)", hub_store)


def test_the_hub_cannot_forge_an_answer(kojin: Kojin, people: list[Person]) -> None:
    # A hub that knows every public key makes an answer box of its own: the
    # requester refuses it, because only the provider shares its key.
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    alice = people[0]
    client = kojin.agencies.client("13105")
    request = client.new_request("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=alice.codes["13105"])
    answer = kojin.hub.exchange(client.sign(request))
    forger = AnswerBox(X25519PrivateKey.generate())
    plaintext = json.loads(
        client.agency.keys.box.open_from(
            kojin.agencies.get("13104").keys.box.public_raw,
            unb64(answer["sealed"], "sealed"),
            request.request_id.encode(),
        )
    )
    plaintext["payload"] = {"taxable_income": 0}
    forged = forger.seal_to(client.agency.keys.box_public, json.dumps(plaintext).encode(), request.request_id.encode())
    assert forged[:1] == ANSWER_BOX_VERSION
    with pytest.raises(KojinError) as err:
        client.complete(request, {**answer, "sealed": b64(forged)})
    assert err.value.code == "crypto.sealed_tampered"
    # Malformed boxes are refused as such.
    for bad in (b"", ANSWER_BOX_VERSION + b"x" * 20, b"\x01" + unb64(answer["sealed"], "sealed")[1:]):
        with pytest.raises(KojinError) as err:
            client.complete(request, {**answer, "sealed": b64(bad)})
        assert err.value.code == "crypto.sealed_malformed"


def _signed(kojin: Kojin, agency: str, **fields: Any) -> dict[str, Any]:
    client = kojin.agencies.client(agency)
    base = client.new_request("13104", CHILD_ALLOWANCE, LOCAL_TAX, code="X").as_dict()
    base.update(fields)
    return client.sign(ExchangeRequest.from_dict(base))


# Refused before a registered agency's signature is verified: no leaf, only a count.
_UNSIGNED = {
    "unknown requester",
    "signed by another agency",
    "tampered after signing",
    "other agency's key",
    "not an object",
    "no signature",
    "signature not base64",
    "short signature",
    "missing field",
    "extra top-level field",
}


def _cases(kojin: Kojin, alice: Person) -> dict[str, tuple[object, str, str | None]]:
    """name -> (body, expected reason code, expected field)."""
    own = alice.codes["13105"]
    good = _signed(kojin, "13105", code=own)
    stranger = Ed25519PrivateKey.generate()
    forged_req = {**good["request"], "requester": "nobody"}
    forged = {
        "request": forged_req,
        "signature": b64(stranger.sign(ExchangeRequest.from_dict(forged_req).signing_input())),
    }
    other_key = {**good, "signature": _signed(kojin, "13104", requester="13105", code=own)["signature"]}
    return {
        "unknown requester": (forged, "hub.unknown_agency", "requester"),
        "unknown provider": (_signed(kojin, "13105", code=own, provider="nobody"), "hub.unknown_agency", "provider"),
        "signed by another agency": ({**good, "signature": b64(stranger.sign(b"x"))}, "hub.bad_signature", "signature"),
        "tampered after signing": (
            {**good, "request": {**good["request"], "item": PENSION}},
            "hub.bad_signature",
            "signature",
        ),
        "other agency's key": (other_key, "hub.bad_signature", "signature"),
        "stale": (_signed(kojin, "13105", code=own, time=int(time.time()) - 400), "hub.stale_request", "time"),
        "from the future": (
            _signed(kojin, "13105", code=own, time=int(time.time()) + 400),
            "hub.stale_request",
            "time",
        ),
        "not in the table": (_signed(kojin, "13105", code=own, item=PENSION), "hub.not_permitted", "task"),
        "unknown task": (_signed(kojin, "13105", code=own, task="何かの事務"), "hub.not_permitted", "task"),
        "another agency's code": (_signed(kojin, "13105", code=alice.codes["13104"]), "hub.foreign_code", "code"),
        "unknown code": (_signed(kojin, "13105", code="AAAAAAAAAAAAAAAAAAAAAAAAAA"), "hub.unknown_code", "code"),
        "not an object": ([1, 2], "request.invalid", "body"),
        "no signature": ({"request": good["request"]}, "request.invalid", "signature"),
        "signature not base64": ({**good, "signature": "***"}, "request.invalid", "signature"),
        "short signature": ({**good, "signature": b64(b"x" * 10)}, "request.invalid", "signature"),
        "missing field": (
            {**good, "request": {k: v for k, v in good["request"].items() if k != "item"}},
            "request.invalid",
            "item",
        ),
        "extra top-level field": ({**good, "note": "x"}, "request.invalid", "note"),
    }


def test_every_refusal_has_its_reason_is_logged_and_changes_nothing_else(kojin: Kojin, people: list[Person]) -> None:
    alice = people[0]
    cases = _cases(kojin, alice)
    before = counts(kojin)
    assert set(cases) > _UNSIGNED
    for name, (body, code, field) in cases.items():
        size = kojin.exchange_log.size()
        unlogged = kojin.hub.unlogged_refusals.value(("exchange", code))
        with pytest.raises(KojinError) as err:
            kojin.hub.exchange(body)
        assert (err.value.code, err.value.field) == (code, field), name
        _check_refusal(kojin, name, code, size, unlogged)
        assert counts(kojin) == before, name


def _check_refusal(kojin: Kojin, name: str, code: str, size: int, unlogged: int) -> None:
    """A signed request's refusal is one leaf; anything else is no leaf and one more in the count."""
    if name in _UNSIGNED:
        assert kojin.exchange_log.size() == size, name
        assert kojin.hub.unlogged_refusals.value(("exchange", code)) == unlogged + 1, name
        return
    assert kojin.exchange_log.size() == size + 1, name
    assert kojin.hub.unlogged_refusals.value(("exchange", code)) == unlogged, name
    leaf = json.loads(kojin.exchange_log.leaf_data(size))
    assert (leaf["outcome"], leaf["reason"]) == ("refused", code), name


def test_refusals_for_an_authenticated_requester_show_up_for_the_person(kojin: Kojin, people: list[Person]) -> None:
    alice = people[0]
    with pytest.raises(KojinError):
        kojin.hub.exchange(_signed(kojin, "13105", code=alice.codes["13105"], item=PENSION))
    leaf = json.loads(kojin.exchange_log.leaf_data(kojin.exchange_log.size() - 1))
    key = kojin.hub.subject_key_for(kojin.numbering.link_id_for(alice.number))
    assert leaf["subject"] == subject_commitment(key, "13105", leaf["request_id"])
    # An unauthenticated claim is not logged at all.
    size = kojin.exchange_log.size()
    with pytest.raises(KojinError):
        kojin.hub.exchange({**_signed(kojin, "13105", code=alice.codes["13105"]), "signature": b64(b"\0" * 64)})
    assert kojin.exchange_log.size() == size
    # A signed request whose code is not the requester's own names nobody.
    with pytest.raises(KojinError):
        kojin.hub.exchange(_signed(kojin, "13105", code=alice.codes["13104"]))
    assert json.loads(kojin.exchange_log.leaf_data(kojin.exchange_log.size() - 1))["subject"] is None


def test_a_request_id_is_used_once(kojin: Kojin, people: list[Person]) -> None:
    alice = people[0]
    client = kojin.agencies.client("13105")
    client.request("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=alice.codes["13105"], request_id="shori-0001")
    before = counts(kojin)
    # A new signature and a fresh time do not make a used id new again.
    with pytest.raises(KojinError) as err:
        client.request("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=alice.codes["13105"], request_id="shori-0001")
    assert err.value.code == "hub.replayed_request"
    assert counts(kojin) == before
    # Ids are per requester: 新宿区 may use the same one.
    kojin.agencies.get("13105").update_copies([CopyEntry(alice.codes["13105"], LOCAL_TAX, {"y": 1})])
    other = kojin.agencies.client("13104").request(
        "13105", CHILD_ALLOWANCE, LOCAL_TAX, code=alice.codes["13104"], request_id="shori-0001"
    )
    assert other.payload == {"y": 1}


def test_concurrent_replays_are_refused(kojin: Kojin, people: list[Person]) -> None:
    alice = people[0]
    client = kojin.agencies.client("13105")
    body = client.sign(client.new_request("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=alice.codes["13105"]))
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def go() -> None:
        barrier.wait()
        try:
            kojin.hub.exchange(body)
            outcomes.append("ok")
        except KojinError as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["hub.replayed_request"] * 7 + ["ok"]
    assert len(kojin.hub.records()) == 1


def test_many_concurrent_exchanges_all_land(kojin: Kojin, people: list[Person]) -> None:
    client = kojin.agencies.client("13105")
    results: list[int] = []

    def go(n: int) -> None:
        for _ in range(n):
            r = client.request("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=people[0].codes["13105"])
            results.append(r.leaf_index)

    threads = [threading.Thread(target=go, args=(10,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == list(range(80))
    assert len(kojin.hub.records(limit=1000)) == 80
    assert len(kojin.agencies.get("13105").log_entries(limit=1000)) == 80
    assert len(kojin.agencies.get("13104").log_entries(limit=1000)) == 80


def test_the_answer_waits_for_the_providers_record(kojin: Kojin, people: list[Person]) -> None:
    # The provider's record commits beside the leaf; if it cannot be written
    # the requester gets no answer, though the leaf (what the hub held) stays.
    alice = people[0]
    shinjuku = kojin.agencies.get("13104")
    with shinjuku.engine.begin() as conn:
        conn.execute(text("ALTER TABLE exchange_log RENAME TO exchange_log_away"))
    try:
        size = kojin.exchange_log.size()
        with pytest.raises(KojinError) as err:
            kojin.agencies.client("13105").request("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=alice.codes["13105"])
        assert (err.value.code, err.value.field) == ("hub.provider_unavailable", "provider")
    finally:
        with shinjuku.engine.begin() as conn:
            conn.execute(text("ALTER TABLE exchange_log_away RENAME TO exchange_log"))
    assert kojin.exchange_log.size() == size + 1
    leaf = json.loads(kojin.exchange_log.leaf_data(size))
    assert leaf["outcome"] == "answered"  # one leaf for the exchange, no second "refused" one
    # The hub's record mirrors the leaf (as a restart would rebuild it); the
    # request id is spent; neither agency recorded anything.
    (record,) = kojin.hub.records()
    assert record["leaf_index"] == size
    assert kojin.agencies.get("13105").log_entries() == [] and shinjuku.log_entries() == []
    with pytest.raises(KojinError) as err:
        kojin.agencies.client("13105").request(
            "13104", CHILD_ALLOWANCE, LOCAL_TAX, code=alice.codes["13105"], request_id=leaf["request_id"]
        )
    assert err.value.code == "hub.replayed_request"


def test_the_hubs_records_are_rebuilt_from_the_log(kojin: Kojin, people: list[Person]) -> None:
    # The hub commits its own records without an fsync: what a crash loses,
    # the next start restores from the (durable) leaves.
    client = kojin.agencies.client("13105")
    results = [
        client.request("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=p.codes["13105"]) for p in people for _ in range(3)
    ]
    with pytest.raises(KojinError):
        client.request("13104", CHILD_ALLOWANCE, PENSION, code=people[0].codes["13105"])  # refused: no record
    before = kojin.hub.records()
    assert len(before) == len(results)
    with kojin.hub.engine.begin() as conn:
        conn.execute(text("DELETE FROM exchange_records WHERE leaf_index >= 2"))
        conn.execute(text("DELETE FROM seen_requests"))
    settings = kojin.settings
    kojin.close()
    again = build(settings, migrate=False)
    try:
        with pytest.raises(KojinError):
            again.hub.exchange({})  # the first call starts the hub (and reconciles), then refuses the body
        after = again.hub.records()

        def key(r: dict[str, Any]) -> tuple[Any, ...]:
            return (r["leaf_index"], r["request_id"], r["requester_id"], r["provider_name"], r["outcome"])

        assert sorted(map(key, after)) == sorted(map(key, before))
        # Restored request ids are spent again.
        with pytest.raises(KojinError) as err:
            again.agencies.client("13105").request(
                "13104",
                CHILD_ALLOWANCE,
                LOCAL_TAX,
                code=people[0].codes["13105"],
                request_id=results[-1].request_id,
            )
        assert err.value.code == "hub.replayed_request"
    finally:
        again.close()


def test_the_event_loop_path_gives_the_same_exchange(kojin: Kojin, people: list[Person]) -> None:
    alice = people[0]
    client = kojin.agencies.client("13105")
    blocking = client.request("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=alice.codes["13105"])
    awaited = asyncio.run(client.request_async("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=alice.codes["13105"]))
    assert awaited.comparable() == blocking.comparable()
    assert awaited.leaf_index == blocking.leaf_index + 1
    # Recorded by all three, like the blocking path.
    assert [r["request_id"] for r in kojin.hub.records()] == [blocking.request_id, awaited.request_id]
    for agency in ("13105", "13104"):
        assert [e.request_id for e in kojin.agencies.get(agency).log_entries()] == [
            blocking.request_id,
            awaited.request_id,
        ]
    from kojin.agency.client import HttpHub

    with pytest.raises(TypeError):
        asyncio.run(
            kojin.agencies.client("13105", HttpHub("http://unused")).request_async(
                "13104", CHILD_ALLOWANCE, LOCAL_TAX, code=alice.codes["13105"]
            )
        )


def test_every_refusal_is_the_same_on_the_event_loop(kojin: Kojin, people: list[Person]) -> None:
    cases = _cases(kojin, people[0])
    before = counts(kojin)

    async def refuse(body: object) -> KojinError:
        try:
            await kojin.hub.exchange_async(body)
        except KojinError as exc:
            return exc
        raise AssertionError("not refused")

    for name, (body, code, field) in cases.items():
        size = kojin.exchange_log.size()
        unlogged = kojin.hub.unlogged_refusals.value(("exchange", code))
        err = asyncio.run(refuse(body))
        assert (err.code, err.field) == (code, field), name
        _check_refusal(kojin, name, code, size, unlogged)
        assert counts(kojin) == before, name


def test_concurrent_exchanges_and_replays_on_one_event_loop(kojin: Kojin, people: list[Person]) -> None:
    client = kojin.agencies.client("13105")
    body = client.sign(client.new_request("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=people[0].codes["13105"]))

    async def replay() -> str:
        try:
            await kojin.hub.exchange_async(body)
            return "ok"
        except KojinError as exc:
            return exc.code

    async def main() -> tuple[list[int], list[str]]:
        many = [
            client.request_async("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=p.codes["13105"])
            for p in people
            for _ in range(40)
        ]
        results = await asyncio.gather(*many)
        replays = await asyncio.gather(*(replay() for _ in range(8)))
        return [r.leaf_index for r in results], replays

    indexes, replays = asyncio.run(main())
    assert sorted(indexes) == list(range(80))
    assert sorted(replays) == ["hub.replayed_request"] * 7 + ["ok"]
    assert len(kojin.hub.records(limit=1000)) == 81
    assert len(kojin.agencies.get("13105").log_entries(limit=1000)) == 80  # the replayed body was never opened
    assert len(kojin.agencies.get("13104").log_entries(limit=1000)) == 81


def test_the_event_loop_path_also_waits_for_the_providers_record(kojin: Kojin, people: list[Person]) -> None:
    shinjuku = kojin.agencies.get("13104")
    with shinjuku.engine.begin() as conn:
        conn.execute(text("ALTER TABLE exchange_log RENAME TO exchange_log_away"))
    try:
        with pytest.raises(KojinError) as err:
            asyncio.run(
                kojin.agencies.client("13105").request_async(
                    "13104", CHILD_ALLOWANCE, LOCAL_TAX, code=people[0].codes["13105"]
                )
            )
        assert err.value.code == "hub.provider_unavailable"
    finally:
        with shinjuku.engine.begin() as conn:
            conn.execute(text("ALTER TABLE exchange_log_away RENAME TO exchange_log"))
    assert kojin.agencies.get("13105").log_entries() == []


def test_the_server_restores_the_hubs_records_at_start(
    kojin: Kojin, people: list[Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    from kojin.entrypoints.http import factory

    client = kojin.agencies.client("13105")
    for p in people:
        client.request("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=p.codes["13105"])
    before = len(kojin.hub.records())
    with kojin.hub.engine.begin() as conn:
        conn.execute(text("DELETE FROM exchange_records"))
        conn.execute(text("DELETE FROM seen_requests"))  # committed with the records: lost with them
    settings = kojin.settings
    kojin.close()
    monkeypatch.setenv("KOJIN_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("KOJIN_SCHEMA_PREFIX", settings.schema_prefix)
    if settings.database_url:
        monkeypatch.setenv("KOJIN_DATABASE_URL", settings.database_url)
    served = factory.app().state.kojin
    try:
        # No request has reached the hub: the records are back all the same.
        assert before > 0 and len(served.hub.records()) == before
    finally:
        served.close()
